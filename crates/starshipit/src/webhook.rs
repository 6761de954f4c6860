//! StarShipIT tracking webhooks: the pushed payload (read leniently: numeric
//! `order_number`, PascalCase keys, `{"events":[…]}` and `{"order":{…}}` wrappers, unknown
//! fields kept), its authentication and its domain events.
//!
//! Signing is optional at StarShipIT, so a delivery is authentic when either
//! - its `X-Starshipit-Signature` (or `X-StarShipIT-Hmac-SHA256`) is the HMAC-SHA256 of the
//!   raw body with the shared secret, base64 or hex, with or without a `sha256=` prefix; or
//! - it arrived on the secret URL `/webhooks/starshipit/{token}` (for accounts that cannot
//!   sign), the token compared in constant time.
//!
//! Verify against the raw bytes *before* parsing: re-serialising parsed JSON would not
//! reproduce the signed bytes.
//!
//! ```
//! use secrecy::SecretString;
//! use waybill_starshipit::webhook;
//! let secret = SecretString::from("s3cret");
//! let body = br#"{"order_number":1,"tracking_number":"T1","tracking_status":"InTransit","last_updated_date":"2026-06-11T04:43:42.1543701Z"}"#;
//! let signature = webhook::sign(&secret, body);
//! webhook::verify(Some(&secret), body, Some(&signature))?;
//! let event = webhook::parse(body)?[0].to_event(jiff::Timestamp::now())?;
//! assert_eq!(event.status, waybill_domain::TrackingStatus::InTransit);
//! assert_eq!(event.extra["order_number"], "1");
//! # Ok::<(), waybill_starshipit::WebhookError>(())
//! ```

use std::collections::BTreeMap;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use waybill_domain::{
    CarrierInfo, EventTime, TrackingEvent, TrackingNumber, WebhookReceiver, WebhookRejection,
    WebhookRequest,
};

use crate::{status_map, time, wire::any_text};

/// The header StarShipIT signs webhook requests with.
pub const SIGNATURE_HEADER: &str = "X-Starshipit-Signature";
/// The other signature header receivers in the wild check (same HMAC).
pub const HMAC_HEADER: &str = "X-StarShipIT-Hmac-SHA256";

/// A tracking update pushed by StarShipIT, fields as sent (numbers and booleans as text).
/// Every field is optional on the wire; the ones an event needs are checked by
/// [`WebhookEvent::to_event`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebhookEvent {
    /// The merchant's order number.
    pub order_number: Option<String>,
    /// The merchant's order reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_reference: Option<String>,
    /// The carrier's display name, e.g. "DHL Express" (also read from `carrier`).
    pub carrier_name: Option<String>,
    /// The carrier's service code, e.g. "P1".
    pub carrier_service: Option<String>,
    /// When the shipment was booked (`2018-08-09T02:55:37.1446912Z`).
    pub shipment_date: Option<String>,
    /// The carrier tracking number.
    pub tracking_number: Option<String>,
    /// The new status, PascalCase ("InTransit", "AttemptedDelivery", ...); also read from
    /// `status` when `tracking_status` is absent.
    pub tracking_status: Option<String>,
    /// When the carrier last updated the shipment.
    pub last_updated_date: Option<String>,
    /// The carrier's tracking page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    /// Free text about the status (`status_description`, `description` or `details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every other field, by its name as sent, as text (objects and arrays as JSON).
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

