//! How a command fails: one [`Failure`] with a [`FailureKind`], and the one table that maps
//! kinds to exit codes and to the stable `code` of the `--json` error object.
//!
//! | kind | exit | `code` |
//! |---|---|---|
//! | [`Usage`](FailureKind::Usage) | 2 | `usage` |
//! | [`Config`](FailureKind::Config) | 2 | `config` |
//! | [`CarrierRefused`](FailureKind::CarrierRefused) | 2 | `carrier_refused` |
//! | [`Carrier`](FailureKind::Carrier) | 1 | `carrier_failed` |
//! | [`Store`](FailureKind::Store) | 1 | `store_failed` |
//! | [`Runtime`](FailureKind::Runtime) | 1 | `failed` |
//! | [`NotFound`](FailureKind::NotFound) | 3 | `not_found` |
//! | [`Partial`](FailureKind::Partial) | 4 | `partial` |
//! | [`NotYet`](FailureKind::NotYet) | 75 | `not_yet` |
//! | [`Interrupted`](FailureKind::Interrupted) | 130 | `interrupted` |

use serde::Serialize;
use waybill_domain::CarrierError;

/// What kind of failure ended a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The command line is wrong (a value that does not parse).
    Usage,
    /// The configuration is missing something or is wrong; the message names the setting.
    Config,
    /// A carrier refused waybill's credential or scope: fix the configuration.
    CarrierRefused,
    /// A carrier call failed (after retries) or a carrier rejected the request.
    Carrier,
    /// The store failed.
    Store,
    /// Anything else that went wrong while running.
    Runtime,
    /// What was asked for does not exist.
    NotFound,
    /// Partly done: some rows or orders need fixing (import).
    Partial,
    /// Partly done, nothing to fix: what is left failed transiently; run the same command
    /// again (import). 75 is `EX_TEMPFAIL` in sysexits.h.
    NotYet,
    /// Stopped by Ctrl-C or SIGTERM.
    Interrupted,
}

impl FailureKind {
    /// The process exit code.
    #[must_use]
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Usage | Self::Config | Self::CarrierRefused => 2,
            Self::Carrier | Self::Store | Self::Runtime => 1,
            Self::NotFound => 3,
            Self::Partial => 4,
            Self::NotYet => 75,
            Self::Interrupted => 130,
        }
    }

    /// The stable machine-readable code of the `--json` error object.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Usage => "usage",
            Self::Config => "config",
            Self::CarrierRefused => "carrier_refused",
            Self::Carrier => "carrier_failed",
            Self::Store => "store_failed",
            Self::Runtime => "failed",
            Self::NotFound => "not_found",
            Self::Partial => "partial",
            Self::NotYet => "not_yet",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A failure with its kind and one clear message naming what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind of failure (decides the exit code).
    pub kind: FailureKind,
    /// One clear message.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    /// A value on the command line that does not parse.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Usage, message)
    }
    /// A missing or wrong setting.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Config, message)
    }
    /// A runtime failure that is neither a carrier's nor the store's.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Runtime, message)
    }
    /// Not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(FailureKind::NotFound, message)
    }
    /// The store failed.
    pub fn store(e: impl std::fmt::Display) -> Self {
        Self::new(FailureKind::Store, format!("store: {e}"))
    }

    /// A carrier error, with the carrier (or account) named and the kind that says what to do.
    pub fn carrier(who: &str, e: &CarrierError) -> Self {
        let message = format!("{who}: {e}");
        match e {
            CarrierError::NotFound { .. } => Self::not_found(message),
            CarrierError::Auth { .. } | CarrierError::Forbidden { .. } => {
                Self::new(FailureKind::CarrierRefused, message)
            }
            CarrierError::Config { .. } => Self::config(message),
            _ => Self::new(FailureKind::Carrier, message),
        }
    }

    /// The process exit code.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The `--json` error document: `{"error": {"code", "message", "exit_code"}}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "code": self.kind.code(),
                "message": self.message,
                "exit_code": self.exit_code(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_errors_map_to_what_the_user_must_do() {
        let auth = Failure::carrier("acct", &CarrierError::Auth { message: "no".into() });
        assert_eq!((auth.exit_code(), auth.kind.code()), (2, "carrier_refused"));
        let gone = Failure::carrier("acct", &CarrierError::NotFound { message: "x".into() });
        assert_eq!(gone.exit_code(), 3);
        let down = Failure::carrier(
            "acct",
            &CarrierError::Unavailable { status: 503, message: "x".into() },
        );
        assert_eq!((down.exit_code(), down.kind.code()), (1, "carrier_failed"));
        assert_eq!(down.to_json()["error"]["code"], "carrier_failed");
        assert!(down.message.starts_with("acct: "));
    }
}
