//! `cargo xtask ci`: every check CI runs, in order, failing fast with the step's name.

use std::path::Path;

use crate::{codegen, run_cmd};

/// Runs formatting, lints, tests, the codegen freshness check and rustdoc.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    run_cmd(root, "cargo", &["fmt", "--all", "--check"])?;
    codegen::run(root, codegen::Mode::Check)?;
    run_cmd(
        root,
        "cargo",
        &["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"],
    )?;
    run_cmd(root, "cargo", &["test", "--workspace", "--all-features"])?;
    // SAFETY of the env var: only this child sees it.
    let status = std::process::Command::new("cargo")
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(root)
        .status()?;
    anyhow::ensure!(status.success(), "`cargo doc` found warnings: fix the doc comments it names");
    eprintln!("xtask ci: all checks passed");
    Ok(())
}
