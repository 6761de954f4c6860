//! Decoding entry points for fuzzing (`fuzzing` feature): each runs the exact code the client
//! runs on an answer's body, without a network. The status pool is
//! [`decode_changes_page`](crate::decode_changes_page), public already.

use waybill_domain::{RateCard, Service};

use crate::{Error, catalog, error::truncate, wire};

/// Decodes a `GET /api/v1/services` body as [`StarmileClient::services`](crate::StarmileClient::services) does.
///
/// # Errors
/// [`Error::Decode`] for a body or a service that cannot be read.
pub fn decode_services(body: &[u8]) -> Result<Vec<Service>, Error> {
    let rows: wire::Data<Vec<wire::ServiceRow>> = json(body)?;
    rows.data.into_iter().map(catalog::service_from_wire).collect()
}

/// Decodes a `GET /api/v1/rates` body as [`StarmileClient::rates`](crate::StarmileClient::rates) does.
///
/// # Errors
/// [`Error::Decode`] for a body or a rate card that cannot be read.
pub fn decode_rates(body: &[u8]) -> Result<Vec<RateCard>, Error> {
    let rows: wire::Data<Vec<wire::RateRow>> = json(body)?;
    rows.data.into_iter().map(catalog::rate_from_wire).collect()
}

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        message: e.to_string(),
        body: truncate(&String::from_utf8_lossy(body)),
    })
}
