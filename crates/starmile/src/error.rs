//! The client's error: one variant per row of Starmile's error table, plus configuration,
//! transport and decoding failures.

use std::time::Duration;

use waybill_domain::{CarrierError, FieldErrors};

/// What went wrong talking to Starmile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client was built or called with something unusable; the message says what to fix.
    #[error("invalid starmile client configuration: {0}")]
    Config(String),
    /// HTTP 401: bad credentials, or a token refused even after one refresh.
    #[error(
        "starmile refused the credential (HTTP 401): {message}; check the client_id and client_secret"
    )]
    Unauthenticated {
        /// Starmile's message.
        message: String,
    },
    /// HTTP 403: a scope is missing, the credential is revoked, or the API is off.
    #[error(
        "starmile forbade the call (HTTP 403): {message}; ask the partner to grant the scope or re-enable the credential"
    )]
    Forbidden {
        /// Starmile's message.
        message: String,
    },
    /// HTTP 404: unknown, or another partner's (indistinguishable by design).
    #[error("starmile found no such resource for this credential (HTTP 404): {message}")]
    NotFound {
        /// Starmile's message.
        message: String,
    },
    /// HTTP 409: the order can no longer be changed (e.g. already in custody).
    #[error("starmile refused the change (HTTP 409): {message}")]
    Conflict {
        /// Starmile's message.
        message: String,
    },
    /// HTTP 422: validation failed; `fields` holds the messages per field.
    #[error("starmile rejected the request (HTTP 422): {message}{}", fmt_fields(.fields))]
    Validation {
        /// Starmile's summary.
        message: String,
        /// Messages per field, e.g. `service_id → ["The service id field is required."]`.
        fields: FieldErrors,
    },
    /// HTTP 422 without field errors: an inbound event that is not a legal next step for the
    /// package, with Starmile's `error` and its `hint` on how to fix it.
    #[error("starmile rejected the event (HTTP 422): {message}{}", .hint.as_deref().map(|h| format!("; hint: {h}")).unwrap_or_default())]
    Rejected {
        /// What is wrong (Starmile's `error`).
        message: String,
        /// How to fix it (Starmile's `hint`).
        hint: Option<String>,
    },
    /// HTTP 429: too many requests, after the retry policy gave up.
    #[error("starmile rate limit hit (HTTP 429){}", fmt_retry_after(*.retry_after))]
    RateLimited {
        /// Starmile's message.
        message: String,
        /// The parsed `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// HTTP 5xx, after the retry policy gave up. A non-JSON body (a gateway's HTML page) is
    /// kept in `raw_body`.
    #[error("starmile is unavailable (HTTP {status}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// Starmile's message, or the start of the raw body.
        message: String,
        /// The whole body when it was not JSON.
        raw_body: Option<String>,
    },
    /// Any other HTTP status (e.g. 400 from the token endpoint).
    #[error("starmile answered HTTP {status}: {message}")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// Starmile's message, or the start of the raw body.
        message: String,
        /// The whole body when it was not JSON.
        raw_body: Option<String>,
    },
    /// No answer: connection refused or dropped, timeout, TLS failure.
    #[error("could not reach starmile: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying HTTP client error.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// A successful answer that could not be understood.
    #[error("could not decode starmile's answer: {message}")]
    Decode {
        /// What did not parse (names the row's cursor for pool rows).
        message: String,
        /// The body, or the offending row, as received (truncated).
        body: String,
    },
}

impl Error {
    /// The HTTP status behind the error, when there was an answer.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthenticated { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::Conflict { .. } => Some(409),
            Self::Validation { .. } | Self::Rejected { .. } => Some(422),
            Self::RateLimited { .. } => Some(429),
            Self::Server { status, .. } | Self::UnexpectedStatus { status, .. } => Some(*status),
            Self::Config(_) | Self::Transport { .. } | Self::Decode { .. } => None,
        }
    }

    pub(crate) fn transport(message: impl Into<String>, source: reqwest::Error) -> Self {
        Self::Transport { message: message.into(), source: Some(source) }
    }

    pub(crate) fn decode(message: impl Into<String>, body: &[u8]) -> Self {
        Self::Decode { message: message.into(), body: truncate(&String::from_utf8_lossy(body)) }
    }
}

