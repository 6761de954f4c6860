//! The options every scenario reads: sizes, the binary under test, the scratch directory,
//! and the `--name value` argument reader.

use std::path::PathBuf;

use anyhow::Context;

/// Options shared by the scenarios.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Scaled-down sizes for a quick run (about a minute in all).
    pub quick: bool,
    /// The release `waybill` binary.
    pub waybill: PathBuf,
    /// Where scratch files (stores, CSVs, scripts) go.
    pub out: PathBuf,
}

/// The value after `--name` in `args`.
pub(crate) fn arg<'a>(args: &'a [String], name: &str) -> anyhow::Result<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
        .with_context(|| format!("missing {name}"))
}
