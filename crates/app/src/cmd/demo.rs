//! `waybill demo`: the whole product on embedded sandboxes.
//!
//! The demo starts both emulators on loopback with one accelerated simulated clock, creates
//! sample orders across services, books each parcel's first leg at StarShipIT, syncs until
//! every parcel is final, then prints each parcel's merged timeline and a summary.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use secrecy::SecretString;
use tokio::sync::watch;
use waybill_domain::{
    Catalog, MerchantTrackingNumber, OrderDesk, OrderItem, OrderRequest, PartnerOrderRef, Service,
    TrackingStatus,
};
use waybill_engine::sync::SyncOptions;
use waybill_starmile::sandbox as starmile_sandbox;
use waybill_starshipit::sandbox as starshipit_sandbox;
use waybill_store::{OrderBook, ParcelTimeline, SqliteStore, TimelineReader};

use crate::{
    carriers::{self, Clients},
    config::{
        DEFAULT_STARSHIPIT_ACCOUNT, ResolvedAccount, ResolvedStarshipit, ResolvedStarshipitAccount,
    },
    context::{Context, check_store_folder},
    exit::Failure,
    output::{Clock, Output, TIMELINE_HEADER, TzArg, table, timeline_rows, views::TimelineView},
};

/// `waybill demo` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How many sample orders to create, 1 to 1000.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=MAX_ORDERS))]
    pub orders: u16,
    /// Simulated seconds per real second, above 0 and at most 1000000 (40000: a 5-day
    /// journey in about 11 s).
    #[arg(long, default_value_t = 40_000.0)]
    pub speed: f64,
    /// Give up after this many real seconds, 1 to 86400.
    #[arg(long, default_value_t = 240, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Seed of both simulations (same seed, same story; 14 tells every path: delivered,
    /// customs hold, failed delivery, returned, cancelled, and an unknown status).
    #[arg(long, default_value_t = 14)]
    pub seed: u64,
    /// Print only the summary table, not every timeline.
    #[arg(long)]
    pub summary_only: bool,
    /// The zone StarShipIT's sandbox writes its offset-less `/track` times in (real accounts
    /// write carrier-local times; waybill infers the zone from the hub's events).
    #[arg(long, default_value = "Australia/Sydney")]
    pub first_leg_zone: String,
    /// The view's zone.
    #[command(flatten)]
    pub tz: TzArg,
}

const ACCOUNT: &str = "demo";

/// The most sample orders one demo creates.
const MAX_ORDERS: i64 = 1000;

/// The fastest simulated clock: a 5-day journey in under half a second. Faster ones only
/// push the simulated time past what a timestamp holds.
const MAX_SPEED: f64 = 1_000_000.0;

/// Checks `--speed`: a finite number above 0 and at most a million (the simulated clock
/// cannot overflow below that).
///
/// # Errors
/// A usage failure saying which numbers are accepted.
pub fn check_speed(speed: f64) -> Result<f64, Failure> {
    if speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED {
        Ok(speed)
    } else {
        // 1e300 as written, not as 301 digits.
        let shown = if speed.abs() >= 1e9 { format!("{speed:e}") } else { speed.to_string() };
        Err(Failure::usage(format!(
            "--speed {shown} is not a number of simulated seconds per real second above 0 and at most {MAX_SPEED}: use e.g. --speed 40000"
        )))
    }
}

