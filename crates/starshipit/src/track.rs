//! Tracking, the StarShipIT capability: `GET /api/track` by tracking number or order
//! number, and the decoding of its answers into domain values or an [`Error`]: picks JSON
//! or XML, reads both `results` shapes and every error shape (gateway `{statusCode,message}`
//! under any HTTP status, application `{success:false,errors:[…]}` classified by what the
//! errors say, the older `{"error":{code,message,details}}`), keeps only the shipments that
//! were asked for, keeps scans with unreadable times aside instead of failing the answer, and
//! keeps the raw body when nothing fits.

use std::collections::BTreeMap;

use waybill_domain::{EventTime, Shipment, TrackQuery, TrackingEvent, TrackingNumber};

use crate::{
    StarshipitClient,
    error::{Error, truncate_body},
    shipment::{StampedTime, TrackedShipment},
    status_map, time,
    transport::Answer,
    wire::{ApiError, GatewayError, TrackResponse, WireEvent, WireShipment},
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
/// [`Error::NotFound`] for no results (or none for `query`) and for `success:false` whose
/// errors say nothing was found, [`Error::Unavailable`] / [`Error::Auth`] /
/// [`Error::RateLimited`] / [`Error::Rejected`] for other `success:false` or gateway bodies,
/// [`Error::Decode`] for a body that is not a tracking response.
pub fn decode_track_json(query: &TrackQuery, body: &[u8]) -> Result<Vec<Shipment>, Error> {
    let answer = Answer {
        status: 200,
        content_type: Some("application/json"),
        retry_after: None,
        body,
        received: jiff::Timestamp::now(),
    };
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
        return Err(by_status(status, answer.retry_after, message));
    }
    let response = parse_body(answer).map_err(|message| Error::Decode {
        message: format!("HTTP {status} body is not a tracking response: {message}"),
        body: truncate_body(answer.body),
    })?;
    // A gateway body served under 200 (Odoo reads `statusCode` whatever the HTTP status).
    if let (Some(code), None) = (response.status_code, &response.results)
        && !(200..300).contains(&code)
    {
        let message = response.message.clone().unwrap_or_else(|| format!("gateway status {code}"));
        return Err(by_status(code, answer.retry_after, message));
    }
    // The older `{"error":{code,message,details}}` shape.
    if let (Some(error), None) = (&response.error, &response.results) {
        let code = error.code.as_deref().and_then(|c| c.trim().parse::<u16>().ok());
        return Err(match code {
            Some(code) if !(200..300).contains(&code) => {
                by_status(code, answer.retry_after, error.text())
            }
            _ => classify(status, std::slice::from_ref(error), query),
        });
    }
    let errors = response.errors.as_deref().unwrap_or_default();
    let wire = response.results.map(crate::wire::Results::into_vec).unwrap_or_default();
    if response.success == Some(false) || wire.is_empty() {
        return Err(classify(status, errors, query));
    }
    let total = wire.len();
    let out: Vec<TrackedShipment> =
        wire.into_iter().filter_map(|w| shipment(query, w, answer.received)).collect();
    if out.is_empty() {
        return Err(Error::NotFound {
            message: if total == 1 {
                format!(
                    "the answer for {} names no shipment with a usable tracking number",
                    describe(query)
                )
            } else {
                format!("none of the {total} shipments in the answer is {}", describe(query))
            },
        });
    }
    Ok(out)
}

/// The error an HTTP (or gateway) status means.
fn by_status(status: u16, retry_after: Option<std::time::Duration>, message: String) -> Error {
    match status {
        401 | 403 => Error::Auth { status, message },
        404 => Error::NotFound { message },
        429 => Error::RateLimited { retry_after, message },
        500..=599 => Error::Unavailable { status, message },
        _ => Error::Rejected { status, message },
    }
}

/// A `success:false` answer by what its errors say: nothing found (or no errors at all) is
/// not found; "General Exception" (the platform's catch-all for its own failures) is
/// unavailable; a refused key is an auth error; anything else is a rejection.
fn classify(status: u16, errors: &[ApiError], query: &TrackQuery) -> Error {
    if errors.is_empty() {
        return Error::NotFound { message: format!("nothing matches {}", describe(query)) };
    }
    let message = format!("{} ({})", join_errors(errors), describe(query));
    let text = join_errors(errors).to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if any(&["general exception", "internal", "timeout", "unavailable", "try again"]) {
        Error::Unavailable { status, message }
    } else if any(&["not found", "no result", "no shipment", "no tracking", "does not exist"]) {
        Error::NotFound { message }
    } else if any(&["unauthori", "api key", "invalid key", "forbidden", "access denied"]) {
        Error::Auth { status, message }
    } else {
        Error::Rejected { status, message }
    }
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

/// The best message of an error answer: the gateway's, the application's (either shape), or
/// the raw body.
fn error_message(answer: &Answer<'_>) -> String {
    if let Ok(g) = serde_json::from_slice::<GatewayError>(answer.body) {
        return g.message;
    }
    if let Ok(r) = parse_body(answer) {
        if let Some(errors) = r.errors.filter(|e| !e.is_empty()) {
            return join_errors(&errors);
        }
        if let Some(error) = r.error {
            return error.text();
        }
        if let Some(message) = r.message {
            return message;
        }
    }
    let raw = truncate_body(answer.body);
    if raw.trim().is_empty() { format!("empty body with HTTP {}", answer.status) } else { raw }
}

fn join_errors(errors: &[ApiError]) -> String {
    errors.iter().map(ApiError::text).collect::<Vec<_>>().join("; ")
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

/// A time with its raw text; an unreadable one keeps the text with no time (and is logged).
fn stamped(raw: Option<String>, field: &str) -> Option<StampedTime> {
    let raw = non_empty(raw)?;
    let time = match time::parse(&raw) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(field, error = %e, "StarShipIT time kept raw, unparsed");
            None
        }
    };
    Some(StampedTime { raw, time })
}

