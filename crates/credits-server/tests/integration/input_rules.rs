//! The rules the spec states about input, as the running server enforces them through the
//! generated extractors (no handler restates them), and the one rule the spec cannot state: the
//! deployment's allowed redirect origins, reported with its own `type`.

use credits_client::types::{ApiErrorPayload, CreateCheckoutSessionRequest};
use credits_server::Role;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};

/// A checkout sent as raw JSON (so that anything can be sent), with an optional idempotency key.
async fn post_checkout(app: &TestApp, token: &str, org: &str, body: Value, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/org/{org}/credits/checkout", app.base_url))
        .bearer_auth(token)
        .json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn body(success_url: &str) -> Value {
    json!({"quantity": 1, "success_url": success_url, "cancel_url": "https://app.example/cancel"})
}

/// The `(loc, type)` of each item of a 422.
fn problems(body: &Value) -> Vec<(String, String)> {
    let items = body["errors"].as_array().unwrap_or_else(|| panic!("a 422 lists its problems: {body}"));
    let loc = |item: &Value| {
        item["loc"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().map_or(s.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(".")
    };
    items.iter().map(|item| (loc(item), item["type"].as_str().unwrap().to_string())).collect()
}

#[tokio::test]
async fn redirect_urls_outside_the_specs_pattern_are_422_and_reach_no_one() {
    // No allowed origins: only the spec's rule applies.
    let app = spawn_app_with(Db::Sqlite, |config| config.allowed_redirect_origins.clear()).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let refused = [
        "javascript:alert(1)",
        "ftp://app.example/ok",
        "http://app.example/ok",
        "https://user:pass@app.example/ok",
        "https://app.example/ok\u{0}x",
        "https://app.example/a b",
        "//app.example/ok",
        "",
    ];
    for url in refused {
        let (status, answer) = post_checkout(&app, &token, &org, body(url), None).await;
        assert_eq!(status, 422, "{url:?}: {answer}");
        assert_eq!(problems(&answer), [("body.success_url".to_string(), "pattern".to_string())], "{url:?}");
    }
    let too_long = format!("https://app.example/{}", "x".repeat(2048));
    let (status, answer) = post_checkout(&app, &token, &org, body(&too_long), None).await;
    assert_eq!(status, 422);
    assert!(problems(&answer).contains(&("body.success_url".to_string(), "string_too_long".to_string())), "{answer}");
    assert!(answer.to_string().len() < 2000, "the long value is not echoed back");
    assert!(app.fake.events().is_empty(), "nothing reached Stripe");

    let accepted = [
        "https://app.example/ok?session={CHECKOUT_SESSION_ID}",
        "https://shop.example.com:8443/paid#done",
        "http://localhost:3000/ok",
        "http://127.0.0.1/ok",
        "http://[::1]:8080/ok",
    ];
    for url in accepted {
        let (status, answer) = post_checkout(&app, &token, &org, body(url), None).await;
        assert_eq!(status, 200, "{url:?}: {answer}");
    }
}

#[tokio::test]
async fn an_origin_the_deployment_does_not_allow_is_its_own_422() {
    let app = spawn_app(Db::Sqlite).await; // allows https://app.example only
    let (org, token) = app.org_with_token(Role::Owner).await;
    let (status, answer) = post_checkout(&app, &token, &org, body("https://evil.example/ok"), None).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(problems(&answer), [("body.success_url".to_string(), "origin_not_allowed".to_string())]);
    assert!(answer["errors"][0]["msg"].as_str().unwrap().contains("https://evil.example"), "{answer}");
    let (status, _) = post_checkout(&app, &token, &org, body("https://app.example/ok"), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn every_broken_rule_of_the_body_is_reported_at_once() {
    let app = spawn_app(Db::Sqlite).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let broken = json!({"quantity": 0, "success_url": "nope", "cancel_url": 5, "colour": "red"});
    let (status, answer) = post_checkout(&app, &token, &org, broken, None).await;
    assert_eq!(status, 422, "{answer}");
    let mut found = problems(&answer);
    found.sort();
    let expected: Vec<(String, String)> =
        [("body.cancel_url", "type_error"), ("body.quantity", "range"), ("body.success_url", "pattern")]
            .iter()
            .map(|(l, t)| (l.to_string(), t.to_string()))
            .collect();
    // An unknown field is allowed by the spec (no additionalProperties: false): it is ignored.
    assert_eq!(found, expected, "{answer}");
}

#[tokio::test]
async fn idempotency_keys_outside_the_specs_length_and_characters_are_422() {
    let app = spawn_app(Db::Sqlite).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let good = body("https://app.example/ok");
    let long = "k".repeat(256);
    for key in [long.as_str(), "has space", "tab\tkey"] {
        let (status, answer) = post_checkout(&app, &token, &org, good.clone(), Some(key)).await;
        assert_eq!(status, 422, "{key:?}: {answer}");
        let found = problems(&answer);
        assert_eq!(found.len(), 1, "{answer}");
        assert_eq!(found[0].0, "header.Idempotency-Key", "{answer}");
    }
    let (status, answer) = post_checkout(&app, &token, &org, good, Some(&"k".repeat(255))).await;
    assert_eq!(status, 200, "the longest key the spec allows: {answer}");
}

#[tokio::test]
async fn the_typed_client_sends_what_the_server_checks() {
    // The generated client does not pre-check the spec's string rules: the server is the one
    // place that enforces them, and its 422 reaches the caller as a typed error.
    let app = spawn_app(Db::Sqlite).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let request = CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: std::num::NonZeroU64::new(1).unwrap(),
        success_url: "javascript:alert(1)".into(),
    };
    let error = app.client(&token).create_checkout_session().org(&org).body(request).send().await.unwrap_err();
    match error {
        credits_client::Error::ErrorResponse(response) => {
            assert_eq!(response.status().as_u16(), 422);
            let payload: ApiErrorPayload = response.into_inner();
            assert_eq!(payload.errors.unwrap()[0].type_, "pattern");
        }
        other => panic!("expected a 422, got {other:?}"),
    }
}
