//! Shared by the real-browser tests: `chromedriver` on a free port, a headless Chromium
//! session at a phone's or a desktop's size, and the screenshot folder. Needs `chromium` and
//! `chromium-driver`; without them the tests fail naming the package, never skip.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::ClientBuilder;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `chromedriver` on a free loopback port, killed on drop.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_driver() -> Driver {
    for program in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(program).exists(),
            "{program} is missing: run `apt-get install chromium chromium-driver` (or `bash .ci/run`), then re-run this test"
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await {
            let v: Value = r.json().await.unwrap_or_default();
            if v["value"]["ready"] == true {
                return driver;
            }
        }
        assert!(Instant::now() < deadline, "chromedriver did not become ready within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact directory");
    dir
}

/// A headless Chromium session: a phone's viewport (390 × 844, mobile emulation) or a
/// desktop's (1280 × 1000), with its own profile folder.
pub async fn session(driver: &Driver, phone: bool, profile: &Path) -> fantoccini::Client {
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut options = json!({"binary": CHROMIUM});
    if phone {
        args.push("--window-size=390,844".into());
        options["mobileEmulation"] =
            json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}});
    } else {
        args.push("--window-size=1280,1000".into());
    }
    options["args"] = json!(args);
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with headless Chromium")
}
