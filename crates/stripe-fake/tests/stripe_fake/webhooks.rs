//! The payment flow and its webhooks: the checkout page's Pay and Cancel, control endpoints,
//! events verified by `stripe_webhook::Webhook::construct_event`, retries and multiple copies.

use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_fake::{FakeConfig, PaymentOutcome};
use stripe_shared::{CheckoutSessionPaymentStatus, CheckoutSessionStatus};
use stripe_webhook::EventObject;

use crate::helpers::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn paying_on_the_checkout_page_completes_redirects_and_sends_a_signed_event() {
    let receiver = Receiver::start().await;
    let fake = spawn_with(FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() }).await;
    let client = client(&fake);
    let session = credits_session().send(&client).await.unwrap();
    let url = session.url.clone().unwrap();

    let http = no_redirects();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Credits") && html.contains("10.00 USD"), "{html}");
    assert!(html.contains(&format!("action=\"/pay/{}/pay\"", session.id)));

    let paid = http.post(format!("{url}/pay")).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(paid.headers()["location"], format!("https://app.example/ok?session={}", session.id).as_str());
    let after = RetrieveCheckoutSession::new(session.id.clone()).send(&client).await.unwrap();
    assert_eq!(after.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(after.payment_status, CheckoutSessionPaymentStatus::Paid);
    assert!(after.url.is_none());
    assert!(after.customer_details.is_some(), "filled in at checkout");

    let received = receiver.wait_for(1).await;
    let event = verify(&received[0]);
    assert_eq!(event.api_version.as_ref().map(|v| v.as_str()), Some("2026-09-30.endive"));
    match event.data.object {
        EventObject::CheckoutSessionCompleted(completed) => {
            assert_eq!(completed.id, session.id);
            assert_eq!(completed.payment_status, CheckoutSessionPaymentStatus::Paid);
            assert_eq!(completed.amount_total, Some(1000));
        }
        other => panic!("expected checkout.session.completed, got {other:?}"),
    }
    // A wrong secret is refused by the SDK: the signature really depends on it.
    assert!(
        stripe_webhook::Webhook::construct_event(&received[0].body, &received[0].signature, "whsec_wrong").is_err()
    );
    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    let deliveries = fake.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].succeeded);
}

#[tokio::test]
async fn cancel_redirects_and_leaves_the_session_open() {
    let fake = spawn().await;
    let session = credits_session().send(&client(&fake)).await.unwrap();
    let cancelled = no_redirects().post(format!("{}/cancel", session.url.unwrap())).send().await.unwrap();
    assert_eq!(cancelled.status(), 303);
    assert_eq!(cancelled.headers()["location"], "https://app.example/cancelled");
    let after = RetrieveCheckoutSession::new(session.id).send(&client(&fake)).await.unwrap();
    assert_eq!(after.status, Some(CheckoutSessionStatus::Open));
    assert!(fake.events().is_empty());
}

