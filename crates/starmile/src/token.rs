//! The bearer-token cache: one token shared by every clone of a client, refreshed early,
//! fetched by one caller at a time (single flight), and replaced when the API refuses it.
//!
//! Written by hand rather than with the `oauth2` crate, whose defaults pull in a second
//! HTTP stack; the whole job is a mutex around an `Option`.

use std::{future::Future, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use tokio::{sync::Mutex, time::Instant};

use crate::Error;

/// How early a token is treated as expired: 30 s, or half its lifetime when that is
/// shorter (so a very short-lived token is still used at all).
#[must_use]
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(30).min(lifetime / 2)
}

struct Cached {
    token: SecretString,
    refresh_at: Instant,
}

/// A single-flight token cache.
#[derive(Default)]
pub(crate) struct TokenCache {
    // A tokio mutex is held across the fetch: everyone arriving during a refresh waits for
    // it and then reads the fresh token instead of fetching another.
    slot: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// The current token, fetching one with `fetch` (which returns the token and its
    /// lifetime) when there is none, it is due for refresh, or it is the very token the
    /// caller saw refused (`rejected`). A token refreshed by someone else since the refusal
    /// is returned as is, so N callers refused at once cause one fetch.
    pub(crate) async fn get<F, Fut>(
        &self,
        rejected: Option<&SecretString>,
        fetch: F,
    ) -> Result<SecretString, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, Duration), Error>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref() {
            let refused =
                rejected.is_some_and(|r| r.expose_secret() == cached.token.expose_secret());
            if !refused && Instant::now() < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        let (token, lifetime) = fetch().await?;
        let refresh_at = Instant::now() + lifetime.saturating_sub(refresh_margin(lifetime));
        *slot = Some(Cached { token: token.clone(), refresh_at });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;

    fn fetcher(
        counter: &Arc<AtomicU32>,
        lifetime: Duration,
    ) -> impl FnOnce() -> std::future::Ready<Result<(SecretString, Duration), Error>> {
        let counter = Arc::clone(counter);
        move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            std::future::ready(Ok((SecretString::from(format!("token-{n}")), lifetime)))
        }
    }

    #[test]
    fn margin_is_thirty_seconds_or_half_the_lifetime() {
        assert_eq!(refresh_margin(Duration::from_secs(3600)), Duration::from_secs(30));
        assert_eq!(refresh_margin(Duration::from_secs(20)), Duration::from_secs(10));
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_are_cached_until_thirty_seconds_before_expiry() {
        let cache = TokenCache::default();
        let n = Arc::new(AtomicU32::new(0));
        let hour = Duration::from_secs(3600);
        let t1 = cache.get(None, fetcher(&n, hour)).await.unwrap();
        let again = cache.get(None, fetcher(&n, hour)).await.unwrap();
        assert_eq!(t1.expose_secret(), again.expose_secret());
        tokio::time::advance(Duration::from_secs(3569)).await;
        cache.get(None, fetcher(&n, hour)).await.unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 1, "still fresh at 3569 s");
        tokio::time::advance(Duration::from_secs(2)).await;
        let t2 = cache.get(None, fetcher(&n, hour)).await.unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 2, "refreshed within the last 30 s");
        assert_eq!(t2.expose_secret(), "token-2");
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_once_for_all_callers() {
        let cache = TokenCache::default();
        let n = Arc::new(AtomicU32::new(0));
        let hour = Duration::from_secs(3600);
        let old = cache.get(None, fetcher(&n, hour)).await.unwrap();
        let fresh = cache.get(Some(&old), fetcher(&n, hour)).await.unwrap();
        assert_eq!(fresh.expose_secret(), "token-2");
        // A second caller refused with the same old token gets the fresh one, no fetch.
        let same = cache.get(Some(&old), fetcher(&n, hour)).await.unwrap();
        assert_eq!(same.expose_secret(), "token-2");
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_fetch_leaves_no_token_behind() {
        let cache = TokenCache::default();
        let err = cache
            .get(None, || async { Err(Error::Unauthenticated { message: "no".into() }) })
            .await;
        assert!(matches!(err, Err(Error::Unauthenticated { .. })));
        let n = Arc::new(AtomicU32::new(0));
        cache.get(None, fetcher(&n, Duration::from_secs(60))).await.unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }
}
