//! Runs the StarShipIT sandbox until Ctrl-C and prints one JSON line with its base URL, API
//! key and developer-tier subscription key (2 requests/s), ready to paste into a client:
//!
//! ```text
//! cargo run -p waybill-starshipit --features sandbox --example sandbox -- --port 8081
//! ```
//!
//! Options: `--port N` (default 0: any free port), `--seed N`, `--time-scale X` (simulated
//! seconds per real second).

use std::net::SocketAddr;

use waybill_starshipit::sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SandboxConfig::default();
    let mut port = 0_u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next().ok_or_else(|| format!("{name} needs a value, e.g. {name} 8081"))
        };
        match arg.as_str() {
            "--port" => port = value("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--seed" => {
                config.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?;
            }
            "--time-scale" => {
                config.time_scale =
                    value("--time-scale")?.parse().map_err(|e| format!("--time-scale: {e}"))?;
            }
            "-h" | "--help" => {
                eprintln!("usage: sandbox [--port N] [--seed N] [--time-scale X]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}; try --help").into()),
        }
    }
    let sandbox = Sandbox::start_on(SocketAddr::from(([127, 0, 0, 1], port)), config).await?;
    // A struct keeps the documented key order (json! would sort the keys).
    #[derive(serde::Serialize)]
    struct Ready<'a> {
        base_url: String,
        api_key: &'a str,
        subscription_key: &'a str,
    }
    let ready = Ready {
        base_url: sandbox.base_url(),
        api_key: sandbox.api_key(),
        subscription_key: sandbox.developer_subscription_key(),
    };
    println!("{}", serde_json::to_string(&ready)?);
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
