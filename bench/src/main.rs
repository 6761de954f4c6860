//! `waybill-bench`: the scenario driver behind `cargo xtask bench`.
//!
//! Each scenario starts the sandboxes it needs in this process, drives load at them from a
//! separate process (a child of this binary, the real `waybill` binary, or `wrk`), and
//! prints one JSON object on its last stdout line: `{"scenario":…,"metrics":{…},"notes":[…]}`.
//! `cargo xtask bench` turns those raw measurements into figures next to their ceilings and
//! budgets. Progress goes to stderr.
//!
//! ```text
//! waybill-bench intake   [--quick] [--waybill PATH] [--out DIR]
//! waybill-bench latency  [--quick] [--waybill PATH] [--out DIR]
//! waybill-bench pool     [--quick] [--out DIR]
//! waybill-bench tracking [--quick]
//! waybill-bench serving  [--quick] [--waybill PATH] [--out DIR]
//! waybill-bench freshness [--quick] [--out DIR]
//! waybill-bench fixture-pool-page PATH      # writes a 200-row pool page (parsing fixture)
//! ```
//!
//! The `child-*` subcommands are the load-side halves, started by the scenarios themselves.

mod freshness;
mod intake;
mod latency;
mod measure;
mod options;
mod pool;
mod serving;
mod tracking;
mod wrk;

use anyhow::{Context, bail};

use options::Options;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().cloned() else {
        bail!(
            "usage: waybill-bench <intake|latency|pool|tracking|freshness|serving|fixture-pool-page> [--quick]"
        );
    };
    let rest = &args[1..];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    if let Some(child) = command.strip_prefix("child-") {
        sql_log(child)?;
        return runtime.block_on(run_child(child, rest));
    }
    let options = parse_options(rest)?;
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let result = runtime.block_on(async {
        match command.as_str() {
            "intake" => intake::run(&options).await,
            "latency" => latency::run(&options).await,
            "pool" => pool::run(&options).await,
            "tracking" => tracking::run(&options).await,
            "serving" => serving::run(&options).await,
            "freshness" => freshness::run(&options).await,
            "fixture-pool-page" => {
                let path = rest.first().context("fixture-pool-page needs a PATH")?;
                pool::write_fixture(std::path::Path::new(path)).await?;
                return Ok(None);
            }
            other => {
                bail!("unknown scenario {other:?}: intake, latency, pool, tracking, freshness or serving")
            }
        }
        .map(Some)
    })?;
    if let Some(result) = result {
        println!("{}", serde_json::to_string(&result)?);
    }
    Ok(())
}

async fn run_child(child: &str, args: &[String]) -> anyhow::Result<()> {
    let value = match child {
        "intake-client" => intake::child_client(args).await?,
        "pool-ingest" => pool::child_ingest(args).await?,
        "pool-fetch" => pool::child_fetch(args).await?,
        "pool-ceiling" => pool::child_ceiling(args).await?,
        other => bail!("unknown child {other:?}"),
    };
    println!("{}", serde_json::to_string(&value)?);
    Ok(())
}

/// `WAYBILL_BENCH_SQL_LOG=PREFIX`: each child writes every SQL statement it runs, with its
/// elapsed time, to `PREFIX.<child>.jsonl` (sqlx's `sqlx::query` events), for profiling.
fn sql_log(child: &str) -> anyhow::Result<()> {
    let Ok(prefix) = std::env::var("WAYBILL_BENCH_SQL_LOG") else { return Ok(()) };
    let path = format!("{prefix}.{child}.jsonl");
    let file = std::fs::File::create(&path).with_context(|| format!("cannot create {path}"))?;
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("sqlx::query=debug"))
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(())
}

fn parse_options(args: &[String]) -> anyhow::Result<Options> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    // target/release/waybill-bench → target/release/waybill and target/bench/work.
    let dir = exe.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let target = dir.parent().map(std::path::Path::to_path_buf).unwrap_or_else(|| dir.clone());
    let mut options = Options {
        quick: false,
        waybill: dir.join("waybill"),
        out: target.join("bench").join("work"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--waybill" => options.waybill = it.next().context("--waybill needs a PATH")?.into(),
            "--out" => options.out = it.next().context("--out needs a DIR")?.into(),
            _ => {}
        }
    }
    Ok(options)
}
