//! The module-use graph of a crate and its cycles: no module imports a module that imports it
//! back.
//!
//! A crate's modules are its `.rs` files (`src/lib.rs` — or `src/main.rs` when there is no
//! library — is the root `crate`, `src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is
//! `a::b`); `src/bin/` holds other roots and is skipped. Module `A` uses module `B` when `A`'s
//! code names an item of `B` through a path — `crate::b::…`, `super::…`, `self::b::…`, a path
//! starting at a child module or at a name `A` imported, inside `use` trees with braces too.
//! Comments and literals don't count (see [`super::source`]), nor does test code: items under
//! `#[cfg(test)]`, inline or in a file (`#[cfg(test)] mod tests;`), may look anywhere.
//!
//! Facades are not imports: `mod x;` and `pub use` re-exports add no edge, and a path through
//! an import lands where the import points (`crate::CarrierError`, with `pub use
//! error::CarrierError;` in `lib.rs`, is a use of `error`; a `pub use x::*` glob sends every
//! name the module doesn't import by name to `x`). A path ends at the longest module it names
//! (`crate::a::b::Item` is `a::b` if that file exists, else `a`), so naming an ancestor's own
//! item (`super::Thing`) is a use of the ancestor.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    path::Path,
};

use super::source::{Keep, Token, mask, tokens};

/// A module's path inside its crate: empty for the root.
type ModPath = Vec<String>;

/// One crate's sources, as the cycle finder reads them.
#[derive(Debug, Clone)]
pub(crate) struct CrateSources {
    /// Where the crate lives, relative to the workspace root (`crates/app`): names it in reports.
    pub(crate) dir: String,
    /// Every `.rs` file under `src/` (outside `src/bin/`), by its `/`-separated path from `src/`.
    pub(crate) files: BTreeMap<String, String>,
}

/// Every cycle in the crate's module-use graph: one line per strongly connected component of
/// more than one module, showing one cycle through it and where each step happens.
pub(crate) fn module_cycles(krate: &CrateSources) -> Vec<String> {
    let uses = module_uses(krate);
    let graph: BTreeMap<&ModPath, BTreeSet<&ModPath>> =
        uses.keys().fold(BTreeMap::new(), |mut g, (from, to)| {
            g.entry(from).or_default().insert(to);
            g.entry(to).or_default();
            g
        });
    let mut out = Vec::new();
    for component in strongly_connected(&graph) {
        if component.len() < 2 {
            continue;
        }
        let cycle = shortest_cycle(&graph, &component);
        let names: Vec<String> = cycle.iter().map(|m| display(m)).collect();
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                let line = uses.get(&(w[0].clone(), w[1].clone())).copied().unwrap_or_default();
                format!("{}:{line} uses {}", file_of(krate, &w[0]), display(&w[1]))
            })
            .collect();
        let mut msg =
            format!("cycle in {}: {} ({})", krate.dir, names.join(" -> "), steps.join(", "));
        if component.len() + 1 > cycle.len() {
            let all: Vec<String> = component.iter().map(|m| display(m)).collect();
            msg.push_str(&format!(
                "; these {} modules all reach each other: {}",
                component.len(),
                all.join(", ")
            ));
        }
        msg.push_str(
            "; break it: move what both sides need into a module of its own (or down into \
             the lower one), or pass it in instead of reaching back",
        );
        out.push(msg);
    }
    out
}

/// The crates to check under the workspace `root`: each `crates/*`, plus `xtask`, `tests` and
/// `bench`, with a library or binary root under `src/`. Crates that don't exist are skipped.
pub(crate) fn workspace_crates(root: &Path) -> Vec<CrateSources> {
    let mut dirs: Vec<String> = std::fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| format!("crates/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs.extend(["xtask", "tests", "bench"].map(String::from));
    dirs.into_iter()
        .filter_map(|dir| {
            let src = root.join(&dir).join("src");
            let mut files = BTreeMap::new();
            collect_rs(&src, &src, &mut files);
            (!files.is_empty()).then_some(CrateSources { dir, files })
        })
        .collect()
}

fn collect_rs(src: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(src) else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            if rel != "bin" {
                collect_rs(src, &path, files);
            }
        } else if rel.ends_with(".rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            files.insert(rel, text);
        }
    }
}