impl WebhookEvent {
    /// The domain event: carrier `starshipit`, the unified status of `tracking_status`
    /// (unknown values pass through as `Unknown` with their text), carrier name, tracking URL
    /// and description in their own fields, and every other field in `extra` by its name.
    ///
    /// The time is `last_updated_date` (raw text kept). A payload without a readable one is
    /// still a true report — StarShipIT pushes on each change — so it is stored at
    /// `received_at`, flagged: `raw_time` empty, `extra.received_at` set, and the unreadable
    /// text (if any) kept in `extra.last_updated_date`.
    ///
    /// # Errors
    /// [`WebhookError::Missing`] without a tracking number or status;
    /// [`WebhookError::Invalid`] when the tracking number is unusable.
    pub fn to_event(&self, received_at: Timestamp) -> Result<TrackingEvent, WebhookError> {
        let number = required(self.tracking_number.as_deref(), "tracking_number")?;
        let raw_status = required(self.tracking_status.as_deref(), "tracking_status")?.trim();
        let tracking_number = TrackingNumber::parse(number.trim()).map_err(|e| {
            WebhookError::Invalid { field: "tracking_number", message: e.to_string() }
        })?;
        let mut extra = self.other.clone();
        for (name, value) in [
            ("order_number", &self.order_number),
            ("order_reference", &self.order_reference),
            ("carrier_service", &self.carrier_service),
            ("shipment_date", &self.shipment_date),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                extra.insert(name.to_owned(), v.to_owned());
            }
        }
        let raw_time = self.last_updated_date.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let parsed = raw_time.map(|t| (t, time::parse(t)));
        // Without a usable time the event is kept as "time unknown", placed at its receipt;
        // its identity leaves the receipt out, so StarShipIT's redeliveries store nothing new.
        let occurred_at = match parsed {
            Some((_, Ok(t))) => t,
            Some((raw, Err(e))) => {
                tracing::warn!(error = %e, "StarShipIT webhook time unreadable; kept as time unknown");
                EventTime::unknown(Some(raw.to_owned()), received_at)
            }
            None => EventTime::unknown(None, received_at),
        };
        let raw_time = raw_time.map(str::to_owned);
        let mut event = TrackingEvent::new(
            crate::CARRIER_ID,
            tracking_number,
            occurred_at,
            raw_status,
            status_map::unified(raw_status),
        );
        event.milestone = Some(status_map::milestone(raw_status));
        event.raw_time = raw_time;
        event.carrier_name = non_empty(&self.carrier_name);
        event.tracking_url = non_empty(&self.tracking_url);
        event.description = non_empty(&self.description);
        event.extra = extra;
        Ok(event)
    }

    /// Reads one payload object, keys matched without regard to case or `_`.
    fn from_object(object: &serde_json::Map<String, Value>) -> Self {
        let mut e = Self::default();
        let mut status = None;
        for (key, value) in object {
            let Some(text) = any_text(value) else { continue };
            let norm: String =
                key.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_lowercase();
            let slot = match norm.as_str() {
                "ordernumber" => &mut e.order_number,
                "orderreference" => &mut e.order_reference,
                "carriername" | "carrier" if e.carrier_name.is_none() => &mut e.carrier_name,
                "carrierservice" => &mut e.carrier_service,
                "shipmentdate" => &mut e.shipment_date,
                "trackingnumber" => &mut e.tracking_number,
                "trackingstatus" => &mut e.tracking_status,
                "status" if status.is_none() => &mut status,
                "lastupdateddate" => &mut e.last_updated_date,
                "trackingurl" => &mut e.tracking_url,
                "statusdescription" | "description" | "details" if e.description.is_none() => {
                    &mut e.description
                }
                _ => {
                    e.other.insert(key.clone(), text);
                    continue;
                }
            };
            *slot = Some(text);
        }
        match (&e.tracking_status, status) {
            (None, Some(s)) => e.tracking_status = Some(s),
            (Some(_), Some(s)) => {
                e.other.insert("status".into(), s);
            }
            _ => {}
        }
        e
    }
}

/// Parses a webhook body (JSON) into the payloads it carries: the object itself, each item
/// of an `events` array, or the object nested under `order` (the wrapper's other fields are
/// kept on each payload).
///
/// # Errors
/// [`WebhookError::Malformed`] when the body is not a JSON object or array of objects.
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, WebhookError> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed { message: e.to_string() })?;
    let objects = match root {
        Value::Object(top) => unwrap_payloads(top),
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        other => {
            return Err(WebhookError::Malformed {
                message: format!("expected a JSON object, found {}", kind(&other)),
            });
        }
    };
    Ok(objects.iter().map(WebhookEvent::from_object).collect())
}

type Object = serde_json::Map<String, Value>;

