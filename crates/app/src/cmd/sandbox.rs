//! `waybill sandbox`: both emulators standalone on loopback, printing their URLs, their
//! credentials and a ready `waybill.toml` to point waybill (or your own client) at them.
//! Flags switch on what the emulators can do beyond the happy path, so an integrator can test
//! their own client too: injected faults (429, 5xx, an HTML 502, dropped connections,
//! commit-then-time-out, latency), preloaded orders, an undecodable pool row, and the
//! StarShipIT answer shapes. Each sandbox serves its counters and the faults in force at
//! `GET /_sandbox/counters`.

use std::time::Duration;

use waybill_starmile::sandbox as starmile_sandbox;
use waybill_starshipit::sandbox as starshipit_sandbox;

use crate::{cmd::shutdown_signal, context::Context, exit::Failure, output::Output};

/// `waybill sandbox` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Port of the Starmile sandbox (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub starmile_port: u16,
    /// Port of the StarShipIT sandbox (0: any free port).
    #[arg(long, default_value_t = 8081)]
    pub starshipit_port: u16,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// The IANA zone StarShipIT's `/track` wall-clock times are written in (real answers
    /// carry the carrier's local time without an offset).
    #[arg(long, default_value = starshipit_sandbox::DEFAULT_WALL_CLOCK_ZONE, value_name = "ZONE")]
    pub starshipit_zone: String,
    /// StarShipIT: answer `results` as an array instead of an object.
    #[arg(long)]
    pub starshipit_results_array: bool,
    /// StarShipIT: answer "not found" as HTTP 404 instead of 200 with `success:false`.
    #[arg(long)]
    pub starshipit_not_found_404: bool,
    /// StarShipIT: plan a first leg for any unknown tracking number instead of "not found".
    #[arg(long)]
    pub starshipit_plan_unknown: bool,
    /// StarShipIT: merchant accounts (one API key each) under the subscription keys.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub starshipit_accounts: usize,
    /// StarShipIT: share of requests answered 429 (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starshipit_rate_429: f64,
    /// StarShipIT: share of requests answered 500 "General Exception" (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starshipit_rate_500: f64,
    /// StarShipIT: share of requests answered with an HTML 502 (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starshipit_rate_502: f64,
    /// StarShipIT: milliseconds added before every answer.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub starshipit_latency_ms: u64,
    /// Seed of both sandboxes' simulated choices (lifecycles, fault draws): the same seed
    /// answers the same way.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// Starmile: orders created at start, their lifecycles complete, so the status pool has
    /// rows at once (about 6 per order).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub preload_orders: usize,
    /// Starmile: share of `/api/v1` requests answered 429 with `Retry-After` (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starmile_rate_429: f64,
    /// Starmile: share of `/api/v1` requests answered 503 (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starmile_rate_503: f64,
    /// Starmile: share of `/api/v1` requests answered by a gateway's HTML 502 page (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starmile_rate_502: f64,
    /// Starmile: share of `/api/v1` requests whose connection is dropped after the headers,
    /// unprocessed (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starmile_drop_rate: f64,
    /// Starmile: share of new orders that are created and then answered only after 60 s, so
    /// the client times out and must replay (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true)]
    pub starmile_commit_then_timeout_rate: f64,
    /// Starmile: milliseconds added to every `/api/v1` request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub starmile_latency_ms: u64,
    /// Starmile: serve the pool row at this cursor undecodable (an empty `occurred_at`, as
    /// one real row was); repeat for several.
    #[arg(long = "starmile-undecodable-row", value_name = "CURSOR")]
    pub starmile_undecodable_rows: Vec<u64>,
}

/// The longest latency a flag may add (a minute: beyond it every client times out anyway).
const MAX_LATENCY_MS: u64 = 60_000;

/// The most orders `--preload-orders` creates (a million orders take about a minute and a
/// few GB of memory).
const MAX_PRELOAD: usize = 1_000_000;

