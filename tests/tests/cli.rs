//! The CLI's human and JSON output for the main commands, pinned by insta snapshots, and
//! its failures: a config error and a bad credential each end in one clear message.

use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_commands_print_tables_and_json() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    for (name, args) in [
        ("services", vec!["services"]),
        ("services_json", vec!["services", "--json"]),
        ("rates", vec!["rates"]),
        ("quote", vec!["quote", "--service", "5", "--weight", "1.2kg"]),
        ("config_check", vec!["config", "check"]),
    ] {
        let run = app.run(&args).await;
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let stdout = run.stdout.replace(&app.db.display().to_string(), "[DB]");
        insta::assert_snapshot!(name, stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_timeline_output() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let created = app
        .run(&[
            "orders",
            "create",
            "--service",
            "5",
            "--reference",
            "PO-10294",
            "--item",
            "TRK-1",
            "--item",
            "TRK-2",
        ])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    insta::assert_snapshot!("orders_create", created.stdout);
    let replay = app
        .run(&[
            "orders",
            "create",
            "--service",
            "5",
            "--reference",
            "PO-10294",
            "--item",
            "TRK-1",
            "--item",
            "TRK-2",
            "--json",
        ])
        .await;
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    let order: serde_json::Value = serde_json::from_str(&replay.stdout).unwrap();
    assert_eq!(order["duplicate"], true);

    let sync = app.run(&["sync", "--once"]).await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    let show = app.run(&["orders", "show", "PO-10294"]).await;
    assert_eq!(show.code, 0, "{}", show.stderr);
    insta::assert_snapshot!("orders_show", without_times(&show.stdout));
    let timeline = app.run(&["timeline", "TRK-1", "--json"]).await;
    assert_eq!(timeline.code, 0, "{}", timeline.stderr);
    let t: serde_json::Value = serde_json::from_str(&timeline.stdout).unwrap();
    assert_eq!(t["merchant_tracking_number"], "TRK-1");
    assert!(!t["events"].as_array().unwrap().is_empty());

    let missing = app.run(&["timeline", "NOPE"]).await;
    assert_eq!(missing.code, 3);
    assert!(missing.stderr.contains("no parcel known by \"NOPE\""), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_error_is_one_clear_message_and_exit_2() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    std::fs::write(&app.config, "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"http://starmile.example\"\nclient_id = \"x\"\n").unwrap();
    let run = app.run(&["services"]).await;
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("config_error", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_credential_is_one_clear_message_and_exit_2() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let mut cmd = app.command(&["services"]);
    cmd.env("WAYBILL_STARMILE_MAIN_CLIENT_SECRET", "wrong-secret");
    let run: waybill_e2e::Run =
        tokio::task::spawn_blocking(move || cmd.output().unwrap().into()).await.unwrap();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.contains("starmile account main: authentication failed"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-secret"));
}

/// `text` with every `YYYY-MM-DD HH:MM` (a creation time) replaced by a fixed-width marker,
/// so the snapshot holds the table's shape, not the clock.
fn without_times(text: &str) -> String {
    let pattern = "dddd-dd-dd dd:dd";
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let fits = chars.len() - i >= pattern.len()
            && pattern.chars().zip(&chars[i..]).all(|(p, c)| match p {
                'd' => c.is_ascii_digit(),
                p => p == *c,
            });
        if fits {
            out.push_str("[created at]    ");
            i += pattern.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}
