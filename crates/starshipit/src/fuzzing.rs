//! Decoding entry points for fuzzing (`fuzzing` feature): the exact code the client runs on
//! a `GET /api/track` answer, for any status, content type (JSON or XML) and body, without a
//! network. Webhooks are fuzzed through the public [`webhook::parse`](crate::webhook::parse),
//! [`webhook::verify`](crate::webhook::verify) and
//! [`StarshipitWebhooks`](crate::StarshipitWebhooks).

use waybill_domain::TrackQuery;

use crate::{Error, TrackedShipment, track, transport::Answer};

/// Decodes an answer to `query` with HTTP `status` and `content_type` (a value containing
/// `xml` selects the XML reader) as [`StarshipitClient::track_details`](crate::StarshipitClient::track_details) does.
///
/// # Errors
/// The client's errors for that answer.
pub fn decode_track(
    query: &TrackQuery,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<TrackedShipment>, Error> {
    let received = jiff::Timestamp::UNIX_EPOCH;
    track::decode(query, &Answer { status, content_type, retry_after: None, body, received })
}
