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
    // Fit the terminal (wrapping the widest cells, e.g. details); `COLUMNS` sets the width
    // where there is no terminal to ask.
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if let Some(width) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<u16>().ok()) {
        t.set_width(width);
    }
    t.set_header(header.iter().copied());
    for r in rows {
        t.add_row(r);
    }
    t
}

/// The zone a view shows every time in (`--tz`, default the machine's zone).
#[derive(Debug, Clone, clap::Args)]
pub struct TzArg {
    /// Show times in this IANA zone, e.g. `Australia/Sydney` or `UTC` (default: this
    /// machine's zone). Each time keeps its UTC offset; a zone waybill inferred is marked `*`.
    #[arg(long, env = "WAYBILL_TZ")]
    pub tz: Option<String>,
}

/// One zone for a whole view.
#[derive(Debug, Clone)]
pub struct Clock {
    /// The zone.
    pub zone: jiff::tz::TimeZone,
    /// Its name, for the view's header.
    pub name: String,
}

impl Clock {
    /// The zone `--tz` names, else the machine's.
    ///
    /// # Errors
    /// A usage failure for a name the time zone database does not know.
    pub fn from_arg(arg: &TzArg) -> Result<Self, crate::exit::Failure> {
        match arg.tz.as_deref().map(str::trim) {
            Some(name) => jiff::tz::TimeZone::get(name)
                .map(|zone| Self { zone, name: name.to_owned() })
                .map_err(|e| {
                    crate::exit::Failure::usage(format!(
                        "--tz {name:?} is not an IANA time zone (e.g. Australia/Sydney, UTC): {e}"
                    ))
                }),
            None => {
                let zone = jiff::tz::TimeZone::system();
                let name = zone.iana_name().unwrap_or("local").to_owned();
                Ok(Self { zone, name })
            }
        }
    }

    /// The line above a timeline table saying how to read its times.
    #[must_use]
    pub fn legend(&self) -> String {
        format!("times in {} (UTC offsets shown; * = zone inferred by waybill)", self.name)
    }
}

/// The rows of a timeline table, oldest first on the timeline's one clock, shown in `clock`'s
/// zone and grouped by day (the day is printed on a day's first row only).
#[must_use]
pub fn timeline_rows(timeline: &Timeline, clock: &Clock) -> Vec<Vec<String>> {
    let mut last_day = String::new();
    timeline
        .resolved()
        .iter()
        .map(|(e, r)| {
            let mut details: Vec<String> = Vec::new();
            if let Some(d) = &e.description {
                details.push(d.clone());
            }
            if let Some(reason) = &e.reason {
                details.push(format!("reason: {}", reason.code));
            }
            if let Some(note) = present::zone_note(r) {
                details.push(format!(
                    "{note}; carrier wrote {}",
                    e.raw_time.as_deref().unwrap_or("-")
                ));
            }
            let day = present::day(r, &clock.zone);
            let shown_day = if day == last_day { String::new() } else { day.clone() };
            last_day = day;
            let full = present::in_zone(r, &clock.zone);
            let time = full.split_once(' ').map_or(full.clone(), |(_, t)| t.to_owned());
            let marker = if r.source.is_inferred() { "*" } else { "" };
            vec![
                shown_day,
                format!("{time}{marker}"),
                e.carrier_name.clone().unwrap_or_else(|| e.carrier.to_string()),
                e.status.to_string(),
                e.milestone().to_string(),
                e.raw_status.clone(),
                present::place(e),
                details.join("; "),
            ]
        })
        .collect()
}

/// The header matching [`timeline_rows`].
pub const TIMELINE_HEADER: [&str; 8] =
    ["day", "time", "carrier", "status", "milestone", "raw status", "place", "details"];
