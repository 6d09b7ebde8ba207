//! How the server talks to Stripe when Stripe misbehaves: which failures it tries again (and how
//! often, and how patiently), and what becomes of a client's `Idempotency-Key` after each kind of
//! failure. The double's injected faults are taken one per request Stripe receives, so the faults
//! left over count the server's attempts.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use credits_client::types::CreateCheckoutSessionRequest;
use credits_server::Role;
use stripe_fake::{Fault, PaymentOutcome, RetryPolicy};

use crate::helpers::{CREDITS_PER_BUNDLE, Db, TestApp, spawn_app};

fn order() -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(1).expect("one"),
        success_url: "https://app.example/ok".into(),
    }
}

fn stripe_error(status: u16, error_type: &str) -> Fault {
    Fault::StripeError { status, error_type: error_type.into(), code: None, message: format!("injected {status}") }
}

/// Creates a checkout for a new owner's org with `key`; the status code, or 200.
async fn checkout_status(app: &TestApp, org: &str, token: &str, key: Option<&str>) -> u16 {
    let client = app.client(token);
    let mut request = client.create_checkout_session().org(org).body(order());
    if let Some(key) = key {
        request = request.idempotency_key(key);
    }
    match request.send().await {
        Ok(answer) => answer.status().as_u16(),
        Err(e) => e.status().map(|s| s.as_u16()).expect("an answer from the server"),
    }
}

/// Stripe's rate limiting and its "another request with this key is running" keep nothing under
/// the idempotency key: the purchase is sent again with the same key and goes through.
async fn rate_limited_and_conflicting_purchases_are_sent_again(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    app.fake.inject_fault(stripe_error(429, "rate_limit_error"), 1);
    app.fake.inject_fault(stripe_error(409, "idempotency_error"), 1);
    assert_eq!(checkout_status(&app, &org, &token, None).await, 200);
    assert_eq!(app.fake.pending_faults(), 0, "both refusals were answered by sending again");
}

/// A 5xx or a refusal of a purchase is kept by Stripe under the key and would only be replayed:
/// the server sends it once.
async fn a_purchase_stripe_failed_is_sent_once(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    for fault in [Fault::ServerError, stripe_error(402, "card_error")] {
        app.fake.inject_fault(fault, 3);
        assert_eq!(checkout_status(&app, &org, &token, None).await, 502);
        assert_eq!(app.fake.pending_faults(), 2, "one attempt, not more");
        app.fake.clear_faults();
    }
}

/// A dropped connection saved nothing at Stripe: the call is tried three times in all, waiting
/// longer before each new try (100 ms, then 200 ms), before the buyer gets a 502.
async fn an_unreachable_stripe_is_tried_three_times_with_growing_waits(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    app.fake.inject_fault(Fault::DropConnection, 10);
    let started = Instant::now();
    assert_eq!(checkout_status(&app, &org, &token, None).await, 502);
    let elapsed = started.elapsed();
    assert_eq!(app.fake.pending_faults(), 7, "three attempts in all");
    assert!(elapsed >= Duration::from_millis(290), "the waits grow: 100 ms, then 200 ms; took {elapsed:?}");
}

/// Reading a session back (fulfilment) retries every transient failure, 5xx included: one
/// delivery of the event, with Stripe failing twice, still grants the purchase.
async fn fulfilment_reads_through_transient_stripe_failures(db: Db) {
    let app = spawn_app(db).await;
    // One delivery only: the server's own retries must absorb the failures.
    app.fake.set_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(order()).send().await.unwrap().into_inner();
    app.fake.inject_fault(Fault::ServerError, 1);
    app.fake.inject_fault(stripe_error(429, "rate_limit_error"), 1);
    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    assert_eq!(app.fake.pending_faults(), 0);
    let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(balance, CREDITS_PER_BUNDLE);
}

/// After a failure Stripe answered (here a refusal, which Stripe keeps under its key), the
/// client's key is free and a retry with it starts afresh, so it can succeed.
async fn a_refused_purchase_frees_the_key_for_a_fresh_try(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    for fault in [stripe_error(402, "card_error"), Fault::ServerError] {
        app.fake.inject_fault(fault, 1);
        let key = format!("retry-{}", uuid::Uuid::new_v4().simple());
        assert_eq!(checkout_status(&app, &org, &token, Some(&key)).await, 502);
        assert_eq!(checkout_status(&app, &org, &token, Some(&key)).await, 200, "the same key, retried");
    }
}

crate::on_both_databases!(
    rate_limited_and_conflicting_purchases_are_sent_again,
    a_purchase_stripe_failed_is_sent_once,
    an_unreachable_stripe_is_tried_three_times_with_growing_waits,
    fulfilment_reads_through_transient_stripe_failures,
    a_refused_purchase_frees_the_key_for_a_fresh_try,
);
