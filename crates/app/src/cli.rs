//! The command line: the global flags, one [`Command`] enum with one variant per subcommand
//! (each owning its arguments in `cmd/<name>.rs`), one match, and the process entry point.
//! Exit codes and the `--json` error object are in [`exit`](crate::exit).

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{
    cmd,
    context::{Context, Globals},
    exit::Failure,
    output::Output,
};

/// Create orders, follow every parcel through Starmile and StarShipIT, one timeline.
#[derive(Debug, Parser)]
#[command(name = "waybill", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: waybill.toml when it exists; without one, only commands
    /// that need no carrier work, e.g. `timeline --db demo.db`).
    #[arg(long, global = true, env = "WAYBILL_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database file (overrides `store.path` and `store.url`).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// Print exactly one JSON document on stdout (progress and hints go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// The Starmile account to use when several are configured (default: the first).
    #[arg(long, global = true)]
    pub account: Option<String>,
    /// Log line format on stderr: `text` (colour only on a terminal, never with `NO_COLOR`)
    /// or `json` (one object per line, for log shippers). What is logged is chosen by
    /// `RUST_LOG` (or its alias `WAYBILL_LOG`), e.g. `RUST_LOG=waybill_server=debug`; the
    /// default is `warn`, and `info` for `serve` and `sync` (one line per HTTP request).
    #[arg(
        long,
        global = true,
        env = "WAYBILL_LOG_FORMAT",
        value_enum,
        default_value_t,
        hide_possible_values = true
    )]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands, one module each under `cmd/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything on embedded sandboxes: create sample orders, sync until every parcel
    /// is delivered or final, print each parcel's merged timeline.
    #[command(
        after_help = "Examples:\n  waybill demo\n  waybill demo --orders 5 --seed 7 --db demo.db\n  waybill demo --summary-only --json"
    )]
    Demo(cmd::demo::Args),
    /// List the Starmile services the account may order.
    #[command(
        after_help = "Examples:\n  waybill services\n  waybill services --account syd --json"
    )]
    Services(cmd::services::Args),
    /// List the rate cards of those services.
    #[command(after_help = "Examples:\n  waybill rates\n  waybill rates --json | jq '.[0]'")]
    Rates(cmd::rates::Args),
    /// Price one parcel.
    #[command(
        after_help = "Examples:\n  waybill quote --service 5 --weight 1.2kg\n  waybill quote --service 5 --weight 800g --json"
    )]
    Quote(cmd::quote::Args),
    /// Create, import, list, show or cancel orders.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  waybill orders create --reference PO-1 --service 5 --item TRK-1\n  waybill orders import orders.csv\n  waybill orders list --status in_transit"
    )]
    Orders(cmd::orders::Command),
    /// Download a parcel's (or an order's) label PDF from Starmile.
    #[command(
        after_help = "Examples:\n  waybill label TRK-1 -o TRK-1.pdf\n  waybill label PO-1 --all -o labels/"
    )]
    Label(cmd::label::Args),
    /// Look a parcel up live at StarShipIT (first leg).
    #[command(
        after_help = "Examples:\n  waybill track TRK-1001\n  waybill track PO-1 --order\n  waybill track TRK-1001 --starshipit-account acme --json"
    )]
    Track(cmd::track::Args),
    /// Show a parcel's merged timeline from the store, by any number waybill knows for it.
    #[command(
        after_help = "Examples:\n  waybill timeline TRK-1001\n  waybill timeline PO-1 --db demo.db --json"
    )]
    Timeline(cmd::timeline::Args),
    /// Follow the status pools and refresh tracking; continuous until Ctrl-C/SIGTERM.
    #[command(
        after_help = "Examples:\n  waybill sync --once\n  waybill sync            # until Ctrl-C/SIGTERM\n  RUST_LOG=waybill_engine=debug waybill sync --once"
    )]
    Sync(cmd::sync::Args),
    /// Status-pool rows sync could not decode, kept raw in quarantine (sync went past them).
    #[command(
        subcommand,
        after_help = "Examples:\n  waybill quarantine list\n  waybill quarantine list --json"
    )]
    Quarantine(cmd::quarantine::Command),
    /// Outbound webhooks: the delivery log, and sending a delivery again.
    #[command(
        subcommand,
        after_help = "Examples:\n  waybill webhooks deliveries --state failed\n  waybill webhooks redeliver 42"
    )]
    Webhooks(cmd::webhooks::Command),
    /// Run both sandboxes standalone and print their URLs and credentials; flags inject faults,
    /// preload orders and serve an undecodable pool row, for testing your own client.
    #[command(
        after_help = "Examples:\n  waybill sandbox\n  waybill sandbox --starmile-port 9001 --starshipit-port 9002 --speed 60\n  waybill sandbox --preload-orders 100 --starmile-rate-429 0.05 --starmile-drop-rate 0.02 --starmile-latency-ms 50\n  waybill sandbox --preload-orders 3 --starmile-undecodable-row 1\n  curl -s http://127.0.0.1:8080/_sandbox/counters"
    )]
    Sandbox(cmd::sandbox::Args),
    /// Configuration commands.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  waybill config check\n  waybill --config prod.toml config check --json"
    )]
    Config(cmd::config::Command),
    /// Store commands: migrate the schema, report its status (SQLite or PostgreSQL).
    #[command(
        subcommand,
        after_help = "Examples:\n  waybill store migrate\n  waybill store status --json"
    )]
    Store(cmd::store::Command),
    /// Serve the HTTP API, the public tracking page and carrier webhooks, and keep syncing in
    /// the background, until Ctrl-C/SIGTERM.
    #[command(
        after_help = "Examples:\n  WAYBILL_API_KEYS=my-key waybill serve\n  waybill serve --listen localhost:8088 --log-format json"
    )]
    Serve(cmd::serve::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::Args),
    /// Print the HTTP API's OpenAPI document (what `cargo xtask codegen` writes to
    /// docs/openapi.json).
    #[command(hide = true)]
    Openapi,
}

/// Parses the process arguments, runs the command, reports any failure, returns the exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let long_running = matches!(cli.command, Command::Serve(_) | Command::Sync(_));
    init_tracing(cli.log_format, if long_running { "info" } else { "warn" });
    let mut out = Output::stdout(cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let f = Failure::runtime(format!("cannot start the async runtime: {e}"));
            out.failure(&f);
            return ExitCode::from(f.exit_code());
        }
    };
    match runtime.block_on(run(cli, &mut out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            out.failure(&f);
            ExitCode::from(f.exit_code())
        }
    }
}

/// Installs the log subscriber: the filter from `RUST_LOG`, else `WAYBILL_LOG` (the older
/// name, kept as an alias), else `default`; an unparsable filter falls back to `default` with a
/// warning rather than silencing everything.
fn init_tracing(format: LogFormat, default: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;

    let (filter, bad) = match ["RUST_LOG", "WAYBILL_LOG"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()).map(|v| (var, v)))
    {
        Some((var, spec)) => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(default), Some(format!("ignoring {var}={spec:?}: {e}"))),
        },
        None => (EnvFilter::new(default), None),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).try_init()
        }
    };
    if let Some(warning) = bad {
        tracing::warn!("{warning}");
    }
}

/// Runs a parsed command line, writing to `out`.
///
/// # Errors
/// A [`Failure`] carrying the exit code and message.
pub async fn run(cli: Cli, out: &mut Output) -> Result<(), Failure> {
    let ctx = Context::new(Globals {
        config: cli.config,
        db: cli.db,
        account: cli.account,
        json: cli.json,
    });
    match cli.command {
        Command::Demo(args) => cmd::demo::run(&ctx, &args, out).await,
        Command::Services(args) => cmd::services::run(&ctx, &args, out).await,
        Command::Rates(args) => cmd::rates::run(&ctx, &args, out).await,
        Command::Quote(args) => cmd::quote::run(&ctx, &args, out).await,
        Command::Orders(command) => cmd::orders::run(&ctx, command, out).await,
        Command::Label(args) => cmd::label::run(&ctx, &args, out).await,
        Command::Track(args) => cmd::track::run(&ctx, &args, out).await,
        Command::Timeline(args) => cmd::timeline::run(&ctx, &args, out).await,
        Command::Sync(args) => cmd::sync::run(&ctx, &args, out).await,
        Command::Sandbox(args) => cmd::sandbox::run(&ctx, &args, out).await,
        Command::Quarantine(command) => cmd::quarantine::run(&ctx, &command, out).await,
        Command::Webhooks(command) => cmd::webhooks::run(&ctx, &command, out).await,
        Command::Config(command) => cmd::config::run(&ctx, &command, out),
        Command::Store(command) => cmd::store::run(&ctx, &command, out).await,
        Command::Serve(args) => cmd::serve::run(&ctx, &args, out).await,
        Command::Completions(args) => {
            cmd::completions::run(&args, <Cli as clap::CommandFactory>::command(), out)
        }
        Command::Openapi => cmd::openapi::run(out),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command a user can run shows examples in `--help` (gh's and cargo's habit), so a
    /// new subcommand without them fails here.
    #[test]
    fn every_subcommand_has_examples() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help")
            {
                let name = format!("{path} {}", sub.get_name());
                let help = sub.get_after_help().map(ToString::to_string).unwrap_or_default();
                if !help.contains("Examples:") {
                    missing.push(name.clone());
                }
                walk(sub, &name, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "waybill", &mut missing);
        assert!(missing.is_empty(), "add `after_help` examples to: {missing:?}");
    }
}
