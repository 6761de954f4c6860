//! The HTTP plumbing of the StarShipIT client: the builder (base URL rule, key checks,
//! timeouts, `User-Agent`), the headers every request carries, the hookup to the
//! subscription key's rate limiter, and the paced send/retry loop. The capabilities
//! (`track`) build on `StarshipitClient::send`; nothing here knows what a shipment is.

use std::{fmt, num::NonZeroU32, sync::Arc, time::Duration};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use url::Url;
use waybill_domain::RequestObserver;
use waybill_kit::{Jitter, SchemeError};

use crate::{
    error::Error,
    limiter::{self, KeyLimiter},
    retry::{Decision, Outcome, RetryPolicy, parse_retry_after},
};

/// The header carrying the account's API key.
const API_KEY_HEADER: &str = "StarShipIT-Api-Key";
/// The header carrying the gateway subscription key (it selects the rate tier).
const SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// The representation to ask StarShipIT for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// `Accept: application/json` (the default).
    #[default]
    Json,
    /// `Accept: application/xml`: the `<GetTrackingResponse>` document.
    Xml,
}

/// A StarShipIT tracking client. Cheap to clone; clones share the HTTP connection pool and
/// the rate limiter, and so does every client built with the same subscription key in the
/// process, so the key's limit holds however many clients and callers there are.
///
/// ```no_run
/// # async fn demo() -> Result<(), waybill_starshipit::Error> {
/// use waybill_domain::{TrackQuery, TrackingNumber};
/// use waybill_starshipit::StarshipitClient;
/// let client = StarshipitClient::builder(
///     "https://api.starshipit.com",
///     "api-key".to_owned().into(),
///     "subscription-key".to_owned().into(),
/// )
/// .build()?;
/// let number = TrackingNumber::parse("0000000000").expect("valid");
/// let shipments = client.track(&TrackQuery::TrackingNumber(number)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct StarshipitClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    track_url: Url,
    api_key: SecretString,
    subscription_key: SecretString,
    format: Format,
    limiter: Arc<KeyLimiter>,
    retry: RetryPolicy,
    jitter: Jitter,
    /// Hears limiter waits and 429 answers (see [`ClientBuilder::observer`]).
    observer: Option<Arc<dyn RequestObserver>>,
}

/// An HTTP answer, reduced to what decoding needs.
pub(crate) struct Answer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub retry_after: Option<Duration>,
    pub body: &'a [u8],
    /// When the answer arrived: where a scan without a usable time is placed.
    pub received: jiff::Timestamp,
}

impl StarshipitClient {
    /// Starts building a client for `base_url` (e.g. `https://api.starshipit.com`; the path
    /// `api/track` is appended) with the account's API key and the subscription key.
    #[must_use]
    pub fn builder(
        base_url: &str,
        api_key: SecretString,
        subscription_key: SecretString,
    ) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            api_key,
            subscription_key,
            rate: NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN),
            timeout: Duration::from_secs(30),
            user_agent: concat!("waybill-starshipit/", env!("CARGO_PKG_VERSION")).to_owned(),
            format: Format::Json,
            retry: RetryPolicy::default(),
            observer: None,
        }
    }

    /// How many calls so far had to wait for the subscription key's rate limiter (shared by
    /// every client using that key).
    #[must_use]
    pub fn limiter_waits(&self) -> u64 {
        self.inner.limiter.waits()
    }

    /// The identity of this client's limiter (equal for clients sharing a subscription key).
    pub(crate) fn limiter_id(&self) -> *const () {
        Arc::as_ptr(&self.inner.limiter).cast()
    }

    /// The requests per second this client's limiter allows (the first client built for a
    /// subscription key sets it).
    #[must_use]
    pub fn rate_limit_per_second(&self) -> NonZeroU32 {
        self.inner.limiter.rate()
    }

    /// Sends `GET api/track?{name}={value}` until `decode` accepts an answer or the
    /// [`RetryPolicy`] gives up: waits for the subscription key's rate limiter before every
    /// attempt, and hands every answer (success or not) to `decode`, whose error is the one
    /// returned when the policy stops.
    pub(crate) async fn send<T>(
        &self,
        param: (&str, &str),
        decode: impl Fn(&Answer<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut attempt = 1;
        loop {
            // The slot is held until the answer is in (see the limiter's rule).
            let permit = self.inner.limiter.acquire().await;
            if let (Some(observer), Some(waited)) = (&self.inner.observer, permit.waited()) {
                observer.limiter_waited(waited);
            }
            let (result, outcome) = self.attempt(param, &decode).await;
            drop(permit);
            if let (Some(observer), Outcome::Status { status: 429, .. }) =
                (&self.inner.observer, &outcome)
            {
                observer.throttled();
            }
            let error = match result {
                Ok(found) => return Ok(found),
                Err(e) => e,
            };
            match self.inner.retry.decide(attempt, outcome, self.inner.jitter.sample()) {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(attempt, ?wait, error = %error, "retrying StarShipIT lookup");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Decision::Stop => return Err(error),
            }
        }
    }

    async fn attempt<T>(
        &self,
        param: (&str, &str),
        decode: &impl Fn(&Answer<'_>) -> Result<T, Error>,
    ) -> (Result<T, Error>, Outcome) {
        let inner = &self.inner;
        let accept = match inner.format {
            Format::Json => "application/json",
            Format::Xml => "application/xml",
        };
        let request = inner
            .http
            .get(inner.track_url.clone())
            .query(&[param])
            .header(API_KEY_HEADER, secret_header(&inner.api_key))
            .header(SUBSCRIPTION_KEY_HEADER, secret_header(&inner.subscription_key))
            .header(ACCEPT, accept);
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return (Err(transport(&e)), Outcome::Network),
        };
        let status = response.status().as_u16();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        let retry_after = header(RETRY_AFTER).and_then(parse_retry_after);
        let content_type = header(CONTENT_TYPE).map(str::to_owned);
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return (Err(transport(&e)), Outcome::Network),
        };
        tracing::debug!(status, bytes = body.len(), "StarShipIT answered");
        let answer = Answer {
            status,
            content_type: content_type.as_deref(),
            retry_after,
            body: &body,
            received: jiff::Timestamp::now(),
        };
        let decoded = decode(&answer);
        // A gateway or platform failure served under 2xx retries as what it means.
        let effective = match &decoded {
            Err(Error::RateLimited { .. }) if status < 300 => 429,
            Err(Error::Unavailable { status: s, .. }) if status < 300 => (*s).max(500),
            _ => status,
        };
        (decoded, Outcome::Status { status: effective, retry_after })
    }
}

