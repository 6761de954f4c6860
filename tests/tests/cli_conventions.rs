//! CLI conventions people know from `gh`, `kubectl` and `cargo`: shell completions that a real
//! shell loads.

use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_scripts_load_in_bash_and_name_the_subcommands() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let bash = app.run(&["completions", "bash"]).await;
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    for word in ["orders", "timeline", "serve", "--json"] {
        assert!(bash.stdout.contains(word), "the bash script completes {word}");
    }
    let script = app.write_file("waybill.bash", &bash.stdout);
    let loaded = std::process::Command::new("bash")
        .args(["--norc", "-c", &format!("source {} && complete -p waybill", script.display())])
        .output()
        .expect("bash runs");
    let registered = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success(),
        "bash loads the script: {}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    assert!(registered.contains("waybill"), "a completion is registered for waybill: {registered}");

    let zsh = app.run(&["completions", "zsh"]).await;
    assert!(
        zsh.stdout.starts_with("#compdef waybill"),
        "{}",
        &zsh.stdout[..zsh.stdout.len().min(80)]
    );
    let fish = app.run(&["completions", "fish"]).await;
    assert!(fish.stdout.contains("complete -c waybill"));
    let json = app.run(&["completions", "fish", "--json"]).await;
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(doc["shell"], "fish");

    let bad = app.run(&["completions", "tcsh"]).await;
    assert_eq!(bad.code, 2, "an unknown shell is a usage error");
    assert!(bad.stderr.contains("bash") && bad.stderr.contains("zsh"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_listings_say_so_and_page_sizes_beyond_the_cap_are_refused() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    // A read command never creates the store: before one exists, it says how to make one.
    let none = app.run(&["orders", "list"]).await;
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("waybill store migrate"), "{}", none.stderr);
    assert!(!app.db.exists(), "orders list created no store");
    assert_eq!(app.run(&["store", "migrate"]).await.code, 0);
    let empty = app.run(&["orders", "list"]).await;
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(empty.stdout.starts_with("no orders stored yet"), "{}", empty.stdout);
    let filtered = app.run(&["orders", "list", "--status", "delivered"]).await;
    assert_eq!(filtered.stdout.trim(), "no orders match these filters");
    let json = app.run(&["orders", "list", "--json"]).await;
    assert_eq!(json.stdout.trim(), "[]", "JSON stays a document");
    let huge = app.run(&["orders", "list", "--limit", "5000"]).await;
    assert_eq!(huge.code, 2, "never a silently shorter page");
    assert!(huge.stderr.contains("1..=1000"), "{}", huge.stderr);

    for (reference, item) in [("PO-1", "L-1"), ("PO-2", "L-2"), ("PO-3", "L-3")] {
        let made = app
            .run(&["orders", "create", "--reference", reference, "--service", "5", "--item", item])
            .await;
        assert_eq!(made.code, 0, "{}", made.stderr);
    }
    let page = app.run(&["orders", "list", "--service", "5", "--limit", "2"]).await;
    assert!(
        page.stdout.contains("more: waybill orders list --service 5 --limit 2 --after "),
        "the hint keeps the filters: {}",
        page.stdout
    );
    let last = app.run(&["orders", "list", "--limit", "3"]).await;
    assert!(!last.stdout.contains("more:"), "a full last page has no hint: {}", last.stdout);

    // Newest first by default (PO-10 was created last, and sorts between PO-1 and PO-2 as
    // text); `--sort reference` is text order; the hint's cursor pages on exactly.
    let made = app
        .run(&["orders", "create", "--reference", "PO-10", "--service", "5", "--item", "L-10"])
        .await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    let refs = |stdout: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
        v.as_array()
            .expect("array")
            .iter()
            .map(|o| o["reference"].as_str().unwrap().to_owned())
            .collect()
    };
    let newest = app.run(&["orders", "list", "--json"]).await;
    assert_eq!(refs(&newest.stdout), ["PO-10", "PO-3", "PO-2", "PO-1"]);
    let by_reference = app.run(&["orders", "list", "--sort", "reference", "--json"]).await;
    assert_eq!(refs(&by_reference.stdout), ["PO-1", "PO-10", "PO-2", "PO-3"]);
    let first = app.run(&["orders", "list", "--limit", "3"]).await;
    assert!(first.stdout.contains("created (UTC)"), "the table shows when: {}", first.stdout);
    let hint = first
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("more: "))
        .unwrap_or_else(|| panic!("a next-page hint: {}", first.stdout));
    assert_eq!(hint, "waybill orders list --limit 3 --after @main:PO-2");
    let next =
        app.run(&["orders", "list", "--limit", "3", "--after", "@main:PO-2", "--json"]).await;
    assert_eq!(refs(&next.stdout), ["PO-1"]);
}
