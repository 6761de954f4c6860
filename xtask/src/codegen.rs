//! `cargo xtask codegen`: turns the machine-readable specs under `specs/` into Rust.
//!
//! Today that is the status-map tables (`specs/status-map/*.toml` → each adapter's
//! `status_map.rs`) and the HTTP API's OpenAPI document (`docs/openapi.json`, printed by the
//! app's hidden `waybill openapi` command, which utoipa generates from the handlers). Generated
//! files name this command (a header, or the OpenAPI `info.description`); `--check`
//! regenerates in memory and fails when a file on disk differs.

mod generated;
use generated::Generated;
mod status_map;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Whether to write files or only compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Write every generated file.
    Write,
    /// Fail if any generated file is missing or stale.
    Check,
}

/// Which generators to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every generated file.
    All,
    /// Only the files generated from `specs/` (no build of the app needed).
    Specs,
}

/// Generates everything; in check mode, returns an error listing stale files.
pub(crate) fn run(root: &Path, mode: Mode) -> anyhow::Result<Vec<PathBuf>> {
    run_scoped(root, mode, Scope::All)
}

/// Generates the files of `scope`; in check mode, returns an error listing stale files.
pub(crate) fn run_scoped(root: &Path, mode: Mode, scope: Scope) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = generate_all(root)?;
    if scope == Scope::All {
        files.push(openapi(root)?);
    }
    let mut stale = Vec::new();
    for file in &files {
        let target = root.join(&file.path);
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if current == file.contents {
            continue;
        }
        match mode {
            Mode::Write => {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&target, &file.contents)
                    .with_context(|| format!("writing {}", target.display()))?;
                eprintln!("codegen: wrote {}", file.path.display());
            }
            Mode::Check => stale.push(file.path.clone()),
        }
    }
    if !stale.is_empty() {
        let list: Vec<String> = stale.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "generated files are stale: {}\nrun `cargo xtask codegen` and commit the result",
            list.join(", ")
        );
    }
    Ok(files.into_iter().map(|f| f.path).collect())
}

fn generate_all(root: &Path) -> anyhow::Result<Vec<Generated>> {
    let dir = root.join("specs/status-map");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    specs.sort();
    let mut out = Vec::new();
    for spec in specs {
        let rel = spec.strip_prefix(root).unwrap_or(&spec).to_path_buf();
        let text = std::fs::read_to_string(&spec)?;
        let generated =
            status_map::render(&text, &rel).with_context(|| format!("in {}", rel.display()))?;
        out.push(generated);
    }
    Ok(out)
}

/// `docs/openapi.json`: what the app's hidden `waybill openapi` command prints. The document
/// is generated from the handlers by utoipa, so it needs the app built (`cargo run` reuses
/// the workspace's target directory).
fn openapi(root: &Path) -> anyhow::Result<Generated> {
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--package", "waybill", "--bin", "waybill", "--", "openapi"])
        .current_dir(root)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("could not run `cargo run -p waybill -- openapi`")?;
    if !out.status.success() {
        bail!("`cargo run -p waybill -- openapi` failed ({}); fix the build first", out.status);
    }
    let contents = String::from_utf8(out.stdout).context("the OpenAPI document is not UTF-8")?;
    anyhow::ensure!(
        contents.trim_start().starts_with('{'),
        "`waybill openapi` printed something other than a JSON document"
    );
    Ok(Generated { path: PathBuf::from("docs/openapi.json"), contents })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_specs(to: &Path) {
        let from = crate::workspace::project_root().join("specs/status-map");
        std::fs::create_dir_all(to.join("specs/status-map")).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join("specs/status-map").join(p.file_name().unwrap())).unwrap();
        }
    }

    #[test]
    fn check_fails_when_a_map_changes_without_regenerating() {
        let tmp = tempfile::tempdir().unwrap();
        copy_specs(tmp.path());
        // Missing files are stale.
        assert!(run_scoped(tmp.path(), Mode::Check, Scope::Specs).is_err());
        run_scoped(tmp.path(), Mode::Write, Scope::Specs).unwrap();
        run_scoped(tmp.path(), Mode::Check, Scope::Specs).unwrap();
        // Change one mapping without regenerating: the check names the file and the fix.
        let spec = tmp.path().join("specs/status-map/starmile.toml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(
            &spec,
            text.replace(
                "undelivered = { status = \"exception\"",
                "undelivered = { status = \"attempt_failed\"",
            ),
        )
        .unwrap();
        let err = run_scoped(tmp.path(), Mode::Check, Scope::Specs).unwrap_err().to_string();
        assert!(err.contains("crates/starmile/src/status_map.rs"), "{err}");
        assert!(err.contains("cargo xtask codegen"), "{err}");
        run_scoped(tmp.path(), Mode::Write, Scope::Specs).unwrap();
        run_scoped(tmp.path(), Mode::Check, Scope::Specs).unwrap();
    }

    /// The spec-generated files; `docs/openapi.json` is checked by `cargo xtask codegen
    /// --check` in CI and against the served document by the e2e test `serve_openapi`.
    #[test]
    fn the_repository_is_fresh() {
        run_scoped(&crate::workspace::project_root(), Mode::Check, Scope::Specs).unwrap();
    }
}
