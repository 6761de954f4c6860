//! Rendering for people and for scripts: tables (comfy-table) by default, JSON with `--json`,
//! and one way to show an event time everywhere.

use std::io::Write;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use waybill_domain::{EventTime, Timeline};

/// Where command output goes, and in which form.
pub struct Output {
    /// Print JSON instead of tables.
    pub json: bool,
    out: Box<dyn Write + Send>,
}

impl Output {
    /// Output to stdout.
    #[must_use]
    pub fn stdout(json: bool) -> Self {
        Self { json, out: Box::new(std::io::stdout()) }
    }

    /// Output into any writer (tests capture it).
    #[must_use]
    pub fn to_writer(json: bool, out: Box<dyn Write + Send>) -> Self {
        Self { json, out }
    }

    /// Writes a line.
    pub fn line(&mut self, text: impl AsRef<str>) {
        // A closed stdout (e.g. `| head`) is not worth a panic.
        let _ = writeln!(self.out, "{}", text.as_ref());
    }

    /// Writes a value as pretty JSON.
    pub fn json_value<T: Serialize>(&mut self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => self.line(s),
            Err(e) => self.line(format!("{{\"error\":\"cannot render JSON: {e}\"}}")),
        }
    }

    /// Writes a table.
    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) {
        self.line(table(header, rows).to_string());
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

/// An event time for people: exact times in the zone the carrier reported (or UTC), local
/// wall-clock times marked as such — never converted, since their zone is unknown.
#[must_use]
pub fn show_time(t: &EventTime) -> String {
    match t {
        EventTime::Exact { at, zone } => {
            let tz = zone
                .as_deref()
                .and_then(|z| jiff::tz::TimeZone::get(z).ok())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let name = zone.as_deref().unwrap_or("UTC");
            format!("{} {name}", at.to_zoned(tz).strftime("%Y-%m-%d %H:%M"))
        }
        EventTime::Local { at } => format!("{} (local)", at.strftime("%Y-%m-%d %H:%M")),
    }
}

/// The rows of a timeline table: time, carrier, status, raw status, details.
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
            let place = match (&e.location, &e.country) {
                (Some(l), Some(c)) => format!("{l}, {c}"),
                (Some(l), None) => l.clone(),
                (None, Some(c)) => c.to_string(),
                (None, None) => String::new(),
            };
            vec![
                show_time(&e.occurred_at),
                e.carrier.to_string(),
                e.status.to_string(),
                e.raw_status.clone(),
                place,
                details.join("; "),
            ]
        })
        .collect()
}

/// The header matching [`timeline_rows`].
pub const TIMELINE_HEADER: [&str; 6] =
    ["time", "carrier", "status", "raw status", "place", "details"];
