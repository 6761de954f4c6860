//! Tracking, the StarShipIT capability: `GET /api/track` by tracking number or order
//! number, and the decoding of its answers into domain values or an [`Error`]: picks JSON
//! or XML, reads both `results` shapes and both error shapes (gateway
//! `{statusCode,message}` and application `{success:false,errors:[…]}`), and keeps the raw
//! body when neither fits.

use waybill_domain::{Shipment, TrackQuery, TrackingEvent, TrackingNumber};

use crate::{
    StarshipitClient,
    error::{Error, truncate_body},
    shipment::{StampedTime, TrackedShipment},
    status_map, time,
    transport::Answer,
    wire::{GatewayError, TrackResponse, WireEvent, WireShipment},
    xml,
};

impl StarshipitClient {
    /// The shipments matching `query`. Waits for the subscription key's rate limiter before
    /// every attempt and retries per the [`RetryPolicy`](crate::retry::RetryPolicy).
    ///
    /// # Errors
    /// [`Error::NotFound`] when nothing matches, [`Error::Auth`] for refused keys,
    /// [`Error::RateLimited`] / [`Error::Unavailable`] / [`Error::Transport`] once retries
    /// are spent, [`Error::Decode`] for an answer that cannot be read.
    pub async fn track(&self, query: &TrackQuery) -> Result<Vec<Shipment>, Error> {
        Ok(self.track_details(query).await?.into_iter().map(|t| t.shipment).collect())
    }

    /// Like [`track`](Self::track), keeping StarShipIT's extra fields (order status,
    /// shipment date and last update with their raw text).
    ///
    /// # Errors
    /// As [`track`](Self::track).
    pub async fn track_details(&self, query: &TrackQuery) -> Result<Vec<TrackedShipment>, Error> {
        if matches!(query, TrackQuery::OrderNumber(o) if o.trim().is_empty()) {
            return Err(Error::Config { message: "the order number to track is empty".into() });
        }
        let param = match query {
            TrackQuery::TrackingNumber(n) => ("tracking_number", n.as_str()),
            TrackQuery::OrderNumber(o) => ("order_number", o.as_str()),
        };
        self.send(param, |answer| decode(query, answer)).await
    }
}

/// Decodes the JSON body of a `200` answer of `GET /api/track` to `query` into domain
/// shipments, exactly as [`StarshipitClient::track`](crate::StarshipitClient::track) does:
/// either `results` shape, statuses normalised, times parsed without inventing an offset.
/// `query` is what was asked (it names a shipment that lacks its tracking number, and the
/// error messages). Public for benchmarks and for callers that fetch answers themselves.
///
/// # Errors
/// [`Error::NotFound`] for `success:false` or no results, [`Error::Decode`] for a body that
/// is not a tracking response.
pub fn decode_track_json(query: &TrackQuery, body: &[u8]) -> Result<Vec<Shipment>, Error> {
    let answer =
        Answer { status: 200, content_type: Some("application/json"), retry_after: None, body };
    Ok(decode(query, &answer)?.into_iter().map(|t| t.shipment).collect())
}

