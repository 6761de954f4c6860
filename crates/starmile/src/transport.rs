//! The HTTP plumbing of the Starmile client: the builder (base URL rule, timeouts,
//! `User-Agent`), the bearer-token hookup (fetch, cache, refresh-and-resend once on 401),
//! and the send loop with retries per the [`RetryPolicy`]. The capabilities (`catalog`,
//! `orders`, `feed`) describe their calls as a `Call` and hand them to
//! `StarmileClient::call_json`; nothing here knows what a service or an order is.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use waybill_domain::RequestObserver;
use waybill_kit::{Jitter, SchemeError};

use crate::{
    Error, Outcome, RequestKind, Retry, RetryPolicy, USER_AGENT,
    error::{summarize, truncate},
    parse_retry_after,
    token::TokenCache,
    wire,
};

/// A Starmile Partner API client. Cheap to clone: clones share one connection pool and one
/// token cache.
#[derive(Clone)]
pub struct StarmileClient {
    inner: Arc<Inner>,
    /// A per-call retry override (see [`StarmileClient::retry`]); `None` = the policy.
    retry: Option<Arc<Retry>>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: SecretString,
    scope: Option<String>,
    policy: RetryPolicy,
    tokens: TokenCache,
    token_requests: AtomicU64,
    jitter: Jitter,
    /// Hears 429 answers (see [`ClientBuilder::observer`]).
    observer: Option<Arc<dyn RequestObserver>>,
}

/// Builds a [`StarmileClient`]; see [`StarmileClient::builder`].
pub struct ClientBuilder {
    base_url: String,
    client_id: String,
    client_secret: SecretString,
    timeout: Duration,
    connect_timeout: Duration,
    policy: RetryPolicy,
    user_agent: String,
    scope: Option<String>,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl StarmileClient {
    /// Starts building a client for `base_url` (e.g. `https://api.starmile.io`, or a sandbox's
    /// `http://127.0.0.1:PORT`) with a partner credential.
    #[must_use]
    pub fn builder(
        base_url: &str,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            client_id: client_id.into(),
            client_secret,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            policy: RetryPolicy::default(),
            user_agent: USER_AGENT.to_owned(),
            scope: None,
            observer: None,
        }
    }

