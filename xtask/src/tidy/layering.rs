//! The layering invariants of `docs/architecture.md`, read from `cargo metadata`.
//!
//! The rules speak of workspace packages (the workspace's `members`) and of normal and build
//! dependencies: dev-dependencies may reach anywhere, because tests wire real pieces together.
//! A package that doesn't exist (yet) has no edges, so its rules pass until it appears.
//!
//! - `waybill-domain` is pure: no HTTP, runtime, database or server crate, even transitively;
//! - the adapters (`waybill-starmile`, `waybill-starshipit`) use no workspace package but
//!   `waybill-domain` and `waybill-kit` — never the app, never each other;
//! - `waybill-kit` uses no workspace package but `waybill-domain`;
//! - `waybill-store`, `waybill-engine` and `waybill-server` never reach an adapter or the app
//!   (`waybill`), even transitively: carriers are wired in by the app.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::workspace::project_root;

/// Crates that do I/O, serve, or run an async runtime: never in the domain's dependency tree.
const FORBIDDEN_IN_DOMAIN: &[&str] = &["reqwest", "hyper", "tokio", "axum", "sqlx", "tower", "mio"];
pub(crate) const DOMAIN: &str = "waybill-domain";
/// Small helpers the adapters share (HTTP retry, sandbox plumbing): below the adapters.
pub(crate) const KIT: &str = "waybill-kit";
pub(crate) const ADAPTERS: &[&str] = &["waybill-starmile", "waybill-starshipit"];
/// The carrier-neutral core: it reaches carriers only through the domain's ports.
pub(crate) const NEUTRAL: &[&str] = &["waybill-store", "waybill-engine", "waybill-server"];
pub(crate) const APP: &str = "waybill";
/// The workspace packages an adapter may depend on.
const ADAPTERS_MAY_USE: &[&str] = &[DOMAIN, KIT];
/// The workspace packages the kit may depend on.
const KIT_MAY_USE: &[&str] = &[DOMAIN];

/// A package's normal and build dependencies, by name: the graph the layering rules read.
pub(crate) type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every layering rule the graph breaks, one readable line each. `members` are the workspace
/// packages.
pub(crate) fn layering_violations(graph: &Graph, members: &BTreeSet<String>) -> Vec<String> {
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
        for path in disallowed_members(graph, members, adapter, ADAPTERS_MAY_USE) {
            let dep = path.last().map_or("", String::as_str);
            let why = if dep == APP {
                format!("depends on the app ({APP})")
            } else if ADAPTERS.contains(&dep) {
                format!("depends on {dep}; adapters never depend on each other")
            } else {
                format!("depends on {dep}")
            };
            out.push(format!(
                "{adapter} {why} via {}; adapters depend only on {DOMAIN} and {KIT}: move \
                 what they share into {KIT}",
                path.join(" -> ")
            ));
        }
    }
    for path in disallowed_members(graph, members, KIT, KIT_MAY_USE) {
        out.push(format!(
            "{KIT} depends on {} via {}; the kit depends only on {DOMAIN}: it is below the \
             adapters and the core",
            path.last().map_or("", String::as_str),
            path.join(" -> ")
        ));
    }
    for neutral in NEUTRAL {
        for target in ADAPTERS.iter().chain([&APP]) {
            if let Some(path) = dependency_path(graph, neutral, target) {
                let what = if *target == APP { "the app" } else { "an adapter" };
                out.push(format!(
                    "{neutral} depends on {what} ({target}) via {}; store, engine and server \
                     stay carrier-neutral: use the domain's ports and let {APP} wire the \
                     carriers in",
                    path.join(" -> ")
                ));
            }
        }
    }
    out
}

/// The workspace's resolved graph of normal and build dependencies (all features on), and
/// its members' names.
pub(crate) fn workspace_graph() -> (Graph, BTreeSet<String>) {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(project_root().join("Cargo.toml"))
        .features(cargo_metadata::CargoOpt::AllFeatures)
        .exec()
        .expect("cargo metadata");
    let names: BTreeMap<_, _> =
        metadata.packages.iter().map(|p| (p.id.clone(), p.name.to_string())).collect();
    let members =
        metadata.workspace_members.iter().filter_map(|id| names.get(id).cloned()).collect();
    let resolve = metadata.resolve.expect("resolved graph");
    let graph = resolve
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
        .collect();
    (graph, members)
}

