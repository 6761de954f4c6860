//! Scenario 5, freshness per request: how soon a first-leg scan reaches the store when a
//! small key's budget is spread over many parcels, for a naive round-robin refresh and for
//! waybill's refresh schedule, under the same key in the same world.
//!
//! The world: 2,000 active parcels (200 with `--quick`), created uniformly over the five
//! (simulated) days before the run and during it, as a steady flow of orders does (the
//! Starmile sandbox's lifecycle takes 3.5–6.5 days from order to delivery, so about one in
//! six is still on its first leg); every fourth is shipped by a merchant whose StarShipIT
//! account pushes webhooks. Two identical StarShipIT sandboxes (same seed, same clock, same
//! parcels) play it, one per refresh strategy, each with its own key and its own store; the
//! webhooks of the first are the ground truth of when each scan happened (and are stored,
//! for the covered parcels, in both stores, as the server's receiver stores them).
//!
//! Everything runs [`SPEED`] times faster than real time: the sandboxes' clocks, the key (the
//! production key's 20 requests/s stand for the developer key's 2/s) and waybill's refresh
//! settings (its defaults divided by [`SPEED`]). Delays are reported in sandbox time, so
//! they read as in a real deployment of a 2 requests/s key.
//!
//! Both strategies run the same sync engine (`refresh_tracking` in continuous mode); only
//! which parcels each round asks for differs:
//! - **round-robin**: every parcel in turn, least recently looked up first (waybill's order
//!   before the schedule: `ORDER BY last_refreshed_at` over non-final parcels), reproduced by
//!   this scenario's store wrapper;
//! - **schedule**: the store's candidates by the engine's refresh schedule (due ones first,
//!   never handed-over, final or webhook-covered parcels).
//!
//! After a warm-up (one round-robin cycle, so both have looked every parcel up once), every
//! first-leg scan happening in the measurement window is followed until both stores hold it
//! (or for at most one more round-robin cycle; a scan still missing then counts with its age
//! at the end, a lower bound, and is reported).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use tokio::sync::watch;
use waybill_domain::{
    CarrierInfo, Cursor, EventTime, FeedItem, MerchantTrackingNumber, Order, OrderItem,
    OrderParcel, OrderRequest, PartnerOrderRef, RegionStatus, ServiceId, TrackingEvent,
    TrackingNumber, UndecodedRow,
};
use waybill_engine::{
    schedule::{self, RefreshPolicy},
    sync::{SyncEngine, SyncOptions},
};
use waybill_starshipit::{
    StarshipitClient,
    sandbox::{Sandbox, SandboxConfig, WebhookTarget},
};
use waybill_store::{
    FeedSink, NextRefresh, OrderBook, PoolCommit, RefreshCandidate, RefreshSelection, Refreshed,
    SqliteStore, StoreError,
};

use crate::{
    measure::{self, ScenarioResult},
    options::Options,
};

/// How much faster than real time the world runs.
pub(crate) const SPEED: u32 = 10;

/// The key being modelled: the developer tier's requests per second.
const DEVELOPER_LIMIT: u32 = 2;

/// The share of parcels whose merchant pushes webhooks: one in this many.
const PUSHING_ONE_IN: usize = 4;

