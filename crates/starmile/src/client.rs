//! The Starmile client and its builder: URL checks, the token flow, retries, and one typed
//! method per API call.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::Stream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use waybill_domain::{
    ChangePage, CountryCode, Currency, Cursor, FeedItem, MerchantTrackingNumber, Money, Order,
    OrderParcel, OrderRequest, PartnerOrderRef, RateCard, RateTier, RegionStatus, Service,
    ServiceId, TrackingNumber, Weight,
};

use crate::{
    ChangesQuery, Error, Outcome, RequestKind, RetryPolicy, USER_AGENT,
    error::{summarize, truncate},
    feed, parse_retry_after,
    token::TokenCache,
    wire,
};

/// Characters escaped in a path segment: everything but RFC 3986 unreserved ones, so
/// `ORD/1` becomes `ORD%2F1`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A Starmile Partner API client. Cheap to clone: clones share one connection pool and one
/// token cache.
#[derive(Clone)]
pub struct StarmileClient {
    inner: Arc<Inner>,
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
    jitter_state: AtomicU64,
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

    /// The services this credential may order (`GET /api/v1/services`).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`], [`Error::Forbidden`] (no `catalogue:read`), transient
    /// errors after retries, [`Error::Decode`].
    pub async fn services(&self) -> Result<Vec<Service>, Error> {
        let rows: wire::Data<Vec<wire::ServiceRow>> =
            self.call_json(Call::get("/api/v1/services")).await?;
        rows.data.into_iter().map(service_from_wire).collect()
    }

    /// The rate cards of those services, one per service and corridor (`GET /api/v1/rates`).
    ///
    /// # Errors
    /// As [`StarmileClient::services`]; [`Error::Decode`] for a card whose tiers are not
    /// ascending or mix currencies.
    pub async fn rates(&self) -> Result<Vec<RateCard>, Error> {
        let rows: wire::Data<Vec<wire::RateRow>> =
            self.call_json(Call::get("/api/v1/rates")).await?;
        rows.data.into_iter().map(rate_from_wire).collect()
    }

    /// Creates an order (`POST /api/v1/orders`) with the spec's body; each item also carries
    /// `item_id` = its merchant tracking number (so pool rows' `external_id` names it) and
    /// `weight_grams` when known.
    ///
    /// Understands `201` (created) and `200 duplicate:true` (a replay of the same
    /// `external_parent_id`: Starmile returns the original ids and creates nothing).
    ///
    /// **Retried** on network errors, 429 and 5xx, unlike other writes: that is safe *only*
    /// because Starmile is idempotent on `external_parent_id`. If an attempt committed but
    /// its answer was lost (a timeout), the retry gets `duplicate: true` and the original
    /// order — never a second one.
    ///
    /// # Errors
    /// [`Error::Validation`] (unknown service, a merchant tracking number already used),
    /// [`Error::Forbidden`] (no `orders:create`), transient errors after retries.
    pub async fn create_order(&self, req: &OrderRequest) -> Result<Order, Error> {
        let body = wire::CreateOrder {
            service_id: req.service_id().get(),
            external_parent_id: req.reference().as_str(),
            items: req
                .items()
                .iter()
                .map(|i| wire::CreateItem {
                    merchant_tracking_number: i.merchant_tracking_number.as_str(),
                    item_id: i.merchant_tracking_number.as_str(),
                    weight_grams: i.weight.map(Weight::grams),
                })
                .collect(),
        };
        let call = Call {
            method: Method::POST,
            path: "/api/v1/orders".into(),
            query: Vec::new(),
            body: Some(to_json(&body)?),
            kind: RequestKind::IdempotentCreate,
        };
        let created: wire::Data<wire::CreatedOrder> = self.call_json(call).await?;
        order_from_wire(req, created.data)
    }

    /// Cancels an order by the partner's reference (`POST /api/v1/orders/{order}/cancel`,
    /// the reference percent-encoded). Never retried.
    ///
    /// # Errors
    /// [`Error::NotFound`] (unknown, or another partner's), [`Error::Conflict`] (already in
    /// custody), [`Error::Forbidden`] (no `orders:cancel`).
    pub async fn cancel_order(
        &self,
        reference: &PartnerOrderRef,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let path =
            format!("/api/v1/orders/{}/cancel", utf8_percent_encode(reference.as_str(), SEGMENT));
        let call = Call {
            method: Method::POST,
            path,
            query: Vec::new(),
            body: Some(to_json(&wire::CancelOrder { reason })?),
            kind: RequestKind::Write,
        };
        self.call(call).await.map(drop)
    }

