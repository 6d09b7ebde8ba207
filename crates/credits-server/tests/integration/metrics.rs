//! `--metrics-bind`: Prometheus text on a listener of its own. A purchase (checkout, payment on
//! the double, webhook) moves the counters an operator watches: requests by route and status,
//! Stripe calls, webhook events, credits granted; the pool gauges are there at every scrape; the
//! edge's refusals are counted; and the API's port does not serve the metrics.

use std::num::NonZeroU64;
use std::time::Duration;

use credits_client::types::{CheckoutPaymentStatus, CreateCheckoutSessionRequest};
use credits_server::Role;
use stripe_fake::PaymentOutcome;

use crate::helpers::{CREDITS_PER_BUNDLE, Db, TestApp, eventually, spawn_app, spawn_app_with};

crate::on_both_databases!(a_purchase_moves_the_counters);

async fn metrics_app(db: Db) -> TestApp {
    spawn_app_with(db, |c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr().expect("a metrics listener");
    let response = reqwest::get(format!("http://{addr}/metrics")).await.expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// The sum of every series of `name` whose labels include all of `labels` (0 when none).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let wanted = series_name == name
                && labels.iter().all(|(k, v)| series_labels.split(',').any(|pair| pair == format!("{k}=\"{v}\"")));
            wanted.then(|| value.parse::<f64>().expect("a number"))
        })
        .sum()
}

async fn a_purchase_moves_the_counters(db: Db) {
    let app = metrics_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let checkout = [("method", "POST"), ("route", "/api/v1/org/{org}/credits/checkout"), ("status", "200")];
    let create = [("operation", "create_checkout_session"), ("outcome", "ok")];
    let completed = [("type", "checkout.session.completed"), ("outcome", "handled")];

    let before = scrape(&app).await;
    assert!(sample(&before, "credits_db_pool_connections", &[]) >= 1.0, "{before}");

    let request = CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(2).unwrap(),
        success_url: "https://app.example/ok".into(),
    };
    let session = client.create_checkout_session().org(&org).body(request).send().await.unwrap().into_inner();
    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(20)).await.unwrap();
    eventually(Duration::from_secs(10), || async {
        let status =
            client.get_checkout_session().org(&org).session_id(&session.session_id).send().await.unwrap().into_inner();
        status.payment_status == CheckoutPaymentStatus::Paid && status.fulfilled_at.is_some()
    })
    .await;

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| sample(&after, name, labels) - sample(&before, name, labels);
    assert_eq!(moved("credits_http_requests_total", &checkout), 1.0, "{after}");
    assert_eq!(moved("credits_http_request_duration_seconds_count", &checkout), 1.0, "{after}");
    assert_eq!(moved("credits_stripe_requests_total", &create), 1.0, "{after}");
    assert!(moved("credits_stripe_requests_total", &[("operation", "retrieve_checkout_session")]) >= 1.0, "{after}");
    assert!(moved("credits_webhook_events_total", &completed) >= 1.0, "{after}");
    assert_eq!(moved("credits_granted_total", &[]), (2 * CREDITS_PER_BUNDLE) as f64, "{after}");
    // Orgs and sessions are not labels: the route is the spec's template.
    assert!(!after.contains(&org), "{after}");
    assert!(sample(&after, "credits_db_pool_connections", &[]) >= 1.0);
    assert!(after.contains("credits_db_pool_idle_connections"), "{after}");
}

#[tokio::test]
async fn the_api_port_does_not_serve_the_metrics() {
    let app = metrics_app(Db::Sqlite).await;
    let through_api = reqwest::get(format!("{}/metrics", app.base_url)).await.unwrap();
    assert_eq!(through_api.status(), 404);
    let body: serde_json::Value = through_api.json().await.unwrap();
    assert_eq!(body["type"], "not_found_error", "the API's own 404 envelope");
    let addr = app.metrics_addr().unwrap();
    assert_ne!(addr.port(), app.base_url.rsplit(':').next().unwrap().parse::<u16>().unwrap());
    assert_eq!(reqwest::get(format!("http://{addr}/anything")).await.unwrap().status(), 404);
    let unmatched = scrape(&app).await;
    assert_eq!(sample(&unmatched, "credits_http_requests_total", &[("route", "unmatched"), ("status", "404")]), 1.0);
}

#[tokio::test]
async fn off_unless_asked_for() {
    let app = spawn_app(Db::Sqlite).await;
    assert!(app.metrics_addr().is_none());
}

#[tokio::test]
async fn rate_limit_refusals_are_counted() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
        c.edge.rate_limit_per_address_per_minute = 1;
    })
    .await;
    let healthz = format!("{}/healthz", app.base_url);
    assert_eq!(reqwest::get(&healthz).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(&healthz).await.unwrap().status(), 429);
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "credits_rate_limited_total", &[("reason", "address")]), 1.0, "{text}");
    let refused = [("route", "/healthz"), ("status", "429")];
    assert_eq!(sample(&text, "credits_http_requests_total", &refused), 1.0, "{text}");
}
