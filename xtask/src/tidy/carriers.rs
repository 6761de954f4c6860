//! Carrier-neutral code: the store, the engine and the server never name a concrete carrier.
//!
//! A crate that says `starmile` or `starshipit` has started to know a carrier, whatever the
//! manifest says: a hard-coded carrier id in a query, a wire field in a test, a migration
//! that assumes one. So every occurrence counts — identifiers, paths, string literals, SQL —
//! except in comments, where explaining which carrier motivated a design is welcome. Rust
//! comments (`//`, `///`, `//!`, `/* */`) and SQL comments (`--`, `/* */`) are blanked with
//! [`super::source`]; other files (snapshots, fixtures) count in full.

use std::path::Path;

use super::source::{Keep, mask, mask_sql};

/// The crates that must stay carrier-neutral, relative to the workspace root.
pub(crate) const NEUTRAL_DIRS: &[&str] = &["crates/store", "crates/engine", "crates/server"];
/// Where in those crates code and data live.
const SUBDIRS: &[&str] = &["src", "tests", "migrations"];
/// The concrete carriers, lower-case.
const CARRIERS: &[&str] = &["starmile", "starshipit"];

/// Every line of every file in the carrier-neutral crates under `root` that names a carrier.
/// A crate that doesn't exist has nothing to report.
pub(crate) fn carrier_mentions_in_tree(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in NEUTRAL_DIRS {
        for sub in SUBDIRS {
            collect(root, &root.join(dir).join(sub), &mut files);
        }
    }
    files.sort();
    files.iter().flat_map(|(rel, text)| carrier_mentions(rel, text)).collect()
}

/// The lines of `text` (the file `rel`) that name a concrete carrier outside comments.
pub(crate) fn carrier_mentions(rel: &str, text: &str) -> Vec<String> {
    let code = if rel.ends_with(".rs") {
        mask(text, Keep::Literals)
    } else if rel.ends_with(".sql") {
        mask_sql(text)
    } else {
        text.to_string()
    };
    code.lines()
        .zip(text.lines())
        .enumerate()
        .filter(|(_, (code, _))| {
            let code = code.to_lowercase();
            CARRIERS.iter().any(|c| code.contains(c))
        })
        .map(|(i, (_, line))| {
            format!(
                "{rel}:{}: names a concrete carrier (\"{}\"); carrier-specific code belongs \
                 in its adapter or in crates/app",
                i + 1,
                line.trim()
            )
        })
        .collect()
}

/// Every readable text file under `dir`, with its path relative to `root`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push((rel.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

#[test]
fn carrier_names_count_in_code_and_strings_but_not_comments() {
    let text = "//! Written for StarShipIT's first leg.\n\
                /// Like Starmile's cursor.\n\
                fn f() { /* starmile */ }\n\
                const ID: &str = \"starmile\";\n\
                use waybill_starshipit::Error;\n\
                let r = r#\"StarMile\"#; // starmile\n";
    let v = carrier_mentions("crates/store/src/lib.rs", text);
    assert_eq!(v.len(), 3, "{v:#?}");
    assert!(v[0].starts_with("crates/store/src/lib.rs:4: names a concrete carrier"), "{v:#?}");
    assert!(v[1].starts_with("crates/store/src/lib.rs:5:"), "{v:#?}");
    assert!(v[2].starts_with("crates/store/src/lib.rs:6:"), "{v:#?}");
}

#[test]
fn carrier_names_count_in_sql_and_data_outside_comments() {
    let sql = "-- starmile rows first\ninsert into t values ('starshipit');\n/* Starmile */";
    let v = carrier_mentions("crates/store/migrations/0001_init.sql", sql);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert!(v[0].starts_with("crates/store/migrations/0001_init.sql:2:"), "{v:#?}");
    let snap = carrier_mentions("crates/server/tests/snapshots/a.snap", "// starmile\n");
    assert_eq!(snap.len(), 1, "{snap:#?}");
}
