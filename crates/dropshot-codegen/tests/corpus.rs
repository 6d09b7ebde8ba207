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

/// A large document dropshot did not make: refused cleanly without `skip_unsupported` (each
/// construct named with its pointer), and with it, generated code; never a panic.
#[test]
fn github_description_never_crashes_the_generator() {
    let spec = read(&corpus_dir().join("not-dropshot/api.github.com.json"));
    let ops = operation_count(&spec);
    let start = Instant::now();
    let refused = dropshot_codegen::generate(&spec, &dropshot_codegen::Settings::default());
    let Err(dropshot_codegen::Error::Unsupported(found)) = refused else {
        panic!("GitHub's description uses constructs dropshot cannot express: {:?}", refused.err())
    };
    assert!(found.iter().all(|u| u.pointer.starts_with('/')), "every construct has its pointer");
    println!("api.github.com.json: {} constructs refused in {} ms", found.len(), start.elapsed().as_millis());
    let start = Instant::now();
    let settings = dropshot_codegen::Settings { skip_unsupported: true, ..Default::default() };
    match dropshot_codegen::generate(&spec, &settings) {
        Ok(generated) => {
            let skipped_ops: std::collections::BTreeSet<String> =
                generated.skipped.iter().map(|u| u.pointer.split('/').take(4).collect::<Vec<_>>().join("/")).collect();
            println!(
                "api.github.com.json with skip_unsupported: {} of {ops} operations generated in {} ms",
                ops.saturating_sub(skipped_ops.len()),
                start.elapsed().as_millis()
            );
            syn::parse_file(&generated.source).expect("the output parses");
        }
        Err(error) => {
            // An error is allowed, a panic is not: it must still name what it is about.
            println!(
                "api.github.com.json with skip_unsupported: refused in {} ms: {error}",
                start.elapsed().as_millis()
            );
            if let dropshot_codegen::Error::Unsupported(found) = &error {
                assert!(found.iter().all(|u| u.pointer.starts_with('/')));
            }
        }
    }
}

/// buildomat's optional `text/plain` body is what dropshot truly cannot express (its bodies are
/// always required, and typed ones are JSON): refused with its JSON pointer.
#[test]
fn buildomat_text_body_is_refused_with_its_pointer() {
    let spec = read(&corpus_dir().join("buildomat.json"));
    let error = dropshot_codegen::generate(&spec, &dropshot_codegen::Settings::default()).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("/paths/~1v1~1whoami~1name/put/requestBody"), "{message}");
    assert!(message.contains("text/plain"), "{message}");
}

/// No circle of imports among the generator's modules: following `use crate::…` from any module
/// never leads back to it; and read → model → emit, never back.
#[test]
fn the_generators_modules_import_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut targets: Vec<String> = text
            .match_indices("crate::")
            .map(|(i, _)| text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
            .filter(|m| m != &module && src.join(format!("{m}.rs")).exists())
            .collect();
        targets.sort();
        targets.dedup();
        edges.insert(module, targets);
    }
    fn reaches(
        edges: &std::collections::BTreeMap<String, Vec<String>>,
        from: &str,
        to: &str,
        seen: &mut Vec<String>,
    ) -> bool {
        for next in edges.get(from).into_iter().flatten() {
            if next == to {
                return true;
            }
            if !seen.contains(next) {
                seen.push(next.clone());
                if reaches(edges, next, to, seen) {
                    return true;
                }
            }
        }
        false
    }
    for module in edges.keys() {
        assert!(!reaches(&edges, module, module, &mut Vec::new()), "{module} imports itself through others: {edges:?}");
    }
    // Reading and the model depend on no emitter; the model refers to types, never holds code.
    for module in ["model", "read"] {
        for emitter in ["emit", "support", "types"] {
            assert!(!reaches(&edges, module, emitter, &mut Vec::new()), "{module} depends on {emitter}: {edges:?}");
        }
    }
    let model = std::fs::read_to_string(src.join("model.rs")).unwrap();
    assert!(!model.contains("TokenStream"), "the model holds type references, not code");
}
