//! Rendering for people and for scripts. With `--json`, stdout carries exactly one JSON
//! document (the result, or the error object of [`Failure::to_json`](crate::exit::Failure::to_json))
//! and progress and hints go to stderr; without it, tables (comfy-table) and lines go to
//! stdout. The JSON shapes are the HTTP API's (see [`views`]): one model, documented once in
//! `docs/openapi.json`.

pub mod views;

use std::io::Write;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use waybill_domain::{Timeline, present};

/// Where command output goes, and in which form.
pub struct Output {
    /// Print JSON instead of tables.
    pub json: bool,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    /// Whether the one JSON document was written already.
    wrote_json: bool,
}

impl Output {
    /// Output to stdout (results) and stderr (notes when `json`).
    #[must_use]
    pub fn stdout(json: bool) -> Self {
        Self::to_writers(json, Box::new(std::io::stdout()), Box::new(std::io::stderr()))
    }

    /// Output into any writers (tests capture them).
    #[must_use]
    pub fn to_writers(json: bool, out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Self {
        Self { json, out, err, wrote_json: false }
    }

    /// Writes a result line for people (ignored with `--json`, whose stdout is the document).
    pub fn line(&mut self, text: impl AsRef<str>) {
        if !self.json {
            // A closed stdout (e.g. `| head`) is not worth a panic.
            let _ = writeln!(self.out, "{}", text.as_ref());
        }
    }

    /// Writes progress or a hint: stdout for people, stderr with `--json`.
    pub fn note(&mut self, text: impl AsRef<str>) {
        let target = if self.json { &mut self.err } else { &mut self.out };
        let _ = writeln!(target, "{}", text.as_ref());
    }

    /// Writes the command's JSON document (once; a second call is a bug and is dropped so
    /// stdout stays one document).
    pub fn json_value<T: Serialize>(&mut self, value: &T) {
        if self.wrote_json {
            tracing::error!("a command tried to write a second JSON document; dropped");
            return;
        }
        self.wrote_json = true;
        match serde_json::to_string_pretty(value) {
            Ok(s) => {
                let _ = writeln!(self.out, "{s}");
            }
            Err(e) => {
                let _ = writeln!(
                    self.out,
                    "{}",
                    serde_json::json!({"error": {"code": "failed", "message": format!("cannot render JSON: {e}"), "exit_code": 1}})
                );
            }
        }
    }

    /// Writes a table for people (ignored with `--json`).
    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) {
        if !self.json {
            let t = table(header, rows);
            self.line(t.to_string());
        }
    }

    /// Reports a failure: the message on stderr, and with `--json` the error object on stdout
    /// (unless a document was written already).
    pub fn failure(&mut self, failure: &crate::exit::Failure) {
        let _ = writeln!(self.err, "error: {}", failure.message);
        if self.json && !self.wrote_json {
            self.json_value(&failure.to_json());
        }
    }
}

/// A table with the house style.
#[must_use]
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().copied());
    for r in rows {
        t.add_row(r);
    }
    t
}

/// The rows of a timeline table: time, carrier, status, raw status, place, details.
#[must_use]
pub fn timeline_rows(timeline: &Timeline) -> Vec<Vec<String>> {
    timeline
        .events()
        .iter()
        .map(|e| {
            let mut details: Vec<String> = Vec::new();
            if let Some(d) = &e.description {
                details.push(d.clone());
            }
            if let Some(r) = &e.reason {
                details.push(format!("reason: {}", r.code));
            }
            vec![
                present::time(&e.occurred_at),
                e.carrier.to_string(),
                e.status.to_string(),
                e.raw_status.clone(),
                present::place(e),
                details.join("; "),
            ]
        })
        .collect()
}

/// The header matching [`timeline_rows`].
pub const TIMELINE_HEADER: [&str; 6] =
    ["time", "carrier", "status", "raw status", "place", "details"];
