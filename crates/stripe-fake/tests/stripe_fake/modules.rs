//! The crate's modules import one another without a circle: a module's `crate::…` paths never
//! reach a module whose own `crate::…` paths lead back to it (the issue that split the shared
//! endpoint helpers out of `api.rs`). `lib.rs` (the root, which declares every module) and
//! `main.rs` (the binary) are left out.

use std::collections::{BTreeMap, BTreeSet};

/// The modules named by `crate::name` paths in `source`, including `use crate::{a, b::c}` groups.
fn crate_references(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level names of the group: split on commas outside nested braces.
            let mut depth = 0;
            let mut name = String::new();
            let mut at_top_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !name.is_empty() {
                            found.insert(std::mem::take(&mut name));
                        }
                        at_top_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && at_top_start {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                    } else if !name.is_empty() {
                        found.insert(std::mem::take(&mut name));
                        at_top_start = false;
                    }
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src is readable") {
        let path = entry.expect("dir entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.extension().is_none_or(|e| e != "rs") || name == "lib" || name == "main" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("module is readable");
        graph.insert(name, crate_references(&source));
    }
    // Keep only edges to modules (not items re-exported at the root).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (name, targets) in graph.iter_mut() {
        targets.retain(|t| modules.contains(t) && t != name);
    }
    graph
}

/// A circle through `start`, if one exists (depth-first search).
fn circle_through(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in &graph[last] {
            if next == start {
                let mut circle = path.clone();
                circle.push(start.to_string());
                return Some(circle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn the_reference_reader_sees_groups_and_paths() {
    let refs = crate_references("use crate::{ids, objects::list, form::{self, Fields}};\nlet x = crate::errors::E;");
    assert_eq!(refs, BTreeSet::from(["errors", "form", "ids", "objects"].map(String::from)));
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(circle_through(&graph, "a"), Some(vec!["a".into(), "b".into(), "a".into()]));
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = module_graph();
    assert!(graph.contains_key("api") && graph.contains_key("endpoint"), "{graph:?}");
    let circles: Vec<_> = graph.keys().filter_map(|m| circle_through(&graph, m)).collect();
    assert!(circles.is_empty(), "module circles: {circles:?}");
}
