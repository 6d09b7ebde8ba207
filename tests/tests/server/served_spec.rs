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
    let mut no_security = served;
    no_security.as_object_mut().unwrap().remove("security");
    assert!(openapi_compare::diff(&spec_file(), &no_security).is_some());
}
