//! The lazy command context: the global flags, and the configuration read only when a
//! command first asks for it. Each accessor resolves only the section it returns (one
//! account's secret, the StarShipIT keys, the store's location), so `waybill timeline N --db demo.db`
//! needs no `waybill.toml` and no secret, and a command that needs a missing setting says
//! which one.
//!
//! The store is opened one of two ways: [`Context::store`] for commands that write (it may
//! create the SQLite file, never the folder it goes in), [`Context::existing_store`] for
//! commands that only read (the file must exist: a mistyped `--db` is an error naming it,
//! not a new empty store).

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
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
pub const DEFAULT_CONFIG: &str = crate::config::DEFAULT_FILE;

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
            Some(db) => {
                // `--db` needs nothing from the file, but a file named with `--config` that
                // cannot be read is a mistake to report, not to skip.
                if self.globals.config.is_some() {
                    self.config()?;
                }
                crate::config::check_sqlite_path(db).map_err(|why| {
                    Failure::usage(format!(
                        "--db {why}: name the SQLite file, e.g. --db waybill.db"
                    ))
                })?;
                Ok(StoreLocation::Sqlite(db.clone()))
            }
            None => self.config()?.store.location().map_err(|e| self.explain(&e)),
        }
    }

    /// Where a SQLite path came from, for messages: `--db` or `store.path`.
    fn path_source(&self) -> &'static str {
        if self.globals.db.is_some() { "--db" } else { "store.path" }
    }

    /// A failure of the kind that fits where the path came from: usage for `--db`,
    /// configuration for `store.path`.
    fn path_failure(&self, message: String) -> Failure {
        if self.globals.db.is_some() { Failure::usage(message) } else { Failure::config(message) }
    }

    /// True when the store is a database several processes share (PostgreSQL).
    ///
    /// # Errors
    /// As [`Context::store_location`].
    pub fn store_is_shared(&self) -> Result<bool, Failure> {
        Ok(matches!(self.store_location()?, StoreLocation::Postgres { .. }))
    }

    /// Opens (and migrates) the store for a command that writes: a missing SQLite file is
    /// created, a missing folder is not (it is a typo more often than a wish).
    ///
    /// # Errors
    /// A usage or configuration failure naming the missing folder; a store failure naming
    /// the file, or the database's host and port (never a password).
    pub async fn store(&self) -> Result<Arc<AnyStore>, Failure> {
        let location = self.store_location()?;
        if let StoreLocation::Sqlite(path) = &location {
            check_store_folder(path, self.path_source()).map_err(|m| self.path_failure(m))?;
        }
        open(&location).await
    }

    /// Opens the store for a command that only reads: a SQLite file that does not exist is
    /// an error saying how to create it, never a new empty store.
    ///
    /// # Errors
    /// A usage or configuration failure naming the missing file; as [`Context::store`].
    pub async fn existing_store(&self) -> Result<Arc<AnyStore>, Failure> {
        let location = self.store_location()?;
        if let StoreLocation::Sqlite(path) = &location
            && !path.is_file()
        {
            let source = self.path_source();
            let create = match &self.globals.db {
                Some(_) => format!("`waybill --db {} store migrate`", path.display()),
                None => "`waybill store migrate`".to_owned(),
            };
            return Err(self.path_failure(format!(
                "no store at {} ({source}): check the path, or create the store with {create} (`waybill sync` and `waybill orders create` create it too)",
                path.display()
            )));
        }
        open(&location).await
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
    ///
    /// # Errors
    /// When the file exists (or was named with `--config`) but cannot be read.
    pub fn starshipit_zone(&self) -> Result<Option<String>, Failure> {
        if !self.config_exists() && self.globals.config.is_none() {
            return Ok(None);
        }
        Ok(self.config()?.starshipit.as_ref().and_then(|s| s.timezone.clone()))
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

    /// The sync engine's options from `[sync]`, every number checked.
    ///
    /// # Errors
    /// When the configuration cannot be read or a setting is out of range.
    pub fn sync_options(&self) -> Result<SyncOptions, Failure> {
        self.config()?.resolve_sync().map_err(|e| self.explain(&e))
    }

    /// The outbound webhook subscriptions, secrets resolved (empty when none is configured).
    ///
    /// # Errors
    /// A configuration failure listing each problem.
    pub fn outbound_webhooks(&self) -> Result<Vec<waybill_engine::outbound::Endpoint>, Failure> {
        self.config()?.resolve_outbound().map_err(|e| self.explain(&e))
    }

    /// A webhook sender over `store` for the configured subscriptions (`None` without any).
    ///
    /// # Errors
    /// A configuration failure, or no TLS backend for the HTTP client.
    pub fn webhook_sender(
        &self,
        store: &Arc<AnyStore>,
    ) -> Result<Option<waybill_engine::outbound::WebhookSender>, Failure> {
        let endpoints = self.outbound_webhooks()?;
        if endpoints.is_empty() {
            return Ok(None);
        }
        let store: Arc<dyn waybill_store::Store> = Arc::clone(store) as _;
        waybill_engine::outbound::WebhookSender::new(store, endpoints, Default::default())
            .map(Some)
            .map_err(|e| Failure::runtime(format!("cannot build the webhook HTTP client: {e}")))
    }

    /// `waybill serve`'s settings (`listen` overrides `serve.listen`).
    ///
    /// # Errors
    /// A configuration failure listing each problem.
    pub fn serve(&self, listen: Option<&str>) -> Result<ResolvedServe, Failure> {
        self.config()?.resolve_serve(listen).map_err(|e| self.explain(&e))
    }
}

/// Refuses a SQLite file whose folder does not exist (`source` says where the path came
/// from), so a typo never creates a tree of folders.
///
/// # Errors
/// The message naming the missing folder.
pub fn check_store_folder(path: &Path, source: &str) -> Result<(), String> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) if parent.exists() && !parent.is_dir() => Err(format!(
            "{} is a file, not a folder, so the store {} ({source}) cannot go in it: fix {source}",
            parent.display(),
            path.display()
        )),
        Some(parent) if !parent.is_dir() => Err(format!(
            "the folder {} for the store {} ({source}) does not exist: create it (`mkdir -p {}`) or fix {source}",
            parent.display(),
            path.display(),
            parent.display()
        )),
        _ => Ok(()),
    }
}

/// Opens (and migrates) the store at `location`.
async fn open(location: &StoreLocation) -> Result<Arc<AnyStore>, Failure> {
    AnyStore::open(location).await.map(Arc::new).map_err(|e| {
        Failure::store(format!("cannot open the store at {}: {e}", location.describe()))
    })
}

/// A configuration error as a failure (exit 2, code `config`).
#[must_use]
pub fn config_failure(e: &ConfigError) -> Failure {
    Failure::config(e.to_string())
}
