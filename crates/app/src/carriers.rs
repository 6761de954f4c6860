//! The one place the app names carriers: it builds each adapter's client from resolved
//! configuration and hands it on as domain ports with the adapter's [`CarrierInfo`], for the
//! engine (feeds, the first-leg tracker), the server (accounts, webhook receivers, limiter
//! counters) and the commands. Adding a carrier means adding its wiring here
//! (`docs/adding-a-carrier.md`).

use std::{num::NonZeroU32, sync::Arc};

use secrecy::SecretString;
use waybill_domain::{CarrierInfo, WebhookReceiver};
use waybill_engine::sync::{FeedAccount, LegTracker, SyncEngine, SyncOptions};
use waybill_server::{metrics::WaitCounter, state::Account};
use waybill_starmile::StarmileClient;
use waybill_starshipit::{StarshipitClient, StarshipitWebhooks};
use waybill_store::FeedSink;

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
    StarmileClient::builder(
        &account.base_url,
        account.client_id.clone(),
        account.client_secret.clone(),
    )
    .build()
    .map_err(|e| Failure::config(format!("{}: {e}", who(account))))
}

/// Every account's Starmile client, by account name (sync and serve share one per account,
/// so one token cache serves the API and the engine).
///
/// # Errors
/// As [`starmile`].
pub fn starmile_all(
    accounts: &[ResolvedAccount],
) -> Result<Vec<(String, Arc<StarmileClient>)>, Failure> {
    accounts.iter().map(|a| Ok((a.name.clone(), Arc::new(starmile(a)?)))).collect()
}

/// A StarShipIT client.
///
/// # Errors
/// A configuration failure when the base URL is refused.
pub fn starshipit_client(
    base_url: &str,
    api_key: SecretString,
    subscription_key: SecretString,
    per_second: u32,
) -> Result<StarshipitClient, Failure> {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    StarshipitClient::builder(base_url, api_key, subscription_key)
        .rate_limit_per_second(rate)
        .build()
        .map_err(|e| Failure::config(format!("{}: {e}", waybill_starshipit::CARRIER_ID)))
}

/// The StarShipIT client of a resolved configuration.
///
/// # Errors
/// As [`starshipit_client`].
pub fn starshipit(s: &ResolvedStarshipit) -> Result<StarshipitClient, Failure> {
    starshipit_client(
        &s.base_url,
        s.api_key.clone(),
        s.subscription_key.clone(),
        s.rate_limit_per_second,
    )
}

/// StarShipIT as the engine's first-leg tracker.
#[must_use]
pub fn first_leg(client: Arc<StarshipitClient>) -> LegTracker {
    LegTracker { carrier: waybill_starshipit::carrier(), tracker: client }
}

/// A Starmile account's feed for the engine.
#[must_use]
pub fn feed(name: &str, client: Arc<StarmileClient>) -> FeedAccount {
    FeedAccount { name: name.to_owned(), carrier: waybill_starmile::CARRIER_ID, feed: client }
}

/// A Starmile account as the server's ports.
#[must_use]
pub fn server_account(name: &str, client: &Arc<StarmileClient>) -> Account {
    Account {
        name: name.to_owned(),
        carrier: waybill_starmile::CARRIER_ID,
        desk: Arc::clone(client) as _,
        catalog: Arc::clone(client) as _,
    }
}

/// StarShipIT's webhook receiver with the configured secret (`None`: it refuses deliveries).
#[must_use]
pub fn webhooks(secret: Option<SecretString>) -> Vec<Arc<dyn WebhookReceiver>> {
    vec![Arc::new(StarshipitWebhooks::new(secret))]
}

/// The StarShipIT client's limiter waits, for `/metrics`.
#[must_use]
pub fn limiter_waits(client: &Arc<StarshipitClient>) -> (waybill_domain::CarrierId, WaitCounter) {
    let client = Arc::clone(client);
    (waybill_starshipit::CARRIER_ID, Arc::new(move || client.limiter_waits()))
}

/// The sync engine over every account and, when configured, the first-leg tracker.
#[must_use]
pub fn engine(
    store: Arc<dyn FeedSink>,
    accounts: &[(String, Arc<StarmileClient>)],
    tracker: Option<Arc<StarshipitClient>>,
    options: SyncOptions,
) -> SyncEngine {
    let feeds = accounts.iter().map(|(name, client)| feed(name, Arc::clone(client))).collect();
    SyncEngine::new(store, feeds, tracker.map(first_leg), options)
}
