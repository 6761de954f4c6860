//! StarShipIT tracking webhooks: the pushed payload, its `X-Starshipit-Signature`
//! (base64 HMAC-SHA256 of the raw body with the shared secret) and its domain event.
//!
//! Verify against the raw bytes *before* parsing: re-serialising parsed JSON would not
//! reproduce the signed bytes.
//!
//! ```
//! use secrecy::SecretString;
//! use waybill_starshipit::webhook;
//! let secret = SecretString::from("s3cret");
//! let body = br#"{"order_number":"1","tracking_number":"T1","tracking_status":"InTransit","last_updated_date":"2026-06-11T04:43:42.1543701Z"}"#;
//! let signature = webhook::sign(&secret, body);
//! webhook::verify(Some(&secret), body, Some(&signature))?;
//! let event = webhook::parse(body)?.to_event()?;
//! assert_eq!(event.status, waybill_domain::TrackingStatus::InTransit);
//! # Ok::<(), waybill_starshipit::WebhookError>(())
//! ```

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use waybill_domain::{
    CarrierInfo, TrackingEvent, TrackingNumber, WebhookReceiver, WebhookRejection, WebhookRequest,
};

use crate::{status_map, time};

/// The header StarShipIT signs webhook requests with.
pub const SIGNATURE_HEADER: &str = "X-Starshipit-Signature";

/// A tracking update pushed by StarShipIT. Every field is optional on the wire; the ones
/// an event needs are checked by [`WebhookEvent::to_event`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The merchant's order number.
    #[serde(default, alias = "OrderNumber")]
    pub order_number: Option<String>,
    /// The merchant's order reference.
    #[serde(default, alias = "OrderReference", skip_serializing_if = "Option::is_none")]
    pub order_reference: Option<String>,
    /// The carrier's display name, e.g. "DHL Express".
    #[serde(default, alias = "CarrierName")]
    pub carrier_name: Option<String>,
    /// The carrier's service code, e.g. "P1".
    #[serde(default, alias = "CarrierService")]
    pub carrier_service: Option<String>,
    /// When the shipment was picked up (`2018-08-09T02:55:37.1446912Z`).
    #[serde(default, alias = "ShipmentDate")]
    pub shipment_date: Option<String>,
    /// The carrier tracking number.
    #[serde(default, alias = "TrackingNumber")]
    pub tracking_number: Option<String>,
    /// The new status, PascalCase ("InTransit", "AttemptedDelivery", ...).
    #[serde(default, alias = "TrackingStatus")]
    pub tracking_status: Option<String>,
    /// When the carrier last updated the shipment.
    #[serde(default, alias = "LastUpdatedDate")]
    pub last_updated_date: Option<String>,
}

impl WebhookEvent {
    /// The domain event: carrier `starshipit`, the unified status of `tracking_status`
    /// (unknown values pass through as `Unknown` with their text), time from
    /// `last_updated_date` with its raw text kept.
    ///
    /// # Errors
    /// [`WebhookError::Missing`] without a tracking number, status or last update;
    /// [`WebhookError::Invalid`] when one of them does not parse.
    pub fn to_event(&self) -> Result<TrackingEvent, WebhookError> {
        let number = required(self.tracking_number.as_deref(), "tracking_number")?;
        let raw_status = required(self.tracking_status.as_deref(), "tracking_status")?;
        let raw_time = required(self.last_updated_date.as_deref(), "last_updated_date")?;
        let tracking_number = TrackingNumber::parse(number.trim()).map_err(|e| {
            WebhookError::Invalid { field: "tracking_number", message: e.to_string() }
        })?;
        let occurred_at = time::parse(raw_time).map_err(|e| WebhookError::Invalid {
            field: "last_updated_date",
            message: e.to_string(),
        })?;
        let mut event = TrackingEvent::new(
            crate::CARRIER_ID,
            tracking_number,
            occurred_at,
            raw_status,
            status_map::unified(raw_status),
        );
        event.milestone = Some(status_map::milestone(raw_status));
        event.raw_time = Some(raw_time.to_owned());
        Ok(event)
    }
}