    /// One page of the status pool (`GET /api/v1/partner/changes`), rows after
    /// `query.since`, the limit clamped to 1–200.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (no `status:read`), transient errors after retries,
    /// [`Error::Decode`] for a row that cannot be read (naming its cursor).
    pub async fn changes(&self, query: &ChangesQuery) -> Result<ChangePage, Error> {
        let mut params = vec![
            ("since", query.since.0.to_string()),
            ("limit", query.clamped_limit().to_string()),
        ];
        if let Some(t) = &query.tracking_number {
            params.push(("tracking_number", t.as_str().to_owned()));
        }
        if let Some(r) = &query.reference {
            params.push(("external_parent_id", r.as_str().to_owned()));
        }
        let call = Call { query: params, ..Call::get("/api/v1/partner/changes") };
        let page: wire::ChangesPage = self.call_json(call).await?;
        feed::page_from_wire(page)
    }

    /// Every pool row after `since`, page after page (200 rows each) while `has_more`;
    /// the stream ends when Starmile reports no more rows, or after yielding an error.
    /// Each [`FeedItem`] carries its cursor: persist it only once the item is stored.
    pub fn change_stream(
        &self,
        since: Cursor,
    ) -> impl Stream<Item = Result<FeedItem, Error>> + Send + '_ {
        struct State {
            cursor: Cursor,
            buffer: std::collections::VecDeque<FeedItem>,
            more: bool,
        }
        let start = State { cursor: since, buffer: Default::default(), more: true };
        futures::stream::unfold(Some(start), move |state| async move {
            let mut state = state?;
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    return Some((Ok(item), Some(state)));
                }
                if !state.more {
                    return None;
                }
                match self.changes(&ChangesQuery::since(state.cursor)).await {
                    Ok(page) => {
                        state.cursor = page.next_cursor;
                        // An empty page with has_more would loop forever; treat it as the end.
                        state.more = page.has_more && !page.items.is_empty();
                        state.buffer.extend(page.items);
                    }
                    Err(e) => return Some((Err(e), None)),
                }
            }
        })
    }

    async fn call_json<T: DeserializeOwned>(&self, call: Call) -> Result<T, Error> {
        let body = self.call(call).await?;
        serde_json::from_slice(&body).map_err(|e| Error::decode(e.to_string(), &body))
    }

    /// Sends an API call with a bearer token: refresh-and-resend once on 401, retries as
    /// the policy says.
    async fn call(&self, call: Call) -> Result<Vec<u8>, Error> {
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
                .header(header::ACCEPT, "application/json")
                .bearer_auth(token.expose_secret());
            if !call.query.is_empty() {
                request = request.query(&call.query);
            }
            if let Some(body) = &call.body {
                request =
                    request.header(header::CONTENT_TYPE, "application/json").body(body.clone());
            }
            let failure = match read(request).await {
                Ok(reply) if reply.status.is_success() => return Ok(reply.body),
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
            match inner.policy.decide(attempt, call.kind, &outcome, self.jitter_sample()) {
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
            match inner.policy.decide(attempt, RequestKind::Read, &outcome, self.jitter_sample()) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(failure.into_error(&url)),
            }
        }
    }

    /// A uniform sample in 0..=1 for retry jitter (splitmix64; quality is irrelevant here).
    fn jitter_sample(&self) -> f64 {
        let x = self.inner.jitter_state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
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
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
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
                jitter_state: AtomicU64::new(seed),
            }),
        })
    }
}

