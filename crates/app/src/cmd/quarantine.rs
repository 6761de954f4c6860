//! `waybill quarantine list`: the status-pool rows sync could not decode. Each was kept raw
//! (its JSON text exactly as received) with the reason, in the same transaction as the page
//! it came in, and sync moved on past it; this lists them so someone can look. Needs only the
//! store: no carrier, no secret.

use waybill_store::{Quarantine, QuarantineFilter};

use crate::{context::Context, exit::Failure, output::Output};

/// Characters of the raw row shown in the table (`--json` gives the whole row).
const EXCERPT_CHARS: usize = 60;

/// `waybill quarantine …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// List quarantined pool rows: account, cursor, why it could not be decoded, and the
    /// start of the raw row (`--json`: whole rows); `--account` lists one account's.
    #[command(
        after_help = "Examples:\n  waybill quarantine list\n  waybill quarantine list --account syd --limit 20\n  waybill quarantine list --json | jq -r '.[].raw'"
    )]
    List(ListArgs),
}

/// `waybill quarantine list` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// At most this many rows (1–1000).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: u32,
}

/// Runs a quarantine subcommand.
///
/// # Errors
/// A bad `--limit`, or a store failure.
pub async fn run(ctx: &Context, command: &Command, out: &mut Output) -> Result<(), Failure> {
    let Command::List(args) = command;
    if !(1..=QuarantineFilter::MAX_LIMIT).contains(&args.limit) {
        return Err(Failure::usage(format!(
            "--limit {} is out of range: list 1 to {} rows at a time",
            args.limit,
            QuarantineFilter::MAX_LIMIT
        )));
    }
    let store = ctx.existing_store().await?;
    let filter = QuarantineFilter { account: ctx.globals.account.clone(), limit: args.limit };
    let rows = store.quarantined(&filter).await.map_err(Failure::store)?;
    let total: u64 = store
        .quarantine_counts()
        .await
        .map_err(Failure::store)?
        .iter()
        .filter(|c| filter.account.as_ref().is_none_or(|a| *a == c.account))
        .map(|c| c.rows)
        .sum();
    if out.json {
        out.json_value(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        out.line("no pool rows in quarantine: every row synced so far was decoded");
        return Ok(());
    }
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.account.clone(),
                r.cursor.map_or_else(|| "-".to_owned(), |c| c.to_string()),
                one_line(&r.error),
                excerpt(&r.raw),
            ]
        })
        .collect();
    out.table(&["ACCOUNT", "CURSOR", "ERROR", "RAW"], table);
    out.note(format!(
        "{} of {total} row(s) shown{}; sync went past them (their pages and cursors are committed). `--json` prints whole rows.",
        rows.len(),
        if (rows.len() as u64) < total { " (raise --limit for more)" } else { "" }
    ));
    Ok(())
}

/// The text on one line, control characters (a terminal's escape sequences among them)
/// shown as spaces: a row came from outside and must not drive the terminal.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The raw row's first [`EXCERPT_CHARS`] characters on one line, `…` when cut.
fn excerpt(raw: &str) -> String {
    let one_line = one_line(raw);
    match one_line.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("{\"a\":\n1}"), "{\"a\": 1}");
        assert_eq!(one_line("bad \u{1b}[31mred"), "bad  [31mred");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
