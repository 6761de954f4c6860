//! `waybill sandbox`: both emulators standalone on loopback, printing their URLs, their
//! credentials and a ready `waybill.toml` to point waybill (or your own client) at them.

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
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub starshipit_rate_429: f64,
    /// StarShipIT: share of requests answered 500 "General Exception" (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub starshipit_rate_500: f64,
    /// StarShipIT: share of requests answered with an HTML 502 (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub starshipit_rate_502: f64,
}

/// Runs both sandboxes until Ctrl-C, printing their URLs and credentials.
///
/// # Errors
/// A [`Failure`] when a port is taken.
pub async fn run(_ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    if !args.speed.is_finite() || args.speed <= 0.0 {
        return Err(Failure::usage(format!(
            "--speed {} is not a positive number of simulated seconds per real second (e.g. 60)",
            args.speed
        )));
    }
    for (flag, rate) in [
        ("--starshipit-rate-429", args.starshipit_rate_429),
        ("--starshipit-rate-500", args.starshipit_rate_500),
        ("--starshipit-rate-502", args.starshipit_rate_502),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Failure::usage(format!("{flag} {rate} is not a share between 0 and 1")));
        }
    }
    if args.starshipit_accounts == 0 {
        return Err(Failure::usage("--starshipit-accounts must be at least 1"));
    }
    let epoch = jiff::Timestamp::now();
    let addr = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let sm = starmile_sandbox::Sandbox::start_on(
        addr(args.starmile_port),
        starmile_sandbox::SandboxConfig {
            time_scale: args.speed,
            epoch,
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
            time_scale: args.speed,
            epoch,
            wall_clock_zone: args.starshipit_zone.clone(),
            results_as_array: args.starshipit_results_array,
            not_found_as_404: args.starshipit_not_found_404,
            plan_unknown: args.starshipit_plan_unknown,
            accounts: args.starshipit_accounts,
            faults: starshipit_sandbox::Faults {
                rate_429: args.starshipit_rate_429,
                rate_500: args.starshipit_rate_500,
                rate_html_502: args.starshipit_rate_502,
                ..starshipit_sandbox::Faults::default()
            },
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
            "client_id": partner.as_ref().map(|p| p.client_id.clone()),
            "client_secret": partner.as_ref().map(|p| p.client_secret.clone()),
        },
        "starshipit": {
            "base_url": ss.base_url(),
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
        out.line(format!("StarShipIT sandbox  {}", ss.base_url()));
        out.line(format!("  api_key           {}", ss.api_key()));
        out.line(format!(
            "  subscription key  {} (developer, 2/s) · {} (production, 20/s)",
            ss.developer_subscription_key(),
            ss.production_subscription_key()
        ));
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
