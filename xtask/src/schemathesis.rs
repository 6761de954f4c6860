//! `cargo xtask schemathesis` (also the last step of `cargo xtask ci`): property-based tests
//! of the HTTP API against its own `/openapi.json`, with [Schemathesis] from PyPI.
//!
//! It installs Schemathesis into a virtual environment under the target directory when it is
//! missing (`python3 -m venv`, then `pip install`; Debian's `python3-venv` with apt-get when
//! the venv module is missing and xtask runs as root), builds `waybill`, starts
//! `waybill sandbox` (both emulators, a few preloaded orders) and a `waybill serve` pointed at
//! it with an API key, and runs `st run URL/openapi.json` against that server. Any mismatch
//! between what the server answers and what the document says fails the step; nothing is
//! skipped silently (a missing Python, a failed install or a server that does not start is
//! an error naming what to do).
//!
//! What is left out, and why:
//! - the `/webhooks/*` routes: they authenticate by a signature over the exact body (or a
//!   secret URL token), so every generated request is rightly refused with 401;
//! - the `positive_data_acceptance` check: a schema-valid request may be refused for what no
//!   schema can say — an account that is not configured, a merchant number the carrier has
//!   already seen, a CSV whose header names no `reference` column, a split into the same
//!   reference. Every other check runs, `negative_data_rejection` and
//!   `status_code_conformance` included.
//!
//! Bounded: at most [`MAX_EXAMPLES`] examples per operation, one worker, and the whole run is
//! killed (and fails) after [`TIME_LIMIT`]. It takes about 15 s on two cores.
//!
//! [Schemathesis]: https://schemathesis.readthedocs.io

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::workspace::{is_root, on_path, run_cmd};

/// The Schemathesis release line the flags below are written for.
const REQUIREMENT: &str = "schemathesis>=4.3,<5";

/// Examples per operation and phase.
const MAX_EXAMPLES: &str = "30";

/// The longest the run may take before it is killed and fails.
const TIME_LIMIT: Duration = Duration::from_secs(150);

/// The API key the server accepts and Schemathesis sends.
const API_KEY: &str = "schemathesis-key-0123456789";