fn unwrap_payloads(mut top: Object) -> Vec<Object> {
    let has_number = top.keys().any(|k| k.replace('_', "").eq_ignore_ascii_case("trackingnumber"));
    let nested = match (top.get("events"), top.get("order")) {
        (Some(Value::Array(_)), _) => top.remove("events"),
        (_, Some(Value::Object(_))) if !has_number => top.remove("order"),
        _ => None,
    };
    let items = match nested {
        Some(Value::Array(items)) => items,
        Some(v @ Value::Object(_)) => vec![v],
        _ => return vec![top],
    };
    items
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(mut o) => {
                for (k, v) in &top {
                    o.entry(k.clone()).or_insert_with(|| v.clone());
                }
                Some(o)
            }
            _ => None,
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks `signature_header` (an `X-Starshipit-Signature` value) against the raw `body`:
/// the HMAC-SHA256 with `secret`, base64 (standard or URL-safe) or hex, optionally prefixed
/// `sha256=`. Without a secret there is nothing to check against and every request passes
/// (the receiver then requires the URL token instead). The comparison takes constant time.
///
/// # Errors
/// [`WebhookError::MissingSignature`] or [`WebhookError::BadSignature`].
pub fn verify(
    secret: Option<&SecretString>,
    body: &[u8],
    signature_header: Option<&str>,
) -> Result<(), WebhookError> {
    let Some(secret) = secret else { return Ok(()) };
    let header = signature_header.map(str::trim).filter(|s| !s.is_empty());
    let header = header.ok_or(WebhookError::MissingSignature)?;
    // Some senders prefix the algorithm; accept it without requiring it.
    let encoded = match header.split_once('=') {
        Some((algo, rest)) if algo.eq_ignore_ascii_case("sha256") => rest.trim(),
        _ => header,
    };
    let expected = mac(secret, body);
    let candidates = [
        hex(encoded),
        STANDARD.decode(encoded).ok(),
        URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).ok(),
    ];
    let mut ok = subtle::Choice::from(0);
    for given in candidates.iter().flatten() {
        ok |= given.as_slice().ct_eq(expected.as_slice());
    }
    if bool::from(ok) { Ok(()) } else { Err(WebhookError::BadSignature) }
}

/// The `X-Starshipit-Signature` value for `body`: base64 of HMAC-SHA256 with `secret`.
#[must_use]
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    STANDARD.encode(mac(secret, body))
}

/// The same signature, lowercase hex (as some senders write it).
#[must_use]
pub fn sign_hex(secret: &SecretString, body: &[u8]) -> String {
    mac(secret, body).iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a webhook request was refused. Messages never contain the secret or the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A secret is configured but the request carried no signature header.
    #[error(
        "missing X-Starshipit-Signature header; the sender must sign webhooks with the configured secret, or post to the webhook URL with its token"
    )]
    MissingSignature,
    /// The signature is not base64 or hex, or does not match the body.
    #[error(
        "X-Starshipit-Signature does not match the body; check that both sides use the same webhook secret"
    )]
    BadSignature,
    /// The token in the webhook URL is not the configured one.
    #[error("the token in the webhook URL is wrong; copy the URL again from the configuration")]
    BadToken,
    /// The body is not a webhook payload.
    #[error("webhook body is not a StarShipIT tracking payload: {message}")]
    Malformed {
        /// What did not parse.
        message: String,
    },
    /// A field needed for a tracking event is absent.
    #[error("webhook payload has no {field}; it cannot become a tracking event")]
    Missing {
        /// The field name.
        field: &'static str,
    },
    /// A field is present but unusable.
    #[error("webhook field {field} is invalid: {message}")]
    Invalid {
        /// The field name.
        field: &'static str,
        /// Why.
        message: String,
    },
}

