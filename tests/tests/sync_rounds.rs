//! Continuous `waybill sync` as a terminal user sees it: one line per round that stored
//! something (idle rounds stay quiet), and Ctrl-C commits, prints the totals and exits 130.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    time::{Duration, Instant},
};

use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_sync_prints_busy_rounds_and_ctrl_c_exits_130() {
    let mut options = AppOptions::default();
    options.starmile.time_scale = 20_000.0;
    let app = spawn_app(BIN, options).await;
    let created = app
        .run(&["orders", "create", "--service", "5", "--reference", "PO-ROUND", "--item", "RD-1"])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);

    let mut child = app
        .command(&["sync"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sync starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (first_round, reader) = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut line = String::new();
        while Instant::now() < deadline {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if line.contains(" round: ") {
                return (line, reader);
            }
        }
        (String::new(), reader)
    })
    .await
    .expect("join");
    assert!(first_round.contains("new pool rows"), "a busy round is printed: {first_round:?}");
    assert!(
        first_round.split_whitespace().next().is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
        "each round line starts with its time: {first_round:?}"
    );

    // Ctrl-C: what was fetched is committed, the totals are printed, the code is 130.
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let output = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        let mut reader = reader;
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        let status = child.wait().expect("sync exits");
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        (status, rest, stderr)
    })
    .await
    .expect("join");
    let (status, rest, stderr) = output;
    assert_eq!(status.code(), Some(130), "Ctrl-C exits 130; stderr: {stderr}");
    assert!(rest.contains("synced: "), "the totals are printed: {rest:?}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
