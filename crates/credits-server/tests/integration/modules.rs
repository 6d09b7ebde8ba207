//! The server's modules import one another without a circle: the layers of `lib.rs` (edge, http,
//! domain, adapters, leaves) hold only if no module's `crate::…` paths reach a module whose own
//! `crate::…` paths lead back to it. A module is a file of `src/` or a folder (`store/`,
//! `purchase/`, all its files together); `lib.rs` (the root, which declares every module) and
//! `main.rs` (the binary) are left out.
//!
//! Two more rules of the layout are checked here: handlers stay short, and the names of a
//! session's statuses are spelled only by their enums.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The names right after `crate::` in `source`, including each top-level name of a
/// `crate::{a, b::c}` group.
fn crate_references(source: &str) -> BTreeSet<String> {
    let ident = |text: &str| -> String { text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut found = BTreeSet::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.insert(ident(rest));
            continue;
        };
        // Split the group on the commas outside nested braces; keep each part's first name.
        let (mut depth, mut part_start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    found.insert(ident(group[part_start..i].trim_start()));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.insert(ident(group[part_start..i].trim_start()));
                    part_start = i + 1;
                }
                _ => {}
            }
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Top-level module → the top-level modules it refers to.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(&src) {
        let relative = path.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a file").as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("readable module");
        graph.entry(module).or_default().extend(crate_references(&source));
    }
    // Keep only edges to other modules (not to items of the root, such as `ServerContext`).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (name, targets) in graph.iter_mut() {
        targets.retain(|t| modules.contains(t) && t != name);
    }
    graph
}

/// A circle through `start`, if there is one (depth-first).
fn circle_through(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        for next in &graph[path.last().expect("never empty")] {
            if next == start {
                return Some([path.clone(), vec![start.to_string()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn the_reader_sees_paths_and_groups() {
    let refs =
        crate_references("use crate::{access::{self, Access}, error::Error, model};\nlet s = crate::store::Store;");
    assert_eq!(refs, BTreeSet::from(["access", "error", "model", "store"].map(String::from)));
    let circle = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(circle_through(&circle, "a"), Some(vec!["a".into(), "b".into(), "a".into()]));
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = module_graph();
    for module in ["http", "purchase", "store", "model"] {
        assert!(graph.contains_key(module), "{module} is read: {graph:?}");
    }
    assert!(graph["http"].contains("purchase") && graph["purchase"].contains("store"), "{graph:?}");
    let circles: Vec<_> = graph.keys().filter_map(|m| circle_through(&graph, m)).collect();
    assert!(circles.is_empty(), "module circles: {circles:?}");
}

/// The source of a file of `src/`.
fn source(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(relative)).expect("readable")
}

/// Handlers only extract, call the domain and map: each body stays a few lines (at most 25).
#[test]
fn handlers_stay_short() {
    let http = source("http.rs");
    let lines: Vec<&str> = http.lines().collect();
    let mut handlers = 0;
    for (start, line) in lines.iter().enumerate().filter(|(_, l)| l.starts_with("    async fn ")) {
        let open = (start..lines.len()).find(|&i| lines[i].ends_with('{')).expect("a body");
        let close = (open..lines.len()).find(|&i| lines[i] == "    }").expect("the body ends");
        assert!(close - open - 1 <= 25, "{line} has a body of {} lines", close - open - 1);
        handlers += 1;
    }
    assert!(handlers >= 6, "the handlers were found: {handlers}");
}

/// A session's status names are written once, in the enums' own conversions (`model.rs`);
/// everything else uses the enums.
#[test]
fn status_names_are_written_once() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for path in rust_files(&src) {
        if path.ends_with("model.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        for name in ["\"paid\"", "\"complete\"", "\"unpaid\"", "\"expired\"", "'paid'", "'complete'"] {
            assert!(!text.contains(name), "{} spells {name}", path.display());
        }
    }
}
