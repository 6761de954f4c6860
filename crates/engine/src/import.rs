//! Bulk import of orders from CSV or JSONL: one row per parcel, rows grouped into orders by
//! partner reference, created with bounded concurrency.
//!
//! Every order ends in exactly one of these, and the report says which:
//! - **created** (or a **duplicate**: the carrier already had it, e.g. after a crash), or
//!   **already done** (the journal says an earlier run created it);
//! - **refused** — the rows are invalid ([`ImportReport::bad_rows`]), the carrier said no,
//!   or the reference was used for a different order (an idempotency conflict): fix the rows;
//! - **not yet** — the carrier kept failing transiently (429, 5xx, dropped connections,
//!   timeouts) until the order's [`RetryBudget`] was spent: nothing to fix, re-run.
//!
//! Orders are atomic: an order with any bad row is not created at all, and the journal
//! records it as not done, so the re-run after the fix creates it whole. A journal in the
//! store makes a re-run or a resumed run (after a crash or a kill) create nothing twice, and
//! the carrier's idempotency on the reference backs it up (an order the carrier created but
//! the store had not yet recorded is replayed as a duplicate). The journal and the stored
//! orders are read once for the whole file before anything is sent; created orders are
//! recorded by one saver, each with its journal entry, many per transaction; the store's fingerprint check
//! ([`waybill_store::fingerprint`]) makes a changed order under a reused reference a refusal
//! instead of a silent replay.
//!
//! Columns (CSV header names, or JSONL keys; [`COLUMNS`] lists them all):
//! - `reference` — the partner order reference (`external_parent_id`), required;
//! - `service_id` — the carrier's service id, required, the same on every row of an order;
//! - `merchant_tracking_number` — the parcel's sticker code, required, unique;
//! - `weight` — optional, grams (`1500`) or with a unit (`1.5kg`, `750g`).
//!
//! Optional columns for a full (cross-border) order; empty cells are absent values:
//! - recipient, per order: `customer_name`, `customer_phone`, `customer_email`, `gov_id`
//!   (a phone or an email is required once any recipient or destination column is set);
//! - destination, per order: `pudo_id` (pickup point) | `locker_id` | home: `region`,
//!   `address_first` and optionally `parent_region`, `address_second`, `zip`;
//! - per parcel: `package_type` (`fragile`, `breakable`, `liquid`), `dimensions`
//!   (`300x200x100` mm) and one declared product: `product_name`, `hs_code`,
//!   `declared_value` + `currency`, `quantity` (a full order needs a product on every parcel).
//!
//! Order-level values may repeat on each of an order's rows; two different values for the
//! same order are an error naming both lines. `reason` (written by a rejects file) is read
//! and ignored, so a fixed rejects file imports as it is.

mod rejects;
mod report;
mod retry;
mod rows;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use futures::{StreamExt, stream};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;
use waybill_domain::{Order, OrderDesk, OrderRequest, PartnerOrderRef};
use waybill_kit::Jitter;
use waybill_store::{JournalEntry, Replay, Store};

pub use report::{ImportError, ImportReport, OrderProblem, RetryStats, RowError};
pub use retry::{RetryBudget, Transient};
pub use rows::{COLUMNS, REASON};

use rows::Planned;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Orders created at once.
    pub concurrency: usize,
    /// How long each order keeps retrying transient failures.
    pub retry: RetryBudget,
    /// Where to write the rows that were not imported, with a `reason` column.
    pub rejects: Option<PathBuf>,
    /// Draw a progress bar on stderr (when it is a terminal); off inside a server.
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { concurrency: 8, retry: RetryBudget::default(), rejects: None, progress: true }
    }
}

/// An import file's type from a media type: `csv` for `text/csv`, `jsonl` for
/// `application/x-ndjson`, `application/jsonl` or `application/x-jsonlines`.
#[must_use]
pub fn type_of_media(media: &str) -> Option<&'static str> {
    let essence = media.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Some("csv"),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => Some("jsonl"),
        _ => None,
    }
}

