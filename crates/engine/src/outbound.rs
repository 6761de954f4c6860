//! Outbound webhooks: sending the store's outbox to each subscription's URL, signed, retried
//! with backoff for a bounded time, at least once.
//!
//! The store writes one delivery per subscription for every change of a parcel's unified
//! status or milestone, in the transaction that changed it (see `waybill_store::Outbox`).
//! [`WebhookSender`] claims due deliveries, POSTs each as JSON ([`payload`]) with a
//! `Waybill-Signature` header ([`signature`]), and records how the attempt ended:
//!
//! - **2xx**: delivered.
//! - **410 Gone**: the receiver does not want it; given up at once.
//! - **anything else** (another status, a redirect, no answer within the timeout, a refused
//!   connection): retried after [`Backoff`] (or the receiver's `Retry-After`), until the
//!   subscription's retry time since the change has passed; then given up.
//!
//! # The signature
//! `Waybill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the
//! subscription's secret — Stripe's scheme. A receiver recomputes the HMAC over the exact
//! bytes it received, compares in constant time, and refuses a `t` more than five minutes
//! from its clock (a replayed request). [`verify`] does exactly that.
//!
//! # Order and duplicates
//! A parcel's deliveries to one subscription are sent one at a time, in the order the changes
//! happened (the next waits until the previous is delivered or given up). A worker killed
//! mid-send leaves its claim to expire, and the delivery is sent again: receivers should
//! deduplicate on `Waybill-Webhook-Id` (the body's `id`).

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::{StreamExt, stream};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::watch;
use waybill_kit::Jitter;
use waybill_store::{
    Attempt, Delivery, DeliveryState, Redelivery, Store, StoreError, Subscription,
};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Waybill-Signature";
/// The header carrying the delivery's id (the same on every retry: deduplicate on it).
pub const ID_HEADER: &str = "Waybill-Webhook-Id";
/// How far a signature's timestamp may be from the receiver's clock before [`verify`]
/// refuses it.
pub const TOLERANCE: Duration = Duration::from_secs(300);

/// One subscription as the sender needs it: where, with which secret, for which changes.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The subscription's name.
    pub name: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The signing secret (never stored, never logged).
    pub secret: SecretString,
    /// The unified statuses whose changes notify; empty: every change.
    pub statuses: Vec<waybill_domain::TrackingStatus>,
    /// How long a delivery is retried before it is given up.
    pub retry_for: Duration,
    /// The longest one attempt may take.
    pub timeout: Duration,
    /// The backoff between failed attempts.
    pub backoff: Backoff,
}

/// The sender's tuning.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// When nothing was due, how long to wait before looking again.
    pub poll_interval: Duration,
    /// Deliveries claimed per pass.
    pub batch: u32,
    /// Deliveries sent at once.
    pub concurrency: usize,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self { poll_interval: Duration::from_secs(1), batch: 64, concurrency: 8 }
    }
}

/// Exponential backoff with jitter: after the n-th failed attempt wait `first × 2^(n−1)`,
/// at most `max`, each wait drawn from 80–120 % of that (so receivers recovering from an
/// outage are not hit by every delivery in the same second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { first: Duration::from_secs(10), max: Duration::from_secs(3600) }
    }
}

impl Backoff {
    /// The wait after `attempts` failed attempts (1 for the first), `sample` in `[0, 1)`.
    #[must_use]
    pub fn delay(&self, attempts: u32, sample: f64) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let base = self.first.saturating_mul(1 << doublings).min(self.max);
        base.mul_f64(0.8 + 0.4 * sample.clamp(0.0, 1.0)).min(self.max)
    }
}

/// What one pass over the due deliveries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassReport {
    /// Deliveries claimed and attempted.
    pub attempted: u32,
    /// Delivered (2xx).
    pub delivered: u32,
    /// Failed and queued to retry.
    pub retrying: u32,
    /// Failed and given up.
    pub given_up: u32,
}

