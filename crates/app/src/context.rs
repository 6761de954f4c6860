//! The lazy command context: the global flags, and the configuration read only when a
//! command first asks for it. Each accessor resolves only the section it returns (one
//! account's secret, the StarShipIT keys, the store's location), so `waybill timeline N --db demo.db`
//! needs no `waybill.toml` and no secret, and a command that needs a missing setting says
//! which one.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};

use waybill_engine::sync::SyncOptions;
use waybill_store::{AnyStore, StoreLocation};

use crate::{
    carriers::Clients,
    config::{Config, ConfigError, ResolvedAccount, ResolvedServe, ResolvedStarshipit},
    exit::Failure,
};

/// The settings every command may use, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    /// `--config`/`$WAYBILL_CONFIG`; `None`: `waybill.toml` if it exists.
    pub config: Option<PathBuf>,
    /// `--db`, overriding `store.path`.
    pub db: Option<PathBuf>,
    /// `--account`: the Starmile account to use (default: the first).
    pub account: Option<String>,
    /// `--json`.
    pub json: bool,
}

/// The default configuration file, used when it exists.
pub const DEFAULT_CONFIG: &str = "waybill.toml";

/// What a command runs with.
#[derive(Debug)]
pub struct Context {
    /// The global flags.
    pub globals: Globals,
    config: OnceLock<Config>,
}

impl Context {
    /// A context over these flags; nothing is read yet.
    #[must_use]
    pub fn new(globals: Globals) -> Self {
        Self { globals, config: OnceLock::new() }
    }

    /// The configuration file in use: `--config`, or `waybill.toml`.
    #[must_use]
    pub fn config_path(&self) -> &Path {
        self.globals.config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG))
    }

    /// True when the file in use exists.
    fn config_exists(&self) -> bool {
        self.config_path().exists()
    }

    /// The configuration (read once): a file named with `--config` must exist; the default
    /// `waybill.toml` is optional, and without it the defaults and `WAYBILL_…` overrides apply.
    ///
    /// # Errors
    /// A configuration failure naming the file and what did not parse.
    pub fn config(&self) -> Result<&Config, Failure> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let required = self.globals.config.is_some();
        let loaded = Config::load(self.config_path(), required).map_err(|e| config_failure(&e))?;
        Ok(self.config.get_or_init(|| loaded))
    }

    /// Adds where to put a missing setting when the configuration file does not exist.
    fn explain(&self, e: &ConfigError) -> Failure {
        let mut f = config_failure(e);
        if !self.config_exists() {
            f.message.push_str(&format!(
                "\n  ({} does not exist: create it as the README's configuration section shows, or pass --config)",
                self.config_path().display()
            ));
        }
        f
    }

    /// Where the store is: `--db` (a SQLite file), else `store.url` (PostgreSQL) when set,
    /// else `store.path`.
    ///
    /// # Errors
    /// When the configuration cannot be read or `store.url` is not a PostgreSQL URL.
    pub fn store_location(&self) -> Result<StoreLocation, Failure> {
        match &self.globals.db {
            Some(db) => Ok(StoreLocation::Sqlite(db.clone())),
            None => self.config()?.store.location().map_err(|e| self.explain(&e)),
        }
    }

    /// True when the store is a database several processes share (PostgreSQL).
    ///
    /// # Errors
    /// As [`Context::store_location`].
    pub fn store_is_shared(&self) -> Result<bool, Failure> {
        Ok(matches!(self.store_location()?, StoreLocation::Postgres { .. }))
    }

    /// Opens (and migrates) the store.
    ///
    /// # Errors
    /// A store failure naming the file, or the database's host and port (never a password).
    pub async fn store(&self) -> Result<Arc<AnyStore>, Failure> {
        let location = self.store_location()?;
        AnyStore::open(&location).await.map(Arc::new).map_err(|e| {
            Failure::store(format!("cannot open the store at {}: {e}", location.describe()))
        })
    }

    /// The Starmile account the command uses (`--account`, or the first), its secret
    /// resolved — and nothing else.
    ///
    /// # Errors
    /// A configuration failure naming the missing account or setting.
    pub fn account(&self) -> Result<ResolvedAccount, Failure> {
        self.config()?
            .resolve_account(self.globals.account.as_deref())
            .map_err(|e| self.explain(&e))
    }

    /// Every Starmile account, secrets resolved (sync and serve follow all of them).
    ///
    /// # Errors
    /// A configuration failure listing each problem.
    pub fn accounts(&self) -> Result<Vec<ResolvedAccount>, Failure> {
        self.config()?.resolve_accounts().map_err(|e| self.explain(&e))
    }

    /// StarShipIT access when configured (`None` without a `[starshipit]` table).
    ///
    /// # Errors
    /// A configuration failure when the table is there but a key is missing.
    pub fn starshipit(&self) -> Result<Option<ResolvedStarshipit>, Failure> {
        self.config()?.resolve_starshipit().map_err(|e| self.explain(&e))
    }

    /// The configured zone of StarShipIT's offset-less times (`[starshipit] timezone`), read
    /// without resolving any secret; `None` without a configuration file or the setting.
    #[must_use]
    pub fn starshipit_zone(&self) -> Option<String> {
        if !self.config_exists() {
            return None;
        }
        self.config().ok()?.starshipit.as_ref()?.timezone.clone()
    }

    /// StarShipIT access, required by the command.
    ///
    /// # Errors
    /// A configuration failure saying how to configure it.
    pub fn require_starshipit(&self) -> Result<ResolvedStarshipit, Failure> {
        self.starshipit()?.ok_or_else(|| {
            self.explain(&ConfigError::Invalid(vec![crate::config::Problem(
                "StarShipIT is not configured: add a [starshipit] table with base_url, and set $WAYBILL_STARSHIPIT_API_KEY and $WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY".into(),
            )]))
        })
    }

    /// Every configured carrier's client (all accounts, and StarShipIT when configured).
    ///
    /// # Errors
    /// A configuration failure listing each problem.
    pub fn clients(&self) -> Result<Clients, Failure> {
        let clients = Clients::build(&self.accounts()?, self.starshipit()?.as_ref())?;
        // A shared database shares the tracking key's budget between processes.
        if self.store_is_shared()? {
            return clients.sharing_tracking_budget(self.starshipit()?.as_ref());
        }
        Ok(clients)
    }

    /// The sync engine's options from `[sync]`.
    ///
    /// # Errors
    /// When the configuration cannot be read.
    pub fn sync_options(&self) -> Result<SyncOptions, Failure> {
        let s = &self.config()?.sync;
        Ok(SyncOptions {
            page_size: s.page_size,
            refresh_batch: s.refresh_batch,
            poll_interval: Duration::from_secs(s.poll_interval_seconds.max(1)),
            pool_lease: Duration::from_secs(s.lease_seconds.max(1)),
            commit_rows: s.commit_rows.max(1),
            ..SyncOptions::default()
        })
    }

    /// `waybill serve`'s settings (`listen` overrides `serve.listen`).
    ///
    /// # Errors
    /// A configuration failure listing each problem.
    pub fn serve(&self, listen: Option<&str>) -> Result<ResolvedServe, Failure> {
        self.config()?.resolve_serve(listen).map_err(|e| self.explain(&e))
    }
}

/// A configuration error as a failure (exit 2, code `config`).
#[must_use]
pub fn config_failure(e: &ConfigError) -> Failure {
    Failure::config(e.to_string())
}
