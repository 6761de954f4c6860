//! The end-to-end harness: [`spawn_app`] starts both sandboxes on ephemeral loopback ports,
//! writes a configuration pointing at them, and runs the real `waybill` binary against it with
//! a temporary store — so a new end-to-end test is a few lines.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use waybill_starmile::sandbox as sm;
use waybill_starshipit::sandbox as ss;

/// A fixed simulated epoch, so times in snapshots never change.
pub const EPOCH: &str = "2026-06-20T00:00:00Z";

/// Options for [`spawn_app`].
pub struct AppOptions {
    /// The Starmile sandbox's configuration (its `epoch` defaults to [`EPOCH`]).
    pub starmile: sm::SandboxConfig,
    /// The StarShipIT sandbox's configuration.
    pub starshipit: ss::SandboxConfig,
}

impl Default for AppOptions {
    fn default() -> Self {
        let epoch: jiff::Timestamp = EPOCH.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Self {
            starmile: sm::SandboxConfig { seed: 42, epoch, ..sm::SandboxConfig::default() },
            // Every merchant number the tests book at Starmile has a first leg (as if the
            // merchant had shipped it through StarShipIT); unknown numbers are otherwise
            // not found.
            starshipit: ss::SandboxConfig {
                seed: 42,
                epoch,
                plan_unknown: true,
                ..ss::SandboxConfig::default()
            },
        }
    }
}

/// A running test deployment: both sandboxes, a config file, a store path, and the binary.
pub struct TestApp {
    /// The Starmile sandbox.
    pub starmile: sm::Sandbox,
    /// The StarShipIT sandbox.
    pub starshipit: ss::Sandbox,
    /// The temporary directory holding config and store.
    pub dir: tempfile::TempDir,
    /// The configuration file.
    pub config: PathBuf,
    /// The SQLite store.
    pub db: PathBuf,
    bin: PathBuf,
    env: Vec<(String, String)>,
}

/// Starts the sandboxes and prepares a configuration for the binary at `bin`
/// (pass `env!("CARGO_BIN_EXE_waybill-e2e")`).
///
/// # Panics
/// When a sandbox cannot start (a test failure).
pub async fn spawn_app(bin: &str, options: AppOptions) -> TestApp {
    let starmile = sm::Sandbox::start(options.starmile).await.expect("starmile sandbox starts");
    let starshipit =
        ss::Sandbox::start(options.starshipit).await.expect("starshipit sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("waybill.db");
    let config = dir.path().join("waybill.toml");
    let partner = starmile.partners()[0].clone();
    std::fs::write(
        &config,
        format!(
            "[store]\npath = {db:?}\n\n[[starmile.accounts]]\nname = \"main\"\nbase_url = {:?}\nclient_id = {:?}\n\n[starshipit]\nbase_url = {:?}\nrate_limit_per_second = 20\n\n[sync]\npoll_interval_seconds = 1\n",
            starmile.base_url(),
            partner.client_id,
            starshipit.base_url(),
        ),
    )
    .expect("config written");
    let env = vec![
        ("WAYBILL_STARMILE_MAIN_CLIENT_SECRET".into(), partner.client_secret.clone()),
        ("WAYBILL_STARSHIPIT_API_KEY".into(), starshipit.api_key().to_string()),
        (
            "WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY".into(),
            starshipit.production_subscription_key().to_string(),
        ),
    ];
    TestApp { starmile, starshipit, dir, config, db, bin: PathBuf::from(bin), env }
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl TestApp {
    /// The binary with `--config` set and the secrets in its environment (and no other
    /// `WAYBILL_` variables leaking in from the test's environment).
    #[must_use]
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WAYBILL_")) {
            cmd.env_remove(k);
        }
        cmd.arg("--config").arg(&self.config).args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary to completion (off the async runtime's threads).
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("binary runs").into())
            .await
            .expect("join")
    }

    /// Writes a file into the app's directory and returns its path.
    #[must_use]
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("file written");
        p
    }

    /// Opens the app's store (read side) for assertions.
    pub async fn store(&self) -> waybill_store::SqliteStore {
        waybill_store::SqliteStore::open(&self.db).await.expect("store opens")
    }

    /// The path of the temp directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The API key an in-process server accepts.
pub const IN_PROCESS_API_KEY: &str = "in-process-key-0123456789";

/// The webhook secret an in-process server checks StarShipIT deliveries with.
pub const IN_PROCESS_WEBHOOK_SECRET: &str = "whsec-in-process";

/// The StarShipIT webhook URL token of [`TestApp::serve_in_process`]
/// (`/webhooks/starshipit/{token}`).
pub const IN_PROCESS_WEBHOOK_TOKEN: &str = "hooktoken-in-process-0123";