/// Every (user, used) pair of distinct production modules, with the first line of the user
/// that names the used module.
fn module_uses(krate: &CrateSources) -> BTreeMap<(ModPath, ModPath), usize> {
    let root = if krate.files.contains_key("lib.rs") { "lib.rs" } else { "main.rs" };
    let scans: BTreeMap<ModPath, Scan> = krate
        .files
        .iter()
        .filter_map(|(rel, text)| Some((module_path(rel, root)?, scan(text))))
        .collect();
    let join = |m: &ModPath, scope: &[String]| [m.as_slice(), scope].concat();
    let test_only: Vec<ModPath> =
        scans.iter().flat_map(|(m, s)| s.test_mods.iter().map(move |t| join(m, t))).collect();
    let is_test = |m: &ModPath| test_only.iter().any(|t| m.starts_with(t));
    let files: BTreeSet<ModPath> = scans.keys().filter(|m| !is_test(m)).cloned().collect();
    let mut modules = files.clone();
    modules.extend(scans.iter().flat_map(|(m, s)| s.inline_mods.iter().map(move |i| join(m, i))));
    let resolver = Resolver {
        modules,
        imports: scans
            .iter()
            .flat_map(|(m, s)| s.imports.iter().map(move |(scope, i)| (join(m, scope), i)))
            .collect(),
    };
    // A path may end in an inline module: it belongs to the file that holds it.
    let file_of_module =
        |m: ModPath| (0..=m.len()).rev().map(|n| &m[..n]).find_map(|p| files.get(p)).cloned();
    let mut uses = BTreeMap::new();
    for (module, s) in scans.iter().filter(|(m, _)| !is_test(m)) {
        for r in &s.refs {
            let Some(target) = resolver.target(&join(module, &r.scope), &r.path) else { continue };
            let Some(target) = file_of_module(target) else { continue };
            if &target != module {
                let line = uses.entry((module.clone(), target)).or_insert(r.line);
                *line = (*line).min(r.line);
            }
        }
    }
    uses
}

/// The module a file under `src/` is, or `None` for a file that is another crate root.
fn module_path(rel: &str, root: &str) -> Option<ModPath> {
    if rel == root {
        return Some(Vec::new());
    }
    if rel == "lib.rs" || rel == "main.rs" {
        return None; // the binary next to a library is a crate of its own
    }
    let mut parts: ModPath = rel.trim_end_matches(".rs").split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    Some(parts)
}

fn child(module: &[String], name: &str) -> ModPath {
    let mut path = module.to_vec();
    path.push(name.to_string());
    path
}

fn display(module: &[String]) -> String {
    if module.is_empty() { "crate".to_string() } else { module.join("::") }
}

fn file_of(krate: &CrateSources, module: &[String]) -> String {
    let root = if krate.files.contains_key("lib.rs") { "lib.rs" } else { "main.rs" };
    let rel = krate
        .files
        .keys()
        .find(|rel| module_path(rel, root).as_deref() == Some(module))
        .map_or("?", String::as_str);
    format!("{}/src/{rel}", krate.dir)
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Anchor {
    /// `crate::` (or `$crate::`).
    Crate,
    /// `self::`, or `super::` repeated this many times (0 is `self`).
    Up(usize),
    /// A bare first segment: a child module, a name the module imported, or another crate.
    Local,
    /// `::name`: always another crate.
    Extern,
}

/// A path as written: its anchor and its segments after the anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathRef {
    anchor: Anchor,
    segs: Vec<String>,
}

/// A path the module's code names, and where.
#[derive(Debug, Clone)]
struct Ref {
    /// The inline module it is written in, relative to the file's module.
    scope: Vec<String>,
    path: PathRef,
    line: usize,
}

/// What a module's `use` items bring into scope.
#[derive(Debug, Clone, Default)]
struct Imports {
    /// Names imported one by one (`use a::B;`, `use a::B as C;`), public or not.
    named: BTreeMap<String, PathRef>,
    /// The targets of `pub use x::*`, in order.
    globs: Vec<PathRef>,
}

/// What scanning one file finds. Inline modules (`mod m { … }`) are scopes inside the file:
/// each path and import remembers the scope it was written in, relative to the file's module.
#[derive(Debug, Clone, Default)]
struct Scan {
    /// Paths that name items: private `use` leaves and paths in code.
    refs: Vec<Ref>,
    /// What each scope's `use` items import, by scope (empty: the file's own module).
    imports: BTreeMap<Vec<String>, Imports>,
    /// The inline modules the file declares, as scopes.
    inline_mods: Vec<Vec<String>>,
    /// Modules declared `#[cfg(test)] mod name;`, as scopes (the last segment is the file).
    test_mods: Vec<Vec<String>>,
}