/// Why a redelivery could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    /// No delivery has the id.
    #[error("no webhook delivery has id {0}: see `waybill webhooks deliveries`")]
    NotFound(u64),
    /// The delivery's subscription is no longer configured.
    #[error(
        "delivery {id} is for subscription {subscription:?}, which is no longer configured: add it back to [[outbound_webhooks]] first"
    )]
    SubscriptionRemoved {
        /// The delivery.
        id: u64,
        /// Its subscription.
        subscription: String,
    },
    /// Another worker is sending it right now.
    #[error(
        "delivery {0} is being sent by another waybill process right now; check `waybill webhooks deliveries` in a minute"
    )]
    Busy(u64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends the outbox's deliveries (see the module docs).
pub struct WebhookSender {
    store: Arc<dyn Store>,
    endpoints: HashMap<String, Endpoint>,
    names: Vec<String>,
    http: reqwest::Client,
    options: SenderOptions,
    jitter: Jitter,
}

impl WebhookSender {
    /// A sender for `endpoints` (names unique: the configuration checks that).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS backend).
    pub fn new(
        store: Arc<dyn Store>,
        endpoints: Vec<Endpoint>,
        options: SenderOptions,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("waybill/", env!("CARGO_PKG_VERSION")))
            // A receiver that redirects is misconfigured; following would re-send the body
            // (and its signature) to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let names = endpoints.iter().map(|e| e.name.clone()).collect();
        let endpoints = endpoints.into_iter().map(|e| (e.name.clone(), e)).collect();
        Ok(Self { store, endpoints, names, http, options, jitter: Jitter::from_clock() })
    }

    /// Makes the store's subscriptions this sender's (the changes they match are written
    /// from now on; pending deliveries of subscriptions no longer configured are given up).
    ///
    /// # Errors
    /// Store failures.
    pub async fn subscribe(&self) -> Result<(), StoreError> {
        let mut subscriptions: Vec<Subscription> = self
            .endpoints
            .values()
            .map(|e| Subscription {
                name: e.name.clone(),
                url: e.url.clone(),
                statuses: e.statuses.clone(),
                retry_for: e.retry_for,
            })
            .collect();
        subscriptions.sort_by(|a, b| a.name.cmp(&b.name));
        self.store.set_subscriptions(&subscriptions).await
    }

    /// The subscriptions' names, sorted.
    #[must_use]
    pub fn subscriptions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// One pass: claims the due deliveries (one batch) and attempts each.
    ///
    /// # Errors
    /// Store failures (a failed attempt is not an error: it is recorded).
    pub async fn deliver_due(&self) -> Result<PassReport, StoreError> {
        if self.names.is_empty() {
            return Ok(PassReport::default());
        }
        let claimed =
            self.store.claim_deliveries(&self.names, self.options.batch, self.lock_for()).await?;
        let finished: Vec<Result<Option<Delivery>, StoreError>> = stream::iter(claimed)
            .map(|d| self.attempt(d))
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut report = PassReport::default();
        for result in finished {
            report.attempted += 1;
            match result?.map(|d| d.state) {
                Some(DeliveryState::Delivered) => report.delivered += 1,
                Some(DeliveryState::Pending) => report.retrying += 1,
                Some(DeliveryState::Failed) => report.given_up += 1,
                None => {}
            }
        }
        Ok(report)
    }

    /// Sends deliveries until `stop` turns true, finishing the pass in flight.
    ///
    /// # Errors
    /// Never for a failed attempt; store failures are logged and retried after the poll
    /// interval, so a database restart does not stop the sender.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) {
        loop {
            let full = match self.deliver_due().await {
                Ok(report) => {
                    if report.attempted > 0 {
                        tracing::info!(
                            attempted = report.attempted,
                            delivered = report.delivered,
                            retrying = report.retrying,
                            given_up = report.given_up,
                            "webhook deliveries sent"
                        );
                    }
                    report.attempted >= self.options.batch
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries could not be read; retrying");
                    false
                }
            };
            if *stop.borrow() {
                return;
            }
            if !full {
                tokio::select! {
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(self.options.poll_interval) => {}
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }

    /// Queues a delivery again and sends it now, returning it as it ended.
    ///
    /// # Errors
    /// [`RedeliverError`] saying why it could not be sent (a failed attempt is not an error:
    /// the returned delivery says how it went, and it stays queued for retries).
    pub async fn redeliver(&self, id: u64) -> Result<Delivery, RedeliverError> {
        let queued = match self.store.redeliver(id).await? {
            Redelivery::Queued(d) => d,
            Redelivery::NotFound => return Err(RedeliverError::NotFound(id)),
            Redelivery::SubscriptionRemoved(subscription) => {
                return Err(RedeliverError::SubscriptionRemoved { id, subscription });
            }
        };
        if !self.endpoints.contains_key(&queued.subscription) {
            return Err(RedeliverError::SubscriptionRemoved {
                id,
                subscription: queued.subscription,
            });
        }
        let claimed = self
            .store
            .claim_delivery(id, self.lock_for())
            .await?
            .ok_or(RedeliverError::Busy(id))?;
        let after = self.attempt(claimed).await?;
        Ok(after.unwrap_or(*queued))
    }

    /// A claim outlives the longest attempt, so no other worker sends it meanwhile.
    fn lock_for(&self) -> Duration {
        let longest = self.endpoints.values().map(|e| e.timeout).max().unwrap_or_default();
        longest * 2 + Duration::from_secs(30)
    }

    /// Sends one claimed delivery and records the outcome.
    async fn attempt(&self, delivery: Delivery) -> Result<Option<Delivery>, StoreError> {
        let outcome = match self.endpoints.get(&delivery.subscription) {
            Some(endpoint) => self.send(endpoint, &delivery).await,
            None => Attempt::Failed {
                status_code: None,
                error: "its subscription is not configured in this process".into(),
                retry_in: Some(Backoff::default().delay(delivery.attempts + 1, 0.5)),
            },
        };
        match &outcome {
            Attempt::Delivered { status_code } => tracing::debug!(
                id = delivery.id, subscription = %delivery.subscription, status = status_code,
                "webhook delivered"
            ),
            Attempt::Failed { error, .. } => tracing::warn!(
                id = delivery.id, subscription = %delivery.subscription, attempt = delivery.attempts + 1,
                error = %error, "webhook delivery failed"
            ),
        }
        self.store.finish_delivery(delivery.id, &outcome).await
    }

    /// One POST, and what its answer means.
    async fn send(&self, endpoint: &Endpoint, delivery: &Delivery) -> Attempt {
        let body = payload(delivery);
        let timestamp = jiff::Timestamp::now().as_second();
        let signed = signature(endpoint.secret.expose_secret().as_bytes(), timestamp, &body);
        let retry = |after: Option<Duration>| {
            let wait = endpoint.backoff.delay(delivery.attempts + 1, self.jitter.sample());
            Some(after.map_or(wait, |a| a.min(endpoint.backoff.max)))
        };
        let answer = self
            .http
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signed)
            .header(ID_HEADER, delivery.id.to_string())
            .timeout(endpoint.timeout)
            .body(body)
            .send()
            .await;
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                let error = if e.is_timeout() {
                    format!("no answer within {} s", endpoint.timeout.as_secs_f64())
                } else if e.is_connect() {
                    format!("could not connect to {}", waybill_kit::redact(&endpoint.url))
                } else {
                    format!("the request failed: {}", without_url(&e))
                };
                return Attempt::Failed { status_code: None, error, retry_in: retry(None) };
            }
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Delivered { status_code: status.as_u16() };
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| waybill_kit::parse_retry_after(v, jiff::Timestamp::now()));
        let text = response.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(200).collect();
        let mut error = format!("the receiver answered {status}");
        if !excerpt.trim().is_empty() {
            error.push_str(": ");
            error.push_str(excerpt.trim());
        }
        let retry_in = if status == reqwest::StatusCode::GONE { None } else { retry(retry_after) };
        Attempt::Failed { status_code: Some(status.as_u16()), error, retry_in }
    }
}

