//! The spec's own code samples, pointed at a running sandbox with its keys filled in, get
//! back the spec's sample response for `0000000000`, and "not found" for a number no account
//! shipped.
//!
//! The Python 3 sample runs unchanged except for its connection line: the spec uses
//! `http.client.HTTPSConnection('api.starshipit.com')`; the sandbox serves plain HTTP on
//! loopback, so the test uses `http.client.HTTPConnection('127.0.0.1:PORT')`.
#![allow(clippy::unwrap_used)]

mod support;

use support::fixture;
use waybill_starshipit::{
    Error,
    sandbox::{Sandbox, SandboxConfig},
};

/// The spec's "Python 3.2" sample, verbatim but for the connection line and the values.
const PYTHON_SAMPLE: &str = r#"
import http.client, urllib.request, urllib.parse, urllib.error, base64

headers = {
    # Request headers
    'StarShipIT-Api-Key': '{api_key}',
    'Ocp-Apim-Subscription-Key': '{subscription_key}',
}

params = urllib.parse.urlencode({
    # Request parameters
    'tracking_number': '{tracking_number}',
    'order_number': '{order_number}',
})

try:
    conn = http.client.HTTPConnection('{host}')
    conn.request("GET", "/api/track?%s" % params, "{body}", headers)
    response = conn.getresponse()
    data = response.read()
    print(data)
    conn.close()
except Exception as e:
    print("[Errno {0}] {1}".format(e.errno, e.strerror))
"#;

/// Runs the Python 3 sample against `s` asking for `tracking_number` and `order_number`, and
/// returns the HTTP body it printed.
async fn run_python_sample(s: &Sandbox, tracking_number: &str, order_number: &str) -> Vec<u8> {
    let script = PYTHON_SAMPLE
        .replace("{api_key}", s.api_key())
        .replace("{subscription_key}", s.developer_subscription_key())
        .replace("{host}", &s.local_addr().to_string())
        .replace("{tracking_number}", tracking_number)
        .replace("{order_number}", order_number);
    // The sample needs only the standard library (`http.client`, `urllib`): no pip install.
    let output = match tokio::process::Command::new("python3").arg("-c").arg(&script).output().await
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!(
                "python3 is required by this test: install python3 (e.g. `apt-get install python3`)"
            )
        }
        Err(e) => panic!("could not run python3: {e}"),
    };
    assert!(output.status.success(), "python3 failed: {}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    // `print(data)` prints the bytes' repr: b'{...}'.
    python_bytes_literal(printed.trim()).unwrap_or_else(|| panic!("unexpected output: {printed}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python3_sample_gets_the_spec_sample() {
    let s = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let json = run_python_sample(&s, "0000000000", "17062").await;
    let got: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let want: serde_json::Value = serde_json::from_str(&fixture("track-sample-spec.json")).unwrap();
    assert_eq!(got, want);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_number_is_not_found_through_the_python3_sample_and_the_client() {
    let s = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let json = run_python_sample(&s, "NOPE123", "NOPE-ORDER").await;
    let got: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(got["success"], false, "{got}");
    let message = got["errors"][0]["message"].as_str().unwrap_or_default();
    assert_eq!(message, "Tracking details not found", "{got}");
    assert!(got.get("results").is_none(), "no shipment invented: {got}");

    // The client reads the same answer as not found (the domain port's kind too).
    let client =
        support::fast(&s.base_url(), s.api_key(), s.developer_subscription_key()).build().unwrap();
    let e = client.track(&support::by_number("NOPE123")).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { message } if message.contains("NOPE123")), "{e}");
    let port: &dyn waybill_domain::Tracker = &client;
    let e = port.track(&support::by_number("NOPE123")).await.unwrap_err();
    assert_eq!(e.kind(), "not_found");
    s.shutdown().await;
}

#[tokio::test]
async fn the_curl_sample_request_gets_the_spec_sample() {
    let s = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // curl -v -X GET "…/api/track?tracking_number={string}&order_number={string}"
    //   -H "StarShipIT-Api-Key: " -H "Ocp-Apim-Subscription-Key: {subscription key}"
    //   --data-ascii "{body}"
    let url = format!("{}/api/track?tracking_number=0000000000&order_number=17062", s.base_url());
    let response = reqwest::Client::new()
        .get(&url)
        .header("StarShipIT-Api-Key", s.api_key())
        .header("Ocp-Apim-Subscription-Key", s.developer_subscription_key())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("{body}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let got: serde_json::Value = response.json().await.unwrap();
    let want: serde_json::Value = serde_json::from_str(&fixture("track-sample-spec.json")).unwrap();
    assert_eq!(got, want);
    s.shutdown().await;
}

/// Decodes a Python `bytes` repr (`b'…'` or `b"…"`).
fn python_bytes_literal(s: &str) -> Option<Vec<u8>> {
    let inner = s.strip_prefix("b'").and_then(|r| r.strip_suffix('\''));
    let inner = inner.or_else(|| s.strip_prefix("b\"").and_then(|r| r.strip_suffix('"')))?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.extend_from_slice(c.to_string().as_bytes());
            continue;
        }
        match chars.next()? {
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).ok()?);
            }
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
    }
    Some(out)
}
