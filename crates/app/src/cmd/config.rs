//! `waybill config check`: reads the configuration, resolves every secret and reports every
//! problem at once.

use serde::Serialize;

use crate::{
    context::{Context, config_failure},
    exit::Failure,
    output::Output,
};

/// `waybill config …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Read the configuration, resolve every secret and report every problem.
    #[command(
        after_help = "Examples:\n  waybill config check\n  WAYBILL_CONFIG=prod.toml waybill config check --json"
    )]
    Check,
}

/// Runs a config subcommand.
///
/// # Errors
/// A configuration failure listing every problem.
pub fn run(ctx: &Context, command: &Command, out: &mut Output) -> Result<(), Failure> {
    match command {
        Command::Check => check(ctx, out),
    }
}

fn check(ctx: &Context, out: &mut Output) -> Result<(), Failure> {
    let path = ctx.config_path();
    if !path.exists() {
        return Err(Failure::config(format!(
            "{} does not exist: create it (see the README's configuration section) or pass --config",
            path.display()
        )));
    }
    let resolved = ctx.config()?.resolve().map_err(|e| config_failure(&e))?;
    #[derive(Serialize)]
    struct Summary<'a> {
        ok: bool,
        store: String,
        accounts: Vec<&'a str>,
        starshipit: bool,
    }
    let store = ctx.store_location()?;
    let summary = Summary {
        ok: true,
        store: store.describe(),
        accounts: resolved.accounts.iter().map(|a| a.name.as_str()).collect(),
        starshipit: resolved.starshipit.is_some(),
    };
    if out.json {
        out.json_value(&summary);
    } else {
        out.line(format!(
            "configuration ok: {} Starmile account(s) ({}), StarShipIT {}, store {}",
            summary.accounts.len(),
            summary.accounts.join(", "),
            if summary.starshipit { "configured" } else { "not configured" },
            summary.store
        ));
    }
    Ok(())
}
