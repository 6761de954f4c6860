//! How a sandbox behaves and what it counts: its configuration (credentials, scopes,
//! lifecycle speed, faults) and its request counters.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    time::Duration,
};

/// Every scope the contract lists.
pub const ALL_SCOPES: &[&str] = &[
    "catalogue:read",
    "orders:create",
    "orders:update",
    "orders:cancel",
    "labels:read",
    "status:read",
    "events:transport",
    "events:pudo",
    "events:customs",
    "leg:handoff",
];

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed of every simulated choice (lifecycles, faults).
    pub seed: u64,
    /// The partner credentials it accepts; each partner's data is isolated. Must not be
    /// empty.
    pub partners: Vec<PartnerCredential>,
    /// How long an access token is valid (real time); reported as `expires_in`.
    pub token_lifetime: Duration,
    /// Simulated seconds per real second (3600.0 plays an hour per second).
    pub time_scale: f64,
    /// The simulated time at start.
    pub epoch: jiff::Timestamp,
    /// Injected faults (all off by default).
    pub faults: Faults,
    /// Orders created at start for the first partner, their lifecycles already complete
    /// (all rows visible at once).
    pub preload_orders: usize,
    /// Share of orders (0.0..=1.0) whose lifecycle carries a status and reason codes no
    /// documented vocabulary has.
    pub unknown_vocabulary_rate: f64,
    /// Pool cursors (every partner's) whose row the pool serves undecodable: with an empty
    /// `occurred_at`, as one real Starmile row was. For testing that a client keeps going
    /// past a row it cannot read.
    pub undecodable_rows: BTreeSet<u64>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            partners: vec![PartnerCredential::demo()],
            token_lifetime: Duration::from_secs(3600),
            time_scale: 1.0,
            epoch: jiff::Timestamp::now(),
            faults: Faults::default(),
            preload_orders: 0,
            unknown_vocabulary_rate: 0.02,
            undecodable_rows: BTreeSet::new(),
        }
    }
}

/// A partner credential the sandbox accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct PartnerCredential {
    /// The client id.
    pub client_id: String,
    /// The client secret (redacted in `Debug`).
    pub client_secret: String,
    /// The partner's display name.
    pub name: String,
    /// The receiving warehouse the credential is bound to.
    pub warehouse: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

impl PartnerCredential {
    /// A partner with every scope and a freshly generated secret.
    #[must_use]
    pub fn new(client_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: format!("sm_{:032x}", rand::random::<u128>()),
            name: name.into(),
            warehouse: "SYD1".into(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// `demo-partner`, every scope, a generated secret.
    #[must_use]
    pub fn demo() -> Self {
        Self::new("demo-partner", "Demo Partner")
    }

    /// The same partner with only these scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

impl fmt::Debug for PartnerCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerCredential")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("name", &self.name)
            .field("warehouse", &self.warehouse)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Faults injected on `/api/v1` routes. Shares are probabilities in 0.0..=1.0 drawn from
/// one deterministic sequence per sandbox (seeded), in this order: 429, 503, HTML 502,
/// dropped connection — so their sum should not exceed 1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Share answered `429 {"message":"Too Many Requests."}` with `Retry-After`.
    pub rate_429: f64,
    /// Share answered `503 {"message":"Service Unavailable."}`.
    pub rate_503: f64,
    /// Share answered by a gateway's HTML `502 Bad Gateway` page.
    pub rate_html_502: f64,
    /// Added to every `/api/v1` request before it is handled.
    pub latency: Duration,
    /// Share whose connection is dropped after the headers (not processed).
    pub drop_rate: f64,
    /// Share of *new* orders that are committed and then answered only after
    /// [`Faults::hang`], so the client times out (replays are answered normally).
    pub commit_then_timeout_rate: f64,
    /// The `Retry-After` sent with injected 429s (whole seconds).
    pub retry_after: Duration,
    /// How long a "commit then time out" answer is withheld.
    pub hang: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            rate_429: 0.0,
            rate_503: 0.0,
            rate_html_502: 0.0,
            latency: Duration::ZERO,
            drop_rate: 0.0,
            commit_then_timeout_rate: 0.0,
            retry_after: Duration::from_secs(1),
            hang: Duration::from_secs(60),
        }
    }
}

/// A snapshot of what a sandbox has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests to `POST /oauth/token`, successful or not.
    pub token_requests: u64,
    /// Orders created through the API (replays not counted).
    pub orders_created: u64,
    /// Orders held, preloaded ones included.
    pub orders_held: u64,
    /// Pool rows published so far, all partners.
    pub pool_rows: u64,
    /// Answers by (route pattern, HTTP status); status 0 = connection dropped.
    pub requests: BTreeMap<(String, u16), u64>,
}

impl Counters {
    /// Answers on `route` (e.g. `/api/v1/orders`) with `status`.
    #[must_use]
    pub fn requests_to(&self, route: &str, status: u16) -> u64 {
        self.requests.get(&(route.to_owned(), status)).copied().unwrap_or(0)
    }

    /// All answers on `route`, any status.
    #[must_use]
    pub fn requests_on(&self, route: &str) -> u64 {
        self.requests.iter().filter(|((r, _), _)| r == route).map(|(_, n)| n).sum()
    }
}
