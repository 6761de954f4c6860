//! What codegen produces: a [`Generated`] file (path and expected contents), and
//! [`reformat`], which puts generated Rust through rustfmt so `cargo fmt --check` agrees.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// One generated file and its expected contents.
pub(crate) struct Generated {
    /// Path relative to the workspace root.
    pub(crate) path: PathBuf,
    /// Full expected contents.
    pub(crate) contents: String,
}

/// Formats generated Rust source with the toolchain's rustfmt, so `cargo fmt --check`
/// agrees with `cargo xtask codegen --check`.
pub(crate) fn reformat(source: &str) -> anyhow::Result<String> {
    use std::io::Write as _;
    let config = crate::workspace::project_root().join("rustfmt.toml");
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet", "--config-path"])
        .arg(config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("could not run rustfmt: install it with `rustup component add rustfmt`")?;
    child.stdin.take().context("rustfmt stdin")?.write_all(source.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "generated code does not parse (a codegen bug): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}
