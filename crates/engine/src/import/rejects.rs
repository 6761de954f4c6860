//! The rejects file (`--rejects FILE`): every row this run did not import, as CSV with the
//! file's own columns and a `reason` column, so the user fixes the rows in place and imports
//! the file as it is (`reason` is read and ignored).
//!
//! It holds the bad rows, every row of a refused order, and every row of an order that is
//! "not yet" created (its reason starts with "not created yet": nothing to fix, the re-run
//! retries it) — so importing the fixed rejects file finishes the job on its own.

use std::{collections::BTreeMap, path::Path};

use super::{
    report::{ImportError, ImportReport},
    rows::{REASON, Source},
};

/// Writes the rejects of `report` to `path`; returns how many rows were written.
pub(super) fn write(
    path: &Path,
    source: &Source,
    report: &ImportReport,
) -> Result<u64, ImportError> {
    let fail = |reason: String| ImportError::Rejects { path: path.display().to_string(), reason };
    // One reason per line; a line that is both a bad row and part of a refused order keeps
    // its own (the bad row's) reason.
    let mut reasons: BTreeMap<u64, String> = BTreeMap::new();
    for problem in report.refused.iter().chain(&report.not_yet) {
        for line in &problem.lines {
            reasons.entry(*line).or_insert_with(|| problem.reason.clone());
        }
    }
    for bad in &report.bad_rows {
        reasons.insert(bad.line, bad.reason.clone());
    }
    let mut columns: Vec<String> =
        source.columns.iter().filter(|c| c.as_str() != REASON).cloned().collect();
    columns.push(REASON.to_owned());
    let mut writer = csv::Writer::from_path(path).map_err(|e| fail(e.to_string()))?;
    writer.write_record(&columns).map_err(|e| fail(e.to_string()))?;
    let empty = BTreeMap::new();
    for (line, reason) in &reasons {
        let cells = source.cells.get(line).unwrap_or(&empty);
        let record = columns.iter().map(|c| {
            if c == REASON {
                format!("line {line}: {reason}")
            } else {
                cells.get(c).cloned().unwrap_or_default()
            }
        });
        writer.write_record(record).map_err(|e| fail(e.to_string()))?;
    }
    writer.flush().map_err(|e| fail(e.to_string()))?;
    Ok(reasons.len() as u64)
}
