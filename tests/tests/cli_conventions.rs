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
