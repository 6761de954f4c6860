//! The CLI as a terminal user expects: tables fit the terminal's width (asked of the terminal,
//! or `COLUMNS` where there is none), and no ANSI colour reaches a pipe or a terminal with
//! `NO_COLOR` set. The terminal cases run the real binary under `script` (Debian's
//! bsdutils, which `cargo xtask ci` installs when missing), which gives it a pseudo-terminal
//! whose width `stty` sets.

use std::process::Command;

use waybill_e2e::{AppOptions, TestApp, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// The widest line, in characters (the tables' box drawing is one column per character).
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.trim_end_matches('\r').chars().count()).max().unwrap_or(0)
}

/// A store with orders whose table is wider than 60 columns when nothing constrains it.
async fn app_with_orders() -> TestApp {
    let app = spawn_app(BIN, AppOptions::default()).await;
    for (reference, item) in [
        ("PO-TERMINAL-WIDTH-0001", "STICKER-WITH-A-LONG-NAME-0001"),
        ("PO-TERMINAL-WIDTH-0002", "STICKER-WITH-A-LONG-NAME-0002"),
    ] {
        let made = app
            .run(&["orders", "create", "--reference", reference, "--service", "5", "--item", item])
            .await;
        assert_eq!(made.code, 0, "{}", made.stderr);
    }
    app
}

/// Runs `waybill ARGS` on a pseudo-terminal `cols` wide (stdout and stderr both on it), with
/// `env` added; returns what the terminal showed.
fn on_terminal(app: &TestApp, cols: u16, env: &[(&str, &str)], args: &[&str]) -> String {
    let inner = app.command(args);
    let mut line = format!("stty cols {cols} rows 50; exec");
    for part in std::iter::once(inner.get_program()).chain(inner.get_args()) {
        line.push_str(&format!(" '{}'", part.to_string_lossy().replace('\'', r"'\''")));
    }
    let mut script = Command::new("script");
    script.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script.env_remove("COLUMNS").env_remove("NO_COLOR").envs(env.iter().copied());
    let out = script.output().expect("`script` (util-linux) runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_fit_the_terminal_width_or_columns() {
    let app = app_with_orders().await;
    let wide = app.run(&["orders", "list"]).await;
    assert!(widest(&wide.stdout) > 60, "unconstrained, the table is wider:\n{}", wide.stdout);

    // No terminal: `COLUMNS` is the width.
    let mut cmd = app.command(&["orders", "list"]);
    let narrow = cmd.env("COLUMNS", "60").output().expect("runs");
    let narrow = String::from_utf8_lossy(&narrow.stdout);
    assert!(widest(&narrow) <= 60, "COLUMNS=60:\n{narrow}");
    assert!(
        narrow.contains("PO-TER") && narrow.contains("0002"),
        "cells wrap, never vanish:\n{narrow}"
    );

    // A terminal 60 columns wide: its width, asked of the terminal.
    let shown = on_terminal(&app, 60, &[], &["orders", "list"]);
    assert!(widest(&shown) <= 60, "a 60-column terminal:\n{shown}");
    assert!(shown.contains("PO-TER") && shown.contains("0002"), "{shown}");
    let shown = on_terminal(&app, 200, &[], &["orders", "list"]);
    assert!(widest(&shown) > 60, "a wide terminal gets the wide table:\n{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_colour_in_pipes_or_with_no_color() {
    let app = app_with_orders().await;
    // Debug logs of a command (on stderr): coloured on a terminal by default, so each case
    // below is a real choice, not output that never has colour.
    let args = ["orders", "list"];
    let coloured = on_terminal(&app, 120, &[("RUST_LOG", "debug")], &args);
    assert!(coloured.contains('\u{1b}'), "a terminal gets colour by default:\n{coloured}");
    let plain = on_terminal(&app, 120, &[("RUST_LOG", "debug"), ("NO_COLOR", "1")], &args);
    assert!(!plain.contains('\u{1b}'), "NO_COLOR on a terminal:\n{plain:?}");
    assert!(plain.contains("PO-TERMINAL-WIDTH-0002"), "{plain}");

    // Pipes (stdout and stderr): never colour.
    let mut cmd = app.command(&args);
    let piped = cmd.env("RUST_LOG", "debug").env_remove("NO_COLOR").output().expect("runs");
    for (name, bytes) in [("stdout", &piped.stdout), ("stderr", &piped.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains('\u{1b}'), "no ANSI escapes in piped {name}:\n{text:?}");
    }
    assert!(!piped.stderr.is_empty(), "the debug log was written (to the pipe)");
}