/// Validates a base URL and returns it without a trailing slash.
fn check_base_url(raw: &str) -> Result<String, Error> {
    let url = url::Url::parse(raw).map_err(|e| {
        Error::Config(format!(
            "base URL {raw:?} is not a URL ({e}); use e.g. https://api.starmile.io"
        ))
    })?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::Config(format!(
                "base URL {raw:?} uses plain http to a remote host; credentials and tokens must \
                 travel over https (http is allowed only for loopback hosts such as 127.0.0.1)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "base URL {raw:?} has scheme {other:?}; use https (or http for a loopback sandbox)"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!("base URL {raw:?} must not carry a query or fragment")));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    kind: RequestKind,
}

impl Call {
    fn get(path: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
            kind: RequestKind::Read,
        }
    }
}

struct Reply {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
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
    let body = response.bytes().await?.to_vec();
    Ok(Reply { status, retry_after, body })
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
        .or(parsed.error_description)
        .or(parsed.error)
        .unwrap_or_else(|| summarize(&text));
    match reply.status.as_u16() {
        401 => Error::Unauthenticated { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound { message },
        409 => Error::Conflict { message },
        422 => Error::Validation { message, fields },
        429 => Error::RateLimited { message, retry_after: reply.retry_after },
        status @ 500..=599 => Error::Server { status, message, raw_body },
        status => Error::UnexpectedStatus { status, message, raw_body },
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Config(format!("could not encode the body: {e}")))
}

fn bad(what: &str, e: impl fmt::Display) -> Error {
    Error::Decode { message: format!("{what}: {e}"), body: String::new() }
}

fn service_from_wire(row: wire::ServiceRow) -> Result<Service, Error> {
    Ok(Service {
        id: ServiceId::new(row.id).map_err(|e| bad("service id", e))?,
        name: row.name,
        flow_key: row.flow_key,
        family: row.family,
    })
}

fn rate_from_wire(row: wire::RateRow) -> Result<RateCard, Error> {
    let service = ServiceId::new(row.service_id).map_err(|e| bad("rate service_id", e))?;
    let context = |what: &str| format!("rate of service {service} {what}");
    let currency = Currency::parse(&row.currency).map_err(|e| bad(&context("currency"), e))?;
    let origin = CountryCode::parse(&row.origin).map_err(|e| bad(&context("origin"), e))?;
    let destination = row
        .destination
        .as_deref()
        .map(CountryCode::parse)
        .transpose()
        .map_err(|e| bad(&context("destination"), e))?;
    let tiers = row
        .tiers
        .into_iter()
        .map(|t| {
            Ok(RateTier {
                max_weight: Weight::from_grams(t.max_weight_grams)
                    .map_err(|e| bad(&context("tier weight"), e))?,
                price: Money::new(t.price, currency).map_err(|e| bad(&context("tier price"), e))?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    RateCard::new(service, origin, destination, currency, tiers).map_err(|e| bad("rate card", e))
}

fn order_from_wire(req: &OrderRequest, data: wire::CreatedOrder) -> Result<Order, Error> {
    let tracking_number = TrackingNumber::parse(data.order_id).map_err(|e| bad("order_id", e))?;
    let region_status = match data.region_status {
        None => RegionStatus::NotApplicable,
        Some(s) => serde_json::from_value(serde_json::Value::String(s))
            .map_err(|e| bad("region_status", e))?,
    };
    let by_position = data.items.len() == req.items().len();
    let parcels = data
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            // We send item_id = merchant tracking number; fall back to position when a
            // server echoes other ids with the same count.
            let merchant = item
                .item_id
                .as_deref()
                .and_then(|id| {
                    req.items().iter().find(|r| r.merchant_tracking_number.as_str() == id)
                })
                .or_else(|| by_position.then(|| &req.items()[i]))
                .map(|r| r.merchant_tracking_number.clone())
                .or_else(|| {
                    item.item_id.as_deref().and_then(|id| MerchantTrackingNumber::parse(id).ok())
                });
            Ok(OrderParcel {
                tracking_number: TrackingNumber::parse(item.parcel_id)
                    .map_err(|e| bad("parcel_id", e))?,
                item_id: item.item_id,
                merchant_tracking_number: merchant,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Order {
        reference: req.reference().clone(),
        tracking_number,
        duplicate: data.duplicate,
        region_status,
        parcels,
    })
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
    }

    #[test]
    fn references_are_percent_encoded_per_segment() {
        assert_eq!(utf8_percent_encode("ORD/1", SEGMENT).to_string(), "ORD%2F1");
        assert_eq!(utf8_percent_encode("PO-1_a.b~c", SEGMENT).to_string(), "PO-1_a.b~c");
        assert_eq!(utf8_percent_encode("a b?#", SEGMENT).to_string(), "a%20b%3F%23");
    }

    #[test]
    fn error_bodies_map_to_the_table() {
        let reply = |status: u16, body: &str| Reply {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
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