/// Parses a webhook body (JSON).
///
/// # Errors
/// [`WebhookError::Malformed`] when the body is not a JSON object of the expected shape.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::Malformed { message: e.to_string() })
}

/// Checks `signature_header` (the `X-Starshipit-Signature` value) against the raw `body`.
/// Without a secret every request is accepted (nothing to check against); with one, a
/// missing or wrong signature is rejected. The comparison takes constant time.
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
    let encoded = header.strip_prefix("sha256=").unwrap_or(header);
    let given = STANDARD.decode(encoded).map_err(|_| WebhookError::BadSignature)?;
    let expected = mac(secret, body);
    if bool::from(given.as_slice().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// The `X-Starshipit-Signature` value for `body`: base64 of HMAC-SHA256 with `secret`.
#[must_use]
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    STANDARD.encode(mac(secret, body))
}

/// Why a webhook request was refused. Messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A secret is configured but the request carried no signature header.
    #[error(
        "missing X-Starshipit-Signature header; the sender must sign webhooks with the configured secret"
    )]
    MissingSignature,
    /// The signature is not base64 or does not match the body.
    #[error(
        "X-Starshipit-Signature does not match the body; check that both sides use the same webhook secret"
    )]
    BadSignature,
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

fn required<'a>(value: Option<&'a str>, field: &'static str) -> Result<&'a str, WebhookError> {
    value.filter(|v| !v.trim().is_empty()).ok_or(WebhookError::Missing { field })
}

/// StarShipIT's webhook endpoint as a domain [`WebhookReceiver`]: verifies the signature
/// against the raw body, then decodes the payload into one event. Without a secret it refuses
/// every delivery (an unsigned endpoint would let anyone write into timelines).
pub struct StarshipitWebhooks {
    secret: Option<SecretString>,
    carrier: CarrierInfo,
}

impl std::fmt::Debug for StarshipitWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarshipitWebhooks")
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl StarshipitWebhooks {
    /// A receiver checking signatures with `secret` (`None`: not configured, every delivery
    /// is refused with a message naming the setting).
    #[must_use]
    pub fn new(secret: Option<SecretString>) -> Self {
        Self { secret, carrier: crate::carrier() }
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
        let Some(secret) = &self.secret else {
            return Err(WebhookRejection::NotConfigured(
                "webhooks are off: the operator must set $WAYBILL_STARSHIPIT_WEBHOOK_SECRET or serve.webhook_secret_file".into(),
            ));
        };
        verify(Some(secret), request.body(), request.header(SIGNATURE_HEADER))
            .map_err(|e| WebhookRejection::Unauthenticated(e.to_string()))?;
        let event = parse(request.body())
            .and_then(|w| w.to_event())
            .map_err(|e| WebhookRejection::Invalid(e.to_string()))?;
        Ok(vec![event])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_is_detected() {
        let secret = SecretString::from("k");
        let body = br#"{"tracking_number":"T1"}"#;
        let sig = sign(&secret, body);
        assert_eq!(verify(Some(&secret), body, Some(&sig)), Ok(()));
        assert_eq!(verify(Some(&secret), body, Some(&format!("sha256={sig}"))), Ok(()));
        assert_eq!(
            verify(Some(&secret), br#"{"tracking_number":"T2"}"#, Some(&sig)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(verify(Some(&secret), body, Some("!!")), Err(WebhookError::BadSignature));
        assert_eq!(verify(Some(&secret), body, None), Err(WebhookError::MissingSignature));
        assert_eq!(verify(None, body, None), Ok(()));
    }

    #[test]
    fn pascal_case_keys_are_accepted() {
        let e = parse(br#"{"TrackingNumber":"T1","TrackingStatus":"Delivered","LastUpdatedDate":"2026-06-11T04:43:42Z"}"#)
            .unwrap();
        assert_eq!(e.to_event().unwrap().status, waybill_domain::TrackingStatus::Delivered);
        assert_eq!(
            parse(br#"{"tracking_number":"T1"}"#).unwrap().to_event(),
            Err(WebhookError::Missing { field: "tracking_status" })
        );
    }
}