/// Runs the scenario.
pub(crate) async fn run(options: &Options) -> anyhow::Result<ScenarioResult> {
    let parcels: usize = if options.quick { 200 } else { 2_000 };
    let limit = DEVELOPER_LIMIT * SPEED;
    // One round-robin cycle, real seconds (the limiter paces a little under the limit).
    let cycle = Duration::from_secs_f64(parcels as f64 / f64::from(limit) * 1.2);
    let warm_up = cycle + Duration::from_secs(5);
    let window = if options.quick { Duration::from_secs(40) } else { Duration::from_secs(200) };
    let drain = cycle + Duration::from_secs(5);
    let scale = f64::from(SPEED);
    let sim = |d: Duration| SignedDuration::try_from(d.mul_f64(scale)).unwrap_or_default();

    let mut result = ScenarioResult::new("freshness");
    result.set("parcels", parcels as f64);
    result.set("limit_per_s", f64::from(DEVELOPER_LIMIT));
    result.set("speedup", scale);
    result.note(format!(
        "{parcels} parcels created over the 5 simulated days before the run and during it, one in {PUSHING_ONE_IN} pushed by webhooks; everything {SPEED}× real time (a {limit}/s key standing for the developer key's {DEVELOPER_LIMIT}/s, waybill's refresh defaults ÷ {SPEED}); delays in sandbox time"
    ));
    result.note(format!(
        "warm-up {:.0} s, scans measured over {:.0} s, followed for up to {:.0} s more (real time)",
        warm_up.as_secs_f64(),
        window.as_secs_f64(),
        drain.as_secs_f64()
    ));

    // The ground truth: every webhook of world A, as it is emitted.
    let truth = Arc::new(Truth::default());
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", receiver.local_addr()?);

    let epoch: Timestamp = Timestamp::now().round(jiff::Unit::Second)?;
    let config = |webhook: Option<WebhookTarget>| SandboxConfig {
        seed: 16,
        time_scale: scale,
        epoch,
        wall_clock_zone: "UTC".into(),
        webhook,
        ..SandboxConfig::default()
    };
    let numbers: Vec<String> = (0..parcels).map(|i| format!("FRS-{i:06}")).collect();
    let run_sim = sim(warm_up + window + drain);
    let span = SignedDuration::from_hours(120) + run_sim;
    let created = |i: usize| {
        // Evenly spread, deterministic: parcel i at i/N of the span, shuffled by a stride.
        let k = (i * 7919) % parcels;
        let offset = span.as_secs_f64() * k as f64 / parcels as f64;
        epoch - SignedDuration::from_hours(120) + SignedDuration::from_secs_f64(offset)
    };

    let mut worlds = Vec::new();
    for (name, webhook) in [
        ("round-robin", Some(WebhookTarget { url: hook_url.clone(), secret: None })),
        ("schedule", None),
    ] {
        let sandbox = Sandbox::start(config(webhook)).await?;
        worlds.push(World::start(name, sandbox, options, &numbers).await?);
    }
    // The receiver runs before any parcel exists at the sandboxes, so no push is missed.
    let carrier = worlds[0].leg.carrier.clone();
    let sinks: Vec<Arc<Watched>> = worlds.iter().map(|w| Arc::clone(&w.sink)).collect();
    let hooks = tokio::spawn(receive_hooks(receiver, Arc::clone(&truth), sinks, carrier));
    for world in &worlds {
        for (i, n) in numbers.iter().enumerate() {
            world.sandbox.register_shipment(n, &format!("SO-{n}"), created(i));
        }
    }

    // The pushing merchants' webhooks have been flowing long before the run: let the backlog
    // of past scans be delivered before the engines start.
    let settle = Instant::now() + Duration::from_secs(120);
    let mut last = u64::MAX;
    while Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let c = worlds[0].sandbox.counters();
        if c.webhooks_acked == c.webhooks_sent && c.webhooks_sent == last {
            break;
        }
        last = c.webhooks_sent;
    }
    let (stop, stopped) = watch::channel(false);
    let mut engines = Vec::new();
    let running = Instant::now();
    for world in &worlds {
        let engine = Arc::clone(&world.engine);
        let stopped = stopped.clone();
        engines.push(tokio::spawn(async move { engine.run(stopped).await }));
    }
    eprintln!("freshness: warming up for {:.0} s", warm_up.as_secs_f64());
    tokio::time::sleep(warm_up).await;
    let from = worlds[0].clock.now();
    eprintln!("freshness: measuring scans for {:.0} s", window.as_secs_f64());
    tokio::time::sleep(window).await;
    let to = worlds[0].clock.now();
    let measured = truth.between(from, to);
    let deadline = Instant::now() + drain;
    while Instant::now() < deadline {
        if worlds.iter().all(|w| w.sink.holds_all(&measured)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = stop.send(true);
    for e in engines {
        e.await?.context("sync engine")?;
    }
    let ran = running.elapsed().as_secs_f64();
    hooks.abort();

    let covered = measured.iter().filter(|(n, _)| pushes(n)).count();
    result.set("scans_emitted", truth.len() as f64);
    result.set("scans_measured", measured.len() as f64);
    result.set("scans_pushed", covered as f64);
    if measured.is_empty() {
        result.note("no scan happened in the measurement window: delays not measured");
    }
    let mut rate_limited = 0.0;
    for world in worlds {
        let end = world.clock.now();
        let stats = world.sink.delays(&measured, end);
        let key = world.sandbox.production_subscription_key().to_owned();
        let counters = world.sandbox.counters();
        let arrivals = counters.arrivals.get(&key).map_or(0, Vec::len) as f64;
        let prefix = if world.name == "schedule" { "sched" } else { "rr" };
        // Without scans there is no delay to report (a quick run may see none).
        if !measured.is_empty() {
            result.set(&format!("{prefix}_mean_s"), stats.mean);
            result.set(&format!("{prefix}_p95_s"), stats.p95);
            result.set(&format!("{prefix}_unstored"), stats.unstored as f64);
        }
        if measured.len() > covered {
            result.set(&format!("{prefix}_polled_mean_s"), stats.polled_mean);
        }
        result.set(&format!("{prefix}_lookups"), arrivals);
        let wasted = world.sink.wasted();
        result.set(&format!("{prefix}_lookups_handed_over"), wasted.handed_over as f64);
        result.set(&format!("{prefix}_lookups_pushed"), wasted.pushed as f64);
        result.set(&format!("{prefix}_per_s"), measure::rate(arrivals, ran) / scale);
        result.set(&format!("{prefix}_429"), counters.rate_limited as f64);
        rate_limited += counters.rate_limited as f64;
        world.sandbox.shutdown().await;
    }
    result.set("rate_limited_429", rate_limited);
    Ok(result)
}

/// One strategy's world: its sandbox, store, engine and clock.
struct World {
    name: &'static str,
    sandbox: Sandbox,
    sink: Arc<Watched>,
    leg: waybill_engine::sync::LegTracker,
    engine: Arc<SyncEngine>,
    clock: SimClock,
}

impl World {
    async fn start(
        name: &'static str,
        sandbox: Sandbox,
        options: &Options,
        numbers: &[String],
    ) -> anyhow::Result<World> {
        let dir = options.out.join("freshness");
        std::fs::create_dir_all(&dir)?;
        let db = dir.join(format!("{name}.db"));
        measure::remove_db(&db);
        let store = Arc::new(SqliteStore::open(&db).await?);
        for n in numbers {
            let merchant = MerchantTrackingNumber::parse(n.as_str())?;
            let reference = PartnerOrderRef::parse(format!("PO-{n}"))?;
            let request = OrderRequest::new(
                ServiceId::new(5)?,
                reference.clone(),
                vec![OrderItem::new(merchant.clone())],
            )?;
            let order = Order {
                reference,
                tracking_number: TrackingNumber::parse(format!("STM-{n}"))?,
                duplicate: false,
                region_status: RegionStatus::Mapped,
                parcels: vec![OrderParcel {
                    item_id: Some(n.clone()),
                    merchant_tracking_number: Some(merchant),
                    tracking_number: TrackingNumber::parse(format!("STM-P-{n}"))?,
                }],
            };
            store.save_order("bench", &request, &order).await?;
        }
        let order = match name {
            "round-robin" => {
                let all = numbers
                    .iter()
                    .map(|n| MerchantTrackingNumber::parse(n.as_str()))
                    .collect::<Result<VecDeque<_>, _>>()?;
                Candidates::RoundRobin(Mutex::new(all))
            }
            _ => Candidates::Store,
        };
        let clock = SimClock::of(&sandbox);
        let sink = Arc::new(Watched::new(store, order, clock));
        let tracker = StarshipitClient::builder(
            &sandbox.base_url(),
            sandbox.api_key().to_owned().into(),
            sandbox.production_subscription_key().to_owned().into(),
        )
        .rate_limit_per_second(NonZeroU32::new(DEVELOPER_LIMIT * SPEED).context("limit")?)
        .build()?;
        let leg = waybill::carriers::first_leg(Arc::new(tracker));
        let defaults = SyncOptions::default();
        let sync_options = SyncOptions {
            poll_interval: defaults.poll_interval / SPEED,
            refresh_policy: RefreshPolicy::default().sped_up(SPEED),
            ..defaults
        };
        let engine = Arc::new(SyncEngine::new(
            Arc::clone(&sink) as Arc<dyn FeedSink>,
            vec![],
            Some(leg.clone()),
            sync_options,
        ));
        Ok(World { name, sandbox, sink, leg, engine, clock })
    }
}

/// A sandbox's simulated clock, read without asking it.
#[derive(Clone, Copy)]
struct SimClock {
    at: Timestamp,
    real: Instant,
    scale: f64,
}

impl SimClock {
    fn of(sandbox: &Sandbox) -> Self {
        let real = Instant::now();
        let at = sandbox.simulated_now();
        Self { at, real, scale: f64::from(SPEED) }
    }

    fn now(&self) -> Timestamp {
        let d = self.real.elapsed().mul_f64(self.scale);
        self.at + SignedDuration::try_from(d).unwrap_or_default()
    }
}

/// A scan's identity across sources: merchant number and the second it happened.
type ScanKey = (String, i64);

/// Whether the parcel `FRS-<i>` is shipped by a merchant that pushes webhooks.
fn pushes(number: &str) -> bool {
    number
        .strip_prefix("FRS-")
        .and_then(|i| i.parse::<usize>().ok())
        .is_some_and(|i| i % PUSHING_ONE_IN == 0)
}

/// Every scan the sandbox emitted, with when it happened.
#[derive(Default)]
struct Truth {
    scans: Mutex<HashMap<ScanKey, Timestamp>>,
}

impl Truth {
    fn note(&self, key: ScanKey, at: Timestamp) {
        self.scans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, at);
    }

    fn len(&self) -> usize {
        self.scans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// The scans that happened in `[from, to)`.
    fn between(&self, from: Timestamp, to: Timestamp) -> Vec<(String, Timestamp)> {
        let scans = self.scans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        scans
            .iter()
            .filter(|(_, at)| **at >= from && **at < to)
            .map(|((n, _), at)| (n.clone(), *at))
            .collect()
    }
}

/// The second an event happened, when it says.
fn second(time: &EventTime) -> Option<i64> {
    match time {
        EventTime::Exact { at, .. } => Some(at.as_second()),
        // The sandboxes write `/track` times as UTC wall clock.
        EventTime::Local { at } => {
            at.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp().as_second())
        }
        EventTime::Unknown { .. } => None,
    }
}

