//! Configuration: `waybill.toml` plus `WAYBILL_…` environment overrides, with secrets read
//! only from the environment or from files, and a checker that explains every problem.
//!
//! ```toml
//! [store]
//! path = "waybill.db"
//! # or PostgreSQL, shared by several waybill processes (best as $WAYBILL_STORE__URL):
//! # url = "postgres://waybill@db.internal:5432/waybill"
//! # pool_size = 8
//! # statement_timeout_seconds = 60
//!
//! [[starmile.accounts]]
//! name = "sydney"                      # one credential per warehouse
//! base_url = "https://api.starmile.io"
//! client_id = "partner-123"
//! # secret: $WAYBILL_STARMILE_SYDNEY_CLIENT_SECRET, or name another variable or a file:
//! # client_secret_env = "MY_SECRET_VAR"
//! # client_secret_file = "/run/secrets/starmile-sydney"
//!
//! [starshipit]
//! base_url = "https://api.starshipit.com"
//! # keys: $WAYBILL_STARSHIPIT_API_KEY and $WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY (or *_env / *_file)
//! rate_limit_per_second = 2
//!
//! # or several merchant accounts under the one subscription key (and its rate limit):
//! # [[starshipit.accounts]]
//! # name = "merchant-a"                # API key: $WAYBILL_STARSHIPIT_MERCHANT_A_API_KEY
//!
//! [sync]
//! poll_interval_seconds = 5
//! # lease_seconds = 30   # PostgreSQL: a killed worker's accounts are taken over within this
//!
//! # Outbound webhooks: a signed POST for every parcel status change (sent by `serve` and
//! # `sync`); secret: $WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET (or secret_env / secret_file)
//! # [[outbound_webhooks]]
//! # name = "erp"
//! # url = "https://erp.example.com/hooks/waybill"
//! # statuses = ["delivered", "exception", "attempt_failed"]   # default: every change
//! # retry_for_seconds = 86400
//! ```
//!
//! Scalar settings can be overridden from the environment with `WAYBILL_` and `__` between
//! levels, e.g. `WAYBILL_STORE__PATH=/var/lib/waybill.db`, `WAYBILL_SYNC__POLL_INTERVAL_SECONDS=2`.

use std::path::{Path, PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The configuration file read when `--config` is not given (and it exists).
pub const DEFAULT_FILE: &str = "waybill.toml";

/// What is wrong with `store.url`, and its form (the URL itself is never quoted).
const STORE_URL_FORM: &str = "store.url {why}: use postgres://user@host:5432/waybill (the password best in $WAYBILL_STORE__URL); for SQLite set store.path and leave store.url out";

/// The longest duration any setting may name: a day (longer ones are typos, and would
/// overflow the clock arithmetic they feed).
const MAX_SECONDS: u64 = 86_400;

/// What to say when a command needs a Starmile account and none is configured.
const NO_ACCOUNT: &str = "no Starmile account: add a [[starmile.accounts]] table with name, base_url and client_id (`waybill sandbox` prints a ready one)";

/// The whole configuration as read (secrets not resolved yet).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where events are stored.
    #[serde(default)]
    pub store: StoreConfig,
    /// Starmile accounts.
    #[serde(default)]
    pub starmile: StarmileConfig,
    /// StarShipIT access, when first-leg tracking is wanted.
    #[serde(default)]
    pub starshipit: Option<StarshipitConfig>,
    /// Sync engine tuning.
    #[serde(default)]
    pub sync: SyncConfig,
    /// `waybill serve`: listen address, limits; API keys and the webhook secret come from the
    /// environment or files.
    #[serde(default)]
    pub serve: ServeConfig,
    /// Outbound webhook subscriptions (`[[outbound_webhooks]]`).
    #[serde(default)]
    pub outbound_webhooks: Vec<OutboundWebhook>,
}

/// One outbound webhook subscription: waybill POSTs a signed JSON body to `url` for every
/// change of a parcel's unified status or milestone (those in `statuses`, when given).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundWebhook {
    /// A short name (letters, digits, '-' or '_'): deliveries are stored under it.
    pub name: String,
    /// Where to POST: https, or http to a loopback host.
    pub url: String,
    /// The unified statuses whose changes are sent (e.g. `["delivered", "exception"]`);
    /// empty or absent: every change.
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Not allowed in the file (see [`StarmileAccount::client_secret`]).
    #[serde(default, skip_serializing)]
    pub secret: Option<toml_value::Any>,
    /// The variable holding the signing secret (default
    /// `WAYBILL_OUTBOUND_WEBHOOK_<NAME>_SECRET`).
    #[serde(default)]
    pub secret_env: Option<String>,
    /// A file holding the signing secret (takes precedence over the environment).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// How long a delivery is retried before it is given up (default a day).
    #[serde(default = "default_retry_for")]
    pub retry_for_seconds: u64,
    /// The wait after the first failed attempt; it doubles after each (default 10).
    #[serde(default = "default_first_retry")]
    pub first_retry_seconds: u64,
    /// The longest one attempt may take (default 10).
    #[serde(default = "default_webhook_timeout")]
    pub timeout_seconds: u64,
}

fn default_retry_for() -> u64 {
    86_400
}

fn default_first_retry() -> u64 {
    10
}

fn default_webhook_timeout() -> u64 {
    10
}

/// The store's settings: a SQLite file (`path`, the default), or a PostgreSQL database
/// (`url`) that several `waybill` processes share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The SQLite database file (used when `url` is not set).
    pub path: PathBuf,
    /// `postgres://user:password@host:port/database`: selects PostgreSQL. Best given as
    /// `$WAYBILL_STORE__URL`, since it may hold the password; never printed.
    #[serde(skip_serializing)]
    pub url: Option<toml_value::Secret>,
    /// PostgreSQL: connections in each process's pool.
    pub pool_size: u32,
    /// PostgreSQL: the longest any one statement may run, in seconds (0: the server's
    /// setting).
    pub statement_timeout_seconds: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("waybill.db"),
            url: None,
            pool_size: 8,
            statement_timeout_seconds: 60,
        }
    }
}

impl StoreConfig {
    /// Where the store is: PostgreSQL when `url` is set, else the SQLite file.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when `url` is not a `postgres://` URL (the message never
    /// quotes it: it may hold the password), a number is out of range, or `path` is empty,
    /// has spaces around it or names a folder.
    pub fn location(&self) -> Result<waybill_store::StoreLocation, ConfigError> {
        use secrecy::ExposeSecret as _;
        let mut problems = Vec::new();
        check_range(&mut problems, "store.pool_size", self.pool_size, 1..=1000, "connections");
        check_range(
            &mut problems,
            "store.statement_timeout_seconds",
            self.statement_timeout_seconds,
            0..=MAX_SECONDS,
            "seconds (0: the server's setting)",
        );
        let location = match &self.url {
            None => {
                if let Err(why) = check_sqlite_path(&self.path) {
                    problems.push(Problem(format!(
                        "store.path {why}; name the SQLite file, e.g. path = \"waybill.db\" (or set store.url for PostgreSQL)"
                    )));
                }
                Some(waybill_store::StoreLocation::Sqlite(self.path.clone()))
            }
            Some(toml_value::Secret::NotText) => {
                problems.push(Problem(STORE_URL_FORM.replace("{why}", "is not text")));
                None
            }
            Some(toml_value::Secret::Text(url)) => {
                let text = url.expose_secret();
                if !waybill_store::StoreLocation::is_postgres_url(text) {
                    problems
                        .push(Problem(STORE_URL_FORM.replace("{why}", "is not a postgres:// URL")));
                } else if text.trim() != text {
                    problems.push(Problem(STORE_URL_FORM.replace("{why}", "has spaces around it")));
                } else if let Err(e) = url::Url::parse(text) {
                    // url's parse errors name the kind of mistake, never the input.
                    problems.push(Problem(
                        STORE_URL_FORM.replace("{why}", &format!("does not parse ({e})")),
                    ));
                }
                Some(waybill_store::StoreLocation::Postgres {
                    url: url.clone(),
                    pool_size: self.pool_size,
                    statement_timeout: (self.statement_timeout_seconds > 0)
                        .then(|| std::time::Duration::from_secs(self.statement_timeout_seconds)),
                })
            }
        };
        match location {
            Some(location) if problems.is_empty() => match location.check() {
                Ok(()) => Ok(location),
                Err(e) => Err(ConfigError::Invalid(vec![Problem(format!("store.url: {e}"))])),
            },
            _ => Err(ConfigError::Invalid(problems)),
        }
    }
}