impl Args {
    /// Refuses values the sandboxes cannot honour, naming the flag.
    fn check(&self) -> Result<(), Failure> {
        // The demo's rule: finite, above 0, and small enough that the simulated clock cannot
        // overflow.
        crate::cmd::demo::check_speed(self.speed)?;
        let starmile = [
            ("--starmile-rate-429", self.starmile_rate_429),
            ("--starmile-rate-503", self.starmile_rate_503),
            ("--starmile-rate-502", self.starmile_rate_502),
            ("--starmile-drop-rate", self.starmile_drop_rate),
        ];
        let starshipit = [
            ("--starshipit-rate-429", self.starshipit_rate_429),
            ("--starshipit-rate-500", self.starshipit_rate_500),
            ("--starshipit-rate-502", self.starshipit_rate_502),
        ];
        let commit =
            [("--starmile-commit-then-timeout-rate", self.starmile_commit_then_timeout_rate)];
        for (flag, rate) in starmile.iter().chain(&starshipit).chain(&commit) {
            if !(0.0..=1.0).contains(rate) {
                return Err(Failure::usage(format!(
                    "{flag} {rate} is not a share between 0 and 1 (e.g. 0.05 for 5 %)"
                )));
            }
        }
        // One draw per request picks at most one fault: the shares of one sandbox add up.
        for group in [&starmile[..], &starshipit[..]] {
            let sum: f64 = group.iter().map(|(_, r)| r).sum();
            if sum > 1.0 + 1e-9 {
                let flags: Vec<_> = group.iter().map(|(f, _)| *f).collect();
                return Err(Failure::usage(format!(
                    "{} add up to {sum}, more than every request: keep their sum at most 1",
                    flags.join(" + ")
                )));
            }
        }
        for (flag, ms) in [
            ("--starmile-latency-ms", self.starmile_latency_ms),
            ("--starshipit-latency-ms", self.starshipit_latency_ms),
        ] {
            if ms > MAX_LATENCY_MS {
                return Err(Failure::usage(format!(
                    "{flag} {ms} is more than {MAX_LATENCY_MS} ms (a minute)"
                )));
            }
        }
        if self.starshipit_accounts == 0 {
            return Err(Failure::usage("--starshipit-accounts must be at least 1"));
        }
        if self.preload_orders > MAX_PRELOAD {
            return Err(Failure::usage(format!(
                "--preload-orders {} is more than {MAX_PRELOAD} orders",
                self.preload_orders
            )));
        }
        if self.starmile_undecodable_rows.contains(&0) {
            return Err(Failure::usage(
                "--starmile-undecodable-row 0 names no row: pool cursors start at 1",
            ));
        }
        Ok(())
    }

    fn starmile_faults(&self) -> starmile_sandbox::Faults {
        starmile_sandbox::Faults {
            rate_429: self.starmile_rate_429,
            rate_503: self.starmile_rate_503,
            rate_html_502: self.starmile_rate_502,
            drop_rate: self.starmile_drop_rate,
            commit_then_timeout_rate: self.starmile_commit_then_timeout_rate,
            latency: Duration::from_millis(self.starmile_latency_ms),
            ..starmile_sandbox::Faults::default()
        }
    }

    fn starshipit_faults(&self) -> starshipit_sandbox::Faults {
        starshipit_sandbox::Faults {
            rate_429: self.starshipit_rate_429,
            rate_500: self.starshipit_rate_500,
            rate_html_502: self.starshipit_rate_502,
            latency: Duration::from_millis(self.starshipit_latency_ms),
        }
    }
}