/// The webhook receiver: notes every scan as ground truth, and stores the pushing merchants'
/// scans in every world's store as the server's receiver does.
async fn receive_hooks(
    listener: tokio::net::TcpListener,
    truth: Arc<Truth>,
    sinks: Vec<Arc<Watched>>,
    carrier: CarrierInfo,
) {
    use axum::{Router, body::Bytes, http::StatusCode, routing::post};
    let handler = move |body: Bytes| {
        let (truth, sinks, carrier) = (Arc::clone(&truth), sinks.clone(), carrier.clone());
        async move {
            let Ok(payloads) = waybill_starshipit::webhook::parse(&body) else {
                return StatusCode::BAD_REQUEST;
            };
            let events: Vec<TrackingEvent> =
                payloads.iter().filter_map(|p| p.to_event(Timestamp::now()).ok()).collect();
            for e in &events {
                if let (Some(s), EventTime::Exact { at, .. }) =
                    (second(&e.occurred_at), &e.occurred_at)
                {
                    truth.note((e.tracking_number.to_string(), s), *at);
                }
            }
            let pushed: Vec<TrackingEvent> =
                events.into_iter().filter(|e| pushes(e.tracking_number.as_str())).collect();
            if !pushed.is_empty() {
                let handed_over = schedule::hand_overs(&carrier, &pushed);
                let joined: Vec<_> = pushed.into_iter().map(|e| carrier.join(e)).collect();
                for sink in &sinks {
                    if sink.record_pushed(&joined, &handed_over).await.is_err() {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                }
            }
            StatusCode::OK
        }
    };
    let app = Router::new().route("/hook", post(handler));
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("freshness: webhook receiver stopped: {e}");
    }
}

