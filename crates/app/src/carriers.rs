//! The one place the app names carriers: it builds each adapter's client from resolved
//! configuration and hands it on as domain ports with the adapter's [`CarrierInfo`], for the
//! engine (feeds, the first-leg tracker), the server (accounts, webhook receivers, limiter
//! counters) and the commands. Adding a carrier means adding its wiring here
//! (`docs/adding-a-carrier.md`).

use std::{num::NonZeroU32, sync::Arc};

use secrecy::SecretString;
use waybill_domain::{CarrierInfo, Tracker, WebhookReceiver};
use waybill_engine::sync::{
    Coordination, FeedAccount, LegTracker, SharedBudget, SyncEngine, SyncOptions,
};
use waybill_server::{
    Deps,
    metrics::{UpstreamMetrics, WaitCounter},
    state::Account,
};
use waybill_starmile::StarmileClient;
use waybill_starshipit::{StarshipitAccounts, StarshipitClient, StarshipitWebhooks};
use waybill_store::{AnyStore, FeedSink, Store};

use crate::{
    config::{ResolvedAccount, ResolvedStarshipit},
    exit::Failure,
};

/// Every carrier the app wires, for display names and legs.
#[must_use]
pub fn all() -> Vec<CarrierInfo> {
    vec![waybill_starmile::carrier(), waybill_starshipit::carrier()]
}

/// "starmile account NAME", how failures name an account.
#[must_use]
pub fn who(account: &ResolvedAccount) -> String {
    format!("{} account {}", waybill_starmile::CARRIER_ID, account.name)
}

/// The Starmile client of an account.
///
/// # Errors
/// A configuration failure when the base URL is refused.
pub fn starmile(account: &ResolvedAccount) -> Result<StarmileClient, Failure> {
    starmile_observed(account, None)
}

/// [`starmile`], reporting its 429 answers to `upstream` under the account's name.
fn starmile_observed(
    account: &ResolvedAccount,
    upstream: Option<&UpstreamMetrics>,
) -> Result<StarmileClient, Failure> {
    let builder = StarmileClient::builder(
        &account.base_url,
        account.client_id.clone(),
        account.client_secret.clone(),
    );
    match upstream {
        Some(u) => builder.observer(u.observer(&waybill_starmile::CARRIER_ID, &account.name)),
        None => builder,
    }
    .build()
    .map_err(|e| Failure::config(format!("{}: {e}", who(account))))
}

/// The StarShipIT tracker of a resolved configuration: one client per merchant account, all
/// under the subscription key (so they share its rate limiter), each parcel tracked with the
/// account that shipped it.
///
/// # Errors
/// A configuration failure when the base URL or a key is refused.
pub fn starshipit(s: &ResolvedStarshipit) -> Result<StarshipitAccounts, Failure> {
    starshipit_observed(s, None)
}