/// A reqwest error's text without the URL it names (it may hold a token in its path).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "the subscription's URL");
    }
    text
}

/// The JSON body of a delivery: the same bytes on every attempt.
#[must_use]
pub fn payload(delivery: &Delivery) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        id: u64,
        #[serde(rename = "type")]
        kind: &'static str,
        created_at: String,
        subscription: &'a str,
        data: Data<'a>,
    }
    #[derive(Serialize)]
    struct Data<'a> {
        account: &'a str,
        order_reference: &'a str,
        merchant_tracking_number: &'a str,
        tracking_number: Option<&'a str>,
        status: &'static str,
        milestone: &'static str,
        previous_status: &'static str,
        previous_milestone: &'static str,
        event: Option<Event<'a>>,
    }
    #[derive(Serialize)]
    struct Event<'a> {
        carrier: &'a str,
        raw_status: Option<&'a str>,
    }
    let c = &delivery.change;
    let body = Body {
        id: delivery.id,
        kind: if c.status == c.previous_status {
            "parcel.milestone_changed"
        } else {
            "parcel.status_changed"
        },
        created_at: format!("{:.3}", c.changed_at),
        subscription: &delivery.subscription,
        data: Data {
            account: &c.account,
            order_reference: c.reference.as_str(),
            merchant_tracking_number: c.merchant_tracking_number.as_str(),
            tracking_number: c.tracking_number.as_ref().map(waybill_domain::TrackingNumber::as_str),
            status: c.status.as_str(),
            milestone: c.milestone.as_str(),
            previous_status: c.previous_status.as_str(),
            previous_milestone: c.previous_milestone.as_str(),
            event: c
                .carrier
                .as_deref()
                .map(|carrier| Event { carrier, raw_status: c.raw_status.as_deref() }),
        },
    };
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The `Waybill-Signature` value for `body` sent at `timestamp` (Unix seconds).
#[must_use]
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, body)))
}

/// Why [`verify`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<seconds>,v1=<hex>`.
    #[error("the Waybill-Signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    /// The timestamp is too far from now.
    #[error("the signature's timestamp is {0} s from now: more than the 300 s allowed")]
    Stale(i64),
    /// No `v1` matches the body.
    #[error(
        "the signature does not match the body: check the secret, and sign the exact bytes received"
    )]
    Mismatch,
}

/// Checks a `Waybill-Signature` header against the exact body received, as a receiver
/// should: the HMAC compared in constant time, the timestamp within [`TOLERANCE`] of `now`
/// (Unix seconds). Several `v1=` values (a secret being rotated) pass if any matches.
///
/// # Errors
/// [`VerifyError`] saying what did not hold.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, signatures.is_empty()) else {
        return Err(VerifyError::Malformed);
    };
    let skew = now.saturating_sub(timestamp);
    if skew.unsigned_abs() > TOLERANCE.as_secs() {
        return Err(VerifyError::Stale(skew));
    }
    for candidate in signatures {
        let Some(bytes) = unhex(candidate) else { continue };
        let mut m = keyed(secret);
        m.update(timestamp.to_string().as_bytes());
        m.update(b".");
        m.update(body);
        if m.verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::Mismatch)
}

fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length")
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut m = keyed(secret);
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests;