/// Reads one file's paths, skipping comments, literals and `#[cfg(test)]` items.
fn scan(text: &str) -> Scan {
    let toks = tokens(&mask(text, Keep::CodeOnly));
    let mut scan = Scan::default();
    let mut scope: Vec<String> = Vec::new();
    // The brace depth each open inline module's body sits at.
    let mut scope_depths: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut public = false;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text.as_str();
        if t == "#" && is_cfg_test(&toks, i) {
            let (end, test_mod) = skip_test_item(&toks, i);
            if let Some(name) = test_mod {
                scan.test_mods.push(child(&scope, &name));
            }
            i = end;
            public = false;
            continue;
        }
        match t {
            "pub" => {
                public = true;
                i += 1;
                if text_at(&toks, i) == "(" {
                    i = matching(&toks, i); // `pub(in crate::a)` restricts, it doesn't use
                }
                continue;
            }
            "mod" if text_at(&toks, i + 2) == "{" => {
                scope.push(text_at(&toks, i + 1).to_string());
                scan.inline_mods.push(scope.clone());
                depth += 1;
                scope_depths.push(depth);
                i += 3;
            }
            "{" => {
                depth += 1;
                i += 1;
            }
            "}" => {
                if scope_depths.last() == Some(&depth) {
                    scope_depths.pop();
                    scope.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            "use" => {
                let mut leaves = Vec::new();
                i = use_tree(&toks, i + 1, &[], &mut leaves);
                for leaf in leaves {
                    record_import(&mut scan, &scope, leaf, public);
                }
            }
            _ if starts_path(&toks, i) => {
                let (path, end) = code_path(&toks, i);
                if let Some(path) = path {
                    scan.refs.push(Ref { scope: scope.clone(), path, line: toks[i].line });
                }
                i = end;
            }
            _ => i += 1,
        }
        public = false;
    }
    scan
}

/// One leaf of a `use` tree: its full path (`*` last for a glob), the name it binds, its line.
#[derive(Debug, Clone)]
struct Leaf {
    segs: Vec<String>,
    name: Option<String>,
    line: usize,
}

fn record_import(scan: &mut Scan, scope: &[String], leaf: Leaf, public: bool) {
    let glob = leaf.segs.last().is_some_and(|s| s == "*");
    let mut segs = leaf.segs;
    if glob {
        segs.pop();
    }
    let Some(path) = anchored(&segs) else { return };
    if !public {
        scan.refs.push(Ref { scope: scope.to_vec(), path: path.clone(), line: leaf.line });
    }
    let imports = scan.imports.entry(scope.to_vec()).or_default();
    match (glob, leaf.name) {
        (true, _) if public => imports.globs.push(path),
        (false, Some(name)) if name != "_" => {
            imports.named.insert(name, path);
        }
        _ => {}
    }
}

/// Splits a path's leading `crate`, `self`, `super`s or `::` off into its anchor.
fn anchored(segs: &[String]) -> Option<PathRef> {
    let mut rest = segs;
    let anchor = match rest.first().map(String::as_str) {
        None => return None,
        Some("crate" | "$crate") => {
            rest = &rest[1..];
            Anchor::Crate
        }
        Some("::") => {
            rest = &rest[1..];
            Anchor::Extern
        }
        Some("self" | "super") => {
            if rest[0] == "self" {
                rest = &rest[1..];
            }
            let ups = rest.iter().take_while(|s| *s == "super").count();
            rest = &rest[ups..];
            Anchor::Up(ups)
        }
        Some(_) => Anchor::Local,
    };
    Some(PathRef { anchor, segs: rest.to_vec() })
}

/// Parses the use tree starting at `i` under `prefix`; returns the index after it.
fn use_tree(toks: &[Token], mut i: usize, prefix: &[String], out: &mut Vec<Leaf>) -> usize {
    let mut segs = prefix.to_vec();
    if text_at(toks, i) == "::" {
        segs.push("::".into());
        i += 1;
    }
    loop {
        match text_at(toks, i) {
            "{" => {
                i += 1;
                while i < toks.len() && text_at(toks, i) != "}" {
                    let before = i;
                    i = use_tree(toks, i, &segs, out);
                    if text_at(toks, i) == "," {
                        i += 1;
                    }
                    if i == before {
                        i += 1; // malformed: never loop without progress
                    }
                }
                return i + 1;
            }
            "*" => {
                segs.push("*".into());
                out.push(Leaf { segs, name: None, line: toks[i].line });
                return i + 1;
            }
            t if is_ident(t) => {
                let line = toks[i].line;
                segs.push(t.to_string());
                i += 1;
                if text_at(toks, i) == "::" {
                    i += 1;
                    continue;
                }
                let mut name = None;
                if text_at(toks, i) == "as" {
                    name = Some(text_at(toks, i + 1).to_string());
                    i += 2;
                }
                if segs.last().is_some_and(|s| s == "self") {
                    segs.pop();
                }
                let name = name.or_else(|| segs.last().cloned());
                out.push(Leaf { segs, name, line });
                return i;
            }
            _ => return i,
        }
    }
}

/// Whether a path of the module's code starts at token `i`: an identifier followed by `::`,
/// not itself the tail of a path, a field or a method (`x.f::<T>()`).
fn starts_path(toks: &[Token], i: usize) -> bool {
    let t = toks[i].text.as_str();
    is_ident(t)
        && text_at(toks, i + 1) == "::"
        && !(i > 0 && matches!(toks[i - 1].text.as_str(), "::" | "."))
}

/// The path starting at `i` (segments up to a `::<`, `::{`, `::*` or the end), and the index
/// after it.
fn code_path(toks: &[Token], mut i: usize) -> (Option<PathRef>, usize) {
    let dollar = i > 0 && toks[i - 1].text == "$";
    let mut segs = Vec::new();
    while is_ident(text_at(toks, i)) {
        segs.push(toks[i].text.clone());
        if text_at(toks, i + 1) == "::" && is_ident(text_at(toks, i + 2)) {
            i += 2;
        } else {
            i += 1;
            break;
        }
    }
    if dollar && segs.first().is_some_and(|s| s == "crate") {
        segs[0] = "$crate".into();
    }
    (anchored(&segs), i)
}

/// Whether the attribute at `i` (`#`) is exactly `#[cfg(test)]`.
fn is_cfg_test(toks: &[Token], i: usize) -> bool {
    (0..6).map(|k| text_at(toks, i + 1 + k)).eq(["[", "cfg", "(", "test", ")", "]"])
}

/// Skips the `#[cfg(test)]` item at `i`: its other attributes, visibility, and body up to its
/// `;` or closing brace. Returns the index after it and, for `mod name;`, the test-only
/// file module's name.
fn skip_test_item(toks: &[Token], mut i: usize) -> (usize, Option<String>) {
    while text_at(toks, i) == "#" && text_at(toks, i + 1) == "[" {
        i = matching(toks, i + 1);
    }
    if text_at(toks, i) == "pub" {
        i += 1;
        if text_at(toks, i) == "(" {
            i = matching(toks, i);
        }
    }
    if text_at(toks, i) == "mod" && text_at(toks, i + 2) == ";" {
        return (i + 3, Some(text_at(toks, i + 1).to_string()));
    }
    let mut depth = 0usize;
    while i < toks.len() {
        match toks[i].text.as_str() {
            "(" | "[" => depth += 1,
            ")" | "]" => depth = depth.saturating_sub(1),
            ";" if depth == 0 => return (i + 1, None),
            "{" if depth == 0 => return (matching(toks, i), None),
            _ => {}
        }
        i += 1;
    }
    (i, None)
}

/// The index after the bracket that closes the one at `open`.
fn matching(toks: &[Token], open: usize) -> usize {
    let (o, c) = match text_at(toks, open) {
        "(" => ("(", ")"),
        "[" => ("[", "]"),
        _ => ("{", "}"),
    };
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.text == o {
            depth += 1;
        } else if t.text == c {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    toks.len()
}

fn text_at(toks: &[Token], i: usize) -> &str {
    toks.get(i).map_or("", |t| t.text.as_str())
}

fn is_ident(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c == '_' || c == '$' || c.is_alphabetic())
}

/// Resolves paths to the modules that define what they name.
struct Resolver<'a> {
    modules: BTreeSet<ModPath>,
    imports: BTreeMap<ModPath, &'a Imports>,
}

