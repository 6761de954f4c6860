//! The one error type every carrier port returns, with variants that tell the caller what
//! to do next.

use std::{collections::BTreeMap, time::Duration};

/// Field-by-field validation messages, as a carrier returned them (`field → messages`).
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// What went wrong talking to a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    /// The credential or token was refused: check the client id / secret or API keys.
    #[error("authentication failed: {message}; check the credential configured for this carrier")]
    Auth {
        /// The carrier's message.
        message: String,
    },
    /// Authenticated, but not allowed: a missing scope, a revoked credential, the API off.
    #[error("forbidden: {message}; ask the carrier to grant the scope or re-enable the credential")]
    Forbidden {
        /// The carrier's message.
        message: String,
    },
    /// The resource does not exist (or belongs to another partner).
    #[error("not found: {message}")]
    NotFound {
        /// The carrier's message.
        message: String,
    },
    /// The resource can no longer be changed (e.g. an order already in custody).
    #[error("conflict: {message}")]
    Conflict {
        /// The carrier's message.
        message: String,
    },
    /// The carrier rejected the request's content.
    #[error("rejected by the carrier: {message}{}", fmt_fields(.fields))]
    Validation {
        /// The carrier's summary.
        message: String,
        /// Messages per field.
        fields: FieldErrors,
    },
    /// Too many requests; wait before trying again.
    #[error("rate limited by the carrier{}", .retry_after.map(|d| format!("; retry after {} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// How long the carrier asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The carrier is failing or a gateway in front of it is (5xx); usually transient.
    #[error("carrier unavailable (HTTP {status}): {message}")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The carrier's message, or the raw body when it was not JSON.
        message: String,
    },
    /// The answer could not be understood; the raw body is kept for the bug report.
    #[error("could not decode the carrier's answer: {message}")]
    Decode {
        /// What did not parse.
        message: String,
        /// The body as received (possibly truncated).
        body: String,
    },
    /// The request never got an answer: connection refused, reset, timed out, TLS failure.
    #[error("could not reach the carrier: {message}")]
    Transport {
        /// What failed.
        message: String,
    },
    /// The client itself is misconfigured or was given an unusable request.
    #[error("invalid client request: {message}")]
    Config {
        /// What to fix.
        message: String,
    },
}

impl CarrierError {
    /// A short, stable name for the variant, for metrics labels and JSON error codes.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Auth { .. } => "auth",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Validation { .. } => "validation",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Decode { .. } => "decode",
            Self::Transport { .. } => "transport",
            Self::Config { .. } => "config",
        }
    }

    /// True when the same request may succeed later without any change.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable { .. } | Self::Transport { .. })
    }
}

fn fmt_fields(fields: &FieldErrors) -> String {
    if fields.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", v.join(" "))).collect();
    format!(" ({})", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_concrete() {
        let mut fields = FieldErrors::new();
        fields.insert("service_id".into(), vec!["The service id field is required.".into()]);
        let e = CarrierError::Validation { message: "The given data was invalid.".into(), fields };
        assert_eq!(
            e.to_string(),
            "rejected by the carrier: The given data was invalid. (service_id: The service id field is required.)"
        );
        let e = CarrierError::RateLimited { retry_after: Some(Duration::from_secs(2)) };
        assert_eq!(e.to_string(), "rate limited by the carrier; retry after 2 s");
        assert!(e.is_transient());
        assert_eq!(e.kind(), "rate_limited");
    }
}
