//! Tidy tests (rust-analyzer style): repository-wide rules checked on every `cargo test`.
//!
//! - every `.rs` file starts with a `//!` module doc;
//! - no `todo!`, `unimplemented!` or `dbg!` outside tests;
//! - the layering invariants of `docs/architecture.md`, read from `cargo metadata`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use crate::workspace::project_root;

/// Crates that do I/O, serve, or run an async runtime: never in the domain's dependency tree.
const FORBIDDEN_IN_DOMAIN: &[&str] = &["reqwest", "hyper", "tokio", "axum", "sqlx", "tower", "mio"];
const DOMAIN: &str = "waybill-domain";
const ADAPTERS: &[&str] = &["waybill-starmile", "waybill-starshipit"];
const APP: &str = "waybill";

/// A package's normal (non-dev) dependencies, by name: the graph the layering rules read.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every layering rule the graph breaks, one readable line each.
fn layering_violations(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for forbidden in FORBIDDEN_IN_DOMAIN {
        if let Some(path) = dependency_path(graph, DOMAIN, forbidden) {
            out.push(format!(
                "{DOMAIN} must stay pure but depends on {forbidden} via {}",
                path.join(" -> ")
            ));
        }
    }
    for adapter in ADAPTERS {
        let deps = graph.get(*adapter).cloned().unwrap_or_default();
        if deps.contains(APP) {
            out.push(format!(
                "{adapter} depends on the app ({APP}); adapters depend only on {DOMAIN}"
            ));
        }
        for other in ADAPTERS.iter().filter(|o| *o != adapter) {
            if deps.contains(*other) {
                out.push(format!(
                    "{adapter} depends on {other}; adapters never depend on each other"
                ));
            }
        }
    }
    out
}

/// The chain of packages from `from` to `to`, if `to` is reachable.
fn dependency_path(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = vec![to.to_string()];
            let mut cur = to;
            while let Some(p) = parent.get(cur) {
                path.push((*p).to_string());
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for dep in graph.get(node).into_iter().flatten() {
            if seen.insert(dep.as_str()) {
                parent.insert(dep.as_str(), node);
                queue.push_back(dep.as_str());
            }
        }
    }
    None
}

/// The workspace's resolved graph of normal and build dependencies, all features on.
fn workspace_graph() -> Graph {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(project_root().join("Cargo.toml"))
        .features(cargo_metadata::CargoOpt::AllFeatures)
        .exec()
        .expect("cargo metadata");
    let names: BTreeMap<_, _> =
        metadata.packages.iter().map(|p| (p.id.clone(), p.name.to_string())).collect();
    let resolve = metadata.resolve.expect("resolved graph");
    resolve
        .nodes
        .iter()
        .map(|node| {
            let deps = node
                .deps
                .iter()
                .filter(|d| {
                    d.dep_kinds
                        .iter()
                        .any(|k| k.kind != cargo_metadata::DependencyKind::Development)
                })
                .filter_map(|d| names.get(&d.pkg).cloned())
                .collect();
            (names[&node.id].clone(), deps)
        })
        .collect()
}

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

fn is_test_file(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.contains("/tests/") || s.ends_with("/tidy.rs") || s.ends_with("_test.rs")
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
    let violations = layering_violations(&workspace_graph());
    assert!(violations.is_empty(), "{violations:#?}");
}

fn graph(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (a, b) in edges {
        g.entry((*a).to_string()).or_default().insert((*b).to_string());
    }
    g
}

#[test]
fn the_layering_checker_catches_an_impure_domain() {
    for forbidden in ["reqwest", "tokio", "hyper", "axum", "sqlx"] {
        let g = graph(&[(DOMAIN, "serde"), (DOMAIN, "some-helper"), ("some-helper", forbidden)]);
        let v = layering_violations(&g);
        assert_eq!(v.len(), 1, "{forbidden}: {v:?}");
        assert!(v[0].contains(&format!("waybill-domain -> some-helper -> {forbidden}")), "{v:?}");
    }
    assert!(layering_violations(&graph(&[(DOMAIN, "serde"), (DOMAIN, "jiff")])).is_empty());
}

#[test]
fn the_layering_checker_catches_adapters_crossing() {
    let g = graph(&[("waybill-starmile", APP), ("waybill-starshipit", "waybill-starmile")]);
    let v = layering_violations(&g);
    assert_eq!(v.len(), 2, "{v:?}");
}

#[test]
fn stub_detection_ignores_comments_and_test_modules() {
    let text = "fn a() { todo!() }\n// dbg!(x)\n#[cfg(test)]\nmod tests { fn b() { dbg!(1); } }\n";
    assert_eq!(stub_lines(text).len(), 1);
}
