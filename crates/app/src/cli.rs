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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, one module each under `cmd/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything on embedded sandboxes: create sample orders, sync until every parcel
    /// is delivered or final, print each parcel's merged timeline.
    Demo(cmd::demo::Args),
    /// List the Starmile services the account may order.
    Services(cmd::services::Args),
    /// List the rate cards of those services.
    Rates(cmd::rates::Args),
    /// Price one parcel.
    Quote(cmd::quote::Args),
    /// Create, import, list, show or cancel orders.
    #[command(subcommand)]
    Orders(cmd::orders::Command),
    /// Look a parcel up live at StarShipIT (first leg).
    Track(cmd::track::Args),
    /// Show a parcel's merged timeline from the store, by any number waybill knows for it.
    Timeline(cmd::timeline::Args),
    /// Follow the status pools and refresh tracking; continuous until Ctrl-C/SIGTERM.
    Sync(cmd::sync::Args),
    /// Run both sandboxes standalone and print their URLs and credentials.
    Sandbox(cmd::sandbox::Args),
    /// Configuration commands.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Store commands: migrate the schema, report its status (SQLite or PostgreSQL).
    #[command(subcommand)]
    Store(cmd::store::Command),
    /// Serve the HTTP API, the public tracking page and carrier webhooks, and keep syncing in
    /// the background, until Ctrl-C/SIGTERM.
    Serve(cmd::serve::Args),
    /// Print the HTTP API's OpenAPI document (what `cargo xtask codegen` writes to
    /// docs/openapi.json).
    #[command(hide = true)]
    Openapi,
}

/// Parses the process arguments, runs the command, reports any failure, returns the exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
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

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WAYBILL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
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
        Command::Track(args) => cmd::track::run(&ctx, &args, out).await,
        Command::Timeline(args) => cmd::timeline::run(&ctx, &args, out).await,
        Command::Sync(args) => cmd::sync::run(&ctx, &args, out).await,
        Command::Sandbox(args) => cmd::sandbox::run(&ctx, &args, out).await,
        Command::Config(command) => cmd::config::run(&ctx, &command, out),
        Command::Store(command) => cmd::store::run(&ctx, &command, out).await,
        Command::Serve(args) => cmd::serve::run(&ctx, &args, out).await,
        Command::Openapi => cmd::openapi::run(out),
    }
}
