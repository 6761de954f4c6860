//! The load generator: `wrk` (Debian's package) with a Lua script, and a parser of its
//! report (requests/s, latency percentiles, non-2xx answers, socket errors).

use std::{path::Path, time::Duration};

use anyhow::{Context, bail};

/// What one `wrk` run measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WrkReport {
    /// Completed requests.
    pub requests: f64,
    /// Requests per second.
    pub per_second: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Answers outside 2xx/3xx.
    pub non_2xx: f64,
    /// Connect, read, write errors and timeouts, summed.
    pub socket_errors: f64,
}

/// Whether `wrk` can be started.
pub(crate) fn available() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Runs `wrk -t2 -c{connections} -d{duration} --latency -s script url [-- script_args]`,
/// bounded by its own duration (plus a timeout guard).
pub(crate) async fn run(
    url: &str,
    script: &Path,
    connections: usize,
    duration: Duration,
    script_args: &[String],
) -> anyhow::Result<WrkReport> {
    let mut command = tokio::process::Command::new("wrk");
    command
        .arg("-t2")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--timeout")
        .arg("5s")
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(url);
    if !script_args.is_empty() {
        command.arg("--").args(script_args);
    }
    command.kill_on_drop(true);
    let guard = duration + Duration::from_secs(30);
    let output = tokio::time::timeout(guard, command.output())
        .await
        .context("wrk did not finish in time")?
        .context("cannot start wrk: install it with `apt-get install -y wrk`")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    eprintln!("{}", text.trim_end());
    parse(&text)
}

/// Parses wrk's report.
pub(crate) fn parse(text: &str) -> anyhow::Result<WrkReport> {
    let mut report = WrkReport::default();
    let mut seen_rate = false;
    for line in text.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", v] => {
                report.per_second = v.parse()?;
                seen_rate = true;
            }
            ["50%", v] => report.p50_ms = millis(v)?,
            ["99%", v] => report.p99_ms = millis(v)?,
            [n, "requests", "in", ..] => report.requests = n.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => report.non_2xx = n.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                report.socket_errors =
                    rest.iter().filter_map(|f| f.trim_end_matches(',').parse::<f64>().ok()).sum();
            }
            _ => {}
        }
    }
    if !seen_rate {
        bail!("wrk printed no Requests/sec line:\n{text}");
    }
    Ok(report)
}

fn millis(v: &str) -> anyhow::Result<f64> {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        bail!("unreadable latency {v:?}")
    };
    Ok(number.parse::<f64>()? * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let text = "Running 3s test @ http://127.0.0.1:1/\n  2 threads and 16 connections\n  Latency Distribution\n     50%  812.00us\n     75%    1.20ms\n     90%    2.00ms\n     99%    1.50s\n  1234 requests in 3.00s, 1.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\nRequests/sec:    411.33\nTransfer/sec:    341.00KB\n";
        let r = parse(text).unwrap();
        assert_eq!(r.requests, 1234.0);
        assert_eq!(r.per_second, 411.33);
        assert!((r.p50_ms - 0.812).abs() < 1e-9);
        assert_eq!(r.p99_ms, 1500.0);
        assert_eq!((r.non_2xx, r.socket_errors), (7.0, 3.0));
    }
}
