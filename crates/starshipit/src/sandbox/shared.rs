//! The state the sandbox's handlers and its webhook emitter share: configuration, parcels,
//! counters, faults, rate windows and the seeded random source.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{
    Counters, Faults, SandboxConfig,
    gateway::{Tier, Windows},
    plan::Plan,
};
use crate::wire::{ApiError, GatewayError, TrackResponse, WireShipment};

/// The spec's sample response, served for tracking number `0000000000` / order `17062`.
const SAMPLE: &str = include_str!("sample.json");
const SAMPLE_TRACKING_NUMBER: &str = "0000000000";
const SAMPLE_ORDER_NUMBER: &str = "17062";

/// State shared by the handlers and the emitter.
pub(crate) struct Shared {
    pub(super) config: SandboxConfig,
    pub(super) zone: TimeZone,
    /// One API key per merchant account, the first being [`SandboxConfig::api_key`]'s.
    pub(super) api_keys: Vec<String>,
    pub(super) developer_key: String,
    pub(super) production_key: String,
    pub(super) started: Instant,
    pub(super) sample: TrackResponse,
    pub(super) parcels: Mutex<Parcels>,
    pub(super) windows: Mutex<Windows>,
    pub(super) faults: Mutex<Faults>,
    pub(super) rng: Mutex<StdRng>,
    pub(super) counters: Mutex<Counters>,
}

/// The planned parcels, per account (the index into `api_keys`).
#[derive(Default)]
pub(super) struct Parcels {
    pub(super) by_tracking: HashMap<(usize, String), Arc<Plan>>,
    pub(super) by_order: HashMap<(usize, String), String>,
}

impl Shared {
    pub(super) fn new(config: SandboxConfig, zone: TimeZone) -> Self {
        let random_key = |prefix: &str| format!("{prefix}{:032x}", rand::random::<u128>());
        let sample = serde_json::from_str(SAMPLE).unwrap_or_default();
        Self {
            api_keys: (0..config.accounts.max(1))
                .map(|i| match (i, &config.api_key) {
                    (0, Some(k)) => k.clone(),
                    _ => random_key("ssi-api-"),
                })
                .collect(),
            developer_key: config
                .developer_subscription_key
                .clone()
                .unwrap_or_else(|| random_key("ssi-dev-")),
            production_key: config
                .production_subscription_key
                .clone()
                .unwrap_or_else(|| random_key("ssi-prod-")),
            started: Instant::now(),
            sample,
            parcels: Mutex::default(),
            windows: Mutex::default(),
            faults: Mutex::new(config.faults.clone()),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            counters: Mutex::default(),
            zone,
            config,
        }
    }

    pub(crate) fn sim_now(&self) -> Timestamp {
        let real = self.started.elapsed().as_secs_f64() * self.config.time_scale;
        let delta = SignedDuration::try_from_secs_f64(real).unwrap_or(SignedDuration::MAX);
        self.config.epoch.saturating_add(delta).unwrap_or(Timestamp::MAX)
    }

    pub(super) fn insert(&self, plan: Plan) {
        let mut parcels = lock(&self.parcels);
        let account = plan.account;
        parcels.by_order.insert((account, plan.order_number.clone()), plan.tracking_number.clone());
        parcels.by_tracking.insert((account, plan.tracking_number.clone()), Arc::new(plan));
    }

    /// The account whose API key this is.
    pub(super) fn account(&self, api_key: &str) -> Option<usize> {
        self.api_keys.iter().position(|k| k == api_key)
    }

    pub(crate) fn plans(&self) -> Vec<Arc<Plan>> {
        lock(&self.parcels).by_tracking.values().cloned().collect()
    }

    pub(super) fn tier(&self, key: &str) -> Option<Tier> {
        if key == self.developer_key {
            Some(Tier::Developer)
        } else if key == self.production_key {
            Some(Tier::Production)
        } else {
            None
        }
    }

    /// The shipment `account` sees for a lookup, planning unknown tracking numbers when
    /// configured to.
    pub(super) fn lookup(
        &self,
        account: usize,
        by_tracking: Option<&str>,
        by_order: Option<&str>,
    ) -> Option<WireShipment> {
        if by_tracking == Some(SAMPLE_TRACKING_NUMBER)
            || (by_tracking.is_none() && by_order == Some(SAMPLE_ORDER_NUMBER))
        {
            return self.sample.results.clone().and_then(|r| r.into_vec().into_iter().next());
        }
        let now = self.sim_now();
        let plan = {
            let mut parcels = lock(&self.parcels);
            let number = match (by_tracking, by_order) {
                (Some(t), _) => t.to_owned(),
                (None, Some(o)) => parcels.by_order.get(&(account, o.to_owned()))?.clone(),
                (None, None) => return None,
            };
            match parcels.by_tracking.get(&(account, number.clone())) {
                Some(p) => Arc::clone(p),
                None if self.config.plan_unknown && by_tracking.is_some() => {
                    let plan =
                        Arc::new(Plan::draw(self.config.seed, account, &number, &number, now));
                    parcels.by_order.insert((account, number.clone()), number.clone());
                    parcels.by_tracking.insert((account, number), Arc::clone(&plan));
                    plan
                }
                None => return None,
            }
        };
        plan.render(now, &self.zone)
    }

    /// Draws at most one injected fault for this request.
    pub(super) fn draw_fault(&self) -> Option<Response> {
        let faults = lock(&self.faults).clone();
        let total = faults.rate_429 + faults.rate_500 + faults.rate_html_502;
        if total <= 0.0 {
            return None;
        }
        let r: f64 = lock(&self.rng).random();
        let response = if r < faults.rate_429 {
            lock(&self.counters).rate_limited += 1;
            rate_limited(1)
        } else if r < faults.rate_429 + faults.rate_500 {
            app_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "General Exception",
                "Simulated error for testing purposes.",
            )
        } else if r < total {
            html_502()
        } else {
            return None;
        };
        lock(&self.counters).faults_injected += 1;
        Some(response)
    }
}

/// Locks a mutex, recovering the data if another thread panicked while holding it (the
/// sandbox's state stays usable; a panic is already reported by the test that caused it).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The error answers the handlers and the fault injector share.
pub(super) fn internal(details: &str) -> Response {
    app_error(StatusCode::INTERNAL_SERVER_ERROR, "General Exception", details)
}

pub(super) fn gateway_error(status: StatusCode, message: &str) -> Response {
    let body = GatewayError { status_code: status.as_u16(), message: message.to_owned() };
    let text = serde_json::to_string(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

pub(super) fn rate_limited(seconds: u64) -> Response {
    let mut response = gateway_error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Rate limit is exceeded. Try again in {seconds} seconds."),
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

pub(super) fn app_error(status: StatusCode, message: &str, details: &str) -> Response {
    let body = TrackResponse {
        success: Some(false),
        errors: Some(vec![ApiError {
            message: Some(message.to_owned()),
            details: Some(details.to_owned()),
            ..ApiError::default()
        }]),
        ..TrackResponse::default()
    };
    let text = serde_json::to_string(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response()
}

pub(super) fn html_502() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n",
    )
        .into_response()
}
