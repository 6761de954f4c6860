//! A throwaway PostgreSQL for the tests: found on the machine (`PATH` or Debian's
//! `/usr/lib/postgresql/<version>/bin`), installed from Debian's `postgresql` package when
//! missing, and started with `initdb`/`pg_ctl` in a temporary directory on a free loopback
//! port. Tests read its URL from `WAYBILL_TEST_DATABASE_URL`; when that variable is already
//! set, nothing is started.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context as _, bail};

/// The variable the tests read.
pub(crate) const URL_VAR: &str = "WAYBILL_TEST_DATABASE_URL";

/// The user initdb runs as when xtask runs as root (PostgreSQL refuses to run as root; the
/// Debian package creates this user).
const SERVER_USER: &str = "postgres";

/// A running throwaway cluster; stopped and deleted on drop (unless kept).
pub(crate) struct Cluster {
    /// `postgres://waybill@127.0.0.1:PORT/postgres`
    pub url: String,
    dir: PathBuf,
    bin: PathBuf,
    as_user: Option<&'static str>,
    keep: bool,
}

impl Cluster {
    /// Starts a cluster (installing the server first when it is missing and xtask may).
    pub(crate) fn start() -> anyhow::Result<Cluster> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => {
                install()?;
                find_bin().context("postgresql was installed but initdb was not found")?
            }
        };
        let root = crate::workspace::is_root();
        let as_user = root.then_some(SERVER_USER);
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("waybill-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        if root {
            // The server user must own its data directory.
            run(None, "chown", &[&format!("{SERVER_USER}:"), &dir.to_string_lossy()])?;
        }
        // Built first so a failure below stops and deletes what was started.
        let mut cluster = Cluster { url: String::new(), dir, bin, as_user, keep: false };
        let data = cluster.dir.join("data");
        let data = data.to_string_lossy();
        let initdb = cluster.bin.join("initdb");
        run(
            as_user,
            &initdb.to_string_lossy(),
            &["-D", &data, "-A", "trust", "-U", "waybill", "-E", "UTF8", "--no-sync"],
        )?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            cluster.dir.display()
        );
        let log = cluster.dir.join("server.log");
        let pg_ctl = cluster.bin.join("pg_ctl");
        run(
            as_user,
            &pg_ctl.to_string_lossy(),
            &["-D", &data, "-o", &options, "-l", &log.to_string_lossy(), "-w", "start"],
        )?;
        cluster.url = format!("postgres://waybill@127.0.0.1:{port}/postgres");
        Ok(cluster)
    }

    /// Leaves the cluster running after xtask exits (`cargo xtask test-db`).
    pub(crate) fn keep(mut self) -> (String, String) {
        self.keep = true;
        let stop = format!(
            "{} -D {} stop",
            self.bin.join("pg_ctl").display(),
            self.dir.join("data").display()
        );
        let stop = match self.as_user {
            Some(user) => format!("runuser -u {user} -- {stop}"),
            None => stop,
        };
        (self.url.clone(), stop)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = run(
            self.as_user,
            &pg_ctl.to_string_lossy(),
            &["-D", &data.to_string_lossy(), "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `cargo xtask test-db`: starts a cluster and leaves it running, printing how to use and
/// stop it.
pub(crate) fn serve_for_tests() -> anyhow::Result<()> {
    let (url, stop) = Cluster::start()?.keep();
    println!("export {URL_VAR}={url}");
    eprintln!("xtask: PostgreSQL is running; stop it with `{stop}`");
    Ok(())
}

/// The directory holding `initdb` and `pg_ctl`: next to them on `PATH`, else the newest
/// Debian install under `/usr/lib/postgresql`.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

/// Installs Debian's `postgresql` when running as root with apt-get; otherwise fails with
/// the command to run (tests never silently lack their database).
fn install() -> anyhow::Result<()> {
    eprintln!(
        "xtask: PostgreSQL is missing (the store's PostgreSQL backend is tested on a real server)"
    );
    if crate::workspace::on_path("apt-get") && crate::workspace::is_root() {
        let root = Path::new("/");
        crate::workspace::run_cmd(root, "apt-get", &["update", "-qq"])?;
        return crate::workspace::run_cmd(
            root,
            "apt-get",
            &["install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        );
    }
    bail!(
        "install PostgreSQL first (`apt-get install postgresql` on Debian), or point {URL_VAR} at a server the tests may create databases and schemas in"
    )
}

/// Runs a program (as `user` through `runuser` when given), failing with its output.
fn run(user: Option<&str>, program: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut cmd = match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--", program]);
            c
        }
        None => Command::new(program),
    };
    // The server must not inherit the caller's directory (it may be unreadable to `user`).
    let output = cmd
        .args(args)
        .current_dir("/")
        .output()
        .with_context(|| format!("could not start `{program}`"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed ({}): {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
