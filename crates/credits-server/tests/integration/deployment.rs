//! What a deployment's configuration decides, seen through the API: the bundle's price given as
//! a Stripe Price ID or as an amount (and which of a session's line items count as bundles), the
//! low-balance threshold, the oldest client version served; and what a session reads as after
//! each way it can end.

use std::num::NonZeroU64;
use std::time::Duration;

use credits_client::types::{CheckoutPaymentStatus, CheckoutStatus, CreateCheckoutSessionRequest};
use credits_server::{BundlePrice, Role};
use stripe_fake::PaymentOutcome;

use crate::helpers::{CREDITS_PER_BUNDLE, Db, TestApp, spawn_app, spawn_app_with};

fn order(bundles: u64) -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(bundles).expect("at least one"),
        success_url: "https://app.example/ok".into(),
    }
}

/// POSTs a form to the double's Stripe API; the object it answers.
async fn stripe_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
    let answer = reqwest::Client::new()
        .post(format!("{}v1/{path}", app.fake.base_url()))
        .bearer_auth("sk_test_credits")
        .form(form)
        .send()
        .await
        .expect("the double answers");
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
    answer.json().await.expect("a Stripe object")
}

/// A 500-cent USD price at Stripe; its id.
async fn stripe_price(app: &TestApp) -> String {
    let price = stripe_post(
        app,
        "prices",
        &[("currency", "usd"), ("unit_amount", "500"), ("product_data[name]", "Credit bundle")],
    )
    .await;
    price["id"].as_str().expect("a price id").to_string()
}

/// A session made at Stripe directly with `line_items` (form fields), recorded in the store as
/// the org's, sold at `price`; then paid.
async fn paid_session_with_items(app: &TestApp, org: &str, token: &str, price: BundlePrice, items: &[(&str, &str)]) {
    let mut form = vec![("mode", "payment"), ("success_url", "https://app.example/ok")];
    form.extend_from_slice(items);
    let session = stripe_post(app, "checkout/sessions", &form).await;
    let id = session["id"].as_str().expect("a session id").to_string();
    let org_record = app.store.org_by_slug(org).await.unwrap().expect("org");
    let owner = app.store.token_grant(token).await.unwrap().expect("caller").caller;
    app.store
        .insert_session(&credits_server::store::NewSession {
            id: &id,
            org: &org_record,
            user_id: &owner.user_id,
            bundles: 1,
            price: &price,
            credits_per_bundle: CREDITS_PER_BUNDLE,
            url: "https://checkout.example",
        })
        .await
        .unwrap();
    app.fake.complete_session(&id, PaymentOutcome::Paid).await.unwrap();
}

async fn balance(app: &TestApp, org: &str, token: &str) -> (i64, bool) {
    let answer = app.client(token).get_credit_balance().org(org).send().await.unwrap().into_inner();
    (answer.balance, answer.is_low_balance)
}

/// With `--bundle-price-id`, the session sells that Price and the bundles bought at it are
/// credited; a line item at another Price, even one of the same amount and currency, is not.
async fn a_price_id_deployment_credits_bundles_of_that_price(db: Db) {
    let mut app = spawn_app(db).await;
    let price_id = stripe_price(&app).await;
    let other_price = stripe_price(&app).await;
    // The Price exists only now: an instance configured with it takes over from the first.
    let server = app.start_second_instance(|c| c.bundle_price = BundlePrice::PriceId(price_id.clone())).await;
    app.stop_server().await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = credits_client::connect(
        &format!("http://{}", server.local_addr()),
        credits_client::Credentials::Bearer(token.clone()),
    )
    .unwrap();
    let sold = client.create_checkout_session().org(&org).body(order(2)).send().await.unwrap().into_inner();
    let line_items: serde_json::Value = reqwest::Client::new()
        .get(format!("{}v1/checkout/sessions/{}/line_items", app.fake.base_url(), sold.session_id))
        .bearer_auth("sk_test_credits")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(line_items["data"][0]["price"]["id"], price_id.as_str(), "the session sells the configured Price");
    app.fake.complete_session(&sold.session_id, PaymentOutcome::Paid).await.unwrap();
    let items = [
        ("line_items[0][price]", price_id.as_str()),
        ("line_items[0][quantity]", "1"),
        ("line_items[1][price]", other_price.as_str()),
        ("line_items[1][quantity]", "4"),
    ];
    paid_session_with_items(&app, &org, &token, BundlePrice::PriceId(price_id.clone()), &items).await;
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(balance, 3 * CREDITS_PER_BUNDLE, "2 bundles, then 1 of the 5 items");
    server.close().await.unwrap();
}

/// With an amount and a currency, a line item counts only when both match.
async fn line_items_at_another_amount_or_currency_are_not_credited(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let item = |n: usize, currency: &'static str, amount: &'static str, quantity: &'static str| {
        [
            (format!("line_items[{n}][price_data][currency]"), currency),
            (format!("line_items[{n}][price_data][unit_amount]"), amount),
            (format!("line_items[{n}][price_data][product_data][name]"), "Credit bundle"),
            (format!("line_items[{n}][quantity]"), quantity),
        ]
    };
    let price = || BundlePrice::Amount { unit_amount: 500, currency: "usd".into() };
    // Stripe sells one currency per session: the other currency has a session of its own.
    for items in
        [[item(0, "usd", "500", "1"), item(1, "usd", "700", "4")].concat(), item(0, "eur", "500", "2").to_vec()]
    {
        let items: Vec<(&str, &str)> = items.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        paid_session_with_items(&app, &org, &token, price(), &items).await;
    }
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    assert_eq!(balance(&app, &org, &token).await.0, CREDITS_PER_BUNDLE, "only the usd 500 item");
}

