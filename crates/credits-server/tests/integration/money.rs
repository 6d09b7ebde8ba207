//! Money after the purchase (`docs/money.md`), on SQLite and PostgreSQL: refunds and disputes
//! take back credits once per Stripe object however the events arrive; the buyer's return and
//! `admin reconcile` fulfil a session whose webhook was missed, once; receipts come from the
//! charge. Refunds are made through the double's Stripe API, disputes through its controls.

use std::num::NonZeroU64;
use std::time::Duration;

use credits_client::types::{CheckoutPaymentStatus, CreateCheckoutSessionRequest, CreditTransactionType};
use credits_server::Role;
use stripe_fake::{Fault, PaymentOutcome, RetryPolicy};

use crate::helpers::{CREDITS_PER_BUNDLE, Db, TestApp, eventually, spawn_app, spawn_app_with};

/// The price of a bundle in the helpers' configuration, in cents.
const BUNDLE_CENTS: i64 = 500;

fn request(bundles: u64) -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(bundles).expect("at least one bundle"),
        success_url: "https://app.example/ok".into(),
    }
}

/// An org with an owner's client.
async fn buyer(app: &TestApp) -> (String, credits_client::Client) {
    let (org, token) = app.org_with_token(Role::Owner).await;
    (org, app.client(&token))
}

/// Creates a session for `bundles` and pays it on the double; returns the session's id (the
/// webhook may still be on its way).
async fn pay(app: &TestApp, client: &credits_client::Client, org: &str, bundles: u64) -> String {
    let session = client.create_checkout_session().org(org).body(request(bundles)).send().await.unwrap().into_inner();
    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    session.session_id
}

/// A GET on the double's Stripe API.
async fn stripe_get(app: &TestApp, path: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", app.fake.base_url()))
        .bearer_auth("sk_test_credits")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// The charge that paid a session, with its receipt URL.
async fn charge_of(app: &TestApp, session_id: &str) -> (String, String) {
    let session = stripe_get(app, &format!("v1/checkout/sessions/{session_id}")).await;
    let intent = session["payment_intent"].as_str().expect("a paid session has a payment intent");
    let charge = stripe_get(app, &format!("v1/payment_intents/{intent}?expand[]=latest_charge")).await;
    let charge = &charge["latest_charge"];
    (charge["id"].as_str().unwrap().to_string(), charge["receipt_url"].as_str().unwrap().to_string())
}

/// Refunds `amount` cents of a charge at Stripe, as a support agent would in the dashboard;
/// returns the refund's id.
async fn refund(app: &TestApp, charge: &str, amount: i64) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}v1/refunds", app.fake.base_url()))
        .bearer_auth("sk_test_credits")
        .form(&[("charge", charge.to_string()), ("amount", amount.to_string())])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().expect("a refund has an id").to_string()
}

async fn balance(client: &credits_client::Client, org: &str) -> i64 {
    client.get_credit_balance().org(org).send().await.unwrap().into_inner().balance
}

/// The amounts of the org's entries of one type, oldest first.
async fn amounts(client: &credits_client::Client, org: &str, kind: CreditTransactionType) -> Vec<i64> {
    let entries =
        client.list_credit_transactions().org(org).transaction_type(vec![kind]).send().await.unwrap().into_inner();
    entries.iter().rev().map(|e| e.amount).collect()
}

/// Waits for every delivery and checks that each was answered 2xx.
async fn settle(app: &TestApp) {
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    let failed: Vec<_> = app.fake.deliveries().into_iter().filter(|d| !d.succeeded).collect();
    assert!(failed.is_empty(), "deliveries refused: {failed:?}");
}

/// The stored balance is the ledger's sum.
async fn assert_ledger_matches(app: &TestApp, org: &str, expected: i64) {
    let org = app.store.org_by_slug(org).await.unwrap().expect("org");
    assert_eq!(app.store.ledger_sum(&org).await.unwrap(), expected, "ledger sum");
    assert_eq!(app.store.balance(&org).await.unwrap(), expected, "stored balance");
}