/// The Starmile side: one or more accounts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarmileConfig {
    /// One credential per warehouse, each with its own pool cursor.
    #[serde(default)]
    pub accounts: Vec<StarmileAccount>,
}

/// One Starmile credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarmileAccount {
    /// A short name (the cursor and the orders are stored under it), e.g. `sydney`.
    pub name: String,
    /// The partner host, e.g. `https://api.starmile.io`.
    pub base_url: String,
    /// The credential's client id.
    pub client_id: String,
    /// Not allowed: present only so the checker can say where secrets belong instead (any
    /// value, a string or a number, is refused without being echoed).
    #[serde(default, skip_serializing)]
    pub client_secret: Option<toml_value::Any>,
    /// The environment variable holding the secret (default
    /// `WAYBILL_STARMILE_<NAME>_CLIENT_SECRET`).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// A file holding the secret (takes precedence over the environment).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
}

/// StarShipIT access.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarshipitConfig {
    /// The API host, e.g. `https://api.starshipit.com`.
    pub base_url: String,
    /// Requests per second the subscription key allows (2 for developer keys, 20 for
    /// production).
    #[serde(default = "default_rate")]
    pub rate_limit_per_second: u32,
    /// The IANA zone of the account's offset-less `/track` times (carrier-local, e.g.
    /// `Australia/Sydney`); without it, waybill infers the zone from the parcel's hub events.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Not allowed in the file (see [`StarmileAccount::client_secret`]).
    #[serde(default, skip_serializing)]
    pub api_key: Option<toml_value::Any>,
    /// Not allowed in the file.
    #[serde(default, skip_serializing)]
    pub subscription_key: Option<toml_value::Any>,
    /// Variable holding the API key (default `WAYBILL_STARSHIPIT_API_KEY`).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// File holding the API key.
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// Variable holding the subscription key (default `WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY`).
    #[serde(default)]
    pub subscription_key_env: Option<String>,
    /// File holding the subscription key.
    #[serde(default)]
    pub subscription_key_file: Option<PathBuf>,
    /// Several merchant accounts (`[[starshipit.accounts]]`), one API key each, all under the
    /// one subscription key (and its rate limit). Without any, the single account's key is
    /// `$WAYBILL_STARSHIPIT_API_KEY` (or `api_key_env` / `api_key_file`).
    #[serde(default)]
    pub accounts: Vec<StarshipitAccount>,
}

/// One StarShipIT merchant account: its name and where its API key is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarshipitAccount {
    /// A short name, e.g. `merchant-a` (letters, digits, '-' or '_').
    pub name: String,
    /// Not allowed in the file.
    #[serde(default, skip_serializing)]
    pub api_key: Option<toml_value::Any>,
    /// Variable holding the API key (default `WAYBILL_STARSHIPIT_<NAME>_API_KEY`).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// File holding the API key (takes precedence over the environment).
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
}

fn default_rate() -> u32 {
    2
}

/// Sync engine settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Seconds between polls once the pool is drained.
    pub poll_interval_seconds: u64,
    /// Pool page size (Starmile allows 1–200).
    pub page_size: u32,
    /// How many parcels' tracking to refresh per round.
    pub refresh_batch: u32,
    /// With PostgreSQL: seconds an account's pool lease lasts without renewal (a killed
    /// worker's account is taken over by another within this time).
    pub lease_seconds: u64,
    /// Pool rows gathered (over consecutive pages) before one commit.
    pub commit_rows: usize,
}

impl SyncConfig {
    /// Notes every setting out of its range.
    fn check(&self, problems: &mut Vec<Problem>) {
        if !(1..=200).contains(&self.page_size) {
            problems.push(Problem(format!(
                "sync.page_size is {}: Starmile allows 1 to 200",
                self.page_size
            )));
        }
        let seconds = "seconds";
        check_range(
            problems,
            "sync.poll_interval_seconds",
            self.poll_interval_seconds,
            1..=MAX_SECONDS,
            seconds,
        );
        check_range(
            problems,
            "sync.refresh_batch",
            self.refresh_batch,
            1..=10_000,
            "parcels per round",
        );
        check_range(problems, "sync.lease_seconds", self.lease_seconds, 1..=MAX_SECONDS, seconds);
        check_range(problems, "sync.commit_rows", self.commit_rows, 1..=1_000_000, "pool rows");
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            poll_interval_seconds: 5,
            page_size: 200,
            refresh_batch: 100,
            lease_seconds: 30,
            commit_rows: 10_000,
        }
    }
}

/// `waybill serve` settings. Secrets (API keys, the StarShipIT webhook secret) are never read
/// from the file: `$WAYBILL_API_KEYS` (comma-separated) or `api_keys_file` (one key per line),
/// and `$WAYBILL_STARSHIPIT_WEBHOOK_SECRET` or `webhook_secret_file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// The address to listen on (`--listen` overrides it).
    pub listen: String,
    /// A file holding the API keys, one per line (takes precedence over `$WAYBILL_API_KEYS`).
    pub api_keys_file: Option<PathBuf>,
    /// Not allowed: present only so the checker can say where API keys belong instead.
    #[serde(skip_serializing)]
    pub api_keys: Option<toml_value::Any>,
    /// A file holding the StarShipIT webhook secret (takes precedence over
    /// `$WAYBILL_STARSHIPIT_WEBHOOK_SECRET`).
    pub webhook_secret_file: Option<PathBuf>,
    /// Not allowed in the file.
    #[serde(skip_serializing)]
    pub webhook_secret: Option<toml_value::Any>,
    /// A file holding the secret token of the StarShipIT webhook URL
    /// (`/webhooks/starshipit/{token}`, for accounts that cannot sign; takes precedence over
    /// `$WAYBILL_STARSHIPIT_WEBHOOK_TOKEN`). At least 16 characters.
    pub webhook_token_file: Option<PathBuf>,
    /// Seconds a request may take before it is answered 408.
    pub request_timeout_seconds: u64,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds a client may take to send a request's headers before its connection is closed
    /// (slowloris protection).
    pub header_read_timeout_seconds: u64,
    /// Most connections served at once; keep it below the open-file limit (`ulimit -n`).
    pub max_connections: usize,
    /// Tracking-page lookups one client (IP address) may make per minute, sustained.
    pub page_requests_per_minute: u32,
    /// Tracking-page lookups one client may make in a burst.
    pub page_burst: u32,
    /// Run the sync engine in the background (as `waybill sync` does).
    pub sync: bool,
    /// `/readyz` fails when sync has made no progress for this many seconds (default: ten
    /// poll intervals, at least 60 s).
    pub sync_stalled_after_seconds: Option<u64>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8088".into(),
            api_keys_file: None,
            api_keys: None,
            webhook_secret_file: None,
            webhook_secret: None,
            webhook_token_file: None,
            request_timeout_seconds: 30,
            body_limit_bytes: 256 * 1024,
            header_read_timeout_seconds: 10,
            max_connections: 4096,
            page_requests_per_minute: 30,
            page_burst: 10,
            sync: true,
            sync_stalled_after_seconds: None,
        }
    }
}

