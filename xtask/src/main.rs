//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask codegen [--check]` regenerates (or checks) every generated file.
//! - `cargo xtask ci` runs what CI runs: fmt, clippy, tests, codegen check, rustdoc.
//! - `cargo xtask bench [intake|pool|tracking|serving|parsing]… [--quick]` runs the
//!   benchmarks and writes `target/bench/report.{json,md}` (see `docs/benchmarks.md`).

mod bench;
mod ci;
mod codegen;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = project_root();
    match args.as_slice() {
        ["codegen"] => codegen::run(&root, codegen::Mode::Write).map(|_| ()),
        ["codegen", "--check"] => codegen::run(&root, codegen::Mode::Check).map(|_| ()),
        ["ci"] => ci::run(&root),
        ["bench", rest @ ..] => bench::run(&root, rest),
        _ => {
            eprintln!("usage: cargo xtask <codegen [--check] | ci | bench [SCENARIO…] [--quick]>");
            bail!("unknown or missing command: {}", args.join(" "))
        }
    }
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command in `dir`, streaming its output, failing with the command line on error.
pub(crate) fn run_cmd(dir: &Path, program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("could not start `{program}`: is it installed?"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
