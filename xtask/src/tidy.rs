//! Tidy tests (rust-analyzer style): repository-wide rules checked on every `cargo test`.
//!
//! - every `.rs` file starts with a `//!` module doc;
//! - no `todo!`, `unimplemented!` or `dbg!` outside tests;
//! - the layering invariants of `docs/architecture.md`, read from `cargo metadata`
//!   ([`layering`]);
//! - no module imports a module that imports it back, in any crate ([`modules`]);
//! - the store, the engine and the server never name a concrete carrier ([`carriers`]).
//!
//! Each rule is a plain function over its inputs, tested on synthetic inputs in its module;
//! the `#[test]`s here run the rules on the real tree. A crate that doesn't exist yet is
//! simply not checked, so the rules tighten by themselves as the workspace grows.

mod carriers;
mod layering;
mod modules;
mod source;

use std::path::{Path, PathBuf};

use crate::workspace::project_root;

fn rust_files() -> Vec<PathBuf> {
    let root = project_root();
    let mut out = Vec::new();
    let mut stack = vec![root.join("crates"), root.join("xtask"), root.join("tests")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "target" && n != "snapshots") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Test code, where stubs and debug macros are fine; the tidy rules' own fixtures are too.
fn is_test_file(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.contains("/tests/")
        || s.ends_with("/tidy.rs")
        || s.contains("/tidy/")
        || s.ends_with("_test.rs")
}

/// The lines of `text` that call a stub or debug macro outside `#[cfg(test)]` modules.
fn stub_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break; // test modules come last in this project's files
        }
        let code = line.split("//").next().unwrap_or_default();
        for needle in ["todo!(", "unimplemented!(", "dbg!("] {
            if code.contains(needle) {
                out.push((i + 1, line.trim().to_string()));
            }
        }
    }
    out
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = rust_files()
        .into_iter()
        .filter(|p| !std::fs::read_to_string(p).unwrap_or_default().starts_with("//!"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "add a `//!` doc at the top of: {missing:#?}");
}

#[test]
fn no_stubs_or_debug_macros_outside_tests() {
    let mut hits = Vec::new();
    for p in rust_files().into_iter().filter(|p| !is_test_file(p)) {
        for (line, text) in stub_lines(&std::fs::read_to_string(&p).unwrap_or_default()) {
            hits.push(format!("{}:{line}: {text}", p.display()));
        }
    }
    assert!(hits.is_empty(), "finish or remove: {hits:#?}");
}

#[test]
fn the_workspace_respects_layering() {
    let (graph, members) = layering::workspace_graph();
    let violations = layering::layering_violations(&graph, &members);
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let cycles: Vec<String> = modules::workspace_crates(&project_root())
        .iter()
        .flat_map(modules::module_cycles)
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_core_crates_name_no_concrete_carrier() {
    let mentions = carriers::carrier_mentions_in_tree(&project_root());
    assert!(
        mentions.is_empty(),
        "carrier names in carrier-neutral crates:\n{}",
        mentions.join("\n")
    );
}

#[test]
fn stub_detection_ignores_comments_and_test_modules() {
    let text = "fn a() { todo!() }\n// dbg!(x)\n#[cfg(test)]\nmod tests { fn b() { dbg!(1); } }\n";
    assert_eq!(stub_lines(text).len(), 1);
}
