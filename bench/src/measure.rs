//! What every scenario shares: the result shape, peak RSS, child processes, a free port.

use std::{collections::BTreeMap, path::Path, process::Stdio};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::Value;

/// One scenario's raw measurements (figures and budgets are `cargo xtask bench`'s job).
#[derive(Debug, Default, Serialize)]
pub(crate) struct ScenarioResult {
    /// `intake`, `pool`, `tracking` or `serving`.
    pub scenario: &'static str,
    /// Named numbers; names end in their unit (`_per_s`, `_ms`, `_mb`, …) or are counts.
    pub metrics: BTreeMap<String, f64>,
    /// Sizes and settings used, and anything that could not be measured (and why).
    pub notes: Vec<String>,
}

impl ScenarioResult {
    pub(crate) fn new(scenario: &'static str) -> Self {
        Self { scenario, ..Self::default() }
    }

    pub(crate) fn set(&mut self, name: &str, value: f64) {
        self.metrics.insert(name.to_owned(), value);
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        eprintln!("  note: {note}");
        self.notes.push(note);
    }
}

/// This process's peak resident set size (`VmHWM`), in MiB.
pub(crate) fn peak_rss_mib() -> f64 {
    proc_status_mib("VmHWM")
}

/// A size line of `/proc/self/status` (`VmHWM`, `RssAnon`, `RssFile`…), in MiB; 0 when the
/// line is missing (not Linux).
pub(crate) fn proc_status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Runs this binary as `child-<name> args…`, returning the JSON it printed last.
///
/// `WAYBILL_BENCH_PROFILE="<name>:<profiler command…>"` runs that child under a profiler,
/// e.g. `pool-ingest:perf record -e cpu-clock -g -o target/bench/perf.data --` or
/// `pool-ingest:valgrind --tool=callgrind --callgrind-out-file=target/bench/callgrind.out`.
pub(crate) async fn run_child(name: &str, args: &[String]) -> anyhow::Result<Value> {
    let exe = std::env::current_exe()?;
    let profile = std::env::var("WAYBILL_BENCH_PROFILE").unwrap_or_default();
    let profiler: Vec<&str> = match profile.split_once(':') {
        Some((child, command)) if child == name => command.split_whitespace().collect(),
        _ => Vec::new(),
    };
    let mut command = match profiler.split_first() {
        Some((program, profiler_args)) => {
            eprintln!("  profiling child {name} with {}", profiler.join(" "));
            let mut c = tokio::process::Command::new(program);
            c.args(profiler_args).arg(exe);
            c
        }
        None => tokio::process::Command::new(exe),
    };
    let output = command
        .arg(format!("child-{name}"))
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot start child {name}"))?;
    if !output.status.success() {
        bail!("child {name} failed ({})", output.status);
    }
    last_json_line(&output.stdout).with_context(|| format!("child {name} printed no JSON"))
}

/// The last line of `stdout` that parses as JSON.
pub(crate) fn last_json_line(stdout: &[u8]) -> Option<Value> {
    String::from_utf8_lossy(stdout).lines().rev().find_map(|l| serde_json::from_str(l).ok())
}

/// A number from a child's JSON answer.
pub(crate) fn num(value: &Value, key: &str) -> anyhow::Result<f64> {
    value.get(key).and_then(Value::as_f64).with_context(|| format!("child answer lacks {key}"))
}

/// A loopback port nobody listens on right now.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Writes a `waybill.toml` naming one Starmile account `bench` (secret from
/// `WAYBILL_STARMILE_BENCH_CLIENT_SECRET`) and the store at `db`.
pub(crate) fn write_config(
    path: &Path,
    db: &Path,
    starmile: Option<(&str, &str)>,
) -> anyhow::Result<()> {
    let mut text = format!("[store]\npath = {:?}\n", db.display().to_string());
    if let Some((base_url, client_id)) = starmile {
        text.push_str(&format!(
            "\n[[starmile.accounts]]\nname = \"bench\"\nbase_url = {base_url:?}\nclient_id = {client_id:?}\n"
        ));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Removes a SQLite file and its WAL companions, if present.
pub(crate) fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// `count / seconds`, 0 when no time passed.
pub(crate) fn rate(count: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { count / seconds } else { 0.0 }
}

/// The PostgreSQL server the PostgreSQL rows are measured on (`cargo xtask bench` starts a
/// throwaway one and sets `WAYBILL_BENCH_DATABASE_URL`); `None`: those rows are skipped.
pub(crate) fn postgres_server() -> Option<String> {
    std::env::var("WAYBILL_BENCH_DATABASE_URL").ok().filter(|u| !u.trim().is_empty())
}

/// A new, empty database named `name` (dropped first if present) on `server`, as a URL.
pub(crate) async fn fresh_postgres(server: &str, name: &str) -> anyhow::Result<String> {
    let options: sqlx::postgres::PgConnectOptions = server.parse()?;
    let admin = sqlx::PgPool::connect_with(options).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&admin)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
    admin.close().await;
    let mut url = url::Url::parse(server)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// Where a `--db` argument points: a `postgres://` URL or a SQLite file.
pub(crate) fn location(db: &str) -> waybill_store::StoreLocation {
    if waybill_store::StoreLocation::is_postgres_url(db) {
        waybill_store::StoreLocation::Postgres {
            url: db.to_owned().into(),
            pool_size: 4,
            statement_timeout: None,
        }
    } else {
        waybill_store::StoreLocation::Sqlite(db.into())
    }
}
