//! `waybill openapi` (hidden): prints the HTTP API's OpenAPI document, as `cargo xtask
//! codegen` writes it to docs/openapi.json.

use crate::{exit::Failure, output::Output};

/// Prints the document (it is JSON with or without `--json`).
///
/// # Errors
/// When the document cannot be rendered.
pub fn run(out: &mut Output) -> Result<(), Failure> {
    let json = waybill_server::openapi::json()
        .map_err(|e| Failure::runtime(format!("cannot render the OpenAPI document: {e}")))?;
    if out.json {
        let value: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| Failure::runtime(format!("the OpenAPI document is not JSON: {e}")))?;
        out.json_value(&value);
    } else {
        out.line(json.trim_end());
    }
    Ok(())
}
