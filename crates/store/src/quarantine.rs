//! The quarantine: feed rows an adapter could not decode, kept raw with why, so one bad row
//! never stops sync and nothing the carrier sent is lost. Rows are written by
//! [`FeedSink::record_pool_rows`](crate::FeedSink::record_pool_rows) in the same transaction
//! as their page and its cursor move; this port reads them back (the CLI lists them,
//! `/metrics` and `/readyz` count them).
//!
//! A row is kept once per account and raw text (the key is a digest of the text): a page
//! redelivered after a crash, or a row the carrier serves again unchanged, adds nothing;
//! the same cursor served with different text is a second row, since both were received.

use async_trait::async_trait;
use serde::Serialize;

use crate::StoreError;

/// What one pool commit stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PoolCommit {
    /// Decoded items that were new.
    pub items: usize,
    /// Undecodable rows newly put in quarantine.
    pub quarantined: usize,
}

/// A feed row kept in quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedRow {
    /// The account whose feed served it.
    pub account: String,
    /// The row's own cursor, when it was readable.
    pub cursor: Option<u64>,
    /// Why it could not be decoded.
    pub error: String,
    /// The row exactly as received (its JSON text).
    pub raw: String,
    /// When waybill first received it (RFC 3339, UTC).
    pub quarantined_at: String,
}

/// How many rows one account has in quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineCount {
    /// The account.
    pub account: String,
    /// Rows in quarantine.
    pub rows: u64,
}

/// Which quarantined rows to list.
#[derive(Debug, Clone, Default)]
pub struct QuarantineFilter {
    /// Only this account's.
    pub account: Option<String>,
    /// At most this many (the store caps it at [`QuarantineFilter::MAX_LIMIT`]).
    pub limit: u32,
}

impl QuarantineFilter {
    /// The most rows one listing returns.
    pub const MAX_LIMIT: u32 = 1000;

    /// The limit actually applied: 1..=[`QuarantineFilter::MAX_LIMIT`].
    #[must_use]
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

/// Reading the quarantine.
#[async_trait]
pub trait Quarantine: Send + Sync {
    /// Quarantined rows by account, then cursor (rows without a cursor last), then arrival.
    async fn quarantined(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantinedRow>, StoreError>;

    /// Each account with rows in quarantine and how many, by account.
    async fn quarantine_counts(&self) -> Result<Vec<QuarantineCount>, StoreError>;
}

/// The dedup key of a raw row: the first 16 bytes of the SHA-256 of its text.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn row_key(raw: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(raw.as_bytes())[..16].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped() {
        let f = |limit| QuarantineFilter { account: None, limit }.clamped_limit();
        assert_eq!((f(0), f(5), f(5000)), (1, 5, 1000));
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[test]
    fn the_key_is_the_texts() {
        assert_eq!(row_key("{}"), row_key("{}"));
        assert_ne!(row_key("{}"), row_key("{ }"));
        assert_eq!(row_key("x").len(), 16);
    }
}