/// Whether two identifiers name the same thing (StarShipIT echoes them as typed, so case and
/// surrounding space may differ).
fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// One wire shipment in domain terms; `None` when it is not what was asked (another tracking
/// or order number in a multi-result answer) or has no usable tracking number to key it by
/// (an order not shipped yet, looked up by order number).
fn shipment(
    query: &TrackQuery,
    w: WireShipment,
    received: jiff::Timestamp,
) -> Option<TrackedShipment> {
    let raw_number = non_empty(w.tracking_number.clone());
    let tracking_number = match (raw_number, query) {
        (Some(raw), TrackQuery::TrackingNumber(asked)) => {
            if !same(&raw, asked.as_str()) {
                tracing::debug!(%asked, other = %raw, "StarShipIT answer's other shipment skipped");
                return None;
            }
            asked.clone()
        }
        (None, TrackQuery::TrackingNumber(asked)) => asked.clone(),
        (raw, TrackQuery::OrderNumber(o)) => {
            if let Some(other) = non_empty(w.order_number.clone()).filter(|n| !same(n, o)) {
                tracing::debug!(order = %o, %other, "StarShipIT answer's other order skipped");
                return None;
            }
            let Some(raw) = raw else {
                tracing::debug!(order = %o, "StarShipIT shipment without a tracking number skipped");
                return None;
            };
            match TrackingNumber::parse(raw.trim()) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(order = %o, error = %e, "StarShipIT shipment with an unusable tracking number skipped");
                    return None;
                }
            }
        }
    };
    let leg = Leg::of(&w);
    let mut events: Vec<TrackingEvent> = w
        .tracking_events
        .unwrap_or_default()
        .into_iter()
        .map(|e| event(&tracking_number, &leg, e, received))
        .collect();
    // The API sends oldest first; a stable sort keeps that order and repairs any exception.
    events.sort_by_key(|e| e.occurred_at.sort_key());

    let order_status = non_empty(w.order_status);
    // With no scans yet, the order status is all there is: show it raw.
    let raw_status = non_empty(w.tracking_status)
        .or_else(|| if events.is_empty() { order_status.clone() } else { None });
    let status = match (&raw_status, events.last(), &order_status) {
        (Some(raw), _, Some(order)) if raw == order && events.is_empty() => {
            status_map::unified_order_status(order)
        }
        (Some(raw), _, _) => status_map::unified(raw),
        (None, Some(last), _) => last.status,
        (None, None, Some(order)) => status_map::unified_order_status(order),
        (None, None, None) => waybill_domain::TrackingStatus::Unknown,
    };
    Some(TrackedShipment {
        shipment: Shipment {
            tracking_number,
            order_number: non_empty(w.order_number),
            carrier_name: leg.carrier_name,
            carrier_service: non_empty(w.carrier_service),
            raw_status,
            status,
            tracking_url: leg.tracking_url,
            events,
        },
        order_status,
        shipment_date: stamped(w.shipment_date, "shipment_date"),
        last_updated: stamped(w.last_updated_date, "last_updated_date"),
    })
}

/// What a shipment says about its leg, copied onto each of its events so the stored event
/// carries every field the answer did. Fields that describe the shipment's *current* state
/// (`tracking_status`, `order_status`, `last_updated_date`) are not copied: they change with
/// every lookup and belong to the shipment, not to one scan.
struct Leg {
    carrier_name: Option<String>,
    tracking_url: Option<String>,
    extra: BTreeMap<String, String>,
}

impl Leg {
    fn of(w: &WireShipment) -> Self {
        let mut extra = w.other.clone();
        for (name, value) in [
            ("order_number", &w.order_number),
            ("carrier_service", &w.carrier_service),
            ("shipment_date", &w.shipment_date),
        ] {
            if let Some(v) = non_empty(value.clone()) {
                extra.insert(name.to_owned(), v);
            }
        }
        Self {
            carrier_name: non_empty(w.carrier_name.clone()),
            tracking_url: non_empty(w.tracking_url.clone()),
            extra,
        }
    }
}

/// One scan as a domain event. A scan whose time is missing or unreadable keeps its text
/// as sent in an [`EventTime::Unknown`] placed at `received` (a time is never invented).
fn event(
    tracking_number: &TrackingNumber,
    leg: &Leg,
    e: WireEvent,
    received: jiff::Timestamp,
) -> TrackingEvent {
    let raw_status = e.status.unwrap_or_default();
    let description = non_empty(e.details);
    let raw_time = non_empty(e.event_datetime);
    let occurred_at = match raw_time.as_deref().map(time::parse) {
        Some(Ok(t)) => t,
        Some(Err(err)) => {
            tracing::warn!(%tracking_number, error = %err, "StarShipIT scan with an unreadable time kept as time unknown");
            EventTime::unknown(raw_time.clone(), received)
        }
        None => {
            tracing::warn!(%tracking_number, "StarShipIT scan without event_datetime kept as time unknown");
            EventTime::unknown(None, received)
        }
    };
    let status = status_map::unified(&raw_status);
    let mut event = TrackingEvent::new(
        crate::CARRIER_ID,
        tracking_number.clone(),
        occurred_at,
        raw_status,
        status,
    );
    event.milestone = Some(status_map::milestone(&event.raw_status));
    event.raw_time = raw_time;
    event.description = description;
    event.carrier_name.clone_from(&leg.carrier_name);
    event.tracking_url.clone_from(&leg.tracking_url);
    event.extra = leg.extra.clone();
    // The scan's own unknown fields win over the shipment's of the same name.
    event.extra.extend(e.other);
    event
}