/// How deep re-export chains may go before the resolver gives up (a guard against loops).
const MAX_HOPS: usize = 32;

impl Resolver<'_> {
    /// The module `path`, written in `module`, names an item of; `None` for other crates.
    fn target(&self, module: &ModPath, path: &PathRef) -> Option<ModPath> {
        self.resolve(module, path, 0)
    }

    fn resolve(&self, module: &ModPath, path: &PathRef, hops: usize) -> Option<ModPath> {
        if hops > MAX_HOPS {
            return None;
        }
        let base = match path.anchor {
            Anchor::Crate => Vec::new(),
            Anchor::Up(n) => module[..module.len().checked_sub(n)?].to_vec(),
            Anchor::Extern => return None,
            Anchor::Local => {
                let first = path.segs.first()?;
                let known = self.modules.contains(&child(module, first))
                    || self.imports.get(module).is_some_and(|i| i.named.contains_key(first));
                if !known {
                    return None; // another crate, or a local name
                }
                module.clone()
            }
        };
        self.walk(base, &path.segs, hops)
    }

    /// Follows `segs` down from module `cur`: into child modules, through imports, and
    /// through `pub use` globs; stops at the module that defines the next name.
    fn walk(&self, mut cur: ModPath, segs: &[String], hops: usize) -> Option<ModPath> {
        for (k, seg) in segs.iter().enumerate() {
            let sub = child(&cur, seg);
            if self.modules.contains(&sub) {
                cur = sub;
                continue;
            }
            let imports = self.imports.get(&cur);
            if let Some(target) = imports.and_then(|i| i.named.get(seg)) {
                let mut rest = target.clone();
                rest.segs.extend_from_slice(&segs[k + 1..]);
                return self.resolve(&cur, &rest, hops + 1).or(Some(cur));
            }
            if let Some(glob) = imports.and_then(|i| i.globs.first()) {
                let into = self.resolve(&cur, glob, hops + 1)?;
                return self.walk(into, &segs[k..], hops + 1);
            }
            break;
        }
        Some(cur)
    }
}

