//! `waybill store migrate` and `waybill store status`: bring the store's schema up to date
//! (every command also does when it opens the store), and report the backend, the schema
//! version, what the store holds, and each account's cursor and pool lease holder.

use comfy_table::Table;

use crate::{context::Context, exit::Failure, output::Output};

/// `waybill store …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Create or upgrade the store's schema (SQLite file or PostgreSQL database), then exit.
    #[command(
        after_help = "Examples:\n  waybill store migrate\n  WAYBILL_STORE__URL=postgres://waybill@db.internal/waybill waybill store migrate"
    )]
    Migrate,
    /// Backend, schema version, counts (rows in quarantine too), and each account's cursor and
    /// pool lease holder.
    #[command(after_help = "Examples:\n  waybill store status\n  waybill store status --json")]
    Status,
}

/// Runs a store subcommand.
///
/// # Errors
/// A configuration failure, or a store failure naming where the store is.
pub async fn run(ctx: &Context, command: &Command, out: &mut Output) -> Result<(), Failure> {
    // Opening migrates; both commands start there (`status` only on a store that exists).
    let store = match command {
        Command::Migrate => ctx.store().await?,
        Command::Status => ctx.existing_store().await?,
    };
    let status = store.status().await.map_err(Failure::store)?;
    store.close().await;
    match command {
        Command::Migrate => {
            if out.json {
                out.json_value(&serde_json::json!({
                    "backend": status.backend,
                    "location": status.location,
                    "schema_version": status.schema_version,
                }));
            } else {
                out.line(format!(
                    "{} store at {} is at schema version {}",
                    status.backend, status.location, status.schema_version
                ));
            }
        }
        Command::Status => {
            if out.json {
                out.json_value(&status);
            } else {
                let c = status.counts;
                out.line(format!(
                    "{} store at {}, schema version {}\n{} orders, {} parcels, {} pool rows, {} events, {} rows in quarantine",
                    status.backend,
                    status.location,
                    status.schema_version,
                    c.orders,
                    c.parcels,
                    c.pool_rows,
                    c.events,
                    c.quarantined
                ));
                if c.quarantined > 0 {
                    out.line(
                        "(pool rows that could not be decoded; see them: waybill quarantine list)",
                    );
                }
                if !status.accounts.is_empty() {
                    let mut table = Table::new();
                    table.load_preset(comfy_table::presets::NOTHING);
                    table.set_header(["ACCOUNT", "CURSOR", "LEASE HOLDER", "LEASE UNTIL"]);
                    for a in &status.accounts {
                        table.add_row([
                            a.account.clone(),
                            a.cursor.to_string(),
                            a.lease_holder.clone().unwrap_or_else(|| "-".into()),
                            a.lease_until.clone().unwrap_or_else(|| "-".into()),
                        ]);
                    }
                    out.line(table.to_string());
                }
            }
        }
    }
    Ok(())
}
