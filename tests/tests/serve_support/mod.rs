//! Shared by the `waybill serve` tests: start the real binary's `serve` on a free loopback
//! port against a [`TestApp`], read the address it prints, and stop it with SIGTERM.

#![allow(dead_code, reason = "each test crate uses a different part of this module")]

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, ChildStdout, Stdio},
    time::{Duration, Instant},
};

use waybill_e2e::TestApp;

/// The API key every test server accepts.
pub const API_KEY: &str = "test-key-0123456789";
/// A second accepted key.
pub const OTHER_KEY: &str = "second-key-abcdef";
/// The StarShipIT webhook secret test servers share with the tests.
pub const WEBHOOK_SECRET: &str = "whsec-test-secret";

/// A running `waybill serve`.
pub struct Server {
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// An HTTP client.
    pub http: reqwest::Client,
}

/// Starts `waybill serve --listen 127.0.0.1:0` with [`API_KEY`], [`OTHER_KEY`] and the
/// webhook secret configured, plus `env` (e.g. `WAYBILL_SERVE__SYNC=false`).
pub async fn start(app: &TestApp, env: &[(&str, &str)]) -> Server {
    start_with_stderr(app, env, Stdio::inherit()).await
}

/// [`start`], with the server's stderr (its log) sent to `stderr`, e.g. a file.
pub async fn start_with_stderr(app: &TestApp, env: &[(&str, &str)], stderr: Stdio) -> Server {
    let mut cmd = app.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env("WAYBILL_API_KEYS", format!("{API_KEY}, {OTHER_KEY}"))
        .env("WAYBILL_STARSHIPIT_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("WAYBILL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(stderr);
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().expect("waybill serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (stdout, line) = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        (reader, line)
    })
    .await
    .expect("join");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("serve printed {line:?} instead of its address"))
        .to_owned();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
    Server { child: Some(child), stdout: Some(stdout), base, http }
}

impl Server {
    /// The absolute URL of `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with the API key.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(API_KEY).send().await.expect("GET answers")
    }

    /// GET with the API key, expecting 200 and JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// POST JSON with the API key.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(API_KEY)
            .json(body)
            .send()
            .await
            .expect("POST answers")
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// Polls `check` every 100 ms until it gives a value; panics after `limit` naming `what`.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, limit: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            assert!(Instant::now() < deadline, "gave up waiting for {what} after {limit:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for the process: its exit code and everything else it printed.
    pub async fn terminate(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().expect("running");
        let mut stdout = self.stdout.take().expect("stdout");
        tokio::task::spawn_blocking(move || {
            let status = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success(), "kill -TERM failed");
            let exit = child.wait().expect("serve exits");
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            (exit.code(), rest)
        })
        .await
        .expect("join")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The value of the first sample of `metric` whose line contains every one of `labels`.
#[must_use]
pub fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .filter(|l| labels.iter().all(|x| l.contains(x)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}
