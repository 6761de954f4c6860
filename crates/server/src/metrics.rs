//! Prometheus metrics (OpenMetrics text via `prometheus-client`): HTTP requests and their
//! latency (histogram) by route and status, sync progress and lag per account, pool rows in
//! quarantine per account, parcels by unified status, events ingested by source, remote
//! errors by carrier and kind, webhooks by outcome, and the tracking clients' rate-limiter
//! waits (count by carrier; seconds and 429 answers by carrier and account, [`UpstreamMetrics`]).
//!
//! [`Metrics`] is also the sync engine's [`SyncObserver`], and remembers when sync last made
//! progress (for `/readyz`).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use waybill_domain::{CarrierId, Cursor, RequestObserver, TrackingStatus};

use waybill_engine::sync::{SyncObserver, SyncReport};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    route: String,
    method: String,
    /// `2xx`, `4xx`, … (a class, not the status, to keep the series count small).
    status_class: String,
}

/// Latency buckets in seconds: sub-millisecond page and API hits up to multi-second carrier
/// round trips (order creation waits on Starmile).
const LATENCY_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RemoteErrorLabels {
    carrier: String,
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CarrierLabels {
    carrier: String,
}

/// Reads a client's running count of rate-limiter waits (the app wires each tracking
/// client's own counter here; the server knows no client type).
pub type WaitCounter = Arc<dyn Fn() -> u64 + Send + Sync>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AccountLabels {
    account: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    subscription: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// Where stored events came from (the `source` label of `waybill_events_ingested_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Starmile status-pool rows.
    Pool,
    /// Tracking events from StarShipIT lookups.
    Tracking,
    /// Tracking events pushed by StarShipIT webhooks.
    Webhook,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pool => "pool",
            Self::Tracking => "tracking",
            Self::Webhook => "webhook",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    carrier: String,
    account: String,
}

/// What carriers' rate limits did to each account's calls: seconds spent waiting for the
/// client-side limiter and 429 answers, by carrier and account. Created before the clients
/// (each is built with [`UpstreamMetrics::observer`]) and exported with the server's metrics
/// ([`Metrics::with_upstream`]). Clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct UpstreamMetrics {
    limiter_wait: Family<UpstreamLabels, Counter<f64, AtomicU64>>,
    throttled: Family<UpstreamLabels, Counter>,
}

impl UpstreamMetrics {
    /// The observer for one account's client (its series start at 0, so a quiet account is
    /// visible too).
    #[must_use]
    pub fn observer(&self, carrier: &CarrierId, account: &str) -> Arc<dyn RequestObserver> {
        let labels = UpstreamLabels { carrier: carrier.to_string(), account: account.to_owned() };
        let _ = self.limiter_wait.get_or_create(&labels);
        let _ = self.throttled.get_or_create(&labels);
        Arc::new(AccountObserver { labels, metrics: self.clone() })
    }
}

/// One account's [`RequestObserver`].
struct AccountObserver {
    labels: UpstreamLabels,
    metrics: UpstreamMetrics,
}

impl RequestObserver for AccountObserver {
    fn limiter_waited(&self, waited: Duration) {
        self.metrics.limiter_wait.get_or_create(&self.labels).inc_by(waited.as_secs_f64());
    }

    fn throttled(&self) {
        self.metrics.throttled.get_or_create(&self.labels).inc();
    }
}