/// Runs both sandboxes until Ctrl-C, printing their URLs and credentials.
///
/// # Errors
/// A [`Failure`] when a port is taken.
pub async fn run(_ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    args.check()?;
    let epoch = jiff::Timestamp::now();
    let addr = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let sm = starmile_sandbox::Sandbox::start_on(
        addr(args.starmile_port),
        starmile_sandbox::SandboxConfig {
            seed: args.seed,
            time_scale: args.speed,
            epoch,
            faults: args.starmile_faults(),
            preload_orders: args.preload_orders,
            undecodable_rows: args.starmile_undecodable_rows.iter().copied().collect(),
            ..starmile_sandbox::SandboxConfig::default()
        },
    )
    .await
    .map_err(|e| {
        Failure::config(format!(
            "cannot start the Starmile sandbox on port {}: {e}",
            args.starmile_port
        ))
    })?;
    let ss = starshipit_sandbox::Sandbox::start_on(
        addr(args.starshipit_port),
        starshipit_sandbox::SandboxConfig {
            seed: args.seed,
            time_scale: args.speed,
            epoch,
            wall_clock_zone: args.starshipit_zone.clone(),
            results_as_array: args.starshipit_results_array,
            not_found_as_404: args.starshipit_not_found_404,
            plan_unknown: args.starshipit_plan_unknown,
            accounts: args.starshipit_accounts,
            faults: args.starshipit_faults(),
            ..starshipit_sandbox::SandboxConfig::default()
        },
    )
    .await
    .map_err(|e| {
        Failure::config(format!(
            "cannot start the StarShipIT sandbox on port {}: {e}",
            args.starshipit_port
        ))
    })?;
    let partner = sm.partners().first().cloned();
    let info = serde_json::json!({
        "starmile": {
            "base_url": sm.base_url(),
            "counters_url": sm.counters_url(),
            "client_id": partner.as_ref().map(|p| p.client_id.clone()),
            "client_secret": partner.as_ref().map(|p| p.client_secret.clone()),
        },
        "starshipit": {
            "base_url": ss.base_url(),
            "counters_url": ss.counters_url(),
            "api_key": ss.api_key(),
            "api_keys": ss.api_keys(),
            "developer_subscription_key": ss.developer_subscription_key(),
            "production_subscription_key": ss.production_subscription_key(),
        },
    });
    if out.json {
        out.json_value(&info);
    } else {
        out.line(format!("Starmile sandbox    {}", sm.base_url()));
        if let Some(p) = &partner {
            out.line(format!("  client_id         {}", p.client_id));
            out.line(format!("  client_secret     {}  (sandbox only)", p.client_secret));
        }
        out.line(format!("  counters          {}", sm.counters_url()));
        out.line(format!("StarShipIT sandbox  {}", ss.base_url()));
        out.line(format!("  api_key           {}", ss.api_key()));
        out.line(format!(
            "  subscription key  {} (developer, 2/s) · {} (production, 20/s)",
            ss.developer_subscription_key(),
            ss.production_subscription_key()
        ));
        out.line(format!("  counters          {}", ss.counters_url()));
        if let Some(p) = &partner {
            out.line(String::new());
            out.line("point waybill at them: save this as waybill.toml and export the secrets");
            out.line(String::new());
            let keys = ss.api_keys();
            // One account: the single-account form; several: one table each.
            let tables: String = if keys.len() == 1 {
                String::new()
            } else {
                (1..=keys.len())
                    .map(|i| format!("\n[[starshipit.accounts]]\nname = \"merchant-{i}\"\n"))
                    .collect()
            };
            out.line(format!(
                "[[starmile.accounts]]\nname = \"sandbox\"\nbase_url = \"{}\"\nclient_id = \"{}\"\n\n[starshipit]\nbase_url = \"{}\"\nrate_limit_per_second = 2\n{tables}",
                sm.base_url(),
                p.client_id,
                ss.base_url()
            ));
            out.line(format!("export WAYBILL_STARMILE_SANDBOX_CLIENT_SECRET={}", p.client_secret));
            if keys.len() == 1 {
                out.line(format!("export WAYBILL_STARSHIPIT_API_KEY={}", ss.api_key()));
            } else {
                for (i, key) in keys.iter().enumerate() {
                    out.line(format!("export WAYBILL_STARSHIPIT_MERCHANT_{}_API_KEY={key}", i + 1));
                }
            }
            out.line(format!(
                "export WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY={}",
                ss.developer_subscription_key()
            ));
            out.line(String::new());
            out.line("then: waybill config check && waybill services && waybill sync --once");
        }
        out.line("serving until Ctrl-C");
    }
    shutdown_signal().await;
    sm.shutdown().await;
    ss.shutdown().await;
    Ok(())
}
