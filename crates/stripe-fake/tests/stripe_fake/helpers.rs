//! Shared test plumbing: a fake per test on port 0, the real async-stripe client pointed at it,
//! raw HTTP for what the SDK cannot send, a small webhook receiver, and polling with timeouts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData, ProductData,
};
use stripe_fake::{FakeConfig, RetryPolicy, StripeFake, WebhookEndpoint};

pub const KEY: &str = "sk_test_x";
pub const SECRET: &str = "whsec_test_secret";

/// A fake with fast webhook retries.
pub async fn spawn() -> StripeFake {
    spawn_with(FakeConfig::default()).await
}

pub async fn spawn_with(mut config: FakeConfig) -> StripeFake {
    config.retry = RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..config.retry
    };
    StripeFake::spawn(config).await.expect("fake starts")
}

pub fn client(fake: &StripeFake) -> stripe::Client {
    stripe::ClientBuilder::new(KEY).url(fake.base_url()).build().expect("client")
}

/// What the credits server sends: 2 × 5.00 USD of "Credits", inline price data.
pub fn credits_session() -> CreateCheckoutSession {
    let mut price_data = CreateCheckoutSessionLineItemsPriceData::new(stripe_types::Currency::USD);
    price_data.unit_amount = Some(500);
    price_data.product_data = Some(ProductData::new("Credits"));
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price_data);
    item.quantity = Some(2);
    CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .success_url("https://app.example/ok?session={CHECKOUT_SESSION_ID}")
        .cancel_url("https://app.example/cancelled")
        .client_reference_id("org_42")
        .metadata(HashMap::from([("org".to_string(), "acme".to_string())]))
}

/// A raw form POST, for requests the SDK would never send.
pub async fn post_form(fake: &StripeFake, path: &str, key: Option<&str>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(format!("{}{path}", fake.base_url())).form(form);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.expect("request sent")
}

/// The form of `credits_session`, for raw requests.
pub fn credits_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", "500"),
        ("line_items[0][price_data][product_data][name]", "Credits"),
        ("line_items[0][quantity]", "2"),
        ("success_url", "https://app.example/ok"),
    ]
}

/// The `error` object of a Stripe error answer, after checking its status.
pub async fn stripe_error(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    body["error"].clone()
}

/// One webhook request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub signature: String,
    pub body: String,
}

/// A webhook endpoint on port 0 that records every request and answers with the queued
/// statuses first, then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let receiver = Receiver { url, received: Arc::default(), answers: Arc::default() };
        let app = axum::Router::new().route("/hook", post(record)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver serves") });
        receiver
    }

    pub fn endpoint(&self) -> WebhookEndpoint {
        WebhookEndpoint { url: self.url.clone(), secret: SECRET.to_string() }
    }

    /// Answer the next requests with these statuses.
    pub fn answer_with(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        poll(|| (self.received().len() >= n).then(|| self.received())).await
    }
}

async fn record(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    receiver.received.lock().unwrap().push(Received { signature, body });
    let status = receiver.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// Polls `check` every 10 ms until it returns `Some`, for at most 5 seconds.
pub async fn poll<T>(mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "condition not met within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Verifies a received webhook with the SDK, as a server would.
pub fn verify(received: &Received) -> stripe_webhook::Event {
    stripe_webhook::Webhook::construct_event(&received.body, &received.signature, SECRET)
        .expect("signature and payload accepted by stripe_webhook")
}
