//! What an import reports: per row and per order problems, retries, the counts, and why an
//! import could not run at all.

use std::collections::BTreeMap;

use serde::Serialize;
use waybill_store::StoreError;

/// A row that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line number in the file (the CSV header is line 1).
    pub line: u64,
    /// What is wrong, and what to fix.
    pub reason: String,
}

/// An order that was not created by this run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderProblem {
    /// The order's reference.
    pub reference: String,
    /// The order's lines in the file, first line first.
    pub lines: Vec<u64>,
    /// Why (the carrier's message, the conflict, or the last transient failure).
    pub reason: String,
}

/// How many retries transient failures cost, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetryStats {
    /// Every retry.
    pub total: u64,
    /// By kind: `429`, `5xx`, `network`, `timeout`.
    pub by_kind: BTreeMap<&'static str, u64>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows read (excluding a CSV header and blank lines).
    pub rows: u64,
    /// Orders the file holds with valid rows (sent, skipped as done, or refused by the carrier).
    pub orders: u64,
    /// Orders created at the carrier by this run.
    pub created: u64,
    /// Orders the carrier already had (it answered `duplicate: true`).
    pub duplicates: u64,
    /// Orders skipped because the journal says an earlier run created them.
    pub already_done: u64,
    /// Orders refused: by the carrier (it said no) or by the store (the reference was used
    /// for a different order). Fix their rows and re-run.
    pub refused: Vec<OrderProblem>,
    /// Orders still failing transiently when their retry budget ran out. Nothing to fix:
    /// re-run.
    pub not_yet: Vec<OrderProblem>,
    /// Rows that could not be parsed, or belong to an order with such a row.
    pub bad_rows: Vec<RowError>,
    /// Retries made after transient failures.
    pub retries: RetryStats,
    /// Rows written to the rejects file, when one was asked for.
    pub rejects_written: Option<u64>,
}

impl ImportReport {
    /// True when every row made it.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.refused.is_empty() && self.bad_rows.is_empty() && self.not_yet.is_empty()
    }

    /// True when some rows must be fixed (bad rows, refused orders).
    #[must_use]
    pub fn needs_fixing(&self) -> bool {
        !self.refused.is_empty() || !self.bad_rows.is_empty()
    }
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The rejects file could not be written.
    #[error("cannot write the rejects file {path}: {reason}")]
    Rejects {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file's format could not be determined or its header is wrong.
    #[error("{0}")]
    Format(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