/// Fuzzing entry point (`fuzzing` feature): reads `bytes` as an import file of type `ext`
/// (`csv`, `jsonl`) and groups the rows into orders, exactly as [`import_file`] does before it
/// calls the carrier. Returns the orders' references and the row errors.
///
/// # Errors
/// [`ImportError`] when the input cannot be read at all (no header, an unknown column).
#[cfg(feature = "fuzzing")]
pub fn read_orders(ext: &str, bytes: &[u8]) -> Result<(Vec<String>, Vec<RowError>), ImportError> {
    let mut source = rows::read(ext, bytes, &format!("input.{ext}"))?;
    let (planned, _) = rows::group(&mut source);
    Ok((planned.into_iter().map(|p| p.request.reference().to_string()).collect(), source.errors))
}

/// The file type of `path` by extension: `csv`, `jsonl` or `ndjson`.
fn file_type(path: &Path) -> Result<String, ImportError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "jsonl" | "ndjson") {
        return Err(ImportError::Format(format!(
            "{}: unknown file type {ext:?}; use .csv or .jsonl",
            path.display()
        )));
    }
    Ok(ext)
}

/// Imports a file into an account through its order desk.
///
/// # Errors
/// [`ImportError`] when the file cannot be read at all, the rejects file cannot be written,
/// or the store fails; row and order problems are reported in the [`ImportReport`] instead.
pub async fn import_file(
    path: &Path,
    account: &str,
    desk: Arc<dyn OrderDesk>,
    store: Arc<dyn Store>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let ext = file_type(path)?;
    if let Some(rejects) = &options.rejects
        && same_file(rejects, path)
    {
        return Err(ImportError::Format(format!(
            "the rejects file {} is the file being imported: name another file",
            rejects.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|source| ImportError::Io { path: path.display().to_string(), source })?;
    import_bytes(&ext, &bytes, &path.display().to_string(), account, desk, store, options).await
}

/// Imports the contents of an import file of type `ext` (`csv`, `jsonl`, `ndjson`) named
/// `name` in messages, as [`import_file`] does (`POST /v1/imports` hands its body here).
///
/// # Errors
/// As [`import_file`].
pub async fn import_bytes(
    ext: &str,
    bytes: &[u8],
    name: &str,
    account: &str,
    desk: Arc<dyn OrderDesk>,
    store: Arc<dyn Store>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let mut source = rows::read(ext, bytes, name)?;
    let (planned, invalid) = rows::group(&mut source);
    let mut report = ImportReport {
        rows: source.row_count,
        orders: planned.len() as u64,
        ..ImportReport::default()
    };
    // What the store already knows, read once for the whole file (not once per order).
    let references: Vec<PartnerOrderRef> = invalid
        .iter()
        .map(|bad| bad.reference.clone())
        .chain(planned.iter().map(|p| p.request.reference().clone()))
        .collect();
    let mut journal = store.journal_entries(account, &references).await?.into_iter();
    // An order refused by its rows is recorded as not done (unless an earlier run created
    // it), so the re-run after the fix creates it whole.
    for (bad, entry) in invalid.iter().zip(journal.by_ref()) {
        if !matches!(entry, Some(JournalEntry::Done { .. })) {
            let entry = JournalEntry::Failed { message: bad.reason.clone() };
            store.journal_put(account, &bad.reference, &entry).await?;
        }
    }
    let requests: Vec<&OrderRequest> = planned.iter().map(|p| &p.request).collect();
    let replays = store.check_replays(account, &requests).await?;

    let bar = if options.progress { progress(planned.len() as u64) } else { ProgressBar::hidden() };
    let jitter = Arc::new(Jitter::from_clock());
    // Created orders go to one saver, which records whatever has arrived in one transaction
    // (order, parcels and journal entry together): per-order commits on the one writer were
    // what held the import back, not the carrier.
    let (created_tx, created_rx) = mpsc::channel::<Created>(SAVE_QUEUE);
    // A task of its own, so preparing a batch never holds up the requests in flight.
    let saver =
        tokio::spawn(save_created(account.to_owned(), Arc::clone(&store), created_rx, bar.clone()));
    let (desk, store_ref, bar_ref, jitter) = (&desk, &store, &bar, &jitter);
    let sending = async move {
        // The stream (holding the last sender) is dropped when this statement ends, so the
        // saver sees the channel close once every order is sent.
        stream::iter(planned.into_iter().zip(journal).zip(replays))
            .map(move |((plan, entry), replay)| {
                let desk = Arc::clone(desk);
                let store = Arc::clone(store_ref);
                let bar = bar_ref.clone();
                let jitter = Arc::clone(jitter);
                let created = created_tx.clone();
                let budget = options.retry;
                async move {
                    let done = matches!(entry, Some(JournalEntry::Done { .. }));
                    let outcome = import_one(
                        account,
                        &plan.request,
                        done,
                        replay,
                        desk.as_ref(),
                        store.as_ref(),
                        budget,
                        &jitter,
                    )
                    .await;
                    match outcome {
                        Ok(Sent::Created(order, retries)) => {
                            // The saver answers for it (it outlives every sender).
                            let _ = created.send(Created { plan, order, retries }).await;
                            None
                        }
                        Ok(Sent::Ended(outcome)) => {
                            bar.inc(1);
                            Some((plan, Ok(outcome)))
                        }
                        Err(e) => Some((plan, Err(e))),
                    }
                }
            })
            .buffer_unordered(options.concurrency.max(1))
            .filter_map(std::future::ready)
            .collect::<Vec<_>>()
            .await
    };
    let mut outcomes = sending.await;
    match saver.await {
        Ok(saved) => outcomes.extend(saved?),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(ImportError::Format(format!("the import's saver stopped: {e}"))),
    }
    bar.finish_and_clear();
    for (plan, outcome) in outcomes {
        let outcome = outcome?;
        for (kind, n) in &outcome.retries {
            report.retries.total += n;
            *report.retries.by_kind.entry(kind).or_default() += n;
        }
        let problem = |reason: String| OrderProblem {
            reference: plan.request.reference().to_string(),
            lines: plan.lines.clone(),
            reason,
        };
        match outcome.end {
            End::Created => report.created += 1,
            End::Duplicate => report.duplicates += 1,
            End::AlreadyDone => report.already_done += 1,
            End::Refused(reason) => report.refused.push(problem(reason)),
            End::NotYet(reason) => report.not_yet.push(problem(reason)),
        }
    }
    report.refused.sort_by_key(|p| p.lines.first().copied());
    report.not_yet.sort_by_key(|p| p.lines.first().copied());
    report.bad_rows = std::mem::take(&mut source.errors);
    if let Some(file) = &options.rejects {
        let written = rejects::write(file, &source, &report)?;
        report.rejects_written = Some(written);
    }
    Ok(report)
}

/// True when `a` and `b` name the same file (or the same path, when neither exists yet).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn progress(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:30}] {pos}/{len} orders ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// How one order ended, and the retries it took.
struct Outcome {
    end: End,
    retries: BTreeMap<&'static str, u64>,
}

enum End {
    Created,
    Duplicate,
    AlreadyDone,
    Refused(String),
    NotYet(String),
}

impl Outcome {
    fn new(end: End) -> Self {
        Self { end, retries: BTreeMap::new() }
    }
}

/// What sending one order came to: the carrier's order, still to be saved, or an end.
enum Sent {
    Created(Order, BTreeMap<&'static str, u64>),
    Ended(Outcome),
}

/// An order the carrier created, on its way to the saver.
struct Created {
    plan: Planned,
    order: Order,
    retries: BTreeMap<&'static str, u64>,
}

/// Created orders waiting for the saver (senders wait when it falls this far behind).
const SAVE_QUEUE: usize = 1024;

/// The most orders one save transaction records.
const SAVE_BATCH: usize = 500;

/// The saver: records created orders as they arrive, each batch (whatever has queued up,
/// at most [`SAVE_BATCH`]) in one [`ImportJournal::save_imported`] transaction, until every
/// sender is gone.
async fn save_created(
    account: String,
    store: Arc<dyn Store>,
    mut created: mpsc::Receiver<Created>,
    bar: ProgressBar,
) -> Result<Vec<(Planned, Result<Outcome, ImportError>)>, ImportError> {
    let mut outcomes = Vec::new();
    let mut batch = Vec::with_capacity(SAVE_BATCH);
    while created.recv_many(&mut batch, SAVE_BATCH).await > 0 {
        let orders: Vec<(&OrderRequest, &Order)> =
            batch.iter().map(|c| (&c.plan.request, &c.order)).collect();
        let answers = store.save_imported(&account, &orders).await?;
        bar.inc(batch.len() as u64);
        for (c, answer) in batch.drain(..).zip(answers) {
            let end = match answer {
                Ok(()) if c.order.duplicate => End::Duplicate,
                Ok(()) => End::Created,
                Err(conflict) => End::Refused(conflict.to_string()),
            };
            outcomes.push((c.plan, Ok(Outcome { end, retries: c.retries })));
        }
    }
    Ok(outcomes)
}

/// One order: skipped when done, refused on an idempotency conflict, otherwise sent and
/// retried within the budget; a created order is handed back for the saver. `done` and
/// `replay` are what the store said before the import started sending.
#[allow(clippy::too_many_arguments)]
async fn import_one(
    account: &str,
    req: &OrderRequest,
    done: bool,
    replay: Replay,
    desk: &dyn OrderDesk,
    store: &dyn Store,
    budget: RetryBudget,
    jitter: &Jitter,
) -> Result<Sent, ImportError> {
    let reference = req.reference();
    match replay {
        Replay::Conflict(conflict) => {
            // The stored order stays as it is, and so does the journal's record of it.
            if !done {
                fail(store, account, reference, &conflict.to_string()).await?;
            }
            return Ok(Sent::Ended(Outcome::new(End::Refused(conflict.to_string()))));
        }
        Replay::Same if done => return Ok(Sent::Ended(Outcome::new(End::AlreadyDone))),
        Replay::Same | Replay::New => {}
    }
    let started = Instant::now();
    let mut retries: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut attempt = 0u32;
    loop {
        let failure = match tokio::time::timeout(budget.attempt_timeout, desk.create_order(req))
            .await
        {
            Ok(Ok(order)) => return Ok(Sent::Created(order, retries)),
            Ok(Err(e)) => match Transient::of(&e) {
                Some(t) => (t, e.to_string()),
                None => {
                    let message = e.to_string();
                    fail(store, account, reference, &message).await?;
                    return Ok(Sent::Ended(Outcome { end: End::Refused(message), retries }));
                }
            },
            Err(_) => (
                Transient::TimedOut,
                format!(
                    "no answer within {} s (the order may have been created; the retry resolves it)",
                    budget.attempt_timeout.as_secs_f64()
                ),
            ),
        };
        let (transient, message) = failure;
        match budget.next_wait(transient, attempt, started.elapsed(), jitter.sample()) {
            Some(wait) => {
                tracing::debug!(%reference, attempt, kind = transient.label(), ?wait, "retrying");
                *retries.entry(transient.label()).or_default() += 1;
                attempt += 1;
                tokio::time::sleep(wait).await;
            }
            None => {
                let message = format!(
                    "not created yet after {} attempt(s) in {:.0} s: {message}; nothing to fix, re-run the import",
                    attempt + 1,
                    started.elapsed().as_secs_f64()
                );
                fail(store, account, reference, &message).await?;
                return Ok(Sent::Ended(Outcome { end: End::NotYet(message), retries }));
            }
        }
    }
}

async fn fail(
    store: &dyn Store,
    account: &str,
    reference: &PartnerOrderRef,
    message: &str,
) -> Result<(), ImportError> {
    store
        .journal_put(account, reference, &JournalEntry::Failed { message: message.to_owned() })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
