//! API keys: accepted keys are kept only as SHA-256 hashes, and a presented key is hashed and
//! compared with every accepted hash in constant time. `/v1/*` requires one, given as
//! `Authorization: Bearer <key>` or `X-Api-Key: <key>`.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// The header carrying an API key as an alternative to `Authorization: Bearer`.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The accepted API keys, as SHA-256 hashes (the keys themselves are never kept).
#[derive(Clone, Default)]
pub struct ApiKeys {
    hashes: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} hashed)", self.hashes.len())
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ApiKeys {
    /// Hashes each key (duplicates kept once).
    pub fn from_plaintext<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut hashes: Vec<[u8; 32]> = keys.into_iter().map(digest).collect();
        hashes.sort_unstable();
        hashes.dedup();
        Self { hashes }
    }

    /// True when no key is accepted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// How many keys are accepted.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when `presented` is one of the keys. Every stored hash is compared (no early
    /// exit), each comparison in constant time.
    #[must_use]
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        let mut found = subtle::Choice::from(0);
        for hash in &self.hashes {
            found |= hash.ct_eq(&presented);
        }
        bool::from(found)
    }
}

/// The key a request presents: `Authorization: Bearer <key>` first, else `X-Api-Key`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    bearer
        .or_else(|| headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::trim))
        .filter(|k| !k.is_empty())
}

/// Middleware: 401 unless the request carries an accepted API key.
pub async fn require_api_key(
    State(keys): State<Arc<ApiKeys>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match presented_key(request.headers()) {
        Some(key) if keys.accepts(key) => Ok(next.run(request).await),
        Some(_) => Err(ApiError::unauthorized("the API key is not valid")),
        None => Err(ApiError::unauthorized(
            "an API key is required: send `Authorization: Bearer <key>` or `X-Api-Key: <key>`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_configured_keys_are_accepted_and_none_is_kept_in_clear() {
        let keys = ApiKeys::from_plaintext(["k-one", "k-two", "k-one"]);
        assert_eq!(keys.len(), 2);
        assert!(keys.accepts("k-one") && keys.accepts("k-two"));
        assert!(!keys.accepts("k-three") && !keys.accepts("") && !keys.accepts("k-on"));
        assert!(!format!("{keys:?}").contains("k-one"));
        assert!(!ApiKeys::default().accepts("anything"));
    }

    #[test]
    fn bearer_comes_before_the_api_key_header() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h), None);
        h.insert(API_KEY_HEADER, HeaderValue::from_static("from-header"));
        assert_eq!(presented_key(&h), Some("from-header"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer from-bearer"));
        assert_eq!(presented_key(&h), Some("from-bearer"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(presented_key(&h), Some("from-header"));
    }
}
