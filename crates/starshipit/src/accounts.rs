//! Several merchant accounts under one subscription key: one [`StarshipitClient`] per
//! account (its own `StarShipIT-Api-Key`), all drawing from the subscription key's one rate
//! limiter, behind one domain [`Tracker`].
//!
//! A tracking number belongs to the account that shipped it, and only that account's key
//! finds it. The tracker does not know the owner up front (the domain query names only the
//! number), so it asks the account that answered last time first, and the others in
//! configuration order when that one does not know the number; the first account that finds
//! it is remembered for the next lookup. A failure other than "not found" stops the search
//! and is returned as is, so an outage or a refused key is never mistaken for "not found".

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use async_trait::async_trait;
use waybill_domain::{CarrierError, Shipment, TrackQuery, Tracker};

use crate::{Error, StarshipitClient};

/// At most this many numbers' owners are remembered (the map is cleared when full, which
/// only costs a few extra lookups).
const REMEMBERED: usize = 100_000;

/// The accounts of one subscription key, as one tracker.
pub struct StarshipitAccounts {
    accounts: Vec<(String, StarshipitClient)>,
    owners: Mutex<HashMap<String, usize>>,
}

impl std::fmt::Debug for StarshipitAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.accounts.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("StarshipitAccounts").field("accounts", &names).finish_non_exhaustive()
    }
}

impl StarshipitAccounts {
    /// The accounts, by name, in the order they are asked. Build every client with the same
    /// subscription key so they share its limiter.
    ///
    /// # Errors
    /// [`Error::Config`] when there is no account or a name is used twice.
    pub fn new(accounts: Vec<(String, StarshipitClient)>) -> Result<Self, Error> {
        if accounts.is_empty() {
            return Err(Error::Config {
                message: "at least one StarShipIT account is needed".into(),
            });
        }
        for (i, (name, _)) in accounts.iter().enumerate() {
            if accounts[..i].iter().any(|(other, _)| other == name) {
                return Err(Error::Config {
                    message: format!("StarShipIT account {name:?} is named twice"),
                });
            }
        }
        Ok(Self { accounts, owners: Mutex::new(HashMap::new()) })
    }

    /// The account names, in the order they are asked.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.accounts.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The client of account `name`.
    #[must_use]
    pub fn client(&self, name: &str) -> Option<&StarshipitClient> {
        self.accounts.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// How many calls had to wait for the rate limiter, over every account's limiter (one
    /// when they share a subscription key).
    #[must_use]
    pub fn limiter_waits(&self) -> u64 {
        let mut seen: Vec<*const ()> = Vec::new();
        let mut total = 0;
        for (_, c) in &self.accounts {
            let id = c.limiter_id();
            if !seen.contains(&id) {
                seen.push(id);
                total += c.limiter_waits();
            }
        }
        total
    }

    /// The account remembered as the owner of `query`'s number, if any.
    #[must_use]
    pub fn owner(&self, query: &TrackQuery) -> Option<&str> {
        let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        owners.get(&key(query)).map(|&i| self.accounts[i].0.as_str())
    }

    /// The shipments matching `query`, from the account that shipped it (see the module
    /// docs for the order accounts are asked in).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no account finds it; any other error of the account asked.
    pub async fn track(&self, query: &TrackQuery) -> Result<Vec<Shipment>, Error> {
        let key = key(query);
        let first = {
            let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
            owners.get(&key).copied()
        };
        let order = first.into_iter().chain((0..self.accounts.len()).filter(|i| Some(*i) != first));
        let mut misses = Vec::new();
        for i in order {
            let (name, client) = &self.accounts[i];
            match client.track(query).await {
                Ok(found) => {
                    let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
                    if owners.len() >= REMEMBERED {
                        owners.clear();
                    }
                    owners.insert(key, i);
                    return Ok(found);
                }
                Err(Error::NotFound { message }) => misses.push(format!("{name}: {message}")),
                Err(other) => return Err(other),
            }
        }
        Err(Error::NotFound {
            message: if misses.len() == 1 {
                misses.remove(0)
            } else {
                format!("no account has it ({})", misses.join("; "))
            },
        })
    }
}

fn key(query: &TrackQuery) -> String {
    match query {
        TrackQuery::TrackingNumber(n) => format!("t:{n}"),
        TrackQuery::OrderNumber(o) => format!("o:{}", o.trim()),
    }
}

#[async_trait]
impl Tracker for StarshipitAccounts {
    async fn track(&self, query: &TrackQuery) -> Result<Vec<Shipment>, CarrierError> {
        Ok(StarshipitAccounts::track(self, query).await?)
    }
}
