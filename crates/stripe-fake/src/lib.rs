//! stripe-fake: a Stripe API test double for Checkout Sessions, Prices and Products, the payment
//! intents, charges, refunds and disputes behind paid sessions, with a hosted checkout page, a
//! receipt page, signed webhooks, idempotency and fault injection. This file owns the
//! public library API (`FakeConfig`, `StripeFake`), the router and the accept loop. The accept
//! loop is hand-made (hyper, not `axum::serve`) so that a fault can close a connection without
//! answering. `main.rs` only turns command-line flags into a `FakeConfig`.

#![recursion_limit = "256"]

mod api;
mod app;
mod auth;
mod catalog;
mod checkout;
mod checkout_page;
mod control;
mod disputes;
mod endpoint;
mod errors;
mod faults;
mod form;
mod idempotency;
mod ids;
mod objects;
mod payments;
mod receipt_page;
mod refunds;
mod store;
mod webhooks;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{Request, StatusCode};
use axum::routing::{any, get, post};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

pub use checkout::PaymentOutcome;
pub use errors::ApiError;
pub use faults::Fault;
pub use webhooks::{DeliveryAttempt, RetryPolicy, WebhookEndpoint, signature_header};

use app::AppState;

/// How a fake starts. `FakeConfig::default()` accepts any `sk_test_` key, has no webhook
/// endpoints, delivers each event once and retries 5 times from 100 ms.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Where events are delivered.
    pub webhooks: Vec<WebhookEndpoint>,
    /// The only API key accepted; any `sk_test_` key when `None`.
    pub api_key: Option<String>,
    /// How many times each event is delivered to each endpoint (concurrently, in random order).
    pub delivery_copies: usize,
    /// How failed deliveries are retried.
    pub retry: RetryPolicy,
    /// With several copies, each copy waits a random time up to this before its first attempt.
    pub delivery_jitter: Duration,
    /// At most this many delivery attempts are in flight at once (across endpoints); the others
    /// wait their turn, and an attempt's timeout starts when it is sent. Like any sender with a
    /// connection pool, this keeps a burst of events (a resumed backlog) from arriving all at
    /// once and timing out together.
    pub max_concurrent_deliveries: usize,
    /// The public base URL for checkout links, when it differs from the bound address
    /// (e.g. behind a proxy). With a trailing slash.
    pub public_url: Option<String>,
    /// How long every API (`/v1`) request waits before it is answered: a remote Stripe's round
    /// trip, for load tests. Zero by default.
    pub latency: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            webhooks: Vec::new(),
            api_key: None,
            delivery_copies: 1,
            retry: RetryPolicy::default(),
            delivery_jitter: Duration::from_millis(50),
            max_concurrent_deliveries: 64,
            public_url: None,
            latency: Duration::ZERO,
        }
    }
}

/// A running fake. Dropping it stops the server too; `shutdown` also waits for it.
pub struct StripeFake {
    shared: Arc<AppState>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl StripeFake {
    /// Starts a fake on `127.0.0.1` and a free port.
    pub async fn spawn(config: FakeConfig) -> anyhow::Result<StripeFake> {
        StripeFake::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts a fake listening on `addr`.
    pub async fn bind(addr: SocketAddr, config: FakeConfig) -> anyhow::Result<StripeFake> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let base_url = match &config.public_url {
            Some(url) if url.ends_with('/') => url.clone(),
            Some(url) => format!("{url}/"),
            None if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}/", addr.port()),
            None => format!("http://{addr}/"),
        };
        let shared = Arc::new(AppState {
            base_url,
            api_key: config.api_key,
            store: Default::default(),
            idempotency: Default::default(),
            faults: Default::default(),
            webhooks: Arc::new(webhooks::Webhooks::new(
                config.webhooks,
                config.delivery_copies,
                config.retry,
                config.delivery_jitter,
                config.max_concurrent_deliveries,
            )),
            latency: config.latency,
            requests: Default::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, router(Arc::clone(&shared)), Arc::clone(&shared), stopped.clone()));
        let sweeper = tokio::spawn(sweep_expired(Arc::clone(&shared), stopped));
        tracing::info!(%addr, "stripe-fake listening");
        Ok(StripeFake { shared, addr, stop, tasks: Mutex::new(vec![server, sweeper]) })
    }

    /// `http://127.0.0.1:PORT/`, with the trailing slash async-stripe needs.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the fake listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds an endpoint that receives every event from now on.
    pub fn add_webhook(&self, endpoint: WebhookEndpoint) {
        self.shared.webhooks.add_endpoint(endpoint);
    }

    /// How many times each event is delivered to each endpoint from now on.
    pub fn set_delivery_copies(&self, n: usize) {
        self.shared.webhooks.set_copies(n);
    }

    /// How failed deliveries are retried from now on.
    pub fn set_retry_policy(&self, retry: RetryPolicy) {
        self.shared.webhooks.set_retry(retry);
    }

    /// Completes an open session: paid at once, or unpaid with an async payment pending.
    pub async fn complete_session(&self, id: &str, outcome: PaymentOutcome) -> anyhow::Result<()> {
        Ok(checkout::complete(&self.shared, id, outcome)?)
    }

    /// Settles the async payment of a session completed with `PaymentOutcome::Unpaid`.
    pub async fn settle_async_payment(&self, id: &str, succeeded: bool) -> anyhow::Result<()> {
        Ok(checkout::settle_async_payment(&self.shared, id, succeeded)?)
    }