/// The scenario: 3 bundles bought (300), one bundle's amount refunded (200, one entry of
/// -100) with the event delivered 5 times at once to two instances on one database; the rest of
/// the charge disputed (held back: 0) then won (200 again); another purchase disputed and lost
/// (stays taken).
async fn refunds_and_disputes_move_the_balance_once(db: Db) {
    let app = spawn_app(db).await;
    let second = app.start_second_instance(|_| {}).await;
    let (org, client) = buyer(&app).await;
    let session = pay(&app, &client, &org, 3).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 300);

    let (charge, receipt_url) = charge_of(&app, &session).await;
    let purchases = client.list_credit_transactions().org(&org).send().await.unwrap().into_inner();
    assert_eq!(purchases.len(), 1);
    assert!(purchases[0].has_receipt);
    assert_eq!(purchases[0].receipt_url.as_deref(), Some(receipt_url.as_str()));

    app.fake.set_delivery_copies(5);
    let session_lists = app.fake.api_requests("GET /v1/checkout/sessions");
    refund(&app, &charge, BUNDLE_CENTS).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 200);
    assert_eq!(
        app.fake.api_requests("GET /v1/checkout/sessions"),
        session_lists,
        "the purchase behind the charge is found in the server's own records, not asked of Stripe"
    );
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-CREDITS_PER_BUNDLE]);
    let refunded = app.fake.deliveries().iter().filter(|d| d.event_type == "charge.refunded").count();
    assert!(refunded >= 10, "both instances got every copy: {refunded}");

    let dispute = app.fake.dispute_charge(&charge, Some(2 * BUNDLE_CENTS), None).await.unwrap();
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 0, "the disputed credits are held back");
    app.fake.close_dispute(&dispute, true).await.unwrap();
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 200, "a dispute won gives them back");
    assert_eq!(amounts(&client, &org, CreditTransactionType::Dispute).await, vec![-200]);
    assert_eq!(amounts(&client, &org, CreditTransactionType::DisputeReversal).await, vec![200]);

    let lost = pay(&app, &client, &org, 1).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 300);
    let (lost_charge, _) = charge_of(&app, &lost).await;
    let dispute = app.fake.dispute_charge(&lost_charge, None, None).await.unwrap();
    app.fake.close_dispute(&dispute, false).await.unwrap();
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 200, "a dispute lost stays taken");
    assert_eq!(amounts(&client, &org, CreditTransactionType::Dispute).await, vec![-200, -100]);
    assert_eq!(amounts(&client, &org, CreditTransactionType::DisputeReversal).await, vec![200]);
    assert_ledger_matches(&app, &org, 200).await;
    second.close().await.unwrap();
}

/// Several partial refunds of one charge: each has its own entry, computed from the cumulative
/// amount refunded (rounded down), and together they take back exactly what was granted.
async fn partial_refunds_add_up_to_the_grant(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    let session = pay(&app, &client, &org, 1).await;
    settle(&app).await;
    let (charge, _) = charge_of(&app, &session).await;
    for cents in [167, 167, 166] {
        refund(&app, &charge, cents).await;
        settle(&app).await;
    }
    // 167 of 500 cents is 33.4 credits: 33; 334 is 66.8: 66 (33 more); all of it: 100 (34 more).
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-33, -33, -34]);
    assert_eq!(balance(&client, &org).await, 0);
    let refunds = client
        .list_credit_transactions()
        .org(&org)
        .transaction_type(vec![CreditTransactionType::Refund])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(refunds.iter().all(|r| r.has_receipt && r.receipt_url.is_some()), "{refunds:?}");
    assert_ledger_matches(&app, &org, 0).await;
}

