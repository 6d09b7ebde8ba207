//! Idempotency keys with the SDK: replay, other parameters (400 `idempotency_error`), and the
//! same key while the first request is in flight (409), plus scoping and the replay header.

use std::time::Duration;

use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_fake::Fault;

use crate::helpers::*;

fn idempotent(key: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(key).unwrap())
}

#[tokio::test]
async fn same_key_same_parameters_replays_the_first_response() {
    let fake = spawn().await;
    let client = client(&fake);
    let first = credits_session().customize().request_strategy(idempotent("order-1")).send(&client).await.unwrap();
    let second = credits_session().customize().request_strategy(idempotent("order-1")).send(&client).await.unwrap();
    assert_eq!(first.id, second.id, "replayed, not created twice");

    // The replay is marked, over raw HTTP.
    let raw = reqwest::Client::new()
        .post(format!("{}v1/checkout/sessions", fake.base_url()))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "raw-1")
        .form(&credits_form());
    let original = raw.try_clone().unwrap().send().await.unwrap();
    assert!(original.headers().get("idempotent-replayed").is_none());
    let original: serde_json::Value = original.json().await.unwrap();
    let replay = raw.send().await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(original, replay);
}

#[tokio::test]
async fn same_key_other_parameters_is_an_idempotency_error() {
    let fake = spawn().await;
    let client = client(&fake);
    credits_session().customize().request_strategy(idempotent("order-2")).send(&client).await.unwrap();
    let other = credits_session()
        .client_reference_id("another_org")
        .customize()
        .request_strategy(idempotent("order-2"))
        .send(&client)
        .await;
    match other {
        Err(stripe::StripeError::Stripe(error, 400)) => {
            assert_eq!(error.type_, stripe::ApiErrorsType::IdempotencyError);
        }
        other => panic!("expected 400 idempotency_error, got {other:?}"),
    }
}

#[tokio::test]
async fn same_key_while_in_flight_is_409() {
    let fake = spawn().await;
    let client = client(&fake);
    fake.inject_fault(Fault::Hang { ms: 2_000 }, 1);
    let first = {
        let client = client.clone();
        tokio::spawn(async move {
            credits_session().customize().request_strategy(idempotent("order-3")).send(&client).await
        })
    };
    // Wait until the first request holds the key.
    let probe = reqwest::Client::new();
    let keys_url = format!("{}_fake/idempotency", fake.base_url());
    poll_async(|| async {
        let keys: serde_json::Value = probe.get(&keys_url).send().await.unwrap().json().await.unwrap();
        keys["in_flight"] == 1
    })
    .await;
    let second = credits_session().customize().request_strategy(idempotent("order-3")).send(&client).await;
    match second {
        Err(stripe::StripeError::Stripe(error, 409)) => {
            assert_eq!(error.code, Some(stripe::ApiErrorsCode::IdempotencyKeyInUse));
        }
        other => panic!("expected 409, got {other:?}"),
    }
    let first = first.await.unwrap().expect("the first request finishes normally");
    // Once finished, the key replays.
    let third = credits_session().customize().request_strategy(idempotent("order-3")).send(&client).await.unwrap();
    assert_eq!(first.id, third.id);
}

#[tokio::test]
async fn keys_are_scoped_per_api_key_and_validation_failures_are_not_saved() {
    let fake = spawn().await;
    let a = credits_session().customize().request_strategy(idempotent("k")).send(&client(&fake)).await.unwrap();
    let other_key = stripe::ClientBuilder::new("sk_test_other").url(fake.base_url()).build().unwrap();
    let b = credits_session().customize().request_strategy(idempotent("k")).send(&other_key).await.unwrap();
    assert_ne!(a.id, b.id);

    let bad = reqwest::Client::new()
        .post(format!("{}v1/checkout/sessions", fake.base_url()))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "fix-me")
        .form(&[("mode", "payment"), ("bogus", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let fixed = reqwest::Client::new()
        .post(format!("{}v1/checkout/sessions", fake.base_url()))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "fix-me")
        .form(&credits_form())
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), 200, "a refused request leaves its key usable");
}

async fn poll_async<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "condition not met within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
