//! `waybill config check`: reads the configuration, resolves every secret, and makes every
//! check any command makes before it starts (sync's and serve's numbers, the store's place,
//! each carrier client's own URL and key rules), reporting every problem at once — so a
//! configuration it passes is not refused later.

use serde::Serialize;

use crate::{
    carriers,
    context::{Context, check_store_folder, config_failure},
    exit::Failure,
    output::Output,
};

/// `waybill config …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Read the configuration, resolve every secret, check every setting any command uses,
    /// and report every problem.
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
    let checked = ctx.config()?.check().map_err(|e| config_failure(&e))?;
    let resolved = &checked.resolved;
    // What the commands do next with the settings: build each carrier's client (its own
    // URL and key rules) and open the store (its folder must exist).
    let mut problems: Vec<String> = resolved
        .accounts
        .iter()
        .filter_map(|a| carriers::starmile(a).err())
        .chain(resolved.starshipit.as_ref().and_then(|s| carriers::starshipit(s).err()))
        .map(|f| f.message)
        .collect();
    let store = ctx.store_location()?;
    if let waybill_store::StoreLocation::Sqlite(file) = &store {
        let source = if ctx.globals.db.is_some() { "--db" } else { "store.path" };
        problems.extend(check_store_folder(file, source).err());
    }
    if !problems.is_empty() {
        return Err(Failure::config(format!(
            "the configuration has {} problem(s):\n{}",
            problems.len(),
            problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
        )));
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        ok: bool,
        store: String,
        accounts: Vec<&'a str>,
        starshipit: bool,
        outbound_webhooks: Vec<&'a str>,
        serve_ready: bool,
    }
    let summary = Summary {
        ok: true,
        store: store.describe(),
        accounts: resolved.accounts.iter().map(|a| a.name.as_str()).collect(),
        starshipit: resolved.starshipit.is_some(),
        outbound_webhooks: resolved.outbound_webhooks.iter().map(|e| e.name.as_str()).collect(),
        serve_ready: checked.serve_ready,
    };
    if out.json {
        out.json_value(&summary);
    } else {
        let outbound = if summary.outbound_webhooks.is_empty() {
            String::new()
        } else {
            format!(", outbound webhooks: {}", summary.outbound_webhooks.join(", "))
        };
        out.line(format!(
            "configuration ok: {} Starmile account(s) ({}), StarShipIT {}, store {}{outbound}",
            summary.accounts.len(),
            summary.accounts.join(", "),
            if summary.starshipit { "configured" } else { "not configured" },
            summary.store
        ));
    }
    if !checked.serve_ready {
        out.note(
            "note: `waybill serve` also needs an API key: set $WAYBILL_API_KEYS (comma-separated) or serve.api_keys_file",
        );
    }
    Ok(())
}