    /// The base URL requests go to, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// How many token requests this client (and its clones) sent, retries included.
    #[must_use]
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }

    /// A client whose calls retry as `retry` says — **writes included**, because the caller
    /// asked (the official SDK's `retry()`). Clones share the connection pool and token;
    /// the original client keeps its policy.
    ///
    /// ```no_run
    /// # async fn run(client: waybill_starmile::StarmileClient, r: &waybill_domain::PartnerOrderRef) -> Result<(), waybill_starmile::Error> {
    /// use std::time::Duration;
    /// use waybill_starmile::{Outcome, Retry};
    /// // Retry this cancellation up to 3 attempts, also on 409 (say, a lock held briefly).
    /// let retry = Retry::new(3, Duration::from_millis(200))
    ///     .when(|outcome, _attempt| {
    ///         outcome.is_transient() || matches!(outcome, Outcome::Status { status: 409, .. })
    ///     });
    /// client.retry(retry).cancel_order(r, None).await?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn retry(&self, retry: Retry) -> StarmileClient {
        StarmileClient { inner: Arc::clone(&self.inner), retry: Some(Arc::new(retry)) }
    }

    /// Sends `call` (see [`StarmileClient::call`]) and decodes its JSON answer.
    pub(crate) async fn call_json<T: DeserializeOwned>(&self, call: Call) -> Result<T, Error> {
        let body = self.call(call).await?;
        serde_json::from_slice(&body).map_err(|e| Error::decode(e.to_string(), &body))
    }

    /// Sends an API call with a bearer token: refresh-and-resend once on 401, retries as
    /// the policy says.
    pub(crate) async fn call(&self, call: Call) -> Result<Vec<u8>, Error> {
        self.call_reply(call).await.map(|reply| reply.body)
    }

    /// Sends an API call and returns the whole successful answer (status, content type,
    /// body).
    pub(crate) async fn call_reply(&self, call: Call) -> Result<Reply, Error> {
        let inner = &*self.inner;
        let mut attempt = 0u32;
        let mut rejected: Option<SecretString> = None;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = inner.tokens.get(rejected.take().as_ref(), || self.fetch_token()).await?;
            let url = format!("{}{}", inner.base, call.path);
            let mut request = inner
                .http
                .request(call.method.clone(), &url)
                .header(header::ACCEPT, call.accept)
                .bearer_auth(token.expose_secret());
            if !call.query.is_empty() {
                request = request.query(&call.query);
            }
            if let Some(body) = &call.body {
                request =
                    request.header(header::CONTENT_TYPE, "application/json").body(body.clone());
            }
            let failure = match read(request).await {
                Ok(reply) if reply.status.is_success() => return Ok(reply),
                Ok(reply) if reply.status == StatusCode::UNAUTHORIZED && !refreshed => {
                    tracing::debug!(path = %call.path, "token refused; refreshing and re-sending once");
                    refreshed = true;
                    rejected = Some(token);
                    attempt -= 1;
                    continue;
                }
                Ok(reply) => Failure::Status(reply),
                Err(e) => Failure::Network(e),
            };
            let outcome = failure.outcome();
            self.observe(&outcome);
            let decision = match &self.retry {
                Some(retry) => retry.decide(attempt, &outcome, self.jitter_sample()),
                None => inner.policy.decide(attempt, call.kind, &outcome, self.jitter_sample()),
            };
            match decision {
                Some(delay) => {
                    tracing::debug!(path = %call.path, attempt, ?outcome, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
                None => return Err(failure.into_error(&url)),
            }
        }
    }

    /// `POST /oauth/token` with the spec's JSON body; retried like a read.
    async fn fetch_token(&self) -> Result<(SecretString, Duration), Error> {
        let inner = &*self.inner;
        let url = format!("{}/oauth/token", inner.base);
        let body = wire::TokenRequest {
            grant_type: "client_credentials".into(),
            client_id: Some(inner.client_id.clone()),
            client_secret: Some(inner.client_secret.expose_secret().to_owned()),
            scope: inner.scope.clone(),
        };
        let body = to_json(&body)?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            inner.token_requests.fetch_add(1, Ordering::Relaxed);
            let request = inner
                .http
                .post(&url)
                .header(header::ACCEPT, "application/json")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            let failure = match read(request).await {
                Ok(reply) if reply.status.is_success() => {
                    let token: wire::TokenResponse =
                        serde_json::from_slice(&reply.body).map_err(|e| Error::Decode {
                            message: format!("token answer: {e}"),
                            body: String::new(),
                        })?;
                    let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
                    return Ok((SecretString::from(token.access_token), lifetime));
                }
                Ok(reply) => Failure::Status(reply),
                Err(e) => Failure::Network(e),
            };
            let outcome = failure.outcome();
            self.observe(&outcome);
            match inner.policy.decide(attempt, RequestKind::Read, &outcome, self.jitter_sample()) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(failure.into_error(&url)),
            }
        }
    }

    /// Tells the observer, if any, about a 429 answer.
    fn observe(&self, outcome: &Outcome) {
        if let (Some(observer), Outcome::Status { status: 429, .. }) =
            (&self.inner.observer, outcome)
        {
            observer.throttled();
        }
    }

    /// A uniform sample in `[0, 1)` for retry jitter.
    fn jitter_sample(&self) -> f64 {
        self.inner.jitter.sample()
    }
}

impl fmt::Debug for StarmileClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StarmileClient")
            .field("base_url", &self.inner.base)
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("scope", &self.inner.scope)
            .field("retry_policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry_policy", &self.policy)
            .field("user_agent", &self.user_agent)
            .field("scope", &self.scope)
            .finish()
    }
}

