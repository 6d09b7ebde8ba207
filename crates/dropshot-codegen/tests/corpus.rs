//! The generator on the corpus: every operation of every document dropshot made generates (no
//! `--skip-unsupported`), with the time each document takes; what dropshot really cannot express
//! is refused with its JSON pointer.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn operation_count(spec: &Value) -> usize {
    spec["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, item)| item.as_object().into_iter().flatten())
        .filter(|(method, _)| {
            matches!(method.as_str(), "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace")
        })
        .count()
}

/// The documents dropshot itself emitted: `omicron/` and `dropshot-made/`.
fn dropshot_made() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["omicron", "dropshot-made"] {
        let Ok(entries) = std::fs::read_dir(corpus_dir().join(dir)) else { continue };
        files.extend(
            entries.map(|e| e.expect("directory entry").path()).filter(|p| p.extension().is_some_and(|e| e == "json")),
        );
    }
    files.sort();
    files
}

#[test]
fn every_operation_of_every_dropshot_made_document_generates() {
    let files = dropshot_made();
    assert!(files.len() >= 15, "the corpus is in tests/corpus/omicron: {files:?}");
    let settings = dropshot_codegen::Settings::default();
    let (mut total_ops, mut total_ms) = (0, 0.0);
    let mut failures = Vec::new();
    for file in &files {
        let spec = read(file);
        let ops = operation_count(&spec);
        let start = Instant::now();
        let result = dropshot_codegen::generate(&spec, &settings);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let name = file.file_name().unwrap().to_string_lossy();
        match result {
            Ok(_) => println!("{name}: {ops}/{ops} operations generated in {ms:.0} ms"),
            Err(e) => {
                println!("{name}: refused in {ms:.0} ms");
                failures.push(format!("{name}: {e}"));
            }
        }
        total_ops += ops;
        total_ms += ms;
    }
    println!("total: {} documents, {total_ops} operations, {total_ms:.0} ms", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
