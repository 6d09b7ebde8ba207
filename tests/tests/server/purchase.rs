//! The purchase flow end to end, on SQLite and PostgreSQL: create a session for 3 bundles, pay on
//! the double, let the webhook arrive (5 times, concurrently), and see the balance grow once.

use std::num::NonZeroU64;
use std::time::Duration;

use credits_client::types::{CheckoutPaymentStatus, CreateCheckoutSessionRequest, CreditTransactionType};
use credits_server::Role;
use stripe_fake::PaymentOutcome;

use crate::helpers::{CREDITS_PER_BUNDLE, Db, eventually, postgres_available, spawn_app};

async fn buy_three_bundles_with_duplicate_deliveries(db: Db) {
    let app = spawn_app(db).await;
    app.fake.set_delivery_copies(5);
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let before = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;

    let session = client
        .create_checkout_session()
        .org(&org)
        .body(CreateCheckoutSessionRequest {
            cancel_url: "https://app.example/cancel".into(),
            quantity: NonZeroU64::new(3).unwrap(),
            success_url: "https://app.example/ok?session={CHECKOUT_SESSION_ID}".into(),
        })
        .send()
        .await
        .expect("session created")
        .into_inner();
    assert!(session.checkout_url.starts_with(app.fake.base_url().trim_end_matches('/')), "{}", session.checkout_url);

    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();

    eventually(Duration::from_secs(10), || async {
        let status = client.get_checkout_session().org(&org).session_id(&session.session_id).send().await.unwrap().into_inner();
        status.payment_status == CheckoutPaymentStatus::Paid && status.fulfilled_at.is_some()
    })
    .await;
    let after = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(after - before, 3 * CREDITS_PER_BUNDLE, "credited exactly once");

    let purchases = client
        .list_credit_transactions()
        .org(&org)
        .transaction_type(vec![CreditTransactionType::Purchase])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(purchases.len(), 1, "{purchases:?}");
    assert_eq!(purchases[0].amount, 3 * CREDITS_PER_BUNDLE);
    assert!(purchases[0].has_receipt);
}

#[tokio::test]
async fn purchase_on_sqlite_is_credited_once() {
    buy_three_bundles_with_duplicate_deliveries(Db::Sqlite).await;
}

#[tokio::test]
async fn purchase_on_postgres_is_credited_once() {
    if postgres_available().await {
        buy_three_bundles_with_duplicate_deliveries(Db::Postgres).await;
    }
}

#[tokio::test]
async fn a_bad_signature_changes_nothing() {
    let app = spawn_app(Db::Sqlite).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/webhooks/stripe", app.base_url))
        .header("Stripe-Signature", "t=1,v1=00")
        .header("content-type", "application/json")
        .body(r#"{"id":"evt_1","type":"checkout.session.completed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: credits_client::types::ApiErrorPayload = response.json().await.unwrap();
    assert_eq!(body.code, 400);
}
