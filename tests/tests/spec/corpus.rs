//! The generator is general: the corpus documents become traits that emit what they say, and what
//! dropshot cannot express is reported with its JSON pointer rather than dropped.

use serde_json::Value;

use crate::helpers::{Recorded, assert_same_meaning, emitted, read_json};

/// The document without the operations the generator reported as inexpressible.
fn without_skipped(mut spec: Value, skipped: &[(&str, &str)]) -> Value {
    for (pointer, _) in skipped {
        // /paths/<path>/<method>/... → remove /paths/<path>/<method>.
        let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        if parts.len() >= 3 && parts[0] == "paths" {
            let path = parts[1].replace("~1", "/").replace("~0", "~");
            if let Some(item) = spec["paths"].get_mut(&path).and_then(Value::as_object_mut) {
                item.remove(parts[2]);
                if item.is_empty() {
                    spec["paths"].as_object_mut().expect("paths").remove(&path);
                }
            }
        }
    }
    spec
}

#[test]
fn keeper_round_trips() {
    let spec = read_json("tests/corpus/keeper.json");
    assert!(keeper_api::SKIPPED.is_empty(), "{:?}", keeper_api::SKIPPED);
    let description = keeper_api::keeper_api_mod::stub_api_description().expect("valid API");
    let doc = emitted(
        description,
        keeper_api::API_TITLE,
        keeper_api::API_VERSION,
        Recorded { security_json: keeper_api::SECURITY_JSON, links_json: keeper_api::RESPONSE_LINKS_JSON },
    );
    assert_same_meaning(&spec, &doc, "keeper.json");
}

#[test]
fn param_collision_round_trips() {
    let spec = read_json("tests/corpus/param-collision.json");
    assert!(param_collision_api::SKIPPED.is_empty(), "{:?}", param_collision_api::SKIPPED);
    let description =
        param_collision_api::parameter_name_collision_test_api_mod::stub_api_description().expect("valid API");
    let doc = emitted(
        description,
        param_collision_api::API_TITLE,
        param_collision_api::API_VERSION,
        Recorded {
            security_json: param_collision_api::SECURITY_JSON,
            links_json: param_collision_api::RESPONSE_LINKS_JSON,
        },
    );
    assert_same_meaning(&spec, &doc, "param-collision.json");
}

#[test]
fn buildomat_round_trips_except_what_dropshot_cannot_express() {
    let skipped = buildomat_api::SKIPPED;
    // The text/plain body of PUT /v1/whoami/name is the one construct dropshot cannot express.
    assert!(
        skipped
            .iter()
            .any(|(pointer, what)| *pointer == "/paths/~1v1~1whoami~1name/put/requestBody/content/text~1plain"
                && what.contains("text/plain")),
        "{skipped:?}"
    );
    let spec = without_skipped(read_json("tests/corpus/buildomat.json"), skipped);
    let description = buildomat_api::buildomat_api_mod::stub_api_description().expect("valid API");
    let doc = emitted(
        description,
        buildomat_api::API_TITLE,
        buildomat_api::API_VERSION,
        Recorded { security_json: buildomat_api::SECURITY_JSON, links_json: buildomat_api::RESPONSE_LINKS_JSON },
    );
    assert_same_meaning(&spec, &doc, "buildomat.json");
}

#[test]
fn inexpressible_constructs_stop_generation_with_their_pointer() {
    let spec = read_json("tests/corpus/buildomat.json");
    let settings = dropshot_codegen::Settings { skip_unsupported: false, ..Default::default() };
    let error = dropshot_codegen::generate(&spec, &settings).expect_err("text/plain bodies are not expressible");
    let message = error.to_string();
    assert!(message.contains("text/plain"), "{message}");
    assert!(message.contains("/paths/~1v1~1whoami~1name/put/requestBody/content/text~1plain"), "{message}");
}
