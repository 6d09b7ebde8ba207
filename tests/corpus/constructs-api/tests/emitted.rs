//! The committed document is what dropshot emits for the API (rewrite it on purpose with
//! `EXPECTORATE=overwrite`; then `cargo xtask codegen` regenerates its corpus module).

#[test]
fn the_committed_document_is_what_dropshot_emits() {
    let document = serde_json::to_string_pretty(&constructs_api::document()).expect("JSON") + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dropshot-made/constructs.json");
    expectorate::assert_contents(path, &document);
}