/// Which parcels a world's engine is offered.
enum Candidates {
    /// The store's, by the refresh schedule.
    Store,
    /// Every parcel in turn (the order before the schedule).
    RoundRobin(Mutex<VecDeque<MerchantTrackingNumber>>),
}

/// Lookups spent where they could not bring news.
#[derive(Debug, Default, Clone, Copy)]
struct Wasted {
    /// On parcels whose hand-over a lookup had already seen.
    handed_over: u64,
    /// On parcels a webhook had pushed an event for.
    pushed: u64,
}

/// What the wrapper remembers.
#[derive(Default)]
struct Seen {
    /// When each first-leg scan was first stored (sandbox time).
    stored: HashMap<ScanKey, Timestamp>,
    handed_over: HashSet<String>,
    pushed: HashSet<String>,
    wasted: Wasted,
}

/// A store that notes when each first-leg scan is first stored, and (for round-robin) hands
/// out the parcels in turn.
struct Watched {
    store: Arc<SqliteStore>,
    candidates: Candidates,
    clock: SimClock,
    seen: Mutex<Seen>,
    first_leg: waybill_domain::CarrierId,
}

/// Mean and p95 of one world's delays (seconds of sandbox time).
struct Delays {
    mean: f64,
    p95: f64,
    /// The mean over the parcels no webhook covers (the ones only lookups can serve).
    polled_mean: f64,
    unstored: usize,
}