impl From<Error> for CarrierError {
    fn from(e: Error) -> Self {
        let text = e.to_string();
        match e {
            Error::Config(message) => CarrierError::Config { message },
            Error::Unauthenticated { message } => CarrierError::Auth { message },
            Error::Forbidden { message } => CarrierError::Forbidden { message },
            Error::NotFound { message } => CarrierError::NotFound { message },
            Error::Conflict { message } => CarrierError::Conflict { message },
            Error::Validation { message, fields } => CarrierError::Validation { message, fields },
            Error::Rejected { message, hint } => {
                let mut fields = FieldErrors::new();
                if let Some(hint) = hint {
                    fields.insert("hint".into(), vec![hint]);
                }
                CarrierError::Validation { message, fields }
            }
            Error::RateLimited { retry_after, .. } => CarrierError::RateLimited { retry_after },
            Error::Server { status, message, .. } => CarrierError::Unavailable { status, message },
            // A 4xx outside the table (e.g. 400 from the token endpoint) means the request
            // or credential setup is wrong; anything else is the server misbehaving.
            Error::UnexpectedStatus { status, message, .. } if status >= 500 => {
                CarrierError::Unavailable { status, message }
            }
            Error::UnexpectedStatus { .. } => CarrierError::Config { message: text },
            Error::Transport { .. } => CarrierError::Transport { message: text },
            Error::Decode { message, body } => CarrierError::Decode { message, body },
        }
    }
}

/// Bodies kept in errors are capped so a huge HTML page cannot bloat logs.
const MAX_BODY: usize = 16 * 1024;

pub(crate) fn truncate(s: &str) -> String {
    waybill_kit::truncate(s, MAX_BODY)
}

/// A decode error for a field of a successful answer that does not hold a valid value.
pub(crate) fn bad(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode { message: format!("{what}: {e}"), body: String::new() }
}

/// A one-line summary of a non-JSON body for the error message.
pub(crate) fn summarize(s: &str) -> String {
    let collapsed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".into();
    }
    let mut out: String = collapsed.chars().take(160).collect();
    if collapsed.chars().count() > 160 {
        out.push('…');
    }
    out
}

fn fmt_fields(fields: &FieldErrors) -> String {
    if fields.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", v.join(" "))).collect();
    format!(" ({})", parts.join("; "))
}

fn fmt_retry_after(d: Option<Duration>) -> String {
    d.map(|d| format!("; retry after {} s", d.as_secs_f64())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_to_fix_and_map_to_domain() {
        let mut fields = FieldErrors::new();
        fields.insert("service_id".into(), vec!["The service id field is required.".into()]);
        let e = Error::Validation { message: "The given data was invalid.".into(), fields };
        assert_eq!(
            e.to_string(),
            "starmile rejected the request (HTTP 422): The given data was invalid. (service_id: The service id field is required.)"
        );
        assert_eq!(e.status(), Some(422));
        assert!(
            matches!(CarrierError::from(e), CarrierError::Validation { fields, .. } if fields.len() == 1)
        );
        let e =
            Error::RateLimited { message: "x".into(), retry_after: Some(Duration::from_secs(3)) };
        assert_eq!(e.to_string(), "starmile rate limit hit (HTTP 429); retry after 3 s");
        assert_eq!(
            CarrierError::from(e),
            CarrierError::RateLimited { retry_after: Some(Duration::from_secs(3)) }
        );
        let e =
            Error::Server { status: 502, message: "bad".into(), raw_body: Some("<html>".into()) };
        assert_eq!(
            CarrierError::from(e),
            CarrierError::Unavailable { status: 502, message: "bad".into() }
        );
    }

    #[test]
    fn long_bodies_are_truncated_on_a_char_boundary() {
        let s = "é".repeat(MAX_BODY);
        let t = truncate(&s);
        assert!(t.len() <= MAX_BODY + '…'.len_utf8());
        assert!(t.ends_with('…'));
        assert_eq!(summarize("  <html>\n <body>x</body> "), "<html> <body>x</body>");
        assert_eq!(summarize(""), "(empty body)");
    }
}
