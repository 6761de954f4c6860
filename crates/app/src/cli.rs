//! The command line: argument definitions, dispatch, and the documented exit codes.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a carrier or the store failed (message says which and why) |
//! | 2 | usage or configuration error (message says what to fix) |
//! | 3 | not found |
//! | 4 | partial success: an import had bad rows or refused orders |
//! | 130 | interrupted |

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{commands, demo, output::Output};

/// Create orders, follow every parcel through Starmile and StarShipIT, one timeline.
#[derive(Debug, Parser)]
#[command(name = "waybill", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "WAYBILL_CONFIG", default_value = "waybill.toml")]
    pub config: PathBuf,
    /// Database file (overrides `store.path`).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The Starmile account to use when several are configured (default: the first).
    #[arg(long, global = true)]
    pub account: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything on embedded sandboxes: create sample orders, sync until every parcel
    /// is delivered or final, print each parcel's merged timeline.
    Demo(demo::DemoArgs),
    /// List the Starmile services the account may order.
    Services,
    /// List the rate cards of those services.
    Rates,
    /// Price one parcel.
    Quote {
        /// Service id.
        #[arg(long)]
        service: u32,
        /// Weight: grams (`1500`) or with a unit (`1.5kg`).
        #[arg(long)]
        weight: String,
    },
    /// Create, import, list, show or cancel orders.
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Look a parcel up live at StarShipIT (first leg).
    Track {
        /// A tracking number (or an order number with --order).
        number: String,
        /// Treat the argument as StarShipIT's order number.
        #[arg(long)]
        order: bool,
    },
    /// Show a parcel's merged timeline from the store, by any number waybill knows for it.
    Timeline {
        /// Merchant tracking number, Starmile tracking number, or order reference.
        parcel: String,
    },
    /// Follow the status pools and refresh tracking; continuous until Ctrl-C/SIGTERM.
    Sync {
        /// One round (drain every pool, refresh tracking once), then exit.
        #[arg(long)]
        once: bool,
    },
    /// Run both sandboxes standalone and print their URLs and credentials.
    Sandbox(demo::SandboxArgs),
    /// Configuration commands.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Serve the HTTP API, the public tracking page and StarShipIT webhooks, and keep syncing
    /// in the background, until Ctrl-C/SIGTERM.
    Serve {
        /// Address to listen on (overrides `serve.listen`, default 127.0.0.1:8088); port 0
        /// picks a free port, printed as `listening on http://ADDR`.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Print the HTTP API's OpenAPI document (what `cargo xtask codegen` writes to
    /// docs/openapi.json).
    #[command(hide = true)]
    Openapi,
}

/// `waybill orders …`
#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Create one order.
    Create {
        /// Service id.
        #[arg(long)]
        service: u32,
        /// Your order reference (Starmile's `external_parent_id`).
        #[arg(long)]
        reference: String,
        /// A parcel's merchant tracking number; repeat for several parcels.
        #[arg(long = "item", required = true)]
        items: Vec<String>,
    },
    /// Create orders from a CSV or JSONL file (see the README for columns).
    Import {
        /// The file (.csv or .jsonl).
        file: PathBuf,
        /// Orders created at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// List stored orders.
    List {
        /// Only orders in this unified status (e.g. `in_transit`).
        #[arg(long)]
        status: Option<String>,
        /// Only orders of this service id.
        #[arg(long)]
        service: Option<u32>,
        /// Start after this reference (the previous page's last).
        #[arg(long)]
        after: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one stored order with its parcels.
    Show {
        /// The order reference.
        reference: String,
    },
    /// Cancel an order at Starmile.
    Cancel {
        /// The order reference.
        reference: String,
        /// Why (sent to Starmile).
        #[arg(long)]
        reason: Option<String>,
    },
}

/// `waybill config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read the configuration, resolve every secret and report every problem.
    Check,
}

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code (see the module docs).
    pub code: u8,
    /// One clear message.
    pub message: String,
}

impl Failure {
    /// Exit code 2: usage or configuration.
    pub fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
    /// Exit code 1: a runtime failure.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }
    /// Exit code 3: not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { code: 3, message: message.into() }
    }
}

/// Parses the process arguments, runs the command, prints any failure, returns the exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = Output::stdout(cli.json);
    match runtime.block_on(run(cli, &mut out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
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
    match &cli.command {
        Command::Demo(args) => demo::run_demo(args, cli.db.clone(), out).await,
        Command::Sandbox(args) => demo::run_sandboxes(args, out).await,
        Command::Config(ConfigCommand::Check) => commands::config_check(&cli, out),
        Command::Openapi => {
            let json = crate::serve::openapi::json().map_err(|e| {
                Failure::runtime(format!("cannot render the OpenAPI document: {e}"))
            })?;
            out.line(json.trim_end());
            Ok(())
        }
        Command::Serve { listen } => commands::serve(&cli, listen.as_deref(), out).await,
        _ => commands::run(&cli, out).await,
    }
}