/// The strongly connected components of `graph` (Tarjan), each sorted, in a stable order.
fn strongly_connected<'a>(
    graph: &BTreeMap<&'a ModPath, BTreeSet<&'a ModPath>>,
) -> Vec<Vec<&'a ModPath>> {
    struct State<'a> {
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        out: Vec<Vec<&'a ModPath>>,
    }
    fn visit<'a>(
        v: &'a ModPath,
        graph: &BTreeMap<&'a ModPath, BTreeSet<&'a ModPath>>,
        s: &mut State<'a>,
    ) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, graph, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(v, graph, &mut s);
        }
    }
    s.out.sort();
    s.out
}

/// The shortest cycle through the first module of `component`, first module repeated at the
/// end (`[a, b, a]`).
fn shortest_cycle(
    graph: &BTreeMap<&ModPath, BTreeSet<&ModPath>>,
    component: &[&ModPath],
) -> Vec<ModPath> {
    let inside: BTreeSet<&ModPath> = component.iter().copied().collect();
    let start = component[0];
    let mut parent: BTreeMap<&ModPath, &ModPath> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in graph.get(v).into_iter().flatten().filter(|w| inside.contains(*w)) {
            if w == start {
                let mut path = vec![start.clone(), v.clone()];
                let mut cur = v;
                while let Some(&p) = parent.get(cur) {
                    path.push(p.clone());
                    cur = p;
                }
                path.reverse(); // start, …, v, start
                return path;
            }
            if w != start && !parent.contains_key(w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start.clone(), start.clone()] // unreachable for a real component
}

#[cfg(test)]
fn fixture(files: &[(&str, &str)]) -> CrateSources {
    CrateSources {
        dir: "crates/demo".into(),
        files: files.iter().map(|(p, t)| ((*p).to_string(), (*t).to_string())).collect(),
    }
}

#[cfg(test)]
fn edges(files: &[(&str, &str)]) -> Vec<String> {
    module_uses(&fixture(files))
        .into_keys()
        .map(|(a, b)| format!("{} -> {}", display(&a), display(&b)))
        .collect()
}

#[test]
fn braced_nested_use_trees_name_every_leaf() {
    let e = edges(&[
        ("lib.rs", "mod a; mod b; mod c;\nuse crate::{a::X, b::{self, c::Y}};\nfn f() {}"),
        ("a.rs", "use self::super::b::{Z as W, *};"),
        ("b.rs", "mod c;"),
        ("b/c.rs", "use ::other::crate_like::X; use std::{a::B};"),
        ("c.rs", ""),
    ]);
    assert_eq!(e, ["crate -> a", "crate -> b", "crate -> b::c", "a -> b"]);
}

#[test]
fn facades_are_followed_to_the_module_that_defines_the_item() {
    let files = [
        ("lib.rs", "mod error; mod wire; mod client;\npub use error::{CarrierError as Error};\n"),
        ("error.rs", "pub enum CarrierError {}\npub use crate::wire::Raw;"),
        ("wire.rs", "pub struct Raw;"),
        ("client.rs", "use crate::Error;\nfn f() -> crate::error::Raw { todo() }"),
    ];
    assert_eq!(edges(&files), ["client -> error", "client -> wire"]);
    let glob = [
        ("lib.rs", "mod facade; mod inner; mod user;"),
        ("facade/mod.rs", "pub use crate::inner::*;"),
        ("inner.rs", "pub struct Deep;"),
        ("user.rs", "fn f(_: crate::facade::Deep) {}"),
    ];
    assert_eq!(edges(&glob), ["user -> inner"]);
}

#[test]
fn a_parent_and_child_using_each_other_through_super_is_a_cycle() {
    let files = [
        ("lib.rs", "pub mod serve;"),
        ("serve/mod.rs", "mod state;\npub struct Config;\nfn run(s: state::AppState) {}"),
        ("serve/state.rs", "//! State.\n\npub struct AppState { c: super::Config }"),
    ];
    let cycles = module_cycles(&fixture(&files));
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].starts_with(
            "cycle in crates/demo: serve -> serve::state -> serve (crates/demo/src/serve/mod.rs:3 \
             uses serve::state, crates/demo/src/serve/state.rs:3 uses serve)"
        ),
        "{cycles:?}"
    );
}