/// Runs the demo.
///
/// # Errors
/// A [`Failure`] when a sandbox cannot start, a call fails or the deadline passes.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    check_speed(args.speed)?;
    let clock = Clock::from_arg(&args.tz)?;
    if jiff::tz::TimeZone::get(&args.first_leg_zone).is_err() {
        return Err(Failure::usage(format!(
            "--first-leg-zone {:?} is not an IANA time zone (e.g. Australia/Sydney)",
            args.first_leg_zone
        )));
    }
    let db: Option<PathBuf> = ctx.globals.db.clone();
    if let Some(path) = &db {
        crate::config::check_sqlite_path(path).map_err(|why| {
            Failure::usage(format!("--db {why}: name the SQLite file, e.g. --db demo.db"))
        })?;
        check_store_folder(path, "--db").map_err(Failure::usage)?;
    }
    let started = Instant::now();
    let epoch = jiff::Timestamp::now();
    let sm = starmile_sandbox::Sandbox::start(starmile_sandbox::SandboxConfig {
        seed: args.seed,
        time_scale: args.speed,
        epoch,
        ..starmile_sandbox::SandboxConfig::default()
    })
    .await
    .map_err(|e| Failure::runtime(format!("cannot start the Starmile sandbox: {e}")))?;
    let ss = starshipit_sandbox::Sandbox::start(starshipit_sandbox::SandboxConfig {
        seed: args.seed,
        time_scale: args.speed,
        epoch,
        wall_clock_zone: args.first_leg_zone.clone(),
        ..starshipit_sandbox::SandboxConfig::default()
    })
    .await
    .map_err(|e| Failure::runtime(format!("cannot start the StarShipIT sandbox: {e}")))?;
    let sim_now = |at: Instant| {
        let sim = at.duration_since(started).as_secs_f64() * args.speed;
        let sim = jiff::SignedDuration::try_from_secs_f64(sim).unwrap_or(jiff::SignedDuration::MAX);
        epoch.saturating_add(sim).unwrap_or(jiff::Timestamp::MAX)
    };

    let (store, _tmp) = match db {
        Some(path) => (SqliteStore::open(&path).await, None),
        None => match SqliteStore::open_temporary().await {
            Ok((s, dir)) => (Ok(s), Some(dir)),
            Err(e) => (Err(e), None),
        },
    };
    let store =
        Arc::new(store.map_err(|e| Failure::runtime(format!("cannot open the demo store: {e}")))?);

    let partner = sm
        .partners()
        .first()
        .cloned()
        .ok_or_else(|| Failure::runtime("the Starmile sandbox has no partner credential"))?;
    let account = ResolvedAccount {
        name: ACCOUNT.to_owned(),
        base_url: sm.base_url(),
        client_id: partner.client_id.clone(),
        client_secret: SecretString::from(partner.client_secret.clone()),
    };
    let tracking = ResolvedStarshipit {
        base_url: ss.base_url(),
        rate_limit_per_second: 20,
        accounts: vec![ResolvedStarshipitAccount {
            name: DEFAULT_STARSHIPIT_ACCOUNT.to_owned(),
            api_key: SecretString::from(ss.api_key().to_string()),
        }],
        subscription_key: SecretString::from(ss.production_subscription_key().to_string()),
        timezone: None,
    };
    let starmile = Arc::new(carriers::starmile(&account)?);
    let clients = Clients {
        accounts: vec![(ACCOUNT.to_owned(), Arc::clone(&starmile))],
        tracker: Some(Arc::new(carriers::starshipit(&tracking)?)),
        starshipit_zone: None,
        tracking_budget: None,
        upstream: waybill_server::metrics::UpstreamMetrics::default(),
    };

    out.note(format!(
        "waybill demo — Starmile sandbox {} · StarShipIT sandbox {}",
        sm.base_url(),
        ss.base_url()
    ));
    out.note(format!(
        "simulated clock runs {}× real time; {} sample orders",
        args.speed, args.orders
    ));

    let services = Catalog::services(&*starmile)
        .await
        .map_err(|e| Failure::carrier(waybill_starmile::CARRIER_ID.as_str(), &e))?;
    if services.is_empty() {
        return Err(Failure::runtime("the Starmile sandbox lists no services"));
    }
    let mut parcels = 0usize;
    for i in 0..usize::from(args.orders) {
        let request = sample_order(i, &services)?;
        let order = OrderDesk::create_order(&*starmile, &request)
            .await
            .map_err(|e| Failure::carrier(waybill_starmile::CARRIER_ID.as_str(), &e))?;
        let now = sim_now(Instant::now());
        for item in request.items() {
            // The merchant books the first leg (merchant → Starmile warehouse) at StarShipIT.
            ss.register_shipment(
                item.merchant_tracking_number.as_str(),
                request.reference().as_str(),
                now,
            );
            parcels += 1;
        }
        store.save_order(ACCOUNT, &request, &order).await.map_err(Failure::store)?;
    }
    out.note(format!(
        "created {} orders with {parcels} parcels; following them through both carriers…",
        args.orders
    ));

    let engine = clients.engine(
        Arc::clone(&store) as _,
        SyncOptions { refresh_concurrency: 20, refresh_batch: 200, ..SyncOptions::default() },
    );
    let (_tx, rx) = watch::channel(false);
    let deadline = started + Duration::from_secs(args.timeout);
    let mut last_note = Instant::now();
    let timelines = loop {
        engine.run_once(&rx).await.map_err(|e| Failure::runtime(format!("sync: {e}")))?;
        let all = store.all_timelines().await.map_err(Failure::store)?;
        let done = all.iter().filter(|p| p.timeline.is_terminal()).count();
        if done == all.len() && !all.is_empty() {
            break all;
        }
        if Instant::now() > deadline {
            return Err(Failure::runtime(format!(
                "only {done} of {} parcels reached a final status within {} s; try a higher --speed or --timeout",
                all.len(),
                args.timeout
            )));
        }
        if last_note.elapsed() > Duration::from_secs(3) {
            let counts = store.counts().await.map_err(Failure::store)?;
            out.note(format!(
                "  … {done}/{} parcels final · {} pool rows · {} events (simulated {})",
                all.len(),
                counts.pool_rows,
                counts.events,
                sim_now(Instant::now()).strftime("%Y-%m-%d %H:%M UTC")
            ));
            last_note = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    if out.json {
        let views: Vec<TimelineView> = timelines.iter().map(TimelineView::from).collect();
        out.json_value(&views);
    } else {
        if !args.summary_only {
            for p in &timelines {
                out.line(String::new());
                out.line(format!(
                    "■ {} · order {} · Starmile {} · {}",
                    p.parcel.merchant_tracking_number,
                    p.reference,
                    p.parcel.tracking_number.as_ref().map_or("-", |t| t.as_str()),
                    p.timeline.current_status()
                ));
                out.line(format!(
                    "{} · {}",
                    p.timeline.current_milestone().label(),
                    clock.legend()
                ));
                out.table(&TIMELINE_HEADER, timeline_rows(&p.timeline, &clock));
            }
        }
        out.line(String::new());
        out.line(summary(&timelines).to_string());
        let counts = store.counts().await.map_err(Failure::store)?;
        out.line(format!(
            "{} parcels final in {:.1} s real time · {} pool rows and {} tracking events stored",
            timelines.len(),
            started.elapsed().as_secs_f64(),
            counts.pool_rows,
            counts.events
        ));
        out.line(String::new());
        let db_hint = ctx
            .globals
            .db
            .as_ref()
            .map_or_else(|| "demo.db".to_owned(), |p| p.display().to_string());
        out.line(format!("next: `waybill sandbox` runs both emulators for your own client; `waybill demo --db {db_hint}` keeps the store,"));
        out.line(format!("then `waybill timeline <number> --db {db_hint}` and `waybill orders list --db {db_hint}` read it back (no configuration needed)."));
    }
    sm.shutdown().await;
    ss.shutdown().await;
    Ok(())
}

fn sample_order(i: usize, services: &[Service]) -> Result<OrderRequest, Failure> {
    let service = services[i % services.len()].id;
    let reference = PartnerOrderRef::parse(format!("DEMO-{:04}", i + 1))
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let parcels = 1 + i.is_multiple_of(3) as usize;
    let items = (0..parcels)
        .map(|p| {
            MerchantTrackingNumber::parse(format!("WB{:04}{}", i + 1, (b'A' + p as u8) as char))
                .map(OrderItem::new)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::runtime(e.to_string()))?;
    OrderRequest::new(service, reference, items).map_err(|e| Failure::runtime(e.to_string()))
}

fn summary(timelines: &[ParcelTimeline]) -> comfy_table::Table {
    let rows = timelines
        .iter()
        .map(|p| {
            let mut by_carrier: BTreeMap<String, usize> = BTreeMap::new();
            for e in p.timeline.events() {
                *by_carrier.entry(e.carrier.to_string()).or_default() += 1;
            }
            let unknown =
                p.timeline.events().iter().filter(|e| e.status == TrackingStatus::Unknown).count();
            vec![
                p.reference.to_string(),
                p.parcel.merchant_tracking_number.to_string(),
                p.parcel.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default(),
                by_carrier
                    .get(waybill_starshipit::CARRIER_ID.as_str())
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
                by_carrier
                    .get(waybill_starmile::CARRIER_ID.as_str())
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
                unknown.to_string(),
                p.timeline.current_status().to_string(),
            ]
        })
        .collect();
    table(
        &[
            "order",
            "parcel",
            "starmile number",
            "first-leg events",
            "starmile events",
            "unknown",
            "status",
        ],
        rows,
    )
}
