//! The purchase flow end to end, on SQLite and PostgreSQL: create a session for 3 bundles, pay on
//! the double, let the webhook arrive (5 times, concurrently), and see the balance grow once.

use std::num::NonZeroU64;
use std::time::Duration;

use credits_client::types::{CheckoutPaymentStatus, CreateCheckoutSessionRequest, CreditTransactionType};
use credits_server::Role;
use credits_server::model::{PaymentStatus, SessionState, SessionStatus};
use stripe_fake::PaymentOutcome;

use crate::helpers::{CREDITS_PER_BUNDLE, Db, WEBHOOK_SECRET, eventually, spawn_app};

/// A valid request for `bundles` bundles, redirecting to the allowed origin.
fn request(bundles: u64) -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(bundles).expect("at least one bundle"),
        success_url: "https://app.example/ok?session={CHECKOUT_SESSION_ID}".into(),
    }
}

async fn buy_three_bundles_with_duplicate_deliveries(db: Db) {
    let app = spawn_app(db).await;
    app.fake.set_delivery_copies(5);
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let before = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;

    let session =
        client.create_checkout_session().org(&org).body(request(3)).send().await.expect("session created").into_inner();
    assert!(session.checkout_url.starts_with(app.fake.base_url().trim_end_matches('/')), "{}", session.checkout_url);

    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();

    eventually(Duration::from_secs(10), || async {
        let status =
            client.get_checkout_session().org(&org).session_id(&session.session_id).send().await.unwrap().into_inner();
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
    // What fulfilment needs from Stripe (the session, its line items, the charge and its receipt)
    // comes in one request: the payment intent is never asked for on its own.
    let mut intents: Vec<String> = app
        .fake
        .events()
        .iter()
        .filter_map(|event| event["data"]["object"]["payment_intent"].as_str().map(str::to_string))
        .collect();
    intents.dedup();
    assert_eq!(intents.len(), 1, "the session's payment intent: {intents:?}");
    assert_eq!(app.fake.api_requests(&format!("GET /v1/payment_intents/{}", intents[0])), 0);
}

/// A forged `checkout.session.completed` for a real, unpaid session: refused with 400, and the
/// session stays open and unpaid, the balance untouched.
async fn a_bad_signature_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(request(3)).send().await.unwrap().into_inner();
    let forged = serde_json::json!({
        "id": "evt_forged", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {"id": session.session_id, "object": "checkout.session", "payment_status": "paid"}}
    })
    .to_string();
    let now = chrono_now();
    for signature in [
        format!("t={now},v1={}", "00".repeat(32)),
        stripe_fake::signature_header("whsec_not_the_secret", now, &forged),
        String::new(),
    ] {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/webhooks/stripe", app.base_url))
            .header("Stripe-Signature", signature)
            .header("content-type", "application/json")
            .body(forged.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: credits_client::types::ApiErrorPayload = response.json().await.unwrap();
        assert_eq!(body.code, 400);
    }
    let status =
        client.get_checkout_session().org(&org).session_id(&session.session_id).send().await.unwrap().into_inner();
    assert_eq!(status.status, credits_client::types::CheckoutStatus::Open);
    assert_eq!(status.payment_status, CheckoutPaymentStatus::Unpaid);
    assert_eq!(client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance, 0);
}

/// Signed events about objects Stripe does not have (another account's, or made up): each is
/// acknowledged with 200 (a retry could not change the answer) and changes nothing.
async fn signed_events_about_unknown_objects_are_acknowledged_and_ignored(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let events = [
        ("charge.refunded", serde_json::json!({"id": "ch_unknown", "object": "charge"})),
        ("refund.failed", serde_json::json!({"id": "re_unknown", "object": "refund"})),
        ("charge.dispute.created", serde_json::json!({"id": "dp_unknown", "object": "dispute"})),
        ("charge.dispute.closed", serde_json::json!({"id": "dp_unknown", "object": "dispute"})),
        ("checkout.session.completed", serde_json::json!({"id": "cs_unknown", "payment_status": "paid"})),
    ];
    for (i, (event_type, object)) in events.into_iter().enumerate() {
        let event = serde_json::json!({"id": format!("evt_unknown_{i}"), "object": "event", "type": event_type,
            "data": {"object": object}})
        .to_string();
        assert_eq!(post_signed_event(&app, event).await.status(), 200, "{event_type}");
    }
    assert_eq!(client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance, 0);
    assert!(client.list_credit_transactions().org(&org).send().await.unwrap().into_inner().is_empty());
}

/// Posts `event` to the webhook, signed with the secret the test server accepts.
async fn post_signed_event(app: &crate::helpers::TestApp, event: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/webhooks/stripe", app.base_url))
        .header("Stripe-Signature", stripe_fake::signature_header(WEBHOOK_SECRET, chrono_now(), &event))
        .header("content-type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap()
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// Credits follow what Stripe says was sold, at the price the session was sold at: not what the
/// server recorded, not the metadata, not the configuration of the instance that receives the
/// event.
async fn credits_follow_what_stripe_sold(db: Db) {
    let mut app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let sold = client.create_checkout_session().org(&org).body(request(2)).send().await.unwrap().into_inner();

    // A session made at Stripe directly: 1 bundle at our price, with metadata claiming 7, which
    // the store is told holds 5.
    let form = [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", "500"),
        ("line_items[0][price_data][product_data][name]", "Credit bundle"),
        ("line_items[0][quantity]", "1"),
        ("success_url", "https://app.example/ok"),
        ("metadata[bundles]", "7"),
    ];
    let direct: serde_json::Value = reqwest::Client::new()
        .post(format!("{}v1/checkout/sessions", app.fake.base_url()))
        .bearer_auth("sk_test_credits")
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let direct_id = direct["id"].as_str().expect("a session id").to_string();
    let org_record = app.store.org_by_slug(&org).await.unwrap().expect("org");
    let owner = app.store.token_grant(&token).await.unwrap().expect("caller").caller;
    app.store
        .insert_session(&credits_server::store::NewSession {
            id: &direct_id,
            org: &org_record,
            user_id: &owner.user_id,
            bundles: 5,
            price: &credits_server::BundlePrice::Amount { unit_amount: 500, currency: "usd".into() },
            credits_per_bundle: CREDITS_PER_BUNDLE,
            url: "https://checkout.example",
        })
        .await
        .unwrap();

    // The events reach only a second instance, configured with another price and another
    // number of credits per bundle.
    let second = app
        .start_second_instance(|config| {
            config.bundle_price = credits_server::BundlePrice::Amount { unit_amount: 700, currency: "usd".into() };
            config.credits_per_bundle = 1;
        })
        .await;
    app.stop_server().await;
    app.fake.complete_session(&sold.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.complete_session(&direct_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();

    let second_client = credits_client::connect(
        &format!("http://{}", second.local_addr()),
        credits_client::Credentials::Bearer(token.clone()),
    )
    .unwrap();
    let entries = second_client.list_credit_transactions().org(&org).send().await.unwrap().into_inner();
    let mut amounts: Vec<i64> = entries.iter().map(|e| e.amount).collect();
    amounts.sort();
    assert_eq!(amounts, vec![CREDITS_PER_BUNDLE, 2 * CREDITS_PER_BUNDLE], "{entries:?}");
    second.close().await.unwrap();
}

crate::on_both_databases!(
    buy_three_bundles_with_duplicate_deliveries,
    two_instances_share_one_database,
    a_bad_signature_changes_nothing,
    signed_events_about_unknown_objects_are_acknowledged_and_ignored,
    credits_follow_what_stripe_sold,
    async_payments_are_granted_only_when_they_succeed,
    expired_sessions_are_recorded,
    a_session_completed_with_its_payment_pending_is_acknowledged_and_shown_unpaid,
    an_event_saying_paid_about_a_session_stripe_says_is_unpaid_is_refused_for_a_retry,
    a_session_state_changes_only_from_the_state_read,
);

/// A session completed with its payment still pending (an async method): the delivery is
/// acknowledged at once (nothing for Stripe to retry), the session reads complete and unpaid,
/// nothing is granted.
async fn a_session_completed_with_its_payment_pending_is_acknowledged_and_shown_unpaid(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(request(2)).send().await.unwrap().into_inner();
    app.fake.complete_session(&session.session_id, PaymentOutcome::Unpaid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    let deliveries = app.fake.deliveries();
    assert!(!deliveries.is_empty());
    assert!(deliveries.iter().all(|d| d.status.is_some_and(|s| s < 300)), "{deliveries:?}");
    let read = client.get_checkout_session().org(&org).session_id(&session.session_id).send().await.unwrap();
    let read = read.into_inner();
    assert_eq!(read.status, credits_client::types::CheckoutStatus::Complete);
    assert_eq!(read.payment_status, CheckoutPaymentStatus::Unpaid);
    assert!(read.fulfilled_at.is_none());
    assert_eq!(client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance, 0);
}

/// A signed event saying a session was paid while Stripe says it is not (an event ahead of what
/// Stripe's API reads, or a mistaken one): refused with a 5xx so that Stripe delivers it again
/// later, and nothing granted meanwhile.
async fn an_event_saying_paid_about_a_session_stripe_says_is_unpaid_is_refused_for_a_retry(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(request(2)).send().await.unwrap().into_inner();
    let event = serde_json::json!({"id": "evt_ahead", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {"id": session.session_id, "object": "checkout.session", "payment_status": "paid"}}})
    .to_string();
    let response = post_signed_event(&app, event).await;
    assert!(response.status().is_server_error(), "{}", response.status());
    assert_eq!(client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance, 0);
}

/// Two server instances on one database, each receiving every event 5 times at once: the
/// purchase is still credited once.
async fn two_instances_share_one_database(db: Db) {
    let app = spawn_app(db).await;
    let second = app.start_second_instance(|_| {}).await;
    app.fake.set_delivery_copies(5);
    let (org, token) = app.org_with_token(Role::Admin).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(request(3)).send().await.unwrap().into_inner();
    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    let delivered_ok =
        app.fake.deliveries().iter().filter(|d| d.status.is_some_and(|s| (200..300).contains(&s))).count();
    assert!(delivered_ok >= 10, "both instances answered every copy: {delivered_ok}");

    let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(balance, 3 * CREDITS_PER_BUNDLE);
    let all = client.list_credit_transactions().org(&org).send().await.unwrap().into_inner();
    assert_eq!(all.len(), 1, "{all:?}");
    second.close().await.unwrap();
}

/// An async payment: the session completes unpaid (nothing granted), then the payment fails
/// (recorded, nothing granted); another one succeeds later (granted).
async fn async_payments_are_granted_only_when_they_succeed(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let failing = client.create_checkout_session().org(&org).body(request(2)).send().await.unwrap().into_inner();
    let succeeding = client.create_checkout_session().org(&org).body(request(2)).send().await.unwrap().into_inner();
    for s in [&failing, &succeeding] {
        app.fake.complete_session(&s.session_id, PaymentOutcome::Unpaid).await.unwrap();
    }
    app.fake.settle_async_payment(&failing.session_id, false).await.unwrap();
    app.fake.settle_async_payment(&succeeding.session_id, true).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();

    let status = |id: String| {
        let client = &client;
        let org = &org;
        async move { client.get_checkout_session().org(org).session_id(id).send().await.unwrap().into_inner() }
    };
    eventually(Duration::from_secs(10), || async {
        status(succeeding.session_id.clone()).await.fulfilled_at.is_some()
    })
    .await;
    let failed = status(failing.session_id.clone()).await;
    assert_eq!(failed.payment_status, CheckoutPaymentStatus::Failed);
    assert!(failed.fulfilled_at.is_none());
    let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(balance, 2 * CREDITS_PER_BUNDLE);
}

/// An expired session is recorded as such and grants nothing.
async fn expired_sessions_are_recorded(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(request(1)).send().await.unwrap().into_inner();
    app.fake.expire_session(&session.session_id).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    eventually(Duration::from_secs(10), || async {
        let s =
            client.get_checkout_session().org(&org).session_id(&session.session_id).send().await.unwrap().into_inner();
        s.status == credits_client::types::CheckoutStatus::Expired
    })
    .await;
    assert_eq!(client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance, 0);
}

/// A session's state moves by compare-and-set: of two events racing to move it, the one that
/// read a state since replaced learns that it lost (and looks again, `fulfilment::advance`),
/// rather than overwriting what the other wrote.
async fn a_session_state_changes_only_from_the_state_read(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let session = client.create_checkout_session().org(&org).body(request(1)).send().await.unwrap().into_inner();
    let id = session.session_id;
    let expired = SessionState { status: SessionStatus::Expired, payment: PaymentStatus::Unpaid };
    let failed = SessionState { status: SessionStatus::Complete, payment: PaymentStatus::Failed };
    assert!(app.store.replace_session_state(&id, SessionState::OPEN, expired).await.unwrap(), "it was open");
    assert!(!app.store.replace_session_state(&id, SessionState::OPEN, failed).await.unwrap(), "no longer open");
    assert_eq!(app.store.unfulfilled_session_state(&id).await.unwrap(), Some(expired));
}