/// Accepts any TOML value, so a secret written where it must not be is reported clearly
/// instead of failing to parse (its content is dropped, never echoed).
pub mod toml_value {
    use figment::value::Value;
    use secrecy::SecretString;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// A secret setting as read: its text, or the fact that something other than text was
    /// written (a number, a table…), whose value is dropped unread so no message can echo
    /// it (serde's "invalid type: found 1234" would).
    #[derive(Clone)]
    pub enum Secret {
        /// The text, kept secret.
        Text(SecretString),
        /// Not text.
        NotText,
    }

    impl std::fmt::Debug for Secret {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("[REDACTED]")
        }
    }

    impl<'de> Deserialize<'de> for Secret {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(match <Value as Deserialize>::deserialize(d)? {
                Value::String(_, text) => Secret::Text(SecretString::from(text)),
                _ => Secret::NotText,
            })
        }
    }

    /// Some value was present.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct Any;

    impl std::fmt::Debug for Any {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("[REDACTED]")
        }
    }

    impl<'de> Deserialize<'de> for Any {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| Any)
        }
    }

    impl Serialize for Any {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_unit()
        }
    }
}

/// `waybill serve`'s settings with secrets resolved: what the server is bound with (API
/// keys kept only as SHA-256 hashes), plus what the app wires around it. The webhook secret
/// is redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct ResolvedServe {
    /// Listen address, API keys, timeouts and limits, as the server takes them.
    pub settings: waybill_server::Settings,
    /// The StarShipIT webhook signing secret.
    pub webhook_secret: Option<SecretString>,
    /// The StarShipIT webhook URL token. Without it and without the secret the webhook
    /// endpoint refuses every request (503).
    pub webhook_token: Option<SecretString>,
    /// Run sync in the background.
    pub sync: bool,
}

/// A configuration problem, phrased as what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Problem(pub String);

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an override could not be read or parsed.
    #[error("cannot read the configuration: {0}")]
    Read(String),
    /// It was read but is not usable.
    #[error("the configuration has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// A Starmile account with its secret resolved.
#[derive(Debug, Clone)]
pub struct ResolvedAccount {
    /// The account name.
    pub name: String,
    /// The host.
    pub base_url: String,
    /// The client id.
    pub client_id: String,
    /// The secret.
    pub client_secret: SecretString,
}

/// StarShipIT access with keys resolved.
#[derive(Debug, Clone)]
pub struct ResolvedStarshipit {
    /// The host.
    pub base_url: String,
    /// Requests per second, shared by every account (the subscription key's limit).
    pub rate_limit_per_second: u32,
    /// The merchant accounts, in the order they are asked (at least one).
    pub accounts: Vec<ResolvedStarshipitAccount>,
    /// The subscription key.
    pub subscription_key: SecretString,
    /// The zone of offset-less times, when configured (a valid IANA name).
    pub timezone: Option<String>,
}

/// A StarShipIT merchant account with its API key resolved.
#[derive(Debug, Clone)]
pub struct ResolvedStarshipitAccount {
    /// The account name (`default` for the single-account form).
    pub name: String,
    /// The account's API key.
    pub api_key: SecretString,
}

/// The account name of the single-account form (no `[[starshipit.accounts]]`).
pub const DEFAULT_STARSHIPIT_ACCOUNT: &str = "default";

/// What `config check` found: the resolved configuration, and whether `waybill serve` could
/// start with it (it also needs an API key).
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every secret found, every setting checked.
    pub resolved: Resolved,
    /// True when `waybill serve`'s API keys are configured too.
    pub serve_ready: bool,
}

/// A configuration whose every secret was found.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The store path.
    pub store_path: PathBuf,
    /// The Starmile accounts.
    pub accounts: Vec<ResolvedAccount>,
    /// StarShipIT, if configured.
    pub starshipit: Option<ResolvedStarshipit>,
    /// Sync settings.
    pub sync: SyncConfig,
    /// The outbound webhook subscriptions, secrets resolved.
    pub outbound_webhooks: Vec<waybill_engine::outbound::Endpoint>,
}