/// A `waybill serve` running inside the test process (zero2prod's `spawn_app`): built through
/// [`waybill_server::bind`] with the same wiring as the binary, stopped on drop.
pub struct InProcessServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), waybill_server::ServerError>>>,
}

impl InProcessServer {
    /// The absolute URL of `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully and waits for it (and its sync) to finish.
    ///
    /// # Panics
    /// When the server failed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran");
        }
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// Starts the server in this process on a free loopback port, over the app's store and
    /// sandboxes, with background sync when `sync`.
    ///
    /// # Panics
    /// When the store cannot be opened or the socket bound (a test failure).
    pub async fn serve_in_process(&self, sync: bool) -> InProcessServer {
        use std::sync::Arc;
        use waybill::config::{ResolvedAccount, ResolvedServe, ResolvedStarshipit};
        let partner = self.starmile.partners().first().cloned().expect("a sandbox partner");
        // What `waybill serve` would resolve from the test configuration, without going
        // through this process's environment.
        let account = ResolvedAccount {
            name: "main".to_owned(),
            base_url: self.starmile.base_url(),
            client_id: partner.client_id.clone(),
            client_secret: secrecy::SecretString::from(partner.client_secret.clone()),
        };
        let tracking = ResolvedStarshipit {
            base_url: self.starshipit.base_url(),
            rate_limit_per_second: 20,
            accounts: vec![waybill::config::ResolvedStarshipitAccount {
                name: waybill::config::DEFAULT_STARSHIPIT_ACCOUNT.to_owned(),
                api_key: secrecy::SecretString::from(self.starshipit.api_key().to_string()),
            }],
            subscription_key: secrecy::SecretString::from(
                self.starshipit.production_subscription_key().to_string(),
            ),
            timezone: None,
        };
        let per_minute = std::num::NonZeroU32::new(6000).expect("nonzero");
        let serve = ResolvedServe {
            settings: waybill_server::Settings {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                api_keys: waybill_server::auth::ApiKeys::from_plaintext([IN_PROCESS_API_KEY]),
                request_timeout: std::time::Duration::from_secs(30),
                body_limit_bytes: 256 * 1024,
                page_requests_per_minute: per_minute,
                page_burst: per_minute,
                sync_stalled_after: std::time::Duration::from_secs(60),
                header_read_timeout: std::time::Duration::from_secs(10),
                max_connections: 4096,
            },
            webhook_secret: Some(secrecy::SecretString::from(IN_PROCESS_WEBHOOK_SECRET.to_owned())),
            webhook_token: Some(secrecy::SecretString::from(IN_PROCESS_WEBHOOK_TOKEN.to_owned())),
            sync,
        };
        let clients =
            waybill::carriers::Clients::build(&[account], Some(&tracking)).expect("clients");
        let options = waybill_engine::sync::SyncOptions {
            poll_interval: std::time::Duration::from_millis(200),
            ..waybill_engine::sync::SyncOptions::default()
        };
        let waybill::cmd::serve::Assembled { deps, settings, .. } = waybill::cmd::serve::wire(
            &clients,
            serve,
            options,
            Arc::new(waybill_store::AnyStore::Sqlite(self.store().await)),
        );
        let bound = waybill_server::bind(deps, settings).await.expect("server binds");
        let base = format!("http://{}", bound.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(bound.run(async move {
            let _ = rx.await;
        }));
        InProcessServer { base, stop: Some(tx), task: Some(task) }
    }
}

/// A new, empty database in the PostgreSQL server `$WAYBILL_TEST_DATABASE_URL` names
/// (`cargo xtask ci` starts a throwaway one), returned as a URL. Tests never skip: without
/// the variable this panics saying how to get a server.
///
/// # Panics
/// When the variable is unset or the server refuses to create the database.
pub async fn fresh_database() -> String {
    use sqlx::postgres::PgConnectOptions;
    let url = std::env::var("WAYBILL_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "WAYBILL_TEST_DATABASE_URL is not set: run the tests through `cargo xtask ci` (it starts a throwaway PostgreSQL), or `cargo xtask test-db` and export the URL it prints"
        )
    });
    let options: PgConnectOptions =
        url.parse().expect("WAYBILL_TEST_DATABASE_URL is a postgres:// URL");
    let name = format!("waybill_e2e_{}_{:08x}", std::process::id(), rand_u32());
    let admin =
        sqlx::PgPool::connect_with(options).await.expect("the test PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("test database created");
    admin.close().await;
    let mut parsed = url::Url::parse(&url).expect("a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    (h.finish() & 0xffff_ffff) as u32
}