impl Watched {
    fn new(store: Arc<SqliteStore>, candidates: Candidates, clock: SimClock) -> Self {
        Self {
            store,
            candidates,
            clock,
            seen: Mutex::default(),
            first_leg: waybill_starshipit::carrier().id,
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn note_stored(&self, events: &[TrackingEvent]) {
        let now = self.clock.now();
        let mut seen = self.seen();
        for e in events.iter().filter(|e| e.carrier == self.first_leg) {
            let (Some(number), Some(s)) = (&e.merchant_tracking_number, second(&e.occurred_at))
            else {
                continue;
            };
            seen.stored.entry((number.to_string(), s)).or_insert(now);
        }
    }

    fn holds_all(&self, scans: &[(String, Timestamp)]) -> bool {
        let seen = self.seen();
        scans.iter().all(|(n, at)| seen.stored.contains_key(&(n.clone(), at.as_second())))
    }

    fn wasted(&self) -> Wasted {
        self.seen().wasted
    }

    fn delays(&self, scans: &[(String, Timestamp)], end: Timestamp) -> Delays {
        let seen = self.seen();
        let mut all = Vec::with_capacity(scans.len());
        let mut polled = Vec::new();
        let mut unstored = 0;
        for (n, at) in scans {
            let stored = match seen.stored.get(&(n.clone(), at.as_second())) {
                Some(t) => *t,
                None => {
                    unstored += 1;
                    end
                }
            };
            let delay = stored.duration_since(*at).as_secs_f64().max(0.0);
            all.push(delay);
            if !pushes(n) {
                polled.push(delay);
            }
        }
        Delays {
            mean: mean(&all),
            p95: percentile(&mut all, 0.95),
            polled_mean: mean(&polled),
            unstored,
        }
    }
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() { 0.0 } else { xs.iter().sum::<f64>() / xs.len() as f64 }
}

/// The nearest-rank percentile.
fn percentile(xs: &mut [f64], q: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let rank = (q * xs.len() as f64).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}

#[async_trait]
impl FeedSink for Watched {
    async fn cursor(&self, account: &str) -> Result<Cursor, StoreError> {
        self.store.cursor(account).await
    }

    async fn record_pool_rows(
        &self,
        account: &str,
        items: &[FeedItem],
        undecoded: &[UndecodedRow],
        next_cursor: Cursor,
    ) -> Result<PoolCommit, StoreError> {
        self.store.record_pool_rows(account, items, undecoded, next_cursor).await
    }

    async fn record_events(&self, events: &[TrackingEvent]) -> Result<usize, StoreError> {
        let new = self.store.record_events(events).await?;
        self.note_stored(events);
        Ok(new)
    }

    async fn record_pushed(
        &self,
        events: &[TrackingEvent],
        handed_over: &[MerchantTrackingNumber],
    ) -> Result<usize, StoreError> {
        let new = self.store.record_pushed(events, handed_over).await?;
        self.note_stored(events);
        let mut seen = self.seen();
        for n in events.iter().filter_map(|e| e.merchant_tracking_number.as_ref()) {
            seen.pushed.insert(n.to_string());
        }
        Ok(new)
    }

    async fn refresh_candidates(
        &self,
        selection: &RefreshSelection,
    ) -> Result<Vec<RefreshCandidate>, StoreError> {
        match &self.candidates {
            Candidates::Store => self.store.refresh_candidates(selection).await,
            Candidates::RoundRobin(all) => {
                let mut all = all.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut out = Vec::new();
                for _ in 0..selection.limit.min(u32::try_from(all.len()).unwrap_or(u32::MAX)) {
                    if let Some(n) = all.pop_front() {
                        out.push(RefreshCandidate {
                            merchant_tracking_number: n.clone(),
                            idle: None,
                        });
                        all.push_back(n);
                    }
                }
                Ok(out)
            }
        }
    }

    async fn mark_refreshed(
        &self,
        parcel: &MerchantTrackingNumber,
        refreshed: &Refreshed,
    ) -> Result<(), StoreError> {
        {
            let mut seen = self.seen();
            let n = parcel.to_string();
            if seen.handed_over.contains(&n) {
                seen.wasted.handed_over += 1;
            } else if seen.pushed.contains(&n) {
                seen.wasted.pushed += 1;
            }
            if refreshed.next == NextRefresh::Never {
                seen.handed_over.insert(n);
            }
        }
        self.store.mark_refreshed(parcel, refreshed).await
    }
}