fn mac(secret: &SecretString, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return Vec::new();
    };
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Lowercase or uppercase hex, or `None`.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn required<'a>(value: Option<&'a str>, field: &'static str) -> Result<&'a str, WebhookError> {
    value.filter(|v| !v.trim().is_empty()).ok_or(WebhookError::Missing { field })
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// StarShipIT's webhook endpoint as a domain [`WebhookReceiver`]: authenticates the delivery
/// (signature or URL token, see the module docs) against the raw body, then decodes every
/// payload it carries. An authentic body with no tracking event is acknowledged
/// ([`WebhookRejection::NoEvent`], with the reason). With neither a secret nor a token it
/// refuses every delivery: an unauthenticated endpoint would let anyone write into
/// timelines.
pub struct StarshipitWebhooks {
    secret: Option<SecretString>,
    token: Option<SecretString>,
    clock: fn() -> Timestamp,
    carrier: CarrierInfo,
}

impl std::fmt::Debug for StarshipitWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarshipitWebhooks")
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl StarshipitWebhooks {
    /// A receiver checking signatures with `secret` (`None`: not configured; without a
    /// token either, every delivery is refused with a message naming the settings).
    #[must_use]
    pub fn new(secret: Option<SecretString>) -> Self {
        Self { secret, token: None, clock: Timestamp::now, carrier: crate::carrier() }
    }

    /// Also accepts deliveries to `/webhooks/starshipit/{token}`, for accounts that cannot
    /// sign.
    #[must_use]
    pub fn with_token(mut self, token: Option<SecretString>) -> Self {
        self.token = token;
        self
    }

    /// The clock that stamps deliveries without a readable time (tests pin it).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Self {
        self.clock = clock;
        self
    }

    fn authenticate(&self, request: &dyn WebhookRequest) -> Result<(), WebhookRejection> {
        let unauthenticated = |e: WebhookError| WebhookRejection::Unauthenticated(e.to_string());
        if self.secret.is_none() && self.token.is_none() {
            return Err(WebhookRejection::NotConfigured(
                "webhooks are off: the operator must set a signing secret ($WAYBILL_STARSHIPIT_WEBHOOK_SECRET or serve.webhook_secret_file) or a URL token ($WAYBILL_STARSHIPIT_WEBHOOK_TOKEN or serve.webhook_token_file)".into(),
            ));
        }
        let signature = request.header(SIGNATURE_HEADER).or_else(|| request.header(HMAC_HEADER));
        let token_ok = match (request.path_token(), &self.token) {
            (Some(given), Some(token)) => {
                if !bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
                    return Err(unauthenticated(WebhookError::BadToken));
                }
                true
            }
            (Some(_), None) => return Err(unauthenticated(WebhookError::BadToken)),
            (None, _) => false,
        };
        match (&self.secret, token_ok, signature) {
            // The URL token suffices; a signature sent along must still be right.
            (Some(secret), true, Some(sig)) => {
                verify(Some(secret), request.body(), Some(sig)).map_err(unauthenticated)
            }
            (_, true, _) => Ok(()),
            (Some(secret), false, sig) => {
                verify(Some(secret), request.body(), sig).map_err(unauthenticated)
            }
            (None, false, _) => Err(WebhookRejection::Unauthenticated(
                "this endpoint accepts only its secret URL (/webhooks/starshipit/{token}); deliveries to the plain URL are refused".into(),
            )),
        }
    }
}

impl WebhookReceiver for StarshipitWebhooks {
    fn carrier(&self) -> &CarrierInfo {
        &self.carrier
    }