    /// Expires an open session (`checkout.session.expired`).
    pub async fn expire_session(&self, id: &str) -> anyhow::Result<()> {
        Ok(checkout::expire(&self.shared, id, None)?)
    }

    /// Opens a dispute on a succeeded charge (`charge.dispute.created`, `..._funds_withdrawn`):
    /// `amount` defaults to the whole charge, `reason` to `fraudulent`. Returns the `dp_` id.
    pub async fn dispute_charge(
        &self,
        charge: &str,
        amount: Option<i64>,
        reason: Option<&str>,
    ) -> anyhow::Result<String> {
        Ok(disputes::open(&self.shared, charge, amount, reason)?)
    }

    /// Closes an open dispute as won (`charge.dispute.closed`, `..._funds_reinstated`) or lost.
    pub async fn close_dispute(&self, dispute: &str, won: bool) -> anyhow::Result<()> {
        Ok(disputes::close(&self.shared, dispute, won)?)
    }

    /// Makes a succeeded refund fail (`charge.refund.updated`, `refund.updated`,
    /// `refund.failed`), for Stripe's `failure_reason` (default `expired_or_canceled_card`).
    pub async fn fail_refund(&self, refund: &str, failure_reason: Option<&str>) -> anyhow::Result<()> {
        Ok(refunds::fail(&self.shared, refund, failure_reason)?)
    }

    /// Pauses webhook delivery: attempts wait (and `wait_for_deliveries` with them) until
    /// `resume_webhooks`; nothing is lost.
    pub fn pause_webhooks(&self) {
        self.shared.webhooks.set_paused(true);
    }

    /// Resumes webhook delivery paused by `pause_webhooks`.
    pub fn resume_webhooks(&self) {
        self.shared.webhooks.set_paused(false);
    }

    /// Marks every webhook endpoint unreachable (attempts fail and are retried, then given up)
    /// or reachable again.
    pub fn set_webhooks_down(&self, down: bool) {
        self.shared.webhooks.set_down(down);
    }

    /// Delivers an event emitted earlier again, to every endpoint.
    pub fn resend_event(&self, event_id: &str) -> anyhow::Result<()> {
        self.shared.resend(event_id).map(|_| ()).ok_or_else(|| anyhow::anyhow!("no such event: {event_id}"))
    }

    /// The next `times` Stripe API requests fail with `fault` (after any already queued).
    pub fn inject_fault(&self, fault: Fault, times: usize) {
        self.shared.faults.push(fault, times);
    }

    /// How many injected faults are still queued: the requests that took one are the difference.
    pub fn pending_faults(&self) -> usize {
        self.shared.faults.pending().len()
    }

    /// Forgets the faults still queued.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// How many API requests have arrived as `method path` (`"GET /v1/refunds"`), whatever
    /// their answer: injected faults (a dropped connection included) and refusals count too.
    pub fn api_requests(&self, method_and_path: &str) -> usize {
        self.shared.requests.lock().expect("requests lock").get(method_and_path).copied().unwrap_or(0)
    }

    /// Every event emitted so far, oldest first.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.shared.store().events.clone()
    }

    /// Every webhook delivery attempt so far, in the order they finished.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.shared.webhooks.attempts()
    }

    /// Waits until no webhook delivery is running (delivered or given up), at most `timeout`.
    pub async fn wait_for_deliveries(&self, timeout: Duration) -> anyhow::Result<()> {
        self.shared.webhooks.wait_idle(timeout).await
    }

    /// Stops accepting connections, closes open ones and waits for the server to stop.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().expect("tasks lock"));
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl Drop for StripeFake {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn router(shared: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/{*path}", any(api::handle))
        .route("/pay/{id}", get(checkout_page::show))
        .route("/pay/{id}/pay", post(checkout_page::pay))
        .route("/pay/{id}/cancel", post(checkout_page::cancel))
        .route("/receipts/{id}", get(receipt_page::show))
        .merge(control::router())
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: stripe-fake serves /v1, /pay and /_fake\n") })
        .with_state(shared)
}

/// Accepts connections until told to stop. A `/v1/` request takes the next fault here; a
/// dropped-connection fault makes the service fail, and hyper closes the socket unanswered.
async fn serve(listener: TcpListener, app: Router, shared: Arc<AppState>, mut stopped: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
        };
        let app = app.clone();
        let shared = shared.clone();
        let faults = shared.faults.clone();
        let latency = shared.latency;
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                let app = app.clone();
                let faults = faults.clone();
                let shared = shared.clone();
                async move {
                    if request.uri().path().starts_with("/v1/") {
                        shared.count_request(request.method().as_str(), request.uri().path());
                        if !latency.is_zero() {
                            tokio::time::sleep(latency).await;
                        }
                        let fault = faults.next();
                        if fault == Some(Fault::DropConnection) {
                            tracing::info!(path = %request.uri().path(), "fault: dropping the connection");
                            return Err(std::io::Error::other("injected fault: drop connection"));
                        }
                        request.extensions_mut().insert(api::TakenFault(fault));
                    }
                    Ok(app.oneshot(request).await.unwrap_or_else(|never| match never {}))
                }
            });
            let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

/// Expires sessions whose `expires_at` has passed, once a second, as Stripe does on its own.
async fn sweep_expired(shared: Arc<AppState>, mut stopped: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = interval.tick() => checkout::expire_due(&shared),
        }
    }
}