impl fmt::Debug for StarshipitClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StarshipitClient")
            .field("track_url", &self.inner.track_url.as_str())
            .field("api_key", &"[REDACTED]")
            .field("subscription_key", &"[REDACTED]")
            .field("format", &self.inner.format)
            .field("rate_limit_per_second", &self.inner.limiter.rate())
            .field("retry", &self.inner.retry)
            .finish()
    }
}

/// Configures a [`StarshipitClient`]; see [`StarshipitClient::builder`].
pub struct ClientBuilder {
    base_url: String,
    api_key: SecretString,
    subscription_key: SecretString,
    rate: NonZeroU32,
    timeout: Duration,
    user_agent: String,
    format: Format,
    retry: RetryPolicy,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl ClientBuilder {
    /// Reports each call's wait for the rate limiter and each 429 answer to `observer` (the
    /// app labels it with the account; default: none).
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Requests per second allowed for the subscription key (default 2, a developer key's
    /// limit; production keys allow 20).
    #[must_use]
    pub fn rate_limit_per_second(mut self, rate: NonZeroU32) -> Self {
        self.rate = rate;
        self
    }

    /// The timeout of one attempt, connection included (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `waybill-starshipit/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// JSON (default) or XML answers.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Replaces the retry policy.
    #[must_use]
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a base URL that does not parse or is not HTTPS (plain HTTP is
    /// allowed for loopback hosts only), an empty key or one that cannot be sent as a
    /// header, an invalid user agent, or a TLS backend that fails to initialise.
    pub fn build(self) -> Result<StarshipitClient, Error> {
        let config = |message: String| Error::Config { message };
        let base = Url::parse(self.base_url.trim()).map_err(|e| {
            config(format!(
                "base url {:?} is not a valid URL: {e}",
                waybill_kit::redact(&self.base_url)
            ))
        })?;
        waybill_kit::check_no_credentials(&base).map_err(|e| {
            config(format!("base url {:?}: {e}", waybill_kit::redact(&self.base_url)))
        })?;
        match waybill_kit::check_scheme(&base) {
            Ok(()) => {}
            Err(SchemeError::PlainHttpToRemoteHost) => {
                return Err(config(format!(
                    "base url {base} uses plain http; use https (http is only allowed for loopback hosts such as 127.0.0.1 or localhost) so the API keys are never sent in clear"
                )));
            }
            Err(SchemeError::Unsupported { scheme }) => {
                return Err(config(format!(
                    "base url {base} has scheme {scheme:?}; use https://api.starshipit.com"
                )));
            }
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(config(format!("base url {base} has no host")));
        }
        let mut base = base;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let track_url = base
            .join("api/track")
            .map_err(|e| config(format!("cannot append api/track to base url {base}: {e}")))?;
        for (name, key) in
            [("api key", &self.api_key), ("subscription key", &self.subscription_key)]
        {
            let value = key.expose_secret();
            if value.trim().is_empty() {
                return Err(config(format!("the StarShipIT {name} is empty")));
            }
            if HeaderValue::from_str(value).is_err() {
                return Err(config(format!(
                    "the StarShipIT {name} contains characters that cannot be sent in an HTTP header; copy it again without spaces or line breaks"
                )));
            }
        }
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
            config(format!("user agent {:?} is not a valid header value", self.user_agent))
        })?;
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| config(format!("cannot build the HTTP client: {e}")))?;
        let limiter = limiter::for_key(&self.subscription_key, self.rate);
        Ok(StarshipitClient {
            inner: Arc::new(Inner {
                http,
                track_url,
                api_key: self.api_key,
                subscription_key: self.subscription_key,
                format: self.format,
                limiter,
                retry: self.retry,
                jitter: Jitter::from_clock(),
                observer: self.observer,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &"[REDACTED]")
            .field("subscription_key", &"[REDACTED]")
            .field("rate", &self.rate)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// A header value from a secret, marked sensitive so HTTP-level debug output hides it.
fn secret_header(secret: &SecretString) -> HeaderValue {
    // Validated in `build`, so this cannot fail; fall back to an empty value rather than panic.
    let mut value =
        HeaderValue::from_str(secret.expose_secret()).unwrap_or(HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

/// A transport error with its causes ("error sending request: connection refused").
fn transport(e: &reqwest::Error) -> Error {
    let mut message = if e.is_timeout() { format!("timed out: {e}") } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transport { message }
}
