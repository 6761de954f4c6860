//! `cargo xtask ci`: every check CI runs, in order, failing fast with the step's name; the
//! last is Schemathesis against the served API and its OpenAPI document
//! ([`crate::schemathesis`]).
//! It first makes sure the system programs the tests drive are present, installing them
//! from Debian's packages when it can, and otherwise stopping with the command to run; the
//! tests get a throwaway PostgreSQL (see [`crate::postgres`]) unless
//! `WAYBILL_TEST_DATABASE_URL` names one.

use std::path::Path;

use anyhow::bail;

use crate::{
    codegen, postgres,
    workspace::{is_root, on_path, run_cmd},
};

/// System programs the test suite needs: (what to look for, Debian package, why).
const SYSTEM_PROGRAMS: &[(&str, &str, &str)] = &[
    ("python3", "python3", "the StarShipIT spec's own Python sample runs against the sandbox"),
    ("chromium", "chromium", "the tracking page's real-browser test"),
    ("chromedriver", "chromium-driver", "drives Chromium over WebDriver in that test"),
    ("pdftoppm", "poppler-utils", "renders the Starmile sandbox's label PDF in its barcode test"),
    ("zbarimg", "zbar-tools", "decodes that label's Code 128 barcode back"),
    (
        "script",
        "bsdutils",
        "gives the CLI a pseudo-terminal in the terminal-width and colour tests",
    ),
];

/// Runs formatting, lints, tests, the codegen freshness check, rustdoc and Schemathesis.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    ensure_system_programs()?;
    run_cmd(root, "cargo", &["fmt", "--all", "--check"])?;
    codegen::run(root, codegen::Mode::Check)?;
    run_cmd(
        root,
        "cargo",
        &["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"],
    )?;
    // The PostgreSQL backend's suite and the multi-worker tests need a real server.
    let cluster = match std::env::var(postgres::URL_VAR) {
        Ok(_) => None,
        Err(_) => Some(postgres::Cluster::start()?),
    };
    let mut test = std::process::Command::new("cargo");
    test.args(["test", "--workspace", "--all-features"]).current_dir(root);
    if let Some(cluster) = &cluster {
        eprintln!("xtask ci: throwaway PostgreSQL at {}", cluster.url);
        test.env(postgres::URL_VAR, &cluster.url);
    }
    eprintln!("$ cargo test --workspace --all-features");
    anyhow::ensure!(test.status()?.success(), "`cargo test --workspace --all-features` failed");
    drop(cluster);
    let status = std::process::Command::new("cargo")
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(root)
        .status()?;
    anyhow::ensure!(status.success(), "`cargo doc` found warnings: fix the doc comments it names");
    crate::schemathesis::run(root)?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}

/// Installs missing programs with apt-get when running as root on Debian; otherwise fails
/// naming the packages, so a test never silently lacks what it needs.
fn ensure_system_programs() -> anyhow::Result<()> {
    let missing: Vec<_> = SYSTEM_PROGRAMS.iter().filter(|(p, _, _)| !on_path(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|(_, pkg, _)| *pkg).collect();
    for (program, _, why) in &missing {
        eprintln!("xtask ci: `{program}` is missing ({why})");
    }
    let root = Path::new("/");
    if on_path("apt-get") && on_path("id") && is_root() {
        run_cmd(root, "apt-get", &["update", "-qq"])?;
        let mut args = vec!["install", "-y", "-qq"];
        args.extend(&packages);
        return run_cmd(root, "apt-get", &args);
    }
    bail!(
        "install the missing programs first: `apt-get install {}` (Debian), or run `bash .ci/run`",
        packages.join(" ")
    )
}