/// A refund that fails after it was counted gives its credits back, once, however many copies
/// of Stripe's events arrive; the rounding of later refunds goes on as if it had never been. A
/// refund that failed before its `charge.refunded` was handled (both events held back, then
/// delivered together) ends the same way.
async fn a_refund_that_fails_gives_the_credits_back(db: Db) {
    let app = spawn_app_with(db, |c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let (org, client) = buyer(&app).await;
    let session = pay(&app, &client, &org, 1).await;
    settle(&app).await;
    let (charge, _) = charge_of(&app, &session).await;
    let first = refund(&app, &charge, 167).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 67);

    app.fake.set_delivery_copies(3);
    app.fake.fail_refund(&first, None).await.unwrap();
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 100, "the failed refund's 33 credits are back");
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-33, 33]);

    // 167 of 500 cents again: 33, as the first would have been.
    refund(&app, &charge, 167).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 67);

    // Failed before the server heard of it: charge.refunded and the failure arrive together.
    app.fake.pause_webhooks();
    let late = refund(&app, &charge, 166).await;
    app.fake.fail_refund(&late, Some("lost_or_stolen_card")).await.unwrap();
    app.fake.resume_webhooks();
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 67, "a refund that failed takes nothing");
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-33, 33, -33, -33, 33]);
    assert_ledger_matches(&app, &org, 67).await;

    // The metrics count what the ledger moved, once.
    let metrics = reqwest::get(format!("http://{}/metrics", app.metrics_addr().unwrap())).await.unwrap();
    let metrics = metrics.text().await.unwrap();
    let reversed = |kind: &str| {
        let prefix = format!("credits_reversed_total{{kind=\"{kind}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(str::to_string)
    };
    assert_eq!(reversed("refund").as_deref(), Some("99"), "{metrics}");
    assert_eq!(reversed("refund_reversal").as_deref(), Some("66"), "{metrics}");
}

/// Refunds worth a fraction of a credit each, one of which fails: the credits taken stay the
/// whole credits of what the refunds that count add up to, and refunding the rest of the charge
/// takes back exactly what it granted (the entries already written are read back, not assumed).
async fn a_failed_refund_does_not_upset_the_rounding(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    let session = pay(&app, &client, &org, 1).await;
    settle(&app).await;
    let (charge, _) = charge_of(&app, &session).await;
    // 100 credits for 500 cents: 3 cents are 0.6 of a credit, nothing; 6 cents are 1.2, so 1.
    let first = refund(&app, &charge, 3).await;
    refund(&app, &charge, 3).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 99);
    app.fake.fail_refund(&first, None).await.unwrap();
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 99, "the failed refund had taken nothing");
    // 3 + 2 cents that count: 1 credit, already taken.
    refund(&app, &charge, 2).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 99);
    // The rest of the charge: 500 cents refunded in all, so all 100 credits.
    refund(&app, &charge, 495).await;
    settle(&app).await;
    assert_eq!(balance(&client, &org).await, 0);
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-1, -99]);
    assert_ledger_matches(&app, &org, 0).await;
}

/// Credits spent before a refund: the balance goes negative, the API says it is low, and the
/// org may still buy.
async fn a_refund_after_spending_leaves_a_negative_balance(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    let session = pay(&app, &client, &org, 1).await;
    settle(&app).await;
    let record = app.store.org_by_slug(&org).await.unwrap().unwrap();
    app.store.grant(&record, -80, "spent").await.unwrap();
    let (charge, _) = charge_of(&app, &session).await;
    refund(&app, &charge, BUNDLE_CENTS).await;
    settle(&app).await;

    let shown = client.get_credit_balance().org(&org).send().await.unwrap().into_inner();
    assert_eq!(shown.balance, -80);
    assert!(shown.is_low_balance);
    client.create_checkout_session().org(&org).body(request(1)).send().await.expect("an org in debt may still buy");
}

