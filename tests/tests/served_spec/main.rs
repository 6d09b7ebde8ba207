//! The document the running server serves means the same as `openapi/credits.json`, compared
//! with the same normalization as the round trip (crate `openapi-compare`). It lives here rather
//! than beside the server because it needs three crates at once: the server, the generated
//! client and the comparison.

use std::time::Duration;

use credits_server::{BundlePrice, Config, EdgeConfig, Retention, RunningServer, Secret, StripeConfig};
use serde_json::Value;

/// A server on a fresh SQLite database, removed with it. Serving the document never calls
/// Stripe, so the Stripe base URL points nowhere.
struct App {
    server: Option<RunningServer>,
    base_url: String,
    dir: std::path::PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        drop(self.server.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn spawn_app() -> App {
    let dir = std::env::temp_dir().join(format!("credits-served-spec-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        metrics_bind: None,
        database_url: format!("sqlite://{}/credits.db", dir.display()),
        stripe: StripeConfig {
            secret_key: Secret::new("sk_test_unused"),
            api_base: "http://127.0.0.1:9/".into(),
            webhook_secrets: vec![Secret::new("whsec_unused")],
            deadline: Duration::from_secs(1),
        },
        bundle_price: BundlePrice::Amount { unit_amount: 500, currency: "usd".into() },
        credits_per_bundle: 100,
        min_client_version: None,
        rate_limit_per_minute: 1000,
        allowed_redirect_origins: Vec::new(),
        low_balance_threshold: 100,
        credential_cache_ttl: credits_server::credential_cache::DEFAULT_TTL,
        retention: Retention::default(),
        http_log_level: dropshot::ConfigLoggingLevel::Warn,
        edge: EdgeConfig::defaults(Duration::from_secs(1)),
        shutdown_grace: Duration::from_secs(15),
    };
    let server = credits_server::start_server(config).await.expect("server starts");
    let base_url = format!("http://{}", server.local_addr());
    App { server: Some(server), base_url, dir }
}

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
    let app = spawn_app().await;
    let served = served(&app.base_url).await;
    if let Some(diff) = openapi_compare::diff(&spec_file(), &served) {
        panic!("the served document differs from openapi/credits.json:\n{diff}");
    }
}

#[tokio::test]
async fn drift_in_the_served_document_is_caught() {
    let app = spawn_app().await;
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
    let app = spawn_app().await;
    let served = served(&app.base_url).await;
    assert_eq!(error_statuses(&served), error_statuses(&spec_file()));
}