/// The chain of packages from `from` to `to`, if `to` is reachable.
fn dependency_path(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            return Some(chain(&parent, to));
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

/// The paths from `from` to each workspace member it may not use: the first such member on
/// every chain, reached through allowed members and third-party crates. A member it may not
/// use is reported and not looked through — its own deps are its own rule's business.
fn disallowed_members(
    graph: &Graph,
    members: &BTreeSet<String>,
    from: &str,
    allowed: &[&str],
) -> Vec<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    let mut out = Vec::new();
    while let Some(node) = queue.pop_front() {
        for dep in graph.get(node).into_iter().flatten().map(String::as_str) {
            if !seen.insert(dep) {
                continue;
            }
            parent.insert(dep, node);
            if members.contains(dep) && !allowed.contains(&dep) {
                out.push(chain(&parent, dep));
            } else {
                queue.push_back(dep);
            }
        }
    }
    out
}

/// The chain of packages ending at `to`, following `parent` links back to the start.
fn chain(parent: &BTreeMap<&str, &str>, to: &str) -> Vec<String> {
    let mut path = vec![to.to_string()];
    let mut cur = to;
    while let Some(p) = parent.get(cur) {
        path.push((*p).to_string());
        cur = p;
    }
    path.reverse();
    path
}

#[cfg(test)]
fn graph(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (a, b) in edges {
        g.entry((*a).to_string()).or_default().insert((*b).to_string());
    }
    g
}

/// The workspace as planned: every package the rules name.
#[cfg(test)]
fn members() -> BTreeSet<String> {
    [DOMAIN, KIT, APP].iter().chain(ADAPTERS).chain(NEUTRAL).map(|s| (*s).to_string()).collect()
}

#[test]
fn the_layering_checker_catches_an_impure_domain() {
    for forbidden in ["reqwest", "tokio", "hyper", "axum", "sqlx"] {
        let g = graph(&[(DOMAIN, "serde"), (DOMAIN, "some-helper"), ("some-helper", forbidden)]);
        let v = layering_violations(&g, &members());
        assert_eq!(v.len(), 1, "{forbidden}: {v:?}");
        assert!(v[0].contains(&format!("waybill-domain -> some-helper -> {forbidden}")), "{v:?}");
    }
    assert!(
        layering_violations(&graph(&[(DOMAIN, "serde"), (DOMAIN, "jiff")]), &members()).is_empty()
    );
}

#[test]
fn the_layering_checker_catches_adapters_crossing() {
    let g = graph(&[("waybill-starmile", APP), ("waybill-starshipit", "waybill-starmile")]);
    let v = layering_violations(&g, &members());
    assert_eq!(v.len(), 2, "{v:?}");
}

#[test]
fn adapters_use_only_the_domain_and_the_kit() {
    let ok = graph(&[
        ("waybill-starmile", DOMAIN),
        ("waybill-starmile", KIT),
        ("waybill-starmile", "reqwest"),
        (KIT, DOMAIN),
        (KIT, "tokio"),
        ("waybill-starshipit", KIT),
    ]);
    assert_eq!(layering_violations(&ok, &members()), Vec::<String>::new());

    let g = graph(&[
        ("waybill-starmile", "waybill-store"),
        ("waybill-starshipit", "some-helper"),
        ("some-helper", "waybill-engine"),
        (KIT, "waybill-starmile"),
    ]);
    let v = layering_violations(&g, &members());
    assert_eq!(v.len(), 3, "{v:#?}");
    assert!(v[0].starts_with("waybill-starmile depends on waybill-store via"), "{v:#?}");
    assert!(v[1].contains("via waybill-starshipit -> some-helper -> waybill-engine"), "{v:#?}");
    assert!(v[2].starts_with("waybill-kit depends on waybill-starmile"), "{v:#?}");

    // A package outside the workspace is never a layering violation, whatever its name.
    let outside = graph(&[("waybill-starmile", "waybill-store")]);
    assert!(layering_violations(&outside, &BTreeSet::new()).is_empty());
}

#[test]
fn the_core_never_reaches_a_carrier_or_the_app() {
    let ok = graph(&[
        ("waybill-server", "waybill-engine"),
        ("waybill-engine", "waybill-store"),
        ("waybill-store", DOMAIN),
        (APP, "waybill-server"),
        (APP, "waybill-starmile"),
    ]);
    assert_eq!(layering_violations(&ok, &members()), Vec::<String>::new());

    let g = graph(&[
        ("waybill-server", "waybill-engine"),
        ("waybill-engine", "waybill-starshipit"),
        ("waybill-store", APP),
    ]);
    let v = layering_violations(&g, &members());
    assert_eq!(v.len(), 3, "{v:#?}");
    assert!(v.iter().any(|l| l.starts_with(
        "waybill-server depends on an adapter (waybill-starshipit) via waybill-server -> \
         waybill-engine -> waybill-starshipit"
    )));
    assert!(v.iter().any(|l| l.starts_with("waybill-engine depends on an adapter")));
    assert!(v.iter().any(|l| l.starts_with("waybill-store depends on the app (waybill)")));
}