    fn receive(
        &self,
        request: &dyn WebhookRequest,
    ) -> Result<Vec<TrackingEvent>, WebhookRejection> {
        self.authenticate(request)?;
        let payloads =
            parse(request.body()).map_err(|e| WebhookRejection::Invalid(e.to_string()))?;
        let received_at = (self.clock)();
        let mut events = Vec::new();
        let mut skipped = Vec::new();
        for p in &payloads {
            match p.to_event(received_at) {
                Ok(e) => events.push(e),
                Err(e) => skipped.push(e.to_string()),
            }
        }
        if !skipped.is_empty() && !events.is_empty() {
            tracing::warn!(skipped = ?skipped, "StarShipIT webhook payloads without a tracking event skipped");
        }
        if events.is_empty() {
            let why = if skipped.is_empty() {
                "the body carries no payload".to_owned()
            } else {
                skipped.join("; ")
            };
            return Err(WebhookRejection::NoEvent(why));
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_is_detected_in_every_encoding() {
        let secret = SecretString::from("k");
        let body = br#"{"tracking_number":"T1"}"#;
        let sig = sign(&secret, body);
        let hex = sign_hex(&secret, body);
        for ok in [
            sig.clone(),
            format!("sha256={sig}"),
            hex.clone(),
            format!("SHA256={hex}"),
            hex.to_uppercase(),
        ] {
            assert_eq!(verify(Some(&secret), body, Some(&ok)), Ok(()), "{ok}");
        }
        assert_eq!(
            verify(Some(&secret), br#"{"tracking_number":"T2"}"#, Some(&sig)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(verify(Some(&secret), body, Some("!!")), Err(WebhookError::BadSignature));
        assert_eq!(verify(Some(&secret), body, None), Err(WebhookError::MissingSignature));
        assert_eq!(verify(None, body, None), Ok(()));
    }

    /// A request as the server hands it over.
    struct Request<'a> {
        headers: Vec<(&'a str, String)>,
        body: &'a [u8],
        token: Option<&'a str>,
    }

    impl WebhookRequest for Request<'_> {
        fn header(&self, name: &str) -> Option<&str> {
            let found = self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
            found.map(|(_, v)| v.as_str())
        }

        fn body(&self) -> &[u8] {
            self.body
        }

        fn path_token(&self) -> Option<&str> {
            self.token
        }
    }

    const BODY: &[u8] = br#"{"tracking_number":"T1","tracking_status":"InTransit","last_updated_date":"2026-06-11T04:43:42Z"}"#;
    const TOKEN: &str = "token-0123456789abcdef";

    fn outcome(
        receiver: &StarshipitWebhooks,
        signature: Option<String>,
        token: Option<&str>,
    ) -> Result<usize, &'static str> {
        let headers = signature.into_iter().map(|s| (SIGNATURE_HEADER, s)).collect();
        match receiver.receive(&Request { headers, body: BODY, token }) {
            Ok(events) => Ok(events.len()),
            Err(WebhookRejection::NotConfigured(_)) => Err("not configured"),
            Err(WebhookRejection::Unauthenticated(m)) => {
                assert!(!m.contains(TOKEN) && !m.contains("s3cret"), "{m}");
                Err("unauthenticated")
            }
            Err(WebhookRejection::Invalid(_)) => Err("invalid"),
            Err(WebhookRejection::NoEvent(_)) => Err("no event"),
        }
    }

    #[test]
    fn a_delivery_is_authentic_by_signature_or_by_url_token() {
        let secret = SecretString::from("s3cret");
        let good = || Some(sign(&secret, BODY));
        let bad = || Some(sign(&SecretString::from("other"), BODY));
        let token = || Some(SecretString::from(TOKEN));

        let none = StarshipitWebhooks::new(None);
        assert_eq!(outcome(&none, good(), Some(TOKEN)), Err("not configured"));

        let signed = StarshipitWebhooks::new(Some(secret.clone()));
        assert_eq!(outcome(&signed, good(), None), Ok(1));
        assert_eq!(outcome(&signed, bad(), None), Err("unauthenticated"));
        assert_eq!(outcome(&signed, None, None), Err("unauthenticated"));
        assert_eq!(outcome(&signed, good(), Some(TOKEN)), Err("unauthenticated"), "no token set");

        let tokened = StarshipitWebhooks::new(None).with_token(token());
        assert_eq!(outcome(&tokened, None, Some(TOKEN)), Ok(1));
        assert_eq!(outcome(&tokened, None, Some("token-0123456789abcdeX")), Err("unauthenticated"));
        assert_eq!(outcome(&tokened, good(), None), Err("unauthenticated"), "plain URL refused");

        let both = StarshipitWebhooks::new(Some(secret.clone())).with_token(token());
        assert_eq!(outcome(&both, None, Some(TOKEN)), Ok(1));
        assert_eq!(outcome(&both, good(), None), Ok(1));
        assert_eq!(
            outcome(&both, bad(), Some(TOKEN)),
            Err("unauthenticated"),
            "a wrong signature sent along"
        );
        assert!(!format!("{both:?}").contains(TOKEN));
    }

    #[test]
    fn the_second_signature_header_and_bodies_without_events() {
        let secret = SecretString::from("s3cret");
        let receiver = StarshipitWebhooks::new(Some(secret.clone()));
        let request = Request {
            headers: vec![(HMAC_HEADER, format!("sha256={}", sign_hex(&secret, BODY)))],
            body: BODY,
            token: None,
        };
        assert_eq!(receiver.receive(&request).map(|e| e.len()), Ok(1));
        let body = br#"{"order_number":"1","order_status":"Printed"}"#;
        let request =
            Request { headers: vec![(SIGNATURE_HEADER, sign(&secret, body))], body, token: None };
        let Err(WebhookRejection::NoEvent(why)) = receiver.receive(&request) else {
            panic!("an authentic body without an event is acknowledged")
        };
        assert!(why.contains("tracking_number"), "{why}");
        let body = b"[1, 2]";
        let request =
            Request { headers: vec![(SIGNATURE_HEADER, sign(&secret, body))], body, token: None };
        assert!(matches!(receiver.receive(&request), Err(WebhookRejection::NoEvent(_))));
    }

    #[test]
    fn pascal_case_keys_and_numbers_are_accepted() {
        let e = parse(br#"{"TrackingNumber":"T1","TrackingStatus":"Delivered","OrderNumber":5567476,"LastUpdatedDate":"2026-06-11T04:43:42Z"}"#)
            .unwrap()
            .remove(0);
        assert_eq!(e.order_number.as_deref(), Some("5567476"));
        let event = e.to_event(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(event.status, waybill_domain::TrackingStatus::Delivered);
        assert_eq!(
            parse(br#"{"tracking_number":"T1"}"#).unwrap()[0].to_event(Timestamp::UNIX_EPOCH),
            Err(WebhookError::Missing { field: "tracking_status" })
        );
    }
}