impl Config {
    /// Reads `path` (if it exists; a missing file is fine only when `required` is false) and
    /// applies `WAYBILL_…` overrides.
    ///
    /// # Errors
    /// [`ConfigError::Read`] naming the file and what did not parse.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        // Read here rather than by figment, which takes a folder or an unreadable file for
        // an empty one.
        let text = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    return Err(ConfigError::Read(format!(
                        "{} does not exist: create it (see the README's configuration section) or pass --config",
                        path.display()
                    )));
                }
                String::new()
            }
            Ok(meta) if meta.is_dir() => {
                return Err(ConfigError::Read(format!(
                    "{} is a folder, not a file: name the configuration file itself (e.g. --config {})",
                    path.display(),
                    path.join(DEFAULT_FILE).display()
                )));
            }
            _ => std::fs::read_to_string(path).map_err(|e| {
                ConfigError::Read(format!(
                    "{}: {e}; check that the file is readable and UTF-8 text",
                    path.display()
                ))
            })?,
        };
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&text))
            .merge(
                // Only nested keys (`WAYBILL_STORE__PATH`): single-level names such as
                // `WAYBILL_STARSHIPIT_API_KEY` are secrets or CLI settings, not overrides.
                Env::prefixed("WAYBILL_").filter(|k| k.as_str().contains("__")).split("__"),
            )
            .extract()
            .map_err(|e| ConfigError::Read(format!("{}: {}", path.display(), without_source(&e))))
    }

    /// Every check any command makes before it starts, at once: what [`Config::resolve`],
    /// [`Config::resolve_sync`] and [`Config::resolve_serve`] check. `waybill serve`'s API
    /// keys are the one thing only `serve` needs, so their absence is not a problem here:
    /// [`Checked::serve_ready`] says whether they are there.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing every problem.
    pub fn check(&self) -> Result<Checked, ConfigError> {
        let (resolved, mut problems) = match self.resolve() {
            Ok(resolved) => (Some(resolved), Vec::new()),
            Err(ConfigError::Invalid(problems)) => (None, problems),
            Err(e) => return Err(e),
        };
        let serve = self.serve_settings(None, false, &mut problems);
        match resolved {
            Some(resolved) if problems.is_empty() => Ok(Checked {
                resolved,
                serve_ready: serve.is_some_and(|s| !s.settings.api_keys.is_empty()),
            }),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// The outbound webhook subscriptions with their secrets (empty when none is
    /// configured); only `[[outbound_webhooks]]` is read.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming each problem.
    pub fn resolve_outbound(&self) -> Result<Vec<waybill_engine::outbound::Endpoint>, ConfigError> {
        let mut problems = Vec::new();
        let endpoints = outbound_webhooks(&self.outbound_webhooks, &mut problems);
        if problems.is_empty() { Ok(endpoints) } else { Err(ConfigError::Invalid(problems)) }
    }

    /// The sync engine's options from `[sync]`, every number checked.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming each setting out of range.
    pub fn resolve_sync(&self) -> Result<waybill_engine::sync::SyncOptions, ConfigError> {
        let mut problems = Vec::new();
        self.sync.check(&mut problems);
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        let s = &self.sync;
        Ok(waybill_engine::sync::SyncOptions {
            page_size: s.page_size,
            refresh_batch: s.refresh_batch,
            poll_interval: std::time::Duration::from_secs(s.poll_interval_seconds),
            pool_lease: std::time::Duration::from_secs(s.lease_seconds),
            commit_rows: s.commit_rows,
            ..waybill_engine::sync::SyncOptions::default()
        })
    }

    /// Resolves every secret and checks every setting but `[serve]`'s (see
    /// [`Config::check`] for all of them), collecting all problems at once.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing each problem and how to fix it.
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let mut problems = Vec::new();
        let accounts = self.all_accounts(&mut problems);
        let starshipit = self.starshipit.as_ref().and_then(|s| starshipit(s, &mut problems));
        if let Err(ConfigError::Invalid(store)) = self.store.location() {
            problems.extend(store);
        }
        self.sync.check(&mut problems);
        let outbound_webhooks = outbound_webhooks(&self.outbound_webhooks, &mut problems);
        if problems.is_empty() {
            Ok(Resolved {
                store_path: self.store.path.clone(),
                accounts,
                starshipit,
                sync: self.sync.clone(),
                outbound_webhooks,
            })
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}

impl Config {
    /// Resolves one Starmile account: `name`, or the first when `None`. Only that account's
    /// secret is read.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the missing account or what is wrong with it.
    pub fn resolve_account(&self, name: Option<&str>) -> Result<ResolvedAccount, ConfigError> {
        let found = match name {
            Some(n) => self.starmile.accounts.iter().find(|a| a.name == n),
            None => self.starmile.accounts.first(),
        };
        let Some(a) = found else {
            let names: Vec<&str> = self.starmile.accounts.iter().map(|a| a.name.as_str()).collect();
            return Err(ConfigError::Invalid(vec![Problem(match name {
                Some(n) if !names.is_empty() => {
                    format!("no Starmile account named {n:?}; configured: {}", names.join(", "))
                }
                _ => NO_ACCOUNT.to_owned(),
            })]));
        };
        let mut problems = Vec::new();
        match account(a, &mut problems) {
            Some(resolved) if problems.is_empty() => Ok(resolved),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// Resolves every Starmile account (sync and serve follow them all).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing each problem.
    pub fn resolve_accounts(&self) -> Result<Vec<ResolvedAccount>, ConfigError> {
        let mut problems = Vec::new();
        let accounts = self.all_accounts(&mut problems);
        if problems.is_empty() { Ok(accounts) } else { Err(ConfigError::Invalid(problems)) }
    }

    /// Every account checked and resolved, with the rules that span accounts (at least one,
    /// unique names, no two reading one secret variable), noting every problem.
    fn all_accounts(&self, problems: &mut Vec<Problem>) -> Vec<ResolvedAccount> {
        if self.starmile.accounts.is_empty() {
            problems.push(Problem(NO_ACCOUNT.to_owned()));
        }
        let mut names = std::collections::HashSet::new();
        let mut accounts = Vec::new();
        for a in &self.starmile.accounts {
            if !names.insert(a.name.clone()) {
                problems.push(Problem(format!(
                    "starmile account {:?}: the name is used twice; each account needs its own",
                    a.name
                )));
            }
            accounts.extend(account(a, problems));
        }
        shared_variables(
            "starmile",
            "client secret",
            "client_secret_env",
            self.starmile.accounts.iter().filter(|a| a.client_secret_file.is_none()).map(|a| {
                (a.name.as_str(), a.client_secret_env.clone(), default_secret_var(&a.name))
            }),
            problems,
        );
        accounts
    }

    /// Resolves StarShipIT access, when a `[starshipit]` table is present.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing each problem.
    pub fn resolve_starshipit(&self) -> Result<Option<ResolvedStarshipit>, ConfigError> {
        let Some(s) = &self.starshipit else { return Ok(None) };
        let mut problems = Vec::new();
        match starshipit(s, &mut problems) {
            Some(r) if problems.is_empty() => Ok(Some(r)),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// Resolves `waybill serve`'s settings: the listen address (`listen` overrides the file),
    /// the API keys (at least one is required) and the webhook secret, collecting every
    /// problem at once.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing each problem and how to fix it.
    pub fn resolve_serve(&self, listen: Option<&str>) -> Result<ResolvedServe, ConfigError> {
        let mut problems = Vec::new();
        match self.serve_settings(listen, true, &mut problems) {
            Some(serve) if problems.is_empty() => Ok(serve),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// `serve`'s settings, noting every problem; a missing API key is one only when
    /// `keys_required`.
    fn serve_settings(
        &self,
        listen: Option<&str>,
        keys_required: bool,
        problems: &mut Vec<Problem>,
    ) -> Option<ResolvedServe> {
        let s = &self.serve;
        let before = problems.len();
        let raw_listen = listen.unwrap_or(&s.listen);
        let listen = match listen_address(raw_listen) {
            Ok(a) => Some(a),
            Err(why) => {
                problems.push(Problem(format!(
                    "serve: listen address {raw_listen:?} {why}; use a host or IP address and a port such as 127.0.0.1:8088 or localhost:8088"
                )));
                None
            }
        };
        if s.api_keys.is_some() || s.webhook_secret.is_some() {
            problems.push(Problem(
                "serve: API keys and the webhook secret must not be written in the file; use $WAYBILL_API_KEYS or serve.api_keys_file, and $WAYBILL_STARSHIPIT_WEBHOOK_SECRET or serve.webhook_secret_file".into(),
            ));
        }
        let keys_text = match &s.api_keys_file {
            Some(file) => match std::fs::read_to_string(file) {
                Ok(text) => Some(text.lines().map(str::to_owned).collect::<Vec<_>>()),
                Err(e) => {
                    problems.push(Problem(format!(
                        "serve: cannot read the API keys file {}: {e}",
                        file.display()
                    )));
                    None
                }
            },
            None => std::env::var("WAYBILL_API_KEYS")
                .ok()
                .map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>()),
        };
        let api_keys = waybill_server::auth::ApiKeys::from_plaintext(
            keys_text.iter().flatten().map(|k| k.trim()).filter(|k| !k.is_empty()),
        );
        if keys_required && api_keys.is_empty() && s.api_keys_file.is_none() {
            problems.push(Problem(
                "serve: no API key configured: set $WAYBILL_API_KEYS (comma-separated) or name a file with serve.api_keys_file (one key per line)".into(),
            ));
        } else if api_keys.is_empty() && keys_text.is_some() && s.api_keys_file.is_some() {
            problems.push(Problem(format!(
                "serve: the API keys file {} holds no key: write one key per line",
                s.api_keys_file.as_deref().map_or_else(String::new, |f| f.display().to_string())
            )));
        }
        let webhook_secret = match &s.webhook_secret_file {
            Some(file) => match secret(
                "serve",
                "webhook secret",
                "WAYBILL_STARSHIPIT_WEBHOOK_SECRET",
                Some(file),
            ) {
                Ok(secret) => Some(secret),
                Err(p) => {
                    problems.push(p);
                    None
                }
            },
            None => std::env::var("WAYBILL_STARSHIPIT_WEBHOOK_SECRET")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(SecretString::from),
        };
        let webhook_token = match &s.webhook_token_file {
            Some(file) => match secret(
                "serve",
                "webhook token",
                "WAYBILL_STARSHIPIT_WEBHOOK_TOKEN",
                Some(file),
            ) {
                Ok(secret) => Some(secret),
                Err(p) => {
                    problems.push(p);
                    None
                }
            },
            None => std::env::var("WAYBILL_STARSHIPIT_WEBHOOK_TOKEN")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| SecretString::from(v.trim().to_owned())),
        };
        if let Some(token) = &webhook_token {
            use secrecy::ExposeSecret as _;
            let t = token.expose_secret();
            if t.chars().count() < 16
                || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                problems.push(Problem(
                    "serve: the StarShipIT webhook token must be at least 16 letters, digits, '-' or '_' (it is a password in a URL); e.g. `openssl rand -hex 16`".into(),
                ));
            }
        }
        let per_minute = 1..=1_000_000;
        check_range(
            problems,
            "serve.page_requests_per_minute",
            s.page_requests_per_minute,
            per_minute.clone(),
            "lookups per minute",
        );
        check_range(problems, "serve.page_burst", s.page_burst, per_minute, "lookups");
        check_range(
            problems,
            "serve.request_timeout_seconds",
            s.request_timeout_seconds,
            1..=3600,
            "seconds",
        );
        check_range(
            problems,
            "serve.body_limit_bytes",
            s.body_limit_bytes,
            1024..=1 << 30,
            "bytes",
        );
        check_range(
            problems,
            "serve.header_read_timeout_seconds",
            s.header_read_timeout_seconds,
            1..=3600,
            "seconds",
        );
        check_range(
            problems,
            "serve.max_connections",
            s.max_connections,
            1..=1_000_000,
            "connections",
        );
        if let Some(stalled) = s.sync_stalled_after_seconds {
            check_range(
                problems,
                "serve.sync_stalled_after_seconds",
                stalled,
                1..=7 * MAX_SECONDS,
                "seconds",
            );
        }
        let nonzero = |v: u32| std::num::NonZeroU32::new(v).unwrap_or(std::num::NonZeroU32::MIN);
        let poll = self.sync.poll_interval_seconds.clamp(1, MAX_SECONDS);
        let stalled = s.sync_stalled_after_seconds.unwrap_or((poll * 10).max(60)).max(1);
        let listen = listen.filter(|_| problems.len() == before)?;
        Some(ResolvedServe {
            settings: waybill_server::Settings {
                listen,
                api_keys,
                request_timeout: std::time::Duration::from_secs(s.request_timeout_seconds),
                body_limit_bytes: s.body_limit_bytes,
                page_requests_per_minute: nonzero(s.page_requests_per_minute),
                page_burst: nonzero(s.page_burst),
                sync_stalled_after: std::time::Duration::from_secs(stalled),
                header_read_timeout: std::time::Duration::from_secs(s.header_read_timeout_seconds),
                max_connections: s.max_connections,
            },
            webhook_secret,
            webhook_token,
            sync: s.sync,
        })
    }
}

/// Checks one Starmile account and resolves its secret, noting every problem.
fn account(a: &StarmileAccount, problems: &mut Vec<Problem>) -> Option<ResolvedAccount> {
    let what = format!("starmile account {:?}", a.name);
    if a.name.is_empty()
        || !a.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        problems.push(Problem(format!("{what}: name must be letters, digits, '-' or '_'")));
    }
    check_url(&what, &a.base_url, problems);
    if a.client_id.trim().is_empty() {
        problems.push(Problem(format!("{what}: client_id is empty")));
    } else if a.client_id.trim() != a.client_id {
        problems.push(Problem(format!("{what}: client_id has spaces around it; remove them")));
    }
    if a.client_secret.is_some() {
        problems.push(Problem(format!(
            "{what}: client_secret must not be written in the file; put it in ${} or a file named by client_secret_file",
            default_secret_var(&a.name)
        )));
    }
    let var = a.client_secret_env.clone().unwrap_or_else(|| default_secret_var(&a.name));
    match secret(&what, "client secret", &var, a.client_secret_file.as_deref()) {
        Ok(s) => Some(ResolvedAccount {
            name: a.name.clone(),
            base_url: a.base_url.clone(),
            client_id: a.client_id.clone(),
            client_secret: s,
        }),
        Err(p) => {
            problems.push(p);
            None
        }
    }
}

/// Checks the StarShipIT table and resolves its keys, noting every problem.
fn starshipit(s: &StarshipitConfig, problems: &mut Vec<Problem>) -> Option<ResolvedStarshipit> {
    let what = "starshipit";
    check_url(what, &s.base_url, problems);
    check_range(
        problems,
        "starshipit.rate_limit_per_second",
        s.rate_limit_per_second,
        1..=1000,
        "requests per second",
    );
    if let Some(zone) = &s.timezone
        && jiff::tz::TimeZone::get(zone).is_err()
    {
        problems.push(Problem(format!(
            "starshipit: timezone {zone:?} is not an IANA time zone (e.g. \"Australia/Sydney\")"
        )));
    }
    if s.api_key.is_some() || s.subscription_key.is_some() {
        problems.push(Problem(
                "starshipit: keys must not be written in the file; use $WAYBILL_STARSHIPIT_API_KEY and $WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY or *_file settings".into(),
            ));
    }
    let sub = secret(
        what,
        "subscription key",
        s.subscription_key_env.as_deref().unwrap_or("WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY"),
        s.subscription_key_file.as_deref(),
    );
    let accounts = starshipit_accounts(s, problems);
    match (accounts, sub) {
        (Some(accounts), Ok(subscription_key)) => Some(ResolvedStarshipit {
            base_url: s.base_url.clone(),
            rate_limit_per_second: s.rate_limit_per_second.max(1),
            accounts,
            subscription_key,
            timezone: s.timezone.clone(),
        }),
        (_, sub) => {
            problems.extend(sub.err());
            None
        }
    }
}

/// The merchant accounts' API keys: `[[starshipit.accounts]]`, or the single account.
fn starshipit_accounts(
    s: &StarshipitConfig,
    problems: &mut Vec<Problem>,
) -> Option<Vec<ResolvedStarshipitAccount>> {
    if s.accounts.is_empty() {
        let key = secret(
            "starshipit",
            "API key",
            s.api_key_env.as_deref().unwrap_or("WAYBILL_STARSHIPIT_API_KEY"),
            s.api_key_file.as_deref(),
        );
        return match key {
            Ok(api_key) => Some(vec![ResolvedStarshipitAccount {
                name: DEFAULT_STARSHIPIT_ACCOUNT.to_owned(),
                api_key,
            }]),
            Err(p) => {
                problems.push(p);
                None
            }
        };
    }
    if s.api_key_env.is_some() || s.api_key_file.is_some() {
        problems.push(Problem(
            "starshipit: api_key_env / api_key_file belong to the single-account form; with [[starshipit.accounts]] give each account its own".into(),
        ));
    }
    let before = problems.len();
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::new();
    for a in &s.accounts {
        let what = format!("starshipit account {:?}", a.name);
        if a.name.is_empty()
            || !a.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problems.push(Problem(format!("{what}: name must be letters, digits, '-' or '_'")));
        }
        if !names.insert(a.name.clone()) {
            problems.push(Problem(format!(
                "{what}: the name is used twice; each account needs its own"
            )));
        }
        let var = a.api_key_env.clone().unwrap_or_else(|| default_starshipit_key_var(&a.name));
        if a.api_key.is_some() {
            problems.push(Problem(format!(
                "{what}: api_key must not be written in the file; put it in ${var} or a file named by api_key_file"
            )));
        }
        match secret(&what, "API key", &var, a.api_key_file.as_deref()) {
            Ok(api_key) => out.push(ResolvedStarshipitAccount { name: a.name.clone(), api_key }),
            Err(p) => problems.push(p),
        }
    }
    shared_variables(
        "starshipit",
        "API key",
        "api_key_env",
        s.accounts
            .iter()
            .filter(|a| a.api_key_file.is_none())
            .map(|a| (a.name.as_str(), a.api_key_env.clone(), default_starshipit_key_var(&a.name))),
        problems,
    );
    (problems.len() == before).then_some(out)
}

/// The default environment variable for an outbound webhook's signing secret.
#[must_use]
pub fn default_webhook_secret_var(name: &str) -> String {
    format!("WAYBILL_OUTBOUND_WEBHOOK_{}_SECRET", name.to_ascii_uppercase().replace('-', "_"))
}

/// Checks `[[outbound_webhooks]]` and resolves each secret, noting every problem.
fn outbound_webhooks(
    hooks: &[OutboundWebhook],
    problems: &mut Vec<Problem>,
) -> Vec<waybill_engine::outbound::Endpoint> {
    use waybill_engine::outbound::{Backoff, Endpoint};
    let mut endpoints = Vec::with_capacity(hooks.len());
    let mut seen = std::collections::HashSet::new();
    for h in hooks {
        let what = format!("outbound webhook {:?}", h.name);
        if h.name.is_empty()
            || !h.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problems.push(Problem(format!("{what}: name must be letters, digits, '-' or '_'")));
        }
        if !seen.insert(h.name.as_str()) {
            problems.push(Problem(format!(
                "{what}: the name is used by two [[outbound_webhooks]] tables; give each its own"
            )));
        }
        check_url_setting(&what, "url", &h.url, problems);
        let mut statuses = Vec::with_capacity(h.statuses.len());
        for name in &h.statuses {
            match name.parse::<waybill_domain::TrackingStatus>() {
                Ok(status) => statuses.push(status),
                Err(_) => problems.push(Problem(format!(
                    "{what}: statuses names {name:?}, which is not a unified status: use {}",
                    waybill_domain::TrackingStatus::ALL
                        .map(waybill_domain::TrackingStatus::as_str)
                        .join(", ")
                ))),
            }
        }
        check_range(
            problems,
            &format!("{what}: retry_for_seconds"),
            h.retry_for_seconds,
            0..=3 * MAX_SECONDS,
            "seconds (0: never retry)",
        );
        check_range(
            problems,
            &format!("{what}: first_retry_seconds"),
            h.first_retry_seconds,
            0..=MAX_SECONDS,
            "seconds",
        );
        check_range(
            problems,
            &format!("{what}: timeout_seconds"),
            h.timeout_seconds,
            1..=120,
            "seconds",
        );
        if h.secret.is_some() {
            problems.push(Problem(format!(
                "{what}: secret must not be written in the file; put it in ${} or a file named by secret_file",
                default_webhook_secret_var(&h.name)
            )));
        }
        let var = h.secret_env.clone().unwrap_or_else(|| default_webhook_secret_var(&h.name));
        match secret(&what, "signing secret", &var, h.secret_file.as_deref()) {
            Ok(secret) => endpoints.push(Endpoint {
                name: h.name.clone(),
                url: h.url.clone(),
                secret,
                statuses,
                retry_for: std::time::Duration::from_secs(h.retry_for_seconds),
                timeout: std::time::Duration::from_secs(h.timeout_seconds),
                backoff: Backoff {
                    first: std::time::Duration::from_secs(h.first_retry_seconds),
                    max: std::time::Duration::from_secs(3600)
                        .max(std::time::Duration::from_secs(h.first_retry_seconds)),
                },
            }),
            Err(p) => problems.push(p),
        }
    }
    shared_variables(
        "outbound webhook",
        "signing secret",
        "secret_env",
        hooks
            .iter()
            .map(|h| (h.name.as_str(), h.secret_env.clone(), default_webhook_secret_var(&h.name))),
        problems,
    );
    endpoints
}

/// The default environment variable for a StarShipIT account's API key.
#[must_use]
pub fn default_starshipit_key_var(account: &str) -> String {
    format!("WAYBILL_STARSHIPIT_{}_API_KEY", account.to_ascii_uppercase().replace('-', "_"))
}

/// The default environment variable for an account's secret.
#[must_use]
pub fn default_secret_var(account: &str) -> String {
    format!("WAYBILL_STARMILE_{}_CLIENT_SECRET", account.to_ascii_uppercase().replace('-', "_"))
}

/// Checks a base URL as the adapters will (https, or http to a loopback host) and that it
/// carries no user name or password; a message quotes it only with any credentials in it
/// replaced by `***`.
fn check_url(what: &str, raw: &str, problems: &mut Vec<Problem>) {
    check_url_setting(what, "base_url", raw, problems);
}

/// [`check_url`] for the setting named `key`.
fn check_url_setting(what: &str, key: &str, raw: &str, problems: &mut Vec<Problem>) {
    let shown = waybill_kit::redact(raw);
    if raw.trim() != raw {
        problems
            .push(Problem(format!("{what}: {key} {shown:?} has spaces around it; remove them")));
        return;
    }
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(e) => {
            problems.push(Problem(format!("{what}: {key} {shown:?} is not a URL ({e})")));
            return;
        }
    };
    if let Err(e) = waybill_kit::check_no_credentials(&url) {
        problems.push(Problem(format!("{what}: {key} {shown:?}: {e}")));
        return;
    }
    match waybill_kit::check_scheme(&url) {
        Ok(()) => {}
        Err(waybill_kit::SchemeError::PlainHttpToRemoteHost) => problems.push(Problem(format!(
            "{what}: {key} {shown:?} must use https (plain http is allowed only for localhost sandboxes)"
        ))),
        Err(waybill_kit::SchemeError::Unsupported { scheme }) => problems.push(Problem(format!(
            "{what}: {key} {shown:?} must use https (not {scheme:?})"
        ))),
    }
}

/// Notes a problem when setting `key`'s `value` is outside `range` (`unit` says what it
/// counts).
fn check_range<T>(
    problems: &mut Vec<Problem>,
    key: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) where
    T: PartialOrd + std::fmt::Display + Copy,
{
    if !range.contains(&value) {
        problems.push(Problem(format!(
            "{key} is {value}: use {} to {} ({unit})",
            range.start(),
            range.end()
        )));
    }
}

/// Why `path` cannot name a SQLite file, as a phrase after the setting's name ("store.path
/// is empty", "--db … is a folder").
///
/// # Errors
/// The phrase, when the path is empty, has spaces around it or names a folder.
pub fn check_sqlite_path(path: &Path) -> Result<(), String> {
    let text = path.to_string_lossy();
    if text.trim().is_empty() {
        Err("is empty".into())
    } else if text.trim() != text {
        Err(format!("{text:?} has spaces around it"))
    } else if path.is_dir() {
        Err(format!("{} is a folder, not a file", path.display()))
    } else {
        Ok(())
    }
}

/// Notes every pair of `carrier` accounts that would read their `label` from one
/// environment variable (`a-b` and `a_b` both map to `..._A_B_...`). `accounts` gives each
/// account's name, its `*_env` setting and its default variable; two accounts naming one
/// variable explicitly meant it.
fn shared_variables<'a>(
    carrier: &str,
    label: &str,
    setting: &str,
    accounts: impl Iterator<Item = (&'a str, Option<String>, String)>,
    problems: &mut Vec<Problem>,
) {
    let mut seen: std::collections::HashMap<String, (&'a str, bool)> =
        std::collections::HashMap::new();
    for (name, explicit, default) in accounts {
        let chosen = explicit.is_some();
        let var = explicit.unwrap_or(default);
        match seen.get(&var) {
            Some((first, first_chosen)) if *first != name && !(chosen && *first_chosen) => {
                problems.push(Problem(format!(
                    "{carrier} accounts {first:?} and {name:?} would both read their {label} from ${var}: rename one, or give one its own {setting}"
                )));
            }
            Some(_) => {}
            None => {
                seen.insert(var, (name, chosen));
            }
        }
    }
}

/// A configuration error without the source lines the TOML parser quotes (a line may hold a
/// secret written by mistake, e.g. `client_secret = s3cret` unquoted); the line and column
/// stay, and so does what was expected.
fn without_source(e: &figment::Error) -> String {
    // The file is read as a string (see `Config::load`): the caller names it instead.
    e.to_string()
        .replace("in TOML source string", "")
        // figment's profile, which waybill does not use.
        .replace("for key \"default.", "for key \"")
        .lines()
        .filter(|line| {
            let rest = line.trim_start().trim_start_matches(|c: char| c.is_ascii_digit());
            !rest.trim_start().starts_with('|')
        })
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// True when `name` can name an environment variable (letters, digits and `_`, not
/// starting with a digit).
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn secret(
    what: &str,
    label: &str,
    var: &str,
    file: Option<&Path>,
) -> Result<SecretString, Problem> {
    if let Some(file) = file {
        return match std::fs::read_to_string(file) {
            Ok(s) if !s.trim().is_empty() => Ok(SecretString::from(s.trim().to_string())),
            Ok(_) => Err(Problem(format!("{what}: the {label} file {} is empty", file.display()))),
            Err(e) => Err(Problem(format!(
                "{what}: cannot read the {label} file {}: {e}",
                file.display()
            ))),
        };
    }
    if !is_variable_name(var) {
        return Err(Problem(format!(
            "{what}: {var:?} is not an environment variable name for the {label}: use letters, digits and '_'"
        )));
    }
    match std::env::var(var) {
        Ok(s) if !s.trim().is_empty() => Ok(SecretString::from(s)),
        _ => Err(Problem(format!(
            "{what}: the {label} is missing: set ${var} (or name a file with the *_file setting)"
        ))),
    }
}

/// A listen address: an IP address and port, or a host name and port resolved now (IPv4
/// preferred, so `localhost:8088` answers at 127.0.0.1 as people expect).
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    if text.trim() != text || text.is_empty() {
        return Err("has spaces around it or is empty".into());
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("has no port".into());
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if port.parse::<u16>().is_err() {
        return Err(format!("has a port {port:?} that is not a number from 0 to 65535"));
    }
    let addrs: Vec<_> = text
        .to_socket_addrs()
        .map_err(|e| format!("names a host {host:?} that does not resolve ({e})"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("names a host {host:?} with no address"))
}

#[cfg(test)]
#[allow(clippy::result_large_err, reason = "figment's Jail closures return its own large error")]
mod tests {
    use super::*;
    use figment::Jail;
    use waybill_domain::TrackingStatus;

    #[test]
    fn every_problem_is_reported_at_once() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "waybill.toml",
                r#"
                [[starmile.accounts]]
                name = "syd"
                base_url = "http://api.starmile.io"
                client_id = "abc"
                client_secret = "oops"

                [starshipit]
                base_url = "https://api.starshipit.com"

                [sync]
                page_size = 500
                "#,
            )?;
            let cfg = Config::load(Path::new("waybill.toml"), true).expect("loads");
            let err = cfg.resolve().expect_err("invalid").to_string();
            assert!(err.contains("must use https"), "{err}");
            assert!(err.contains("must not be written in the file"), "{err}");
            assert!(err.contains("$WAYBILL_STARMILE_SYD_CLIENT_SECRET"), "{err}");
            assert!(err.contains("$WAYBILL_STARSHIPIT_API_KEY"), "{err}");
            assert!(err.contains("page_size is 500"), "{err}");
            assert!(!err.contains("oops"), "secrets never echo: {err}");
            Ok(())
        });
    }

    #[test]
    fn secrets_come_from_env_and_overrides_apply() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "waybill.toml",
                "[[starmile.accounts]]\nname = \"syd\"\nbase_url = \"http://127.0.0.1:8080\"\nclient_id = \"abc\"\n",
            )?;
            jail.set_env("WAYBILL_STARMILE_SYD_CLIENT_SECRET", "s3cret");
            jail.set_env("WAYBILL_STORE__PATH", "/tmp/x.db");
            let resolved =
                Config::load(Path::new("waybill.toml"), true).unwrap().resolve().unwrap();
            assert_eq!(resolved.store_path, PathBuf::from("/tmp/x.db"));
            assert_eq!(resolved.accounts[0].client_id, "abc");
            assert!(!format!("{resolved:?}").contains("s3cret"));
            Ok(())
        });
    }

    #[test]
    fn store_url_selects_postgres_from_env_and_is_never_printed() {
        Jail::expect_with(|jail| {
            jail.create_file("waybill.toml", "[store]\npath = \"local.db\"\npool_size = 3\n")?;
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            assert!(matches!(
                cfg.store.location().unwrap(),
                waybill_store::StoreLocation::Sqlite(p) if p == Path::new("local.db")
            ));
            jail.set_env("WAYBILL_STORE__URL", "postgres://waybill:pw-123@db.internal:5433/prod");
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let location = cfg.store.location().unwrap();
            let waybill_store::StoreLocation::Postgres { pool_size, statement_timeout, .. } =
                &location
            else {
                panic!("postgres expected: {location:?}");
            };
            assert_eq!(
                (*pool_size, *statement_timeout),
                (3, Some(std::time::Duration::from_secs(60)))
            );
            assert_eq!(location.describe(), "postgres://db.internal:5433/prod");
            assert!(!format!("{cfg:?}{location:?}").contains("pw-123"));
            jail.set_env("WAYBILL_STORE__URL", "mysql://db/prod");
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.store.location().unwrap_err().to_string();
            assert!(err.contains("store.url is not a postgres:// URL"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn serve_keys_come_from_env_or_a_file_and_are_kept_hashed() {
        Jail::expect_with(|jail| {
            jail.create_file("waybill.toml", "[serve]\nlisten = \"127.0.0.1:0\"\n")?;
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.resolve_serve(None).unwrap_err().to_string();
            assert!(err.contains("$WAYBILL_API_KEYS"), "{err}");
            jail.set_env("WAYBILL_API_KEYS", "alpha-key, beta-key,");
            jail.set_env("WAYBILL_STARSHIPIT_WEBHOOK_SECRET", "hook-secret");
            let s = cfg.resolve_serve(Some("127.0.0.1:9999")).unwrap();
            assert_eq!(s.settings.listen.port(), 9999, "--listen overrides the file");
            assert_eq!(s.settings.api_keys.len(), 2);
            assert!(
                s.settings.api_keys.accepts("beta-key") && !s.settings.api_keys.accepts("gamma")
            );
            let debug = format!("{s:?}");
            assert!(!debug.contains("alpha-key") && !debug.contains("hook-secret"), "{debug}");
            jail.create_file("keys.txt", "from-file\n\n")?;
            jail.create_file(
                "waybill.toml",
                "[serve]\napi_keys_file = \"keys.txt\"\nlisten = \"nowhere\"\n",
            )?;
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.resolve_serve(None).unwrap_err().to_string();
            assert!(err.contains("listen address \"nowhere\" has no port"), "{err}");
            let local = cfg.resolve_serve(Some("localhost:8088")).unwrap();
            assert_eq!(
                local.settings.listen,
                "127.0.0.1:8088".parse().unwrap(),
                "host names resolve"
            );
            for (bad, why) in [
                ("localhost:http", "not a number"),
                (":8088", "has no host"),
                (" 127.0.0.1:8088", "spaces"),
                ("no-such-host.invalid:8088", "does not resolve"),
            ] {
                let err = cfg.resolve_serve(Some(bad)).unwrap_err().to_string();
                assert!(err.contains(why), "{bad}: {err}");
            }
            let s = cfg.resolve_serve(Some("127.0.0.1:1")).unwrap();
            assert!(
                s.settings.api_keys.accepts("from-file")
                    && !s.settings.api_keys.accepts("alpha-key")
            );
            Ok(())
        });
    }

    #[test]
    fn serve_secrets_in_the_file_are_refused_without_echo() {
        Jail::expect_with(|jail| {
            jail.create_file("waybill.toml", "[serve]\napi_keys = [\"leaked-key\"]\n")?;
            jail.set_env("WAYBILL_API_KEYS", "k");
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.resolve_serve(None).unwrap_err().to_string();
            assert!(err.contains("must not be written in the file"), "{err}");
            assert!(!err.contains("leaked-key") && !format!("{cfg:?}").contains("leaked-key"));
            Ok(())
        });
    }

    #[test]
    fn several_starshipit_accounts_share_one_subscription_key() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "waybill.toml",
                "[starshipit]\nbase_url = \"https://api.starshipit.com\"\n\n[[starshipit.accounts]]\nname = \"merchant-a\"\n\n[[starshipit.accounts]]\nname = \"merchant-b\"\napi_key_file = \"b.key\"\n",
            )?;
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.resolve_starshipit().unwrap_err().to_string();
            assert!(err.contains("$WAYBILL_STARSHIPIT_MERCHANT_A_API_KEY"), "{err}");
            assert!(err.contains("b.key"), "{err}");
            assert!(err.contains("$WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY"), "{err}");
            jail.set_env("WAYBILL_STARSHIPIT_MERCHANT_A_API_KEY", "key-a-secret");
            jail.set_env("WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY", "sub-secret");
            jail.create_file("b.key", "key-b-secret\n")?;
            let s = cfg.resolve_starshipit().unwrap().unwrap();
            let names: Vec<&str> = s.accounts.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, ["merchant-a", "merchant-b"]);
            let debug = format!("{s:?}");
            assert!(!debug.contains("key-a-secret") && !debug.contains("key-b-secret"), "{debug}");

            jail.create_file(
                "waybill.toml",
                "[starshipit]\nbase_url = \"https://api.starshipit.com\"\napi_key_env = \"X\"\n\n[[starshipit.accounts]]\nname = \"a\"\napi_key = \"leaked\"\n\n[[starshipit.accounts]]\nname = \"a\"\n",
            )?;
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.resolve_starshipit().unwrap_err().to_string();
            assert!(err.contains("single-account form"), "{err}");
            assert!(err.contains("used twice"), "{err}");
            assert!(
                err.contains("must not be written in the file") && !err.contains("leaked"),
                "{err}"
            );

            // Without [[starshipit.accounts]]: one account, named "default".
            jail.create_file(
                "waybill.toml",
                "[starshipit]\nbase_url = \"https://api.starshipit.com\"\n",
            )?;
            jail.set_env("WAYBILL_STARSHIPIT_API_KEY", "single");
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let s = cfg.resolve_starshipit().unwrap().unwrap();
            assert_eq!(s.accounts.len(), 1);
            assert_eq!(s.accounts[0].name, DEFAULT_STARSHIPIT_ACCOUNT);
            Ok(())
        });
    }

    #[test]
    fn outbound_webhooks_resolve_their_secrets_and_every_problem_is_named() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "waybill.toml",
                r#"
