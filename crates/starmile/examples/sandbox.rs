//! Runs a Starmile sandbox until Ctrl-C, printing one JSON line with its base URL and the
//! demo credential first.
//!
//! ```text
//! cargo run -p waybill-starmile --features sandbox --example sandbox -- --port 8080
//! ```
//!
//! Options: `--port N` (default 0 = any free port), `--time-scale X` (simulated seconds per
//! real second, default 3600), `--preload N` (orders with finished lifecycles), `--seed N`.

use std::net::SocketAddr;

use waybill_starmile::sandbox::{Sandbox, SandboxConfig};

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a value, e.g. {name} 8080")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = arg(&args, "--port", 0)?;
    let config = SandboxConfig {
        time_scale: arg(&args, "--time-scale", 3600.0)?,
        preload_orders: arg(&args, "--preload", 0)?,
        seed: arg(&args, "--seed", 42)?,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start_on(SocketAddr::from(([127, 0, 0, 1], port)), config).await?;
    let partner = &sandbox.partners()[0];
    let line = serde_json::json!({
        "base_url": sandbox.base_url(),
        "client_id": partner.client_id,
        "client_secret": partner.client_secret,
    });
    println!("{line}");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
