//! The webhook port: a carrier that pushes tracking updates over HTTP implements
//! [`WebhookReceiver`]; the server routes `POST /webhooks/{carrier id}` to it without knowing
//! which carrier it is. The receiver checks authenticity on the raw bytes before it decodes.

use crate::{CarrierInfo, TrackingEvent};

/// Why a webhook delivery was refused. Nothing is stored for a refused delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRejection {
    /// The operator has not configured what this receiver needs (e.g. its shared secret);
    /// the message names the setting.
    #[error("{0}")]
    NotConfigured(String),
    /// The delivery's signature or credential is missing or wrong.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authentic, but not a payload the receiver can turn into events.
    #[error("{0}")]
    Invalid(String),
    /// Authentic and readable, but it carries no tracking event (e.g. an order notification
    /// without a tracking number). Senders retry anything but a 2xx, so the caller
    /// acknowledges it, stores nothing, and records this reason.
    #[error("{0}")]
    NoEvent(String),
}

/// One HTTP request as a receiver sees it: headers by case-insensitive name, and the raw body.
pub trait WebhookRequest {
    /// The first value of header `name` (case-insensitive), when present and text.
    fn header(&self, name: &str) -> Option<&str>;
    /// The raw body, exactly as received (signatures cover these bytes).
    fn body(&self) -> &[u8];
    /// The secret token of the webhook URL (`/webhooks/{carrier}/{token}`), for senders that
    /// cannot sign; `None` on the plain route.
    fn path_token(&self) -> Option<&str> {
        None
    }
}

/// A carrier's webhook endpoint.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait WebhookReceiver: Send + Sync {
    /// The carrier whose deliveries this receives (its id is the route's last segment).
    fn carrier(&self) -> &CarrierInfo;

    /// Authenticates and decodes one delivery into events, in the carrier's own terms (the
    /// caller joins them to timelines with [`CarrierInfo::join`]).
    ///
    /// # Errors
    /// [`WebhookRejection`]: not configured, unauthenticated, or not a usable payload.
    fn receive(&self, request: &dyn WebhookRequest)
    -> Result<Vec<TrackingEvent>, WebhookRejection>;
}
