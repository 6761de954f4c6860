//! The client's error type: one variant per thing the caller can act on, convertible into
//! the domain's [`CarrierError`].

use std::time::Duration;

use waybill_domain::{CarrierError, FieldErrors};

/// What went wrong building the client or tracking a parcel. Messages never contain the API
/// key or the subscription key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The client was configured with something unusable (base URL, user agent, ...).
    #[error("invalid StarShipIT client configuration: {message}")]
    Config {
        /// What to fix.
        message: String,
    },
    /// StarShipIT or its gateway refused the keys (HTTP 401 or 403).
    #[error(
        "StarShipIT refused the credentials (HTTP {status}): {message}; check the StarShipIT-Api-Key and the Ocp-Apim-Subscription-Key"
    )]
    Auth {
        /// The HTTP status (401 or 403).
        status: u16,
        /// The gateway's or the application's message.
        message: String,
    },
    /// Nothing matched the query (HTTP 404, or `success:false` with no results).
    #[error("StarShipIT found no shipment: {message}")]
    NotFound {
        /// The platform's message.
        message: String,
    },
    /// The gateway kept answering 429 after the retry budget was spent.
    #[error(
        "StarShipIT rate limit exceeded: {message}; lower rate_limit_per_second or use a production subscription key"
    )]
    RateLimited {
        /// The `Retry-After` the gateway sent, when it sent one.
        retry_after: Option<Duration>,
        /// The gateway's message.
        message: String,
    },
    /// StarShipIT or a gateway in front of it failed (5xx) after the retry budget was spent.
    #[error("StarShipIT unavailable (HTTP {status}): {message}")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The platform's message, or the raw body when it was not JSON (an HTML 502 page).
        message: String,
    },
    /// StarShipIT rejected the request (any other 4xx).
    #[error("StarShipIT rejected the request (HTTP {status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The platform's message, or the raw body when it was not JSON.
        message: String,
    },
    /// The answer could not be understood.
    #[error("could not decode StarShipIT's answer: {message}")]
    Decode {
        /// What did not parse.
        message: String,
        /// The body as received (truncated to 4 KiB).
        body: String,
    },
    /// The request got no answer: connection refused or reset, timeout, TLS failure.
    #[error("could not reach StarShipIT: {message}")]
    Transport {
        /// What failed.
        message: String,
    },
}

impl Error {
    /// True when the same request may succeed later without any change.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable { .. } | Self::Transport { .. })
    }
}

impl From<Error> for CarrierError {
    fn from(e: Error) -> Self {
        match e {
            Error::Config { message } => CarrierError::Config { message },
            Error::Auth { message, .. } => CarrierError::Auth { message },
            Error::NotFound { message } => CarrierError::NotFound { message },
            Error::RateLimited { retry_after, .. } => CarrierError::RateLimited { retry_after },
            Error::Unavailable { status, message } => CarrierError::Unavailable { status, message },
            Error::Rejected { message, .. } => {
                CarrierError::Validation { message, fields: FieldErrors::new() }
            }
            Error::Decode { message, body } => CarrierError::Decode { message, body },
            Error::Transport { message } => CarrierError::Transport { message },
        }
    }
}

/// Keeps at most 4 KiB of a body for an error, cut on a character boundary.
pub(crate) fn truncate_body(body: &[u8]) -> String {
    const MAX: usize = 4096;
    waybill_kit::truncate(&String::from_utf8_lossy(body), MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_carrier_errors() {
        let e: CarrierError = Error::Auth { status: 403, message: "bad key".into() }.into();
        assert_eq!(e.kind(), "auth");
        let e: CarrierError = Error::NotFound { message: "none".into() }.into();
        assert_eq!(e.kind(), "not_found");
        let e: CarrierError =
            Error::RateLimited { retry_after: Some(Duration::from_secs(1)), message: "x".into() }
                .into();
        assert_eq!(e, CarrierError::RateLimited { retry_after: Some(Duration::from_secs(1)) });
        let e: CarrierError = Error::Rejected { status: 400, message: "bad".into() }.into();
        assert_eq!(e.kind(), "validation");
    }

    #[test]
    fn truncates_on_char_boundary() {
        let body = "é".repeat(3000);
        let t = truncate_body(body.as_bytes());
        assert!(t.len() <= 4096 + '…'.len_utf8());
        assert!(t.ends_with('…'));
        assert_eq!(truncate_body(b"short"), "short");
    }
}