/// Every metric `waybill serve` exports.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    events_ingested: Family<SourceLabels, Counter>,
    remote_errors: Family<RemoteErrorLabels, Counter>,
    webhooks: Family<OutcomeLabels, Counter>,
    sync_lag: Family<AccountLabels, Gauge<f64, AtomicU64>>,
    sync_cursor: Family<AccountLabels, Gauge>,
    sync_pages: Family<AccountLabels, Counter>,
    sync_rounds: Counter,
    quarantined_rows: Family<AccountLabels, Gauge>,
    parcels: Family<StatusLabels, Gauge>,
    webhook_deliveries: Family<DeliveryLabels, Gauge>,
    limiter_waits: Family<CarrierLabels, Counter>,
    wait_sources: Vec<(String, WaitCounter, AtomicU64)>,
    started: Instant,
    last_drained: Mutex<HashMap<String, Instant>>,
    last_progress: Mutex<Instant>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh set of metrics for these accounts (their lag counts from now) and the clients
    /// whose rate-limiter waits are exported, by carrier.
    #[must_use]
    pub fn new(accounts: &[String], limiter_waits: Vec<(CarrierId, WaitCounter)>) -> Self {
        let mut registry = Registry::with_prefix("waybill");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        let http_latency: Family<LatencyLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route template, method and status class",
            http_latency.clone(),
        );
        let events_ingested = Family::<SourceLabels, Counter>::default();
        registry.register(
            "events_ingested",
            "New rows and events stored, by source (pool, tracking, webhook)",
            events_ingested.clone(),
        );
        let remote_errors = Family::<RemoteErrorLabels, Counter>::default();
        registry.register(
            "remote_errors",
            "Failed carrier calls, by carrier and error kind",
            remote_errors.clone(),
        );
        let webhooks = Family::<OutcomeLabels, Counter>::default();
        registry.register("webhooks", "Webhook requests, by outcome", webhooks.clone());
        let sync_lag = Family::<AccountLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "sync_lag_seconds",
            "Seconds since the account's status pool was last drained to its end",
            sync_lag.clone(),
        );
        let sync_cursor = Family::<AccountLabels, Gauge>::default();
        registry.register(
            "sync_cursor",
            "The account's committed status-pool cursor",
            sync_cursor.clone(),
        );
        let sync_pages = Family::<AccountLabels, Counter>::default();
        registry.register("sync_pages", "Status-pool pages committed", sync_pages.clone());
        let sync_rounds = Counter::default();
        registry.register("sync_rounds", "Sync rounds completed", sync_rounds.clone());
        let quarantined_rows = Family::<AccountLabels, Gauge>::default();
        registry.register(
            "quarantined_rows",
            "Status-pool rows that could not be decoded and are kept in quarantine (sync went past them; list them with `waybill quarantine list`)",
            quarantined_rows.clone(),
        );
        let parcels = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "parcels",
            "Stored parcels by unified status (read from the store at each scrape)",
            parcels.clone(),
        );
        for status in TrackingStatus::ALL {
            parcels.get_or_create(&StatusLabels { status: status.as_str().to_owned() }).set(0);
        }
        let webhook_deliveries = Family::<DeliveryLabels, Gauge>::default();
        registry.register(
            "webhook_deliveries",
            "Outbound webhook deliveries by subscription and state: pending, delivered, failed (read from the store at each scrape; see `waybill webhooks deliveries`)",
            webhook_deliveries.clone(),
        );
        let wait_family = Family::<CarrierLabels, Counter>::default();
        registry.register(
            "limiter_waits",
            "Times a carrier call waited for the client-side rate limiter, by carrier",
            wait_family.clone(),
        );
        let wait_sources = limiter_waits
            .into_iter()
            .map(|(carrier, source)| {
                let _ = wait_family.get_or_create(&CarrierLabels { carrier: carrier.to_string() });
                (carrier.to_string(), source, AtomicU64::new(0))
            })
            .collect();
        let now = Instant::now();
        let last_drained = accounts.iter().map(|a| (a.clone(), now)).collect();
        for a in accounts {
            sync_lag.get_or_create(&AccountLabels { account: a.clone() }).set(0.0);
            sync_cursor.get_or_create(&AccountLabels { account: a.clone() }).set(0);
            quarantined_rows.get_or_create(&AccountLabels { account: a.clone() }).set(0);
        }
        Self {
            registry,
            http_requests,
            http_latency,
            events_ingested,
            remote_errors,
            webhooks,
            sync_lag,
            sync_cursor,
            sync_pages,
            sync_rounds,
            quarantined_rows,
            parcels,
            webhook_deliveries,
            limiter_waits: wait_family,
            wait_sources,
            started: now,
            last_drained: Mutex::new(last_drained),
            last_progress: Mutex::new(now),
        }
    }

    /// Also exports `upstream`'s counters: `waybill_limiter_wait_seconds_total` and
    /// `waybill_upstream_throttled_total`, by carrier and account.
    #[must_use]
    pub fn with_upstream(mut self, upstream: &UpstreamMetrics) -> Self {
        self.registry.register(
            "limiter_wait_seconds",
            "Seconds carrier calls waited for the client-side rate limiter, by carrier and account",
            upstream.limiter_wait.clone(),
        );
        self.registry.register(
            "upstream_throttled",
            "429 Too Many Requests answers from a carrier, by carrier and account (retried or not)",
            upstream.throttled.clone(),
        );
        self
    }

    /// Records how long one request took to answer.
    pub fn http_latency(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.http_latency
            .get_or_create(&LatencyLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status_class: format!("{}xx", status / 100),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts one answered request.
    pub fn http_request(&self, route: &str, method: &str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Counts new stored events from a source.
    pub fn ingested(&self, source: Source, n: u64) {
        self.events_ingested
            .get_or_create(&SourceLabels { source: source.as_str().into() })
            .inc_by(n);
    }

    /// Counts a failed carrier call.
    pub fn remote_error(&self, carrier: &str, kind: &str) {
        self.remote_errors
            .get_or_create(&RemoteErrorLabels { carrier: carrier.into(), kind: kind.into() })
            .inc();
    }

    /// Counts a webhook request by outcome (`stored`, `duplicate`, `bad_signature`,
    /// `invalid`, `not_configured`).
    pub fn webhook(&self, outcome: &str) {
        self.webhooks.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// Sets the parcels-by-status gauges from the store's counts (statuses missing from
    /// `counts` have none).
    pub fn set_parcels(&self, counts: &[(TrackingStatus, u64)]) {
        for status in TrackingStatus::ALL {
            let n = counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
            self.parcels
                .get_or_create(&StatusLabels { status: status.as_str().to_owned() })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Sets the outbound-delivery gauges from the store's counts: every state of every
    /// subscription seen, 0 where the store has none (so a state that empties reads 0).
    pub fn set_webhook_deliveries(&self, counts: &[waybill_store::DeliveryCount]) {
        let mut subscriptions: Vec<&str> = counts.iter().map(|c| c.subscription.as_str()).collect();
        subscriptions.sort_unstable();
        subscriptions.dedup();
        for subscription in subscriptions {
            for state in waybill_store::DeliveryState::ALL {
                let n = counts
                    .iter()
                    .find(|c| c.subscription == subscription && c.state == state)
                    .map_or(0, |c| c.deliveries);
                self.webhook_deliveries
                    .get_or_create(&DeliveryLabels {
                        subscription: subscription.to_owned(),
                        state: state.as_str().to_owned(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// Sets the quarantined-row gauges from the store's counts (accounts missing from
    /// `counts` have none).
    pub fn set_quarantined(&self, counts: &[(String, u64)]) {
        let mut seen = std::collections::HashSet::new();
        for (account, rows) in counts {
            seen.insert(account.as_str());
            self.quarantined_rows
                .get_or_create(&AccountLabels { account: account.clone() })
                .set(i64::try_from(*rows).unwrap_or(i64::MAX));
        }
        let known: Vec<String> = self
            .last_drained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        for account in known.into_iter().filter(|a| !seen.contains(a.as_str())) {
            self.quarantined_rows.get_or_create(&AccountLabels { account }).set(0);
        }
    }

    /// When sync last made progress (a page committed or a round finished); the start time
    /// before the first.
    #[must_use]
    pub fn since_sync_progress(&self) -> Duration {
        self.last_progress.lock().unwrap_or_else(PoisonError::into_inner).elapsed()
    }

    /// How long the server has been up.
    #[must_use]
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn progress(&self) {
        *self.last_progress.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// The metrics in OpenMetrics text format (refreshing lag and limiter values first).
    #[must_use]
    pub fn render(&self) -> String {
        {
            let drained = self.last_drained.lock().unwrap_or_else(PoisonError::into_inner);
            for (account, at) in drained.iter() {
                self.sync_lag
                    .get_or_create(&AccountLabels { account: account.clone() })
                    .set(at.elapsed().as_secs_f64());
            }
        }
        for (carrier, source, seen) in &self.wait_sources {
            let now = source();
            let before = seen.swap(now, Ordering::Relaxed);
            self.limiter_waits
                .get_or_create(&CarrierLabels { carrier: carrier.clone() })
                .inc_by(now.saturating_sub(before));
        }
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        out
    }
}

impl SyncObserver for Metrics {
    fn page_committed(&self, account: &str, new_rows: u64, cursor: Cursor) {
        let labels = AccountLabels { account: account.to_owned() };
        self.sync_pages.get_or_create(&labels).inc();
        self.sync_cursor.get_or_create(&labels).set(i64::try_from(cursor.0).unwrap_or(i64::MAX));
        self.ingested(Source::Pool, new_rows);
        self.progress();
    }

    fn quarantined(&self, account: &str, rows: u64) {
        self.quarantined_rows
            .get_or_create(&AccountLabels { account: account.to_owned() })
            .inc_by(i64::try_from(rows).unwrap_or(i64::MAX));
    }

    fn drained(&self, account: &str) {
        self.last_drained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(account.to_owned(), Instant::now());
    }

    fn tracking_events(&self, new_events: u64) {
        self.ingested(Source::Tracking, new_events);
    }

    fn remote_error(&self, carrier: &str, kind: &'static str) {
        Metrics::remote_error(self, carrier, kind);
    }

    fn round_finished(&self, _report: &SyncReport) {
        self.sync_rounds.inc();
        self.progress();
    }
}

/// Middleware: counts every answered request by its route template (never the raw path, so
/// tracking numbers do not become label values), method and status.
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let took = started.elapsed();
    metrics.http_request(&route, &method, status);
    metrics.http_latency(&route, &method, status, took);
    // The one access-log line per request (the route, not the path: paths carry tracking
    // numbers and references, which need not end up in log storage).
    tracing::info!(
        target: "waybill_server::access",
        method,
        route,
        status,
        latency_ms = took.as_secs_f64() * 1000.0,
        request_id,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_sync_progress_shows_in_the_text() {
        let waits = Arc::new(AtomicU64::new(0));
        let source = Arc::clone(&waits);
        let m = Metrics::new(
            &["main".to_owned()],
            vec![(
                CarrierId::from_static("courier"),
                Arc::new(move || source.load(Ordering::Relaxed)),
            )],
        );
        waits.store(5, Ordering::Relaxed);
        m.page_committed("main", 7, Cursor(42));
        m.tracking_events(3);
        SyncObserver::remote_error(&m, "mainline", "unavailable");
        m.http_request("/v1/orders", "GET", 200);
        m.http_latency("/v1/orders", "GET", 201, Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains(
                "waybill_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/v1/orders\",method=\"GET\",status_class=\"2xx\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "waybill_http_request_duration_seconds_bucket{le=\"0.0025\",route=\"/v1/orders\",method=\"GET\",status_class=\"2xx\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("waybill_sync_cursor{account=\"main\"} 42"), "{text}");
        assert!(text.contains("waybill_events_ingested_total{source=\"pool\"} 7"), "{text}");
        assert!(text.contains("waybill_events_ingested_total{source=\"tracking\"} 3"), "{text}");
        assert!(
            text.contains(
                "waybill_remote_errors_total{carrier=\"mainline\",kind=\"unavailable\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "waybill_http_requests_total{route=\"/v1/orders\",method=\"GET\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("waybill_sync_lag_seconds{account=\"main\"}"), "{text}");
        assert!(text.contains("waybill_limiter_waits_total{carrier=\"courier\"} 5"), "{text}");
        assert!(text.contains("waybill_quarantined_rows{account=\"main\"} 0"), "{text}");
    }

    #[test]
    fn limiter_waits_and_429s_are_counted_per_carrier_and_account() {
        let upstream = UpstreamMetrics::default();
        let m = Metrics::new(&[], Vec::new()).with_upstream(&upstream);
        let courier = CarrierId::from_static("courier");
        let main = upstream.observer(&courier, "main");
        let quiet = upstream.observer(&courier, "quiet");
        main.limiter_waited(Duration::from_millis(250));
        main.limiter_waited(Duration::from_millis(500));
        main.throttled();
        main.throttled();
        drop(quiet);
        let text = m.render();
        assert!(text.contains("# TYPE waybill_limiter_wait_seconds counter"), "{text}");
        assert!(
            text.contains(
                "waybill_limiter_wait_seconds_total{carrier=\"courier\",account=\"main\"} 0.75"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "waybill_upstream_throttled_total{carrier=\"courier\",account=\"main\"} 2"
            ),
            "{text}"
        );
        // An account that never waited is exported at zero.
        assert!(
            text.contains(
                "waybill_upstream_throttled_total{carrier=\"courier\",account=\"quiet\"} 0"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "waybill_limiter_wait_seconds_total{carrier=\"courier\",account=\"quiet\"} 0.0"
            ),
            "{text}"
        );
    }

    #[test]
    fn parcels_by_status_are_gauges_for_every_status() {
        let m = Metrics::new(&["main".to_owned()], Vec::new());
        m.set_parcels(&[(TrackingStatus::InTransit, 7), (TrackingStatus::Delivered, 3)]);
        let text = m.render();
        assert!(text.contains("waybill_parcels{status=\"in_transit\"} 7"), "{text}");
        assert!(text.contains("waybill_parcels{status=\"delivered\"} 3"), "{text}");
        assert!(text.contains("waybill_parcels{status=\"exception\"} 0"), "{text}");
        m.set_parcels(&[]);
        assert!(m.render().contains("waybill_parcels{status=\"in_transit\"} 0"));
    }

    #[test]
    fn quarantined_rows_are_a_gauge_per_account_set_from_the_store() {
        let m = Metrics::new(&["main".to_owned(), "melb".to_owned()], vec![]);
        m.quarantined("main", 2);
        assert!(m.render().contains("waybill_quarantined_rows{account=\"main\"} 2"));
        // The store's counts are the truth (another worker may have quarantined more).
        m.set_quarantined(&[("melb".to_owned(), 3)]);
        let text = m.render();
        assert!(text.contains("# TYPE waybill_quarantined_rows gauge"), "{text}");
        assert!(text.contains("waybill_quarantined_rows{account=\"melb\"} 3"), "{text}");
        assert!(text.contains("waybill_quarantined_rows{account=\"main\"} 0"), "{text}");
    }

    #[test]
    fn webhook_deliveries_are_a_gauge_per_subscription_and_state() {
        use waybill_store::{DeliveryCount, DeliveryState};
        let m = Metrics::new(&["main".to_owned()], vec![]);
        let count =
            |state, deliveries| DeliveryCount { subscription: "erp".into(), state, deliveries };
        m.set_webhook_deliveries(&[
            count(DeliveryState::Pending, 3),
            count(DeliveryState::Failed, 1),
        ]);
        let text = m.render();
        assert!(text.contains("# TYPE waybill_webhook_deliveries gauge"), "{text}");
        for (state, n) in [("pending", 3), ("delivered", 0), ("failed", 1)] {
            let line =
                format!("waybill_webhook_deliveries{{subscription=\"erp\",state=\"{state}\"}} {n}");
            assert!(text.contains(&line), "{line} in {text}");
        }
        // A state that empties reads 0, not its last value.
        m.set_webhook_deliveries(&[count(DeliveryState::Delivered, 4)]);
        let text = m.render();
        assert!(
            text.contains("waybill_webhook_deliveries{subscription=\"erp\",state=\"pending\"} 0"),
            "{text}"
        );
    }
}