impl ClientBuilder {
    /// Reports each 429 answer (token requests included, retried or not) to `observer`; the
    /// app labels it with the account (default: none).
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Whole-request timeout, per attempt (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// TCP/TLS connect timeout (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`], the official SDK's).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Overrides the `User-Agent` (default `waybill-starmile/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Requests a narrower set of scopes, space-separated (default: all the credential has).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for an unparsable base URL, a scheme other than https (http is
    /// allowed only for loopback hosts), an empty client id, or a TLS setup failure.
    pub fn build(self) -> Result<StarmileClient, Error> {
        let base = check_base_url(&self.base_url)?;
        if self.client_id.trim().is_empty() {
            return Err(Error::Config("client_id is empty: set the partner's client id".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| Error::Config(format!("could not set up the HTTP client: {e}")))?;
        Ok(StarmileClient {
            inner: Arc::new(Inner {
                http,
                base,
                client_id: self.client_id,
                client_secret: self.client_secret,
                scope: self.scope,
                policy: self.policy,
                tokens: TokenCache::default(),
                token_requests: AtomicU64::new(0),
                jitter: Jitter::from_clock(),
                observer: self.observer,
            }),
            retry: None,
        })
    }
}

/// Validates a base URL and returns it without a trailing slash.
fn check_base_url(raw: &str) -> Result<String, Error> {
    let url = url::Url::parse(raw).map_err(|e| {
        Error::Config(format!(
            "base URL {:?} is not a URL ({e}); use e.g. https://api.starmile.io",
            waybill_kit::redact(raw)
        ))
    })?;
    waybill_kit::check_no_credentials(&url)
        .map_err(|e| Error::Config(format!("base URL {:?}: {e}", waybill_kit::redact(raw))))?;
    match waybill_kit::check_scheme(&url) {
        Ok(()) => {}
        Err(SchemeError::PlainHttpToRemoteHost) => {
            return Err(Error::Config(format!(
                "base URL {raw:?} uses plain http to a remote host; credentials and tokens must \
                 travel over https (http is allowed only for loopback hosts such as 127.0.0.1)"
            )));
        }
        Err(SchemeError::Unsupported { scheme }) => {
            return Err(Error::Config(format!(
                "base URL {raw:?} has scheme {scheme:?}; use https (or http for a loopback sandbox)"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!("base URL {raw:?} must not carry a query or fragment")));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// One API call, as a capability describes it: the transport adds the base URL, the
/// bearer token, `Accept` and (with a body) `Content-Type: application/json`.
pub(crate) struct Call {
    /// The HTTP method.
    pub(crate) method: Method,
    /// The path below the base URL, already percent-encoded (`/api/v1/services`).
    pub(crate) path: String,
    /// Query parameters.
    pub(crate) query: Vec<(&'static str, String)>,
    /// A JSON body, already encoded.
    pub(crate) body: Option<Vec<u8>>,
    /// How safe the call is to send twice: decides whether it is retried.
    pub(crate) kind: RequestKind,
    /// The `Accept` header (`application/json` but for labels).
    pub(crate) accept: &'static str,
}

impl Call {
    /// A `GET` of `path`, without query or body, retried as a read.
    pub(crate) fn get(path: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
            kind: RequestKind::Read,
            accept: "application/json",
        }
    }

    /// A call of `method` on `path` with a JSON `body`.
    pub(crate) fn send<T: serde::Serialize>(
        method: Method,
        path: String,
        body: &T,
        kind: RequestKind,
    ) -> Result<Self, Error> {
        Ok(Self {
            method,
            path,
            query: Vec::new(),
            body: Some(to_json(body)?),
            kind,
            accept: "application/json",
        })
    }
}

/// A whole answer.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Sends a request and reads the whole body; a body cut short counts as a network error.
async fn read(request: reqwest::RequestBuilder) -> Result<Reply, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await?.to_vec();
    Ok(Reply { status, retry_after, content_type, body })
}

enum Failure {
    Status(Reply),
    Network(reqwest::Error),
}

impl Failure {
    fn outcome(&self) -> Outcome {
        match self {
            Self::Network(_) => Outcome::Network,
            Self::Status(r) => {
                Outcome::Status { status: r.status.as_u16(), retry_after: r.retry_after }
            }
        }
    }

    fn into_error(self, url: &str) -> Error {
        match self {
            Self::Network(e) => {
                let what = if e.is_timeout() { "timed out" } else { "failed" };
                // reqwest's Display names the URL; it carries no secret (tokens go in headers).
                Error::transport(format!("request to {url} {what}: {e}"), e)
            }
            Self::Status(reply) => status_error(&reply),
        }
    }
}

/// Maps a non-success answer to the error-table variant.
fn status_error(reply: &Reply) -> Error {
    let parsed: Option<wire::ErrorBody> = serde_json::from_slice(&reply.body).ok();
    let text = String::from_utf8_lossy(&reply.body);
    let raw_body = if parsed.is_none() { Some(truncate(&text)) } else { None };
    let parsed = parsed.unwrap_or_default();
    let fields = parsed.errors.unwrap_or_default();
    let message = parsed
        .message
        .clone()
        .or_else(|| parsed.error_description.clone())
        .or_else(|| parsed.error.clone())
        .unwrap_or_else(|| summarize(&text));
    match reply.status.as_u16() {
        401 => Error::Unauthenticated { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound { message },
        409 => Error::Conflict { message },
        // An inbound event that is not a legal next step: `error` + `hint`, no field map.
        422 if fields.is_empty() && parsed.hint.is_some() => {
            Error::Rejected { message: parsed.error.clone().unwrap_or(message), hint: parsed.hint }
        }
        422 => Error::Validation { message, fields },
        429 => Error::RateLimited { message, retry_after: reply.retry_after },
        status @ 500..=599 => Error::Server { status, message, raw_body },
        status => Error::UnexpectedStatus { status, message, raw_body },
    }
}

/// Encodes a request body.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Config(format!("could not encode the body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        assert_eq!(check_base_url("https://api.starmile.io/").unwrap(), "https://api.starmile.io");
        assert_eq!(check_base_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert!(check_base_url("http://localhost:1/").is_ok());
        assert!(check_base_url("http://[::1]:1").is_ok());
        assert_eq!(
            check_base_url("https://gw.example/starmile/").unwrap(),
            "https://gw.example/starmile"
        );
        let e = check_base_url("http://api.starmile.io").unwrap_err().to_string();
        assert!(e.contains("https") && e.contains("loopback"), "{e}");
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("not a url").is_err());
        assert!(check_base_url("https://x/?a=b").is_err());
        let e = check_base_url("https://partner:pw-42@api.starmile.io").unwrap_err().to_string();
        assert!(e.contains("user name or password") && !e.contains("pw-42"), "{e}");
        let e = check_base_url("https://partner:pw-42@api star").unwrap_err().to_string();
        assert!(!e.contains("pw-42"), "{e}");
    }

    #[test]
    fn error_bodies_map_to_the_table() {
        let reply = |status: u16, body: &str| Reply {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            content_type: None,
            body: body.as_bytes().to_vec(),
        };
        let e = status_error(&reply(502, "<html><body>Bad Gateway</body></html>"));
        assert!(
            matches!(&e, Error::Server { status: 502, raw_body: Some(b), message } if b.contains("<html>") && message.contains("Bad Gateway"))
        );
        let e = status_error(&reply(400, r#"{"error":"unsupported_grant_type"}"#));
        assert!(
            matches!(e, Error::UnexpectedStatus { status: 400, message, raw_body: None } if message == "unsupported_grant_type")
        );
    }
}
