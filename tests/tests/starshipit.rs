//! `waybill track` against the StarShipIT sandbox with several merchant accounts
//! (`[[starshipit.accounts]]`, one API key each, one subscription key): every parcel is found
//! with the account that shipped it, and a number no account shipped is not found (exit 3).

use waybill_e2e::{AppOptions, spawn_app};
use waybill_starshipit::sandbox as ss;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_accounts_each_track_what_they_shipped_and_unknown_numbers_are_not_found() {
    let mut options = AppOptions::default();
    options.starshipit =
        ss::SandboxConfig { accounts: 2, plan_unknown: false, ..options.starshipit };
    let app = spawn_app(BIN, options).await;
    let created = app.starshipit.simulated_now() - jiff::SignedDuration::from_hours(40);
    app.starshipit.register_shipment_for(0, "SHIP-A1", "PO-A1", created);
    app.starshipit.register_shipment_for(1, "SHIP-B1", "PO-B1", created);
    let config = std::fs::read_to_string(&app.config).unwrap();
    let config = config.replace(
        "rate_limit_per_second = 20\n",
        "rate_limit_per_second = 20\n\n[[starshipit.accounts]]\nname = \"merchant-a\"\n\n[[starshipit.accounts]]\nname = \"merchant-b\"\n",
    );
    std::fs::write(&app.config, config).unwrap();
    let keys: Vec<String> = app.starshipit.api_keys().iter().map(|k| (*k).to_owned()).collect();
    let run = |args: &'static [&'static str]| {
        let mut cmd = app.command(args);
        cmd.env_remove("WAYBILL_STARSHIPIT_API_KEY")
            .env("WAYBILL_STARSHIPIT_MERCHANT_A_API_KEY", &keys[0])
            .env("WAYBILL_STARSHIPIT_MERCHANT_B_API_KEY", &keys[1]);
        tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
    };

    for (args, number) in
        [(&["track", "SHIP-A1"][..], "SHIP-A1"), (&["track", "SHIP-B1"][..], "SHIP-B1")]
    {
        let out = run(args).await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(number) && stdout.contains("Delivered"), "{stdout}");
    }
    // Asking only the other account: not found; an unknown account name: usage error.
    let out = run(&["track", "SHIP-B1", "--starshipit-account", "merchant-a"]).await.unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["track", "SHIP-B1", "--starshipit-account", "nobody"]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("merchant-a, merchant-b"), "{stderr}");
    let out = run(&["track", "NOPE123"]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "not found: {stderr}");
    assert!(stderr.contains("NOPE123"), "{stderr}");
}
