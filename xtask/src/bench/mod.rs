//! `cargo xtask bench [intake|latency|pool|tracking|freshness|serving|parsing]… [--quick]`: builds the release
//! binaries once, runs each scenario (the driver is the `waybill-bench` package; parsing is
//! criterion), and writes `target/bench/report.json` and `target/bench/report.md`.
//!
//! Everything runs on loopback against in-process sandboxes with faults off; `wrk`
//! (`apt-get install -y wrk`) is the load generator. The default run fits in 15 minutes on
//! 2 cores; `--quick` scales every size down (about a minute after the build).

mod report;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

use self::report::{Machine, Report, ScenarioRaw};
use crate::workspace::run_cmd;

/// Every scenario, in the order a full run takes them.
const SCENARIOS: &[&str] =
    &["intake", "latency", "pool", "tracking", "freshness", "serving", "parsing"];

/// Runs the benchmarks named in `args` (all when none is named).
pub(crate) fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let quick = args.contains(&"--quick");
    let mut chosen: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with("--")).collect();
    if let Some(bad) = chosen.iter().find(|a| !SCENARIOS.contains(a)) {
        bail!("unknown scenario {bad:?}: choose among {}", SCENARIOS.join(", "));
    }
    if chosen.is_empty() {
        chosen = SCENARIOS.to_vec();
    }
    let target = target_dir(root);
    let out = target.join("bench");
    std::fs::create_dir_all(&out)?;

    let drivers = chosen.iter().any(|s| *s != "parsing");
    if drivers {
        run_cmd(root, "cargo", &["build", "--release", "-p", "waybill", "-p", "waybill-bench"])?;
    }
    // Pool ingest and serving are measured on PostgreSQL too: a throwaway cluster unless
    // WAYBILL_BENCH_DATABASE_URL names a server.
    let wants_postgres = chosen.iter().any(|s| matches!(*s, "pool" | "serving"));
    let cluster = if wants_postgres && std::env::var_os("WAYBILL_BENCH_DATABASE_URL").is_none() {
        Some(crate::postgres::Cluster::start()?)
    } else {
        None
    };
    let postgres = cluster
        .as_ref()
        .map(|c| c.url.clone())
        .or_else(|| std::env::var("WAYBILL_BENCH_DATABASE_URL").ok());
    let mut scenarios = Vec::new();
    for scenario in &chosen {
        eprintln!("== bench: {scenario}{}", if quick { " (quick)" } else { "" });
        let started = std::time::Instant::now();
        let result = if *scenario == "parsing" {
            parsing(root, &target, quick)
        } else {
            driver(&target, scenario, quick, postgres.as_deref())
        };
        let mut raw = result.unwrap_or_else(|e| ScenarioRaw {
            scenario: (*scenario).to_owned(),
            notes: vec![format!("failed: {e:#}")],
            ..ScenarioRaw::default()
        });
        raw.notes.push(format!("took {:.0} s", started.elapsed().as_secs_f64()));
        scenarios.push(raw);
    }
    let report = Report::new(machine(), quick, scenarios);
    let json = out.join("report.json");
    let md = out.join("report.md");
    std::fs::write(&json, serde_json::to_string_pretty(&report)?)?;
    let markdown = report.to_markdown();
    std::fs::write(&md, &markdown)?;
    println!("{markdown}");
    eprintln!("wrote {} and {}", json.display(), md.display());
    Ok(())
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Runs `waybill-bench <scenario>` and reads the JSON it prints last.
fn driver(
    target: &Path,
    scenario: &str,
    quick: bool,
    postgres: Option<&str>,
) -> anyhow::Result<ScenarioRaw> {
    let release = target.join("release");
    let mut command = Command::new(release.join("waybill-bench"));
    command
        .arg(scenario)
        .arg("--waybill")
        .arg(release.join("waybill"))
        .arg("--out")
        .arg(target.join("bench").join("work"))
        .stderr(Stdio::inherit());
    if quick {
        command.arg("--quick");
    }
    if let Some(url) = postgres {
        command.env("WAYBILL_BENCH_DATABASE_URL", url);
    }
    let output = command.output().context("cannot start waybill-bench")?;
    if !output.status.success() {
        bail!("waybill-bench {scenario} failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).context("no JSON answer")?;
    Ok(serde_json::from_str(line)?)
}

/// The criterion benches: `cargo bench` in both adapters, then their `estimates.json`.
fn parsing(root: &Path, target: &Path, quick: bool) -> anyhow::Result<ScenarioRaw> {
    let mut raw = ScenarioRaw { scenario: "parsing".into(), ..ScenarioRaw::default() };
    let extra: &[&str] =
        if quick { &["--warm-up-time", "1", "--measurement-time", "2"] } else { &[] };
    for package in ["waybill-starmile", "waybill-starshipit"] {
        let mut args = vec!["bench", "-p", package, "--bench", "decode", "--"];
        args.extend_from_slice(extra);
        run_cmd(root, "cargo", &args)?;
    }
    let criterion = target.join("criterion");
    for (group, key) in [("track_sample_spec", "track_sample"), ("pool_page_200", "pool_page")] {
        for function in ["typed", "value"] {
            let path = criterion.join(group).join(function).join("new").join("estimates.json");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("criterion wrote no {}", path.display()))?;
            let estimates: serde_json::Value = serde_json::from_str(&text)?;
            let ns = estimates["mean"]["point_estimate"]
                .as_f64()
                .with_context(|| format!("{} has no mean", path.display()))?;
            raw.metrics.insert(format!("{key}_{function}_us"), ns / 1000.0);
        }
    }
    raw.notes.push(
        "criterion mean per decode; typed = bytes → domain values (normalised statuses and times), Value = serde_json::from_slice::<Value>".into(),
    );
    Ok(raw)
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_owned(), |(_, v)| v.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| (kib / 1024.0 / 1024.0).round());
    Machine {
        cores: std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
        cpu,
        memory_gib,
        rustc: output_of("rustc", &["-V"]),
        date: output_of("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
    }
}

fn output_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