/// `is_low_balance` is true strictly below the threshold (100 in the tests).
async fn the_low_balance_flag_is_strictly_below_the_threshold(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let org_record = app.store.org_by_slug(&org).await.unwrap().expect("org");
    assert_eq!(balance(&app, &org, &token).await, (0, true));
    for (grant, expected) in [(99, (99, true)), (1, (100, false)), (1, (101, false)), (-102, (-1, true))] {
        app.store.grant(&org_record, grant, "test").await.unwrap();
        assert_eq!(balance(&app, &org, &token).await, expected);
    }
}

/// A client at or above the oldest version served is served.
async fn clients_at_or_above_the_oldest_version_are_served(db: Db) {
    for oldest in ["0.9.0", "1.0.0"] {
        let oldest = dropshot::semver::Version::parse(oldest).unwrap();
        let app = spawn_app_with(db, |c| c.min_client_version = Some(oldest)).await;
        let (org, token) = app.org_with_token(Role::Owner).await;
        app.client(&token).create_checkout_session().org(&org).body(order(1)).send().await.expect("served");
    }
}

/// What the buyer's success page reads after each ending: paid, expired, an async payment that
/// failed, and one that is still pending.
async fn a_session_reads_as_it_ended(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let mut sessions = Vec::new();
    for _ in 0..4 {
        sessions.push(client.create_checkout_session().org(&org).body(order(1)).send().await.unwrap().into_inner());
    }
    let [paid, expired, failed, pending] = &sessions[..] else { unreachable!() };
    app.fake.complete_session(&paid.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.expire_session(&expired.session_id).await.unwrap();
    app.fake.complete_session(&failed.session_id, PaymentOutcome::Unpaid).await.unwrap();
    app.fake.settle_async_payment(&failed.session_id, false).await.unwrap();
    app.fake.complete_session(&pending.session_id, PaymentOutcome::Unpaid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();

    let read = |id: &str| client.get_checkout_session().org(&org).session_id(id).send();
    let paid = read(&paid.session_id).await.unwrap().into_inner();
    assert_eq!((paid.status, paid.payment_status), (CheckoutStatus::Complete, CheckoutPaymentStatus::Paid));
    assert!(paid.fulfilled_at.is_some());
    let expired = read(&expired.session_id).await.unwrap().into_inner();
    assert_eq!((expired.status, expired.payment_status), (CheckoutStatus::Expired, CheckoutPaymentStatus::Unpaid));
    let failed = read(&failed.session_id).await.unwrap().into_inner();
    assert_eq!((failed.status, failed.payment_status), (CheckoutStatus::Complete, CheckoutPaymentStatus::Failed));
    let pending = read(&pending.session_id).await.unwrap().into_inner();
    assert_eq!((pending.status, pending.payment_status), (CheckoutStatus::Complete, CheckoutPaymentStatus::Unpaid));
    for unpaid in [&expired, &failed, &pending] {
        assert!(unpaid.fulfilled_at.is_none());
    }
    assert_eq!(balance(&app, &org, &token).await.0, CREDITS_PER_BUNDLE);
}

/// The same endings with the webhook endpoint down: nothing is delivered, so the buyer's
/// return asks Stripe, and each session reads as Stripe says it ended (expired; complete with
/// the payment still pending; paid, and credited).
async fn without_the_webhook_a_returning_buyer_reads_what_stripe_says(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    app.fake.set_retry_policy(stripe_fake::RetryPolicy { max_attempts: 1, ..Default::default() });
    app.fake.set_webhooks_down(true);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(client.create_checkout_session().org(&org).body(order(1)).send().await.unwrap().into_inner());
    }
    let [paid, expired, pending] = &sessions[..] else { unreachable!() };
    app.fake.complete_session(&paid.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.expire_session(&expired.session_id).await.unwrap();
    app.fake.complete_session(&pending.session_id, PaymentOutcome::Unpaid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    assert!(app.fake.deliveries().iter().all(|d| !d.succeeded), "the endpoint was down");

    let read = |id: &str| client.get_checkout_session().org(&org).session_id(id).send();
    let expired = read(&expired.session_id).await.unwrap().into_inner();
    assert_eq!((expired.status, expired.payment_status), (CheckoutStatus::Expired, CheckoutPaymentStatus::Unpaid));
    let pending = read(&pending.session_id).await.unwrap().into_inner();
    assert_eq!((pending.status, pending.payment_status), (CheckoutStatus::Complete, CheckoutPaymentStatus::Unpaid));
    let paid = read(&paid.session_id).await.unwrap().into_inner();
    assert_eq!((paid.status, paid.payment_status), (CheckoutStatus::Complete, CheckoutPaymentStatus::Paid));
    assert!(expired.fulfilled_at.is_none() && pending.fulfilled_at.is_none() && paid.fulfilled_at.is_some());
    assert_eq!(balance(&app, &org, &token).await.0, CREDITS_PER_BUNDLE);
}

crate::on_both_databases!(
    without_the_webhook_a_returning_buyer_reads_what_stripe_says,
    a_price_id_deployment_credits_bundles_of_that_price,
    line_items_at_another_amount_or_currency_are_not_credited,
    the_low_balance_flag_is_strictly_below_the_threshold,
    clients_at_or_above_the_oldest_version_are_served,
    a_session_reads_as_it_ended,
);
