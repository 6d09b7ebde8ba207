//! Each fault kind, as the SDK sees it, and that faults apply to the next N requests only.

use std::time::{Duration, Instant};

use stripe::StripeRequest;
use stripe_fake::Fault;

use crate::helpers::*;

#[tokio::test]
async fn server_error_for_the_next_n_requests_only() {
    let fake = spawn().await;
    let client = client(&fake);
    fake.inject_fault(Fault::ServerError, 2);
    for _ in 0..2 {
        match credits_session().send(&client).await {
            Err(stripe::StripeError::Stripe(error, 500)) => {
                assert_eq!(error.type_, stripe::ApiErrorsType::ApiError);
            }
            other => panic!("expected a 500 api_error, got {other:?}"),
        }
    }
    credits_session().send(&client).await.expect("third request is normal");
}

#[tokio::test]
async fn a_given_stripe_error() {
    let fake = spawn().await;
    fake.inject_fault(
        Fault::StripeError {
            status: 402,
            error_type: "card_error".into(),
            code: Some("card_declined".into()),
            message: "Your card was declined.".into(),
        },
        1,
    );
    match credits_session().send(&client(&fake)).await {
        Err(stripe::StripeError::Stripe(error, 402)) => {
            assert_eq!(error.type_, stripe::ApiErrorsType::CardError);
            assert_eq!(error.code, Some(stripe::ApiErrorsCode::CardDeclined));
            assert_eq!(error.message.as_deref(), Some("Your card was declined."));
        }
        other => panic!("expected a 402 card_error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_body_that_is_not_json() {
    let fake = spawn().await;
    fake.inject_fault(Fault::NonJson, 1);
    let result = credits_session().send(&client(&fake)).await;
    assert!(matches!(result, Err(stripe::StripeError::JSONDeserialize(_))), "{result:?}");
}

#[tokio::test]
async fn a_dropped_connection() {
    let fake = spawn().await;
    fake.inject_fault(Fault::DropConnection, 1);
    let result = credits_session().send(&client(&fake)).await;
    assert!(matches!(result, Err(stripe::StripeError::ClientError(_))), "{result:?}");
    // Raw HTTP sees no response at all.
    fake.inject_fault(Fault::DropConnection, 1);
    let raw = reqwest::Client::new()
        .post(format!("{}v1/checkout/sessions", fake.base_url()))
        .bearer_auth(KEY)
        .form(&credits_form())
        .send()
        .await;
    assert!(raw.is_err(), "{raw:?}");
    credits_session().send(&client(&fake)).await.expect("the next request is normal");
}

#[tokio::test]
async fn a_hang_delays_then_answers_or_times_the_client_out() {
    let fake = spawn().await;
    let client = client(&fake);
    fake.inject_fault(Fault::Hang { ms: 300 }, 1);
    let started = Instant::now();
    credits_session().send(&client).await.expect("answers after the hang");
    assert!(started.elapsed() >= Duration::from_millis(300));

    fake.inject_fault(Fault::Hang { ms: 2_000 }, 1);
    let result = credits_session().customize().timeout(Duration::from_millis(200)).send(&client).await;
    assert!(matches!(result, Err(stripe::StripeError::Timeout)), "{result:?}");
}

#[tokio::test]
async fn faults_by_control_endpoint_and_not_on_control_routes() {
    let fake = spawn().await;
    let http = reqwest::Client::new();
    let faults = format!("{}_fake/faults", fake.base_url());
    let added = http
        .post(&faults)
        .json(&serde_json::json!({ "kind": "stripe_error", "status": 429, "type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests", "times": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    // Control routes do not consume it.
    http.get(format!("{}_fake/events", fake.base_url())).send().await.unwrap();
    match credits_session().send(&client(&fake)).await {
        Err(stripe::StripeError::Stripe(error, 429)) => {
            assert_eq!(error.code, Some(stripe::ApiErrorsCode::RateLimit));
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    http.post(&faults).json(&serde_json::json!({ "kind": "server_error", "times": 5 })).send().await.unwrap();
    let cleared: serde_json::Value = http.delete(&faults).send().await.unwrap().json().await.unwrap();
    assert!(cleared["pending"].as_array().unwrap().is_empty());
    credits_session().send(&client(&fake)).await.expect("no fault left");
}

#[tokio::test]
async fn a_configured_latency_delays_every_api_request() {
    let fake = spawn_with(stripe_fake::FakeConfig { latency: Duration::from_millis(300), ..Default::default() }).await;
    let client = client(&fake);
    let started = Instant::now();
    credits_session().send(&client).await.expect("answered");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "answered after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "answered after {elapsed:?}");
}