#[test]
fn test_code_comments_and_literals_are_not_uses() {
    let files = [
        ("lib.rs", "mod a; mod b;"),
        (
            "a.rs",
            "use crate::b::Thing;\n#[cfg(test)]\n#[allow(dead_code)]\nmod tests { use crate::b::X; }",
        ),
        (
            "b.rs",
            "// uses crate::a::X\n/* crate::a::Y */ /// crate::a::Z\nfn f() { let _ = \"crate::a::X\"; \
             let _ = r#\"super::a::X\"#; let _ = '\"'; }\n#[cfg(test)]\nmod tests;",
        ),
        ("b/tests.rs", "use crate::a::Helper;"),
    ];
    assert_eq!(edges(&files), ["a -> b"]);
    assert!(module_cycles(&fixture(&files)).is_empty());
}

#[test]
fn the_longest_module_wins_and_ancestors_own_items_count() {
    let files = [
        ("main.rs", "mod a; pub struct Root;"),
        ("a/mod.rs", "mod b; fn f() { crate::a::b::g(); crate::a::h(); }"),
        ("a/b.rs", "fn g() -> crate::Root { super::super::Root }"),
        ("bin_like.rs", ""),
    ];
    assert_eq!(edges(&files), ["a -> a::b", "a::b -> crate"]);
}

#[test]
fn every_component_is_reported_once_with_a_cycle_through_it() {
    let files = [
        ("lib.rs", "mod a; mod b; mod c; mod d; mod e;"),
        ("a.rs", "use crate::b::B;"),
        ("b.rs", "use crate::c::C;"),
        ("c.rs", "use crate::a::A; use crate::d::D;"),
        ("d.rs", "use crate::e::E;"),
        ("e.rs", "fn f(_: super::d::D) {}"),
    ];
    let cycles = module_cycles(&fixture(&files));
    assert_eq!(cycles.len(), 2, "{cycles:#?}");
    assert!(cycles[0].contains(": a -> b -> c -> a ("), "{cycles:#?}");
    assert!(cycles[1].contains(": d -> e -> d ("), "{cycles:#?}");
}

#[test]
fn inline_modules_are_scopes_of_their_file() {
    let files = [
        ("lib.rs", "mod config; mod other;"),
        (
            "config.rs",
            "mod toml_value {\n    use super::Thing;\n    pub struct Any(super::Thing);\n}\n\
             pub struct Thing;\nfn f(_: toml_value::Any) {}",
        ),
        ("other.rs", "fn f(_: crate::config::toml_value::Any) {}"),
    ];
    assert_eq!(edges(&files), ["other -> config"]);
}