#[tokio::test]
async fn async_payment_succeeds_or_fails_after_an_unpaid_completion() {
    let receiver = Receiver::start().await;
    let fake = spawn_with(FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() }).await;
    let client = client(&fake);
    let good = credits_session().send(&client).await.unwrap();
    let bad = credits_session().send(&client).await.unwrap();

    // Settling before completion is refused.
    assert!(fake.settle_async_payment(good.id.as_str(), true).await.is_err());
    fake.complete_session(good.id.as_str(), PaymentOutcome::Unpaid).await.unwrap();
    let unpaid = RetrieveCheckoutSession::new(good.id.clone()).send(&client).await.unwrap();
    assert_eq!(unpaid.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(unpaid.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    fake.settle_async_payment(good.id.as_str(), true).await.unwrap();
    let paid = RetrieveCheckoutSession::new(good.id.clone()).send(&client).await.unwrap();
    assert_eq!(paid.payment_status, CheckoutSessionPaymentStatus::Paid);

    // The same through the control endpoints, failing this time.
    let http = reqwest::Client::new();
    let control =
        |path: String| http.post(format!("{}_fake/checkout/sessions/{}/{path}", fake.base_url(), bad.id)).send();
    assert_eq!(control("complete?outcome=unpaid".into()).await.unwrap().status(), 200);
    assert_eq!(control("async_payment/fail".into()).await.unwrap().status(), 200);
    assert_eq!(control("async_payment/fail".into()).await.unwrap().status(), 400, "settled once");

    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    let mut kinds: Vec<(String, String)> = receiver
        .received()
        .iter()
        .map(|r| {
            let event = verify(r);
            let id = match &event.data.object {
                EventObject::CheckoutSessionCompleted(s)
                | EventObject::CheckoutSessionAsyncPaymentSucceeded(s)
                | EventObject::CheckoutSessionAsyncPaymentFailed(s) => s.id.to_string(),
                other => panic!("unexpected event {other:?}"),
            };
            (id, event.type_.as_str().to_string())
        })
        .collect();
    kinds.sort();
    let mut expected = vec![
        (good.id.to_string(), "checkout.session.completed".to_string()),
        (good.id.to_string(), "checkout.session.async_payment_succeeded".to_string()),
        (bad.id.to_string(), "checkout.session.completed".to_string()),
        (bad.id.to_string(), "checkout.session.async_payment_failed".to_string()),
    ];
    expected.sort();
    assert_eq!(kinds, expected);

    // GET /_fake/events lists the four events and their deliveries.
    let listed: serde_json::Value =
        http.get(format!("{}_fake/events", fake.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["events"].as_array().unwrap().len(), 4);
    assert_eq!(listed["deliveries"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn expiry_by_control_endpoint_sends_the_expired_event() {
    let receiver = Receiver::start().await;
    let fake = spawn().await;
    // Webhooks configured at run time.
    let http = reqwest::Client::new();
    let added = http
        .post(format!("{}_fake/webhooks", fake.base_url()))
        .json(&serde_json::json!({ "url": receiver.url, "secret": SECRET }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let session = credits_session().send(&client(&fake)).await.unwrap();
    let expired =
        http.post(format!("{}_fake/checkout/sessions/{}/expire", fake.base_url(), session.id)).send().await.unwrap();
    assert_eq!(expired.status(), 200);
    let event = verify(&receiver.wait_for(1).await[0]);
    assert!(matches!(event.data.object, EventObject::CheckoutSessionExpired(s) if s.id == session.id));
    let page = no_redirects().get(session.url.unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("expired"));
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_2xx() {
    let receiver = Receiver::start().await;
    receiver.answer_with(&[500, 503]);
    let fake = spawn_with(FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() }).await;
    let session = credits_session().send(&client(&fake)).await.unwrap();
    fake.complete_session(session.id.as_str(), PaymentOutcome::Paid).await.unwrap();
    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    let ids: Vec<_> = received.iter().map(|r| verify(r).id.to_string()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "the same event each time");
    let statuses: Vec<_> = fake.deliveries().iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(statuses, vec![(1, Some(500)), (2, Some(503)), (3, Some(200))]);
}

#[tokio::test]
async fn delivery_gives_up_after_max_attempts() {
    let receiver = Receiver::start().await;
    receiver.answer_with(&[500; 10]);
    let mut config = FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() };
    config.retry.max_attempts = 3;
    let fake = spawn_with(config).await;
    let session = credits_session().send(&client(&fake)).await.unwrap();
    fake.expire_session(session.id.as_str()).await.unwrap();
    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!(receiver.received().len(), 3);
    assert!(fake.deliveries().iter().all(|d| !d.succeeded));
}

#[tokio::test]
async fn each_event_can_be_delivered_several_times() {
    let receiver = Receiver::start().await;
    let fake = spawn_with(FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() }).await;
    fake.set_delivery_copies(3);
    let session = credits_session().send(&client(&fake)).await.unwrap();
    fake.complete_session(session.id.as_str(), PaymentOutcome::Paid).await.unwrap();
    let received = receiver.wait_for(3).await;
    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!(receiver.received().len(), 3);
    let ids: Vec<_> = received.iter().map(|r| verify(r).id.to_string()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "three copies of one event");
    let mut copies: Vec<_> = fake.deliveries().iter().map(|d| d.copy).collect();
    copies.sort();
    assert_eq!(copies, vec![0, 1, 2]);
}

#[tokio::test]
async fn paused_delivery_waits_and_goes_out_on_resume() {
    let receiver = Receiver::start().await;
    let fake = spawn_with(FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() }).await;
    let http = reqwest::Client::new();
    let paused: serde_json::Value =
        http.post(format!("{}_fake/webhooks/pause", fake.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(paused["paused"], true);
    let session = credits_session().send(&client(&fake)).await.unwrap();
    fake.complete_session(session.id.as_str(), PaymentOutcome::Paid).await.unwrap();
    assert!(
        fake.wait_for_deliveries(std::time::Duration::from_millis(300)).await.is_err(),
        "the delivery waits while paused"
    );
    assert!(receiver.received().is_empty());
    http.post(format!("{}_fake/webhooks/resume", fake.base_url())).send().await.unwrap();
    let event = verify(&receiver.wait_for(1).await[0]);
    assert_eq!(event.type_.as_str(), "checkout.session.completed");
    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!(fake.deliveries().len(), 1, "one attempt, made after the resume");
}

#[tokio::test]
async fn an_endpoint_marked_down_fails_until_given_up_and_events_can_be_resent() {
    let receiver = Receiver::start().await;
    let mut config = FakeConfig { webhooks: vec![receiver.endpoint()], ..Default::default() };
    config.retry.max_attempts = 2;
    let fake = spawn_with(config).await;
    let http = reqwest::Client::new();
    let down: serde_json::Value =
        http.post(format!("{}_fake/webhooks/down", fake.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(down["down"], true);
    let session = credits_session().send(&client(&fake)).await.unwrap();
    fake.complete_session(session.id.as_str(), PaymentOutcome::Paid).await.unwrap();
    fake.wait_for_deliveries(std::time::Duration::from_secs(5)).await.unwrap();
    assert!(receiver.received().is_empty(), "nothing reached the endpoint");
    let attempts = fake.deliveries();
    assert_eq!(attempts.len(), 2);
    assert!(attempts.iter().all(|a| !a.succeeded && a.status.is_none() && a.error.is_some()));

    // Back up: nothing arrives by itself (delivery gave up); a re-send delivers the same event.
    http.post(format!("{}_fake/webhooks/up", fake.base_url())).send().await.unwrap();
    let event_id = fake.events()[0]["id"].as_str().unwrap().to_string();
    let resent = http.post(format!("{}_fake/events/{event_id}/resend", fake.base_url())).send().await.unwrap();
    assert_eq!(resent.status(), 200);
    let event = verify(&receiver.wait_for(1).await[0]);
    assert_eq!(event.id.as_str(), event_id);
    assert!(matches!(event.data.object, EventObject::CheckoutSessionCompleted(s) if s.id == session.id));
    let missing = http.post(format!("{}_fake/events/evt_nope/resend", fake.base_url())).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    fake.resend_event(&event_id).unwrap();
    receiver.wait_for(2).await;
    assert!(fake.resend_event("evt_nope").is_err());
}

/// A burst of deliveries (here 12 copies of one event, to an endpoint that takes 100 ms to answer)
/// reaches the endpoint at most `max_concurrent_deliveries` at a time, and every one succeeds:
/// none waits out its timeout behind the others.
#[tokio::test]
async fn a_burst_of_deliveries_is_sent_a_few_at_a_time() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (in_handler, peak) = (Arc::clone(&now), Arc::clone(&most));
    let slow = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (now, most) = (Arc::clone(&in_handler), Arc::clone(&peak));
            async move {
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, slow).await.unwrap() });

    let endpoint = stripe_fake::WebhookEndpoint { url, secret: "whsec_burst".into() };
    let fake = spawn_with(FakeConfig {
        webhooks: vec![endpoint],
        delivery_copies: 12,
        max_concurrent_deliveries: 3,
        delivery_jitter: std::time::Duration::ZERO,
        ..Default::default()
    })
    .await;
    let session = credits_session().send(&client(&fake)).await.unwrap();
    fake.expire_session(session.id.as_str()).await.unwrap();
    fake.wait_for_deliveries(std::time::Duration::from_secs(10)).await.unwrap();
    let deliveries = fake.deliveries();
    assert_eq!(deliveries.len(), 12);
    assert!(deliveries.iter().all(|d| d.succeeded && d.attempt == 1), "no attempt failed");
    assert_eq!(most.load(Ordering::SeqCst), 3, "three at a time, no more");
}
