//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask codegen [--check] [--specs]` regenerates (or checks) every generated file
//!   (`--specs`: only the status maps, which need no build of the app — for when the app
//!   does not compile until they are regenerated).
//! - `cargo xtask ci` runs what CI runs: fmt, clippy, tests, codegen check, rustdoc (the
//!   tests against a throwaway PostgreSQL unless `WAYBILL_TEST_DATABASE_URL` is set).
//! - `cargo xtask schemathesis` runs Schemathesis (installed from PyPI under the target
//!   directory when missing) against a `waybill serve` on the sandboxes; CI's last step.
//! - `cargo xtask test-db` starts a throwaway PostgreSQL, leaves it running and prints the
//!   `export WAYBILL_TEST_DATABASE_URL=…` line for running tests by hand.
//! - `cargo xtask bench [intake|pool|tracking|serving|parsing]… [--quick]` runs the
//!   benchmarks and writes `target/bench/report.{json,md}` (see `docs/benchmarks.md`).

mod bench;
mod ci;
mod codegen;
mod postgres;
mod schemathesis;
#[cfg(test)]
mod tidy;
mod workspace;

use anyhow::bail;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = workspace::project_root();
    match args.as_slice() {
        ["codegen"] => codegen::run(&root, codegen::Mode::Write).map(|_| ()),
        ["codegen", "--check"] => codegen::run(&root, codegen::Mode::Check).map(|_| ()),
        ["codegen", "--specs"] => {
            codegen::run_scoped(&root, codegen::Mode::Write, codegen::Scope::Specs).map(|_| ())
        }
        ["codegen", "--check", "--specs"] => {
            codegen::run_scoped(&root, codegen::Mode::Check, codegen::Scope::Specs).map(|_| ())
        }
        ["ci"] => ci::run(&root),
        ["schemathesis"] => schemathesis::run(&root),
        ["test-db"] => postgres::serve_for_tests(),
        ["bench", rest @ ..] => bench::run(&root, rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <codegen [--check] [--specs] | ci | schemathesis | test-db | bench [SCENARIO…] [--quick]>"
            );
            bail!("unknown or missing command: {}", args.join(" "))
        }
    }
}