[[outbound_webhooks]]
name = "erp"
url = "https://erp.example.com/hooks/waybill"
statuses = ["delivered", "exception"]
retry_for_seconds = 3600

[[outbound_webhooks]]
name = "shop"
url = "http://127.0.0.1:9000/hooks"
secret_file = "shop.secret"
"#,
            )?;
            jail.create_file("shop.secret", "from-a-file\n")?;
            jail.set_env("WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET", "erp-secret-value");
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let hooks = cfg.resolve_outbound().unwrap();
            assert_eq!(hooks.len(), 2);
            assert_eq!(hooks[0].statuses, [TrackingStatus::Delivered, TrackingStatus::Exception]);
            assert_eq!(hooks[0].retry_for, std::time::Duration::from_secs(3600));
            assert_eq!(hooks[1].timeout, std::time::Duration::from_secs(10), "the default");
            assert!(hooks[1].statuses.is_empty(), "absent: every change");
            use secrecy::ExposeSecret as _;
            assert_eq!(hooks[1].secret.expose_secret(), "from-a-file");
            assert!(!format!("{hooks:?}").contains("erp-secret-value"), "never in Debug");

            jail.create_file(
                "bad.toml",
                r#"
[[outbound_webhooks]]
name = "erp"
url = "http://erp.example.com/hooks"
statuses = ["delivred"]
secret = "written-here"
timeout_seconds = 0

[[outbound_webhooks]]
name = "erp"
url = "https://erp.example.com/other"
"#,
            )?;
            let bad = Config::load(Path::new("bad.toml"), true).unwrap();
            let err = bad.resolve_outbound().unwrap_err().to_string();
            for needle in [
                "url \"http://erp.example.com/hooks\" must use https",
                "\"delivred\", which is not a unified status: use pending,",
                "secret must not be written in the file; put it in $WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET",
                "timeout_seconds is 0: use 1 to 120",
                "used by two [[outbound_webhooks]] tables",
            ] {
                assert!(err.contains(needle), "{needle:?} in {err}");
            }
            assert!(!err.contains("written-here"), "the secret is never echoed: {err}");
            // `config check` checks them too.
            assert!(bad.check().is_err());
            Ok(())
        });
    }

    #[test]
    fn a_short_webhook_token_is_refused() {
        Jail::expect_with(|jail| {
            jail.create_file("waybill.toml", "[serve]\nlisten = \"127.0.0.1:0\"\n")?;
            jail.set_env("WAYBILL_API_KEYS", "k");
            jail.set_env("WAYBILL_STARSHIPIT_WEBHOOK_TOKEN", "short");
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.resolve_serve(None).unwrap_err().to_string();
            assert!(err.contains("at least 16") && !err.contains("short\""), "{err}");
            jail.set_env("WAYBILL_STARSHIPIT_WEBHOOK_TOKEN", "0123456789abcdef0123");
            let s = cfg.resolve_serve(None).unwrap();
            assert!(s.webhook_token.is_some() && s.webhook_secret.is_none());
            assert!(!format!("{s:?}").contains("0123456789abcdef"));
            Ok(())
        });
    }

    #[test]
    fn check_refuses_what_any_command_would_refuse_without_echoing_secrets() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "waybill.toml",
                r#"
                [store]
                path = ""

                [[starmile.accounts]]
                name = "a-b"
                base_url = "https://partner:url-pw-991@api.starmile.io"
                client_id = "x"
                client_secret = 8675309123

                [[starmile.accounts]]
                name = "a_b"
                base_url = "https://api.starmile.io"
                client_id = "y"

                [sync]
                refresh_batch = 0

                [serve]
                body_limit_bytes = 10
                page_requests_per_minute = 0
                header_read_timeout_seconds = 0
                max_connections = 0
                "#,
            )?;
            let cfg = Config::load(Path::new("waybill.toml"), true).expect("loads");
            let err = cfg.check().expect_err("invalid").to_string();
            for says in [
                "user name or password",
                "client_secret must not be written in the file",
                "\"a-b\" and \"a_b\" would both read their client secret from $WAYBILL_STARMILE_A_B_CLIENT_SECRET",
                "store.path is empty",
                "sync.refresh_batch is 0",
                "serve.body_limit_bytes is 10",
                "serve.page_requests_per_minute is 0",
                "serve.header_read_timeout_seconds is 0",
                "serve.max_connections is 0",
            ] {
                assert!(err.contains(says), "{says}: {err}");
            }
            assert!(!err.contains("url-pw-991") && !err.contains("8675309123"), "{err}");
            assert!(!format!("{cfg:?}").contains("8675309123"));
            let sync = cfg.resolve_sync().expect_err("sync refuses it too").to_string();
            assert!(sync.contains("sync.refresh_batch is 0"), "{sync}");
            let serve = cfg.resolve_serve(Some("127.0.0.1:0")).expect_err("serve too").to_string();
            assert!(serve.contains("serve.body_limit_bytes is 10"), "{serve}");

            // Unquoted, a secret is a TOML syntax error: the line it is on is not quoted back.
            jail.create_file(
                "waybill.toml",
                "[[starmile.accounts]]\nclient_secret = s3cret-unquoted\n",
            )?;
            let err = Config::load(Path::new("waybill.toml"), true).unwrap_err().to_string();
            assert!(err.contains("line 2") && !err.contains("s3cret-unquoted"), "{err}");
            jail.set_env("WAYBILL_STORE__URL", "1234567");
            jail.create_file("waybill.toml", "")?;
            let cfg = Config::load(Path::new("waybill.toml"), true).unwrap();
            let err = cfg.store.location().unwrap_err().to_string();
            assert!(err.contains("store.url is not text") && !err.contains("1234567"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_folder_or_unreadable_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::load(dir.path(), true).unwrap_err().to_string();
        assert!(err.contains("is a folder, not a file"), "{err}");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, b"a = \"\xff\"\n").unwrap();
        let err = Config::load(&bad, false).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn a_missing_required_file_says_how_to_fix_it() {
        let err =
            Config::load(Path::new("/nonexistent/waybill.toml"), true).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}