/// [`starshipit`], reporting each account's limiter waits and 429 answers to `upstream`.
fn starshipit_observed(
    s: &ResolvedStarshipit,
    upstream: Option<&UpstreamMetrics>,
) -> Result<StarshipitAccounts, Failure> {
    let rate = NonZeroU32::new(s.rate_limit_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    starshipit_paced(s, rate, None, upstream)
}

/// [`starshipit`] with the clients' pace and, when given, their retry policy and observer.
fn starshipit_paced(
    s: &ResolvedStarshipit,
    rate: NonZeroU32,
    retry: Option<waybill_starshipit::retry::RetryPolicy>,
    upstream: Option<&UpstreamMetrics>,
) -> Result<StarshipitAccounts, Failure> {
    let fail = |name: &str, e: waybill_starshipit::Error| {
        Failure::config(format!("{} account {name}: {e}", waybill_starshipit::CARRIER_ID))
    };
    let clients = s
        .accounts
        .iter()
        .map(|a| {
            let builder = StarshipitClient::builder(
                &s.base_url,
                a.api_key.clone(),
                s.subscription_key.clone(),
            )
            .rate_limit_per_second(rate);
            let builder = match upstream {
                Some(u) => builder.observer(u.observer(&waybill_starshipit::CARRIER_ID, &a.name)),
                None => builder,
            };
            match &retry {
                Some(policy) => builder.retry_policy(*policy),
                None => builder,
            }
            .build()
            .map(|c| (a.name.clone(), c))
            .map_err(|e| fail(&a.name, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    StarshipitAccounts::new(clients).map_err(|e| fail("(all)", e))
}

/// StarShipIT as the engine's first-leg tracker: every account ([`StarshipitAccounts`]) or a
/// single client.
#[must_use]
pub fn first_leg(tracker: Arc<dyn Tracker>) -> LegTracker {
    LegTracker { carrier: waybill_starshipit::carrier(), tracker }
}

/// Every configured carrier's client, built once: one Starmile client per account, shared by
/// the API and the engine (one token cache each), and the StarShipIT client when configured.
pub struct Clients {
    /// Each account's name and client, in configuration order (the first is the default).
    pub accounts: Vec<(String, Arc<StarmileClient>)>,
    /// The first-leg tracker (every StarShipIT account), when `[starshipit]` is configured.
    pub tracker: Option<Arc<StarshipitAccounts>>,
    /// The configured zone of StarShipIT's offset-less times (`[starshipit] timezone`).
    pub starshipit_zone: Option<String>,
    /// With a shared store: the tracking subscription key's identity (a digest) and rate,
    /// whose budget every process takes from the database.
    pub tracking_budget: Option<(String, u32)>,
    /// What every client reports: limiter waits and 429 answers per carrier and account
    /// (`waybill serve` exports them).
    pub upstream: UpstreamMetrics,
}

/// The per-process pace of a StarShipIT client whose requests all pass the shared budget:
/// high enough never to hold a granted request back (that would bunch arrivals at the
/// gateway after the budget spaced them).
const UNPACED_PER_SECOND: NonZeroU32 = match NonZeroU32::new(1_000) {
    Some(rate) => rate,
    None => NonZeroU32::MIN,
};

impl Clients {
    /// Builds every client.
    ///
    /// # Errors
    /// A configuration failure when a base URL is refused.
    pub fn build(
        accounts: &[ResolvedAccount],
        starshipit: Option<&ResolvedStarshipit>,
    ) -> Result<Self, Failure> {
        let upstream = UpstreamMetrics::default();
        Ok(Self {
            accounts: accounts
                .iter()
                .map(|a| Ok((a.name.clone(), Arc::new(starmile_observed(a, Some(&upstream))?))))
                .collect::<Result<_, Failure>>()?,
            tracker: starshipit
                .map(|s| starshipit_observed(s, Some(&upstream)))
                .transpose()?
                .map(Arc::new),
            starshipit_zone: starshipit.and_then(|s| s.timezone.clone()),
            tracking_budget: None,
            upstream,
        })
    }

    /// The same clients for processes sharing one database: the StarShipIT clients are rebuilt
    /// so that every request they send passes the subscription key's shared budget (see
    /// [`Clients::engine_for`]) — their process limiter no longer paces, and their own retries
    /// are off (they would go around the budget; a failed lookup is retried next round).
    ///
    /// # Errors
    /// A configuration failure when the base URL is refused.
    pub fn sharing_tracking_budget(
        mut self,
        starshipit: Option<&ResolvedStarshipit>,
    ) -> Result<Self, Failure> {
        use secrecy::ExposeSecret as _;
        use sha2::Digest as _;
        let Some(s) = starshipit else { return Ok(self) };
        // The process-wide limiter registry keeps the first client's pace for a key: drop the
        // paced clients before building the unpaced ones.
        self.tracker = None;
        let single_attempt = waybill_starshipit::retry::RetryPolicy {
            max_attempts: 1,
            ..waybill_starshipit::retry::RetryPolicy::default()
        };
        let accounts =
            starshipit_paced(s, UNPACED_PER_SECOND, Some(single_attempt), Some(&self.upstream))?;
        let digest = sha2::Sha256::digest(s.subscription_key.expose_secret().as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        self.tracker = Some(Arc::new(accounts));
        self.tracking_budget =
            Some((format!("{}:{hex}", waybill_starshipit::CARRIER_ID), s.rate_limit_per_second));
        Ok(self)
    }

    /// The sync engine over `store`: [`Clients::engine`], plus — when the store is shared
    /// (PostgreSQL) — leases with the other workers and the tracking key's shared budget.
    #[must_use]
    pub fn engine_for(&self, store: &Arc<AnyStore>, options: SyncOptions) -> SyncEngine {
        let mut engine = self.engine(Arc::clone(store) as _, options);
        if let Some(leases) = store.leases() {
            engine = engine.with_coordination(Coordination::new(leases));
        }
        if let (Some(budget), Some((name, rate))) = (store.rate_budget(), &self.tracking_budget) {
            engine =
                engine.with_shared_budget(SharedBudget::per_second(budget, name.clone(), *rate));
        }
        engine
    }

    /// The sync engine over every account's feed and, when configured, the first-leg tracker.
    #[must_use]
    pub fn engine(&self, store: Arc<dyn FeedSink>, options: SyncOptions) -> SyncEngine {
        let feeds = self
            .accounts
            .iter()
            .map(|(name, client)| FeedAccount {
                name: name.clone(),
                carrier: waybill_starmile::CARRIER_ID,
                feed: Arc::clone(client) as _,
            })
            .collect();
        SyncEngine::new(
            store,
            feeds,
            self.tracker.clone().map(|t| first_leg(t as Arc<dyn Tracker>)),
            options,
        )
    }

    /// What the server is handed: the accounts as ports, every carrier's metadata, StarShipIT's
    /// webhook receiver (authenticating by `webhook_secret` or `webhook_token`, refusing
    /// every delivery with neither) and its limiter counter.
    #[must_use]
    pub fn server_deps(
        &self,
        store: Arc<dyn Store>,
        webhook_secret: Option<SecretString>,
        webhook_token: Option<SecretString>,
        engine: Option<SyncEngine>,
    ) -> Deps {
        let accounts = self
            .accounts
            .iter()
            .map(|(name, client)| Account {
                name: name.clone(),
                carrier: waybill_starmile::CARRIER_ID,
                desk: Arc::clone(client) as _,
                catalog: Arc::clone(client) as _,
                parcels: Arc::clone(client) as _,
            })
            .collect();
        let webhooks: Vec<Arc<dyn WebhookReceiver>> =
            vec![Arc::new(StarshipitWebhooks::new(webhook_secret).with_token(webhook_token))];
        let limiter_waits = self
            .tracker
            .iter()
            .map(|client| {
                let client = Arc::clone(client);
                let waits: WaitCounter = Arc::new(move || client.limiter_waits());
                (waybill_starshipit::CARRIER_ID, waits)
            })
            .collect();
        let carriers = with_zone(all(), self.starshipit_zone.as_deref());
        let upstream = self.upstream.clone();
        Deps { store, accounts, carriers, webhooks, engine, limiter_waits, upstream }
    }
}

/// Carrier metadata with StarShipIT's configured zone of offset-less times, if any.
#[must_use]
pub fn with_zone(
    mut carriers: Vec<CarrierInfo>,
    starshipit_zone: Option<&str>,
) -> Vec<CarrierInfo> {
    for c in &mut carriers {
        if c.id == waybill_starshipit::CARRIER_ID {
            c.local_zone = starshipit_zone.map(str::to_owned);
        }
    }
    carriers
}
