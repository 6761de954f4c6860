//! The small, pure kit every waybill carrier adapter shares.
//!
//! Carrier adapters (`waybill-starmile`, `waybill-starshipit`, and any added later) talk
//! HTTP to very different APIs, but a few rules are the same for all of them and must not
//! drift apart: how a `Retry-After` header is read, how an attempt's outcome is classified
//! for retrying and where the jitter comes from, which base URLs may carry credentials, and
//! how much of an error body an error message keeps. Those live here, once.
//!
//! The kit does no I/O and depends on no HTTP client, runtime or server crate (only `std`,
//! `jiff`, `url` and `thiserror`), so every item is a plain function or value that can be
//! property-tested without a network or a clock. The send/retry loops themselves stay in
//! the adapters, because they need an HTTP client and a timer.
//!
//! - [`retry_after`]: `Retry-After` as delay-seconds or as an HTTP date.
//! - [`retry`]: [`Outcome`] (how an attempt failed) and [`Jitter`] (a lock-free uniform
//!   sample for backoff jitter).
//! - [`base_url`]: the https-or-loopback rule for base URLs, no credentials in them, and
//!   their redaction in messages.
//! - [`body`]: error bodies cut to a size on a character boundary.

pub mod base_url;
pub mod body;
pub mod retry;
pub mod retry_after;

pub use base_url::{
    CredentialsInUrl, SchemeError, check_no_credentials, check_scheme, is_loopback, redact,
};
pub use body::truncate;
pub use retry::{Jitter, Outcome};
pub use retry_after::{parse_retry_after, parse_retry_after_seconds};