/// A refund finds the purchase it reverses however that was recorded: a purchase whose webhook
/// was lost is fulfilled first, then refunded; a purchase recorded without its payment intent
/// (credited before payment intents were kept) is found by asking Stripe.
async fn a_refund_finds_its_purchase(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    app.fake.set_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    app.fake.set_webhooks_down(true);
    let missed = pay(&app, &client, &org, 3).await;
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    app.fake.set_webhooks_down(false);
    let (charge, _) = charge_of(&app, &missed).await;
    refund(&app, &charge, BUNDLE_CENTS).await;
    settle_resent(&app).await;
    assert_eq!(amounts(&client, &org, CreditTransactionType::Purchase).await, vec![300]);
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-100]);

    let older = pay(&app, &client, &org, 1).await;
    settle_resent(&app).await;
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query(&format!("UPDATE checkout_sessions SET payment_intent_id = NULL WHERE id = '{older}'"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (charge, _) = charge_of(&app, &older).await;
    refund(&app, &charge, BUNDLE_CENTS).await;
    settle_resent(&app).await;
    assert_eq!(amounts(&client, &org, CreditTransactionType::Refund).await, vec![-100, -100]);
    assert_eq!(balance(&client, &org).await, 200);
    assert_ledger_matches(&app, &org, 200).await;
}

/// Ids of the events of `event_type` emitted so far.
fn events_of(app: &TestApp, event_type: &str) -> Vec<String> {
    app.fake
        .events()
        .iter()
        .filter(|e| e["type"] == event_type)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// The endpoint is down while a dispute is opened and won; its events then arrive `closed`
/// first, `created` last, twice each: the credits are taken once and given back once.
async fn a_dispute_closed_before_it_was_opened_ends_even(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    let session = pay(&app, &client, &org, 2).await;
    settle(&app).await;
    let (charge, _) = charge_of(&app, &session).await;

    app.fake.set_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    app.fake.set_webhooks_down(true);
    let dispute = app.fake.dispute_charge(&charge, None, None).await.unwrap();
    app.fake.close_dispute(&dispute, true).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    assert_eq!(balance(&client, &org).await, 200, "nothing arrived yet");
    app.fake.set_webhooks_down(false);

    let order = ["charge.dispute.funds_reinstated", "charge.dispute.closed", "charge.dispute.funds_withdrawn"];
    for event_type in order.into_iter().chain(["charge.dispute.created", "charge.dispute.closed"]) {
        for id in events_of(&app, event_type) {
            app.fake.resend_event(&id).unwrap();
        }
        app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
        assert_eq!(balance(&client, &org).await, 200, "after {event_type}");
    }
    assert_eq!(amounts(&client, &org, CreditTransactionType::Dispute).await, vec![-200]);
    assert_eq!(amounts(&client, &org, CreditTransactionType::DisputeReversal).await, vec![200]);
    assert_ledger_matches(&app, &org, 200).await;
}

/// The webhook is down while the buyer pays: reading the session on return asks Stripe and
/// credits it; the webhook arriving later changes nothing. A read while Stripe fails answers
/// with the local state, and Stripe is not asked again for a few seconds.
async fn the_buyers_return_fulfils_once(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    app.fake.set_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    app.fake.set_webhooks_down(true);
    let session = pay(&app, &client, &org, 2).await;
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();

    app.fake.inject_fault(Fault::ServerError, 10);
    let read = || async {
        client.get_checkout_session().org(&org).session_id(&session).send().await.expect("a read never fails")
    };
    let down = read().await.into_inner();
    assert_eq!(down.payment_status, CheckoutPaymentStatus::Unpaid, "Stripe failing: the local state");
    app.fake.clear_faults();
    let throttled = read().await.into_inner();
    assert_eq!(throttled.payment_status, CheckoutPaymentStatus::Unpaid, "Stripe not asked again at once");
    assert_eq!(balance(&client, &org).await, 0);

    tokio::time::sleep(Duration::from_millis(3100)).await;
    let back = read().await.into_inner();
    assert_eq!(back.payment_status, CheckoutPaymentStatus::Paid);
    assert!(back.fulfilled_at.is_some());
    assert_eq!(balance(&client, &org).await, 200);

    app.fake.set_webhooks_down(false);
    for id in events_of(&app, "checkout.session.completed") {
        app.fake.resend_event(&id).unwrap();
    }
    settle_resent(&app).await;
    assert_eq!(balance(&client, &org).await, 200, "the late webhook grants nothing more");
    assert_eq!(amounts(&client, &org, CreditTransactionType::Purchase).await, vec![200]);
}

/// Waits for deliveries and checks that the last attempt of each event succeeded.
async fn settle_resent(app: &TestApp) {
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    let last = app.fake.deliveries().pop().expect("a delivery");
    assert!(last.succeeded, "{last:?}");
}

/// The webhook and the buyer's return at the same moment, on two instances, and the return after
/// the webhook: credited once.
async fn the_return_and_the_webhook_race(db: Db) {
    let app = spawn_app(db).await;
    let second = app.start_second_instance(|_| {}).await;
    app.fake.set_delivery_copies(3);
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let other = credits_client::connect(
        &format!("http://{}", second.local_addr()),
        credits_client::Credentials::Bearer(token.clone()),
    )
    .unwrap();
    let session = client.create_checkout_session().org(&org).body(request(3)).send().await.unwrap().into_inner();
    let id = session.session_id;
    app.fake.complete_session(&id, PaymentOutcome::Paid).await.unwrap();
    let mut reads = tokio::task::JoinSet::new();
    for i in 0..6 {
        let client = if i % 2 == 0 { client.clone() } else { other.clone() };
        let (org, id) = (org.clone(), id.clone());
        reads.spawn(async move { client.get_checkout_session().org(&org).session_id(&id).send().await.map(|_| ()) });
    }
    while let Some(read) = reads.join_next().await {
        read.unwrap().expect("the read succeeds");
    }
    settle(&app).await;
    let after = client.get_checkout_session().org(&org).session_id(&id).send().await.unwrap().into_inner();
    assert_eq!(after.payment_status, CheckoutPaymentStatus::Paid);
    assert_eq!(balance(&client, &org).await, 300);
    assert_eq!(amounts(&client, &org, CreditTransactionType::Purchase).await, vec![300]);
    assert_ledger_matches(&app, &org, 300).await;
    second.close().await.unwrap();
}

/// Every event Stripe sends is recorded once with its type, however often it is delivered: the
/// records `--event-retention` keeps. A record is written just after the delivery is answered,
/// so it is looked for until it is there (a few seconds at most).
async fn every_delivered_event_is_recorded_once(db: Db) {
    let app = spawn_app(db).await;
    app.fake.set_delivery_copies(3);
    let (org, client) = buyer(&app).await;
    pay(&app, &client, &org, 1).await;
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    let text = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
    let mut emitted: Vec<(String, String)> =
        app.fake.events().iter().map(|e| (text(&e["id"]), text(&e["type"]))).collect();
    emitted.sort();
    assert!(!emitted.is_empty());
    sqlx::any::install_default_drivers();
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let recorded = loop {
        let mut recorded: Vec<(String, String)> =
            sqlx::query_as("SELECT id, event_type FROM stripe_events").fetch_all(&mut connection).await.unwrap();
        recorded.sort();
        if recorded == emitted || std::time::Instant::now() > deadline {
            break recorded;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    sqlx::Connection::close(connection).await.unwrap();
    assert_eq!(recorded, emitted);
}

/// The webhook endpoint is down while the buyer pays: `admin reconcile` credits the session once,
/// a second run does nothing, and the buyer's return afterwards changes nothing.
async fn reconcile_fulfils_what_the_webhook_missed(db: Db) {
    let app = spawn_app(db).await;
    let (org, client) = buyer(&app).await;
    app.fake.set_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    app.fake.set_webhooks_down(true);
    let session = pay(&app, &client, &org, 3).await;
    let unpaid = client.create_checkout_session().org(&org).body(request(1)).send().await.unwrap().into_inner();
    app.fake.wait_for_deliveries(Duration::from_secs(30)).await.unwrap();
    assert_eq!(balance(&client, &org).await, 0);

    let first = reconcile(&app).await;
    assert!(first.contains(&format!("fulfilled {session}: 300 credits")), "{first}");
    assert!(!first.contains(&unpaid.session_id), "{first}");
    assert!(
        first.ends_with("2 session(s) listed, 1 paid here, 1 fulfilled by this run, 0 already fulfilled\n"),
        "{first}"
    );
    assert_eq!(balance(&client, &org).await, 300);

    let second = reconcile(&app).await;
    assert!(
        second.ends_with("2 session(s) listed, 1 paid here, 0 fulfilled by this run, 1 already fulfilled\n"),
        "{second}"
    );
    assert!(!second.contains(&session), "{second}");
    let read = client.get_checkout_session().org(&org).session_id(&session).send().await.unwrap().into_inner();
    assert!(read.fulfilled_at.is_some());
    eventually(Duration::from_secs(1), || async { balance(&client, &org).await == 300 }).await;
    assert_eq!(amounts(&client, &org, CreditTransactionType::Purchase).await, vec![300]);
}

/// More paid sessions than one page of Stripe's list (100) missed by the webhook: `admin
/// reconcile` pages through them all and credits each, asking Stripe for each page once and for
/// no page after the last (Stripe counts list requests against the account's rate limit).
#[tokio::test]
async fn reconcile_pages_through_more_sessions_than_one_list_page() {
    let app = spawn_app(Db::Sqlite).await;
    let (org, client) = buyer(&app).await;
    app.fake.set_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    app.fake.set_webhooks_down(true);
    const SESSIONS: i64 = 105;
    for _ in 0..SESSIONS {
        pay(&app, &client, &org, 1).await;
    }
    app.fake.wait_for_deliveries(Duration::from_secs(60)).await.unwrap();
    assert_eq!(balance(&client, &org).await, 0);

    let lists_before = app.fake.api_requests("GET /v1/checkout/sessions");
    let report = reconcile(&app).await;
    assert!(report.contains(&format!("{SESSIONS} fulfilled by this run")), "{report}");
    assert_eq!(balance(&client, &org).await, SESSIONS * CREDITS_PER_BUNDLE);
    let lists = app.fake.api_requests("GET /v1/checkout/sessions") - lists_before;
    assert_eq!(lists, 2, "two pages of at most 100 sessions each");
}

/// Runs `credits-server admin reconcile` against the app's database and double; its stdout.
async fn reconcile(app: &TestApp) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_credits-server"));
    command
        .args(["admin", "reconcile", "--since", "1h"])
        .args(["--database-url", &app.database_url])
        .args(["--stripe-secret-key", "sk_test_credits", "--stripe-api-base", &app.fake.base_url()])
        .env_remove("DATABASE_URL");
    // Waited for on a blocking thread: the double answering it runs on this test's runtime.
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("credits-server runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

crate::on_both_databases!(
    refunds_and_disputes_move_the_balance_once,
    partial_refunds_add_up_to_the_grant,
    a_refund_that_fails_gives_the_credits_back,
    a_failed_refund_does_not_upset_the_rounding,
    a_refund_after_spending_leaves_a_negative_balance,
    a_refund_finds_its_purchase,
    a_dispute_closed_before_it_was_opened_ends_even,
    the_buyers_return_fulfils_once,
    the_return_and_the_webhook_race,
    reconcile_fulfils_what_the_webhook_missed,
    every_delivered_event_is_recorded_once,
);
