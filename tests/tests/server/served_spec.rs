//! The document the running server serves means the same as `openapi/credits.json`, compared
//! with the same normalization as the round trip (crate `openapi-compare`).

use serde_json::Value;

use crate::helpers::{Db, spawn_app};

fn spec_file() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/credits.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn served(base_url: &str) -> Value {
    let client = credits_client::connect_anonymous(base_url, Default::default()).unwrap();
    Value::Object(client.get_openapi_document().send().await.expect("document served").into_inner())
}

#[tokio::test]
async fn served_document_matches_the_spec_file() {
    let app = spawn_app(Db::Sqlite).await;
    let served = served(&app.base_url).await;
    if let Some(diff) = openapi_compare::diff(&spec_file(), &served) {
        panic!("the served document differs from openapi/credits.json:\n{diff}");
    }
}

#[tokio::test]
async fn drift_in_the_served_document_is_caught() {
    let app = spawn_app(Db::Sqlite).await;
    let served = served(&app.base_url).await;
    let mut drifted = served.clone();
    drifted["paths"].as_object_mut().unwrap().remove("/api/v1/org/{org}/credits");
    assert!(openapi_compare::diff(&spec_file(), &drifted).is_some());
    let mut no_security = served.clone();
    no_security["paths"]["/api/v1/org/{org}/credits/checkout"]["post"].as_object_mut().unwrap().remove("security");
    assert!(openapi_compare::diff(&spec_file(), &no_security).is_some());
    let mut no_links = served.clone();
    no_links["paths"]["/api/v1/org/{org}/credits/checkout"]["post"]["responses"]["200"]
        .as_object_mut()
        .unwrap()
        .remove("links");
    assert!(openapi_compare::diff(&spec_file(), &no_links).is_some());
    let mut looser = served;
    looser["components"]["schemas"]["CreateCheckoutSessionRequest"]["properties"]["success_url"]
        .as_object_mut()
        .unwrap()
        .remove("pattern");
    assert!(openapi_compare::diff(&spec_file(), &looser).is_some());
}

/// Each operation's error statuses and their descriptions, with references followed.
fn error_statuses(document: &Value) -> std::collections::BTreeMap<String, Vec<(String, String, Value)>> {
    let resolve = |value: &Value| -> Value {
        match value.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => document.pointer(pointer).cloned().unwrap_or(Value::Null),
            None => value.clone(),
        }
    };
    let mut out = std::collections::BTreeMap::new();
    for item in document["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            let id = op["operationId"].as_str().expect("operationId").to_string();
            let mut statuses: Vec<(String, String, Value)> = op["responses"]
                .as_object()
                .expect("responses")
                .iter()
                .filter(|(code, _)| code.starts_with('4') || code.starts_with('5'))
                .map(|(code, response)| {
                    let response = resolve(response);
                    let description = response["description"].as_str().unwrap_or("").to_string();
                    (code.clone(), description, response.get("headers").cloned().unwrap_or(Value::Null))
                })
                .collect();
            statuses.sort_by(|a, b| a.0.cmp(&b.0));
            out.insert(id, statuses);
        }
    }
    out
}

/// Stricter than the shared normalization, which must collapse errors into `4XX`/`5XX` for the
/// round trip: the served document lists, for every operation, exactly the error statuses of the
/// spec file, with the same descriptions and headers.
#[tokio::test]
async fn served_error_statuses_match_the_spec_file_one_by_one() {
    let app = spawn_app(Db::Sqlite).await;
    let served = served(&app.base_url).await;
    assert_eq!(error_statuses(&served), error_statuses(&spec_file()));
}