/// Decodes an answer to `query`.
pub(crate) fn decode(
    query: &TrackQuery,
    answer: &Answer<'_>,
) -> Result<Vec<TrackedShipment>, Error> {
    let status = answer.status;
    if !(200..300).contains(&status) {
        let message = error_message(answer);
        return Err(match status {
            401 | 403 => Error::Auth { status, message },
            404 => Error::NotFound { message },
            429 => Error::RateLimited { retry_after: answer.retry_after, message },
            500..=599 => Error::Unavailable { status, message },
            _ => Error::Rejected { status, message },
        });
    }
    let response = parse_body(answer).map_err(|message| Error::Decode {
        message: format!("HTTP {status} body is not a tracking response: {message}"),
        body: truncate_body(answer.body),
    })?;
    let errors = response.errors.as_deref().unwrap_or_default();
    let wire = response.results.map(crate::wire::Results::into_vec).unwrap_or_default();
    if response.success == Some(false) || wire.is_empty() {
        let message = if errors.is_empty() {
            format!("nothing matches {}", describe(query))
        } else {
            format!("{} ({})", join_errors(errors), describe(query))
        };
        return Err(Error::NotFound { message });
    }
    let mut out = Vec::with_capacity(wire.len());
    for w in wire {
        if let Some(s) = shipment(query, w)
            .map_err(|message| Error::Decode { message, body: truncate_body(answer.body) })?
        {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(Error::NotFound {
            message: format!("{} has no tracking number yet", describe(query)),
        });
    }
    Ok(out)
}

fn is_xml(answer: &Answer<'_>) -> bool {
    answer.content_type.is_some_and(|c| c.to_ascii_lowercase().contains("xml"))
}

fn parse_body(answer: &Answer<'_>) -> Result<TrackResponse, String> {
    if is_xml(answer) {
        let text = std::str::from_utf8(answer.body).map_err(|e| format!("not UTF-8: {e}"))?;
        xml::parse(text)
    } else {
        serde_json::from_slice(answer.body).map_err(|e| e.to_string())
    }
}

/// The best message of an error answer: the gateway's, the application's, or the raw body.
fn error_message(answer: &Answer<'_>) -> String {
    if let Ok(g) = serde_json::from_slice::<GatewayError>(answer.body) {
        return g.message;
    }
    let app_errors = parse_body(answer).ok().and_then(|r| r.errors).filter(|e| !e.is_empty());
    if let Some(errors) = app_errors {
        return join_errors(&errors);
    }
    let raw = truncate_body(answer.body);
    if raw.trim().is_empty() { format!("empty body with HTTP {}", answer.status) } else { raw }
}

fn join_errors(errors: &[crate::wire::ApiError]) -> String {
    errors.iter().map(crate::wire::ApiError::text).collect::<Vec<_>>().join("; ")
}

fn describe(query: &TrackQuery) -> String {
    match query {
        TrackQuery::TrackingNumber(n) => format!("tracking number {n}"),
        TrackQuery::OrderNumber(o) => format!("order number {o}"),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn stamped(raw: Option<String>, field: &str) -> Result<Option<StampedTime>, String> {
    let Some(raw) = non_empty(raw) else { return Ok(None) };
    let time = time::parse(&raw).map_err(|e| format!("{field}: {e}"))?;
    Ok(Some(StampedTime { raw, time }))
}

/// One wire shipment in domain terms; `None` when it has no tracking number to key it by
/// (an order not shipped yet, looked up by order number).
fn shipment(query: &TrackQuery, w: WireShipment) -> Result<Option<TrackedShipment>, String> {
    let tracking_number = match (non_empty(w.tracking_number), query) {
        (Some(raw), _) => TrackingNumber::parse(raw.trim()).map_err(|e| e.to_string())?,
        (None, TrackQuery::TrackingNumber(n)) => n.clone(),
        (None, TrackQuery::OrderNumber(o)) => {
            tracing::debug!(order = %o, "StarShipIT shipment without a tracking number skipped");
            return Ok(None);
        }
    };
    let mut events = Vec::new();
    for (i, e) in w.tracking_events.unwrap_or_default().into_iter().enumerate() {
        if let Some(ev) = event(&tracking_number, e).map_err(|m| format!("event {i}: {m}"))? {
            events.push(ev);
        }
    }
    // The API sends oldest first; a stable sort keeps that order and repairs any exception.
    events.sort_by_key(|e| e.occurred_at.sort_key());

    let raw_status = non_empty(w.tracking_status);
    let order_status = non_empty(w.order_status);
    let status = match (&raw_status, events.last(), &order_status) {
        (Some(raw), _, _) => status_map::unified(raw),
        (None, Some(last), _) => last.status,
        (None, None, Some(order)) => status_map::unified_order_status(order),
        (None, None, None) => waybill_domain::TrackingStatus::Unknown,
    };
    Ok(Some(TrackedShipment {
        shipment: Shipment {
            tracking_number,
            order_number: non_empty(w.order_number),
            carrier_name: non_empty(w.carrier_name),
            carrier_service: non_empty(w.carrier_service),
            raw_status,
            status,
            tracking_url: non_empty(w.tracking_url),
            events,
        },
        order_status,
        shipment_date: stamped(w.shipment_date, "shipment_date")?,
        last_updated: stamped(w.last_updated_date, "last_updated_date")?,
    }))
}

/// One scan; `None` when it has no time (it cannot be placed on a timeline, and inventing a
/// time would be worse than dropping it).
fn event(tracking_number: &TrackingNumber, e: WireEvent) -> Result<Option<TrackingEvent>, String> {
    let Some(raw_time) = non_empty(e.event_datetime) else {
        tracing::warn!(%tracking_number, "StarShipIT event without event_datetime skipped");
        return Ok(None);
    };
    let occurred_at = time::parse(&raw_time).map_err(|e| e.to_string())?;
    let raw_status = e.status.unwrap_or_default();
    let status = status_map::unified(&raw_status);
    let mut event = TrackingEvent::new(
        crate::CARRIER_ID,
        tracking_number.clone(),
        occurred_at,
        raw_status,
        status,
    );
    event.milestone = Some(status_map::milestone(&event.raw_status));
    event.raw_time = Some(raw_time);
    event.description = non_empty(e.details);
    Ok(Some(event))
}