/// Runs the whole step.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let target = target_dir(root);
    let st = ensure_installed(&target)?;
    run_cmd(root, "cargo", &["build", "-p", "waybill"])?;
    let waybill = target.join("debug").join("waybill");
    // A fresh store each run (under the target directory, like the venv).
    let work = target.join("tools").join("schemathesis-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let mut sandbox = Guard(
        Command::new(&waybill)
            .args(["sandbox", "--json", "--starmile-port", "0", "--starshipit-port", "0"])
            .args(["--preload-orders", "5"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start `waybill sandbox`")?,
    );
    let info = read_json(&mut sandbox.0)?;
    let text = |v: &serde_json::Value, what: &str| {
        v.as_str()
            .map(str::to_owned)
            .with_context(|| format!("`waybill sandbox` printed no {what}"))
    };
    let config = work.join("waybill.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = {:?}\n\n[[starmile.accounts]]\nname = \"sandbox\"\nbase_url = {:?}\nclient_id = {:?}\n\n[starshipit]\nbase_url = {:?}\nrate_limit_per_second = 20\n",
            work.join("waybill.sqlite"),
            text(&info["starmile"]["base_url"], "Starmile URL")?,
            text(&info["starmile"]["client_id"], "Starmile client id")?,
            text(&info["starshipit"]["base_url"], "StarShipIT URL")?,
        ),
    )?;
    let mut server = Guard(
        Command::new(&waybill)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("WAYBILL_CONFIG")
            .env("WAYBILL_API_KEYS", API_KEY)
            .env(
                "WAYBILL_STARMILE_SANDBOX_CLIENT_SECRET",
                text(&info["starmile"]["client_secret"], "Starmile secret")?,
            )
            .env("WAYBILL_STARSHIPIT_API_KEY", text(&info["starshipit"]["api_key"], "API key")?)
            .env(
                "WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY",
                text(&info["starshipit"]["production_subscription_key"], "subscription key")?,
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start `waybill serve`")?,
    );
    let base = listening_on(&mut server.0)?;
    let schema = format!("{base}/openapi.json");
    let args = [
        "run".to_owned(),
        schema.clone(),
        "--header".into(),
        format!("Authorization: Bearer {API_KEY}"),
        "--exclude-path-regex".into(),
        "^/webhooks/".into(),
        "--exclude-checks".into(),
        "positive_data_acceptance".into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        // One worker: CPython 3.11 before 3.11.8 shares the AST constructor's recursion
        // counter between threads (gh-106905), and two workers made Schemathesis's coverage
        // phase fail now and then with "AST constructor recursion depth mismatch".
        "--workers".into(),
        "1".into(),
        "--request-timeout".into(),
        "10".into(),
        "--no-color".into(),
    ];
    eprintln!("$ {} {}", st.display(), args.join(" "));
    let started = Instant::now();
    let mut run = Guard(Command::new(&st).args(&args).spawn().context("cannot start `st`")?);
    let status = loop {
        if let Some(status) = run.0.try_wait()? {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            bail!("schemathesis did not finish within {} s against {schema}", TIME_LIMIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("xtask schemathesis: took {:.0} s", started.elapsed().as_secs_f64());
    if !status.success() {
        bail!(
            "schemathesis found the server and its OpenAPI document disagreeing ({status}): fix the handler or the annotation each failure above names (each has a `curl` to reproduce it)"
        );
    }
    Ok(())
}

/// Kills its child when dropped (whatever way the step ends).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The `st` program of the virtual environment under `target/tools/schemathesis`, installed
/// first when missing.
fn ensure_installed(target: &Path) -> anyhow::Result<PathBuf> {
    let venv = target.join("tools").join("schemathesis");
    let st = venv.join("bin").join("st");
    if st.is_file() {
        return Ok(st);
    }
    if !on_path("python3") {
        bail!("python3 is missing: `apt-get install python3 python3-venv` (Debian)");
    }
    let venv_text = venv.display().to_string();
    if run_cmd(target, "python3", &["-m", "venv", &venv_text]).is_err() {
        // Debian splits the venv module (and ensurepip) into python3-venv.
        if !(on_path("apt-get") && is_root()) {
            bail!(
                "`python3 -m venv` failed: install Debian's python3-venv (`apt-get install python3-venv`)"
            );
        }
        run_cmd(Path::new("/"), "apt-get", &["update", "-qq"])?;
        run_cmd(Path::new("/"), "apt-get", &["install", "-y", "-qq", "python3-venv"])?;
        let _ = std::fs::remove_dir_all(&venv);
        run_cmd(target, "python3", &["-m", "venv", &venv_text])?;
    }
    let pip = venv.join("bin").join("pip").display().to_string();
    run_cmd(target, &pip, &["install", "--quiet", REQUIREMENT])
        .context("cannot install schemathesis from PyPI (is the package index reachable?)")?;
    anyhow::ensure!(st.is_file(), "pip installed schemathesis but {} is missing", st.display());
    Ok(st)
}

/// Reads the JSON document `waybill sandbox --json` prints first (pretty-printed, so line by
/// line until it parses).
fn read_json(child: &mut Child) -> anyhow::Result<serde_json::Value> {
    let stdout = child.stdout.take().context("`waybill sandbox` has no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("`waybill sandbox` ended before printing its URLs: {text}");
        }
        text.push_str(&line);
        if let Ok(value) = serde_json::from_str(&text) {
            // Keep draining its stdout so the sandbox never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return Ok(value);
        }
    }
}

/// The base URL `waybill serve` prints on its first line (`listening on URL`).
fn listening_on(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("`waybill serve` has no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("`waybill serve` printed {line:?} instead of its address"))?
        .to_owned();
    std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
    });
    Ok(base)
}
