//! Metrics in Prometheus' text format, served on a listener of their own (`--metrics-bind`), never
//! through the API's port: they describe the deployment (traffic, Stripe's health, money moved),
//! which is for its operators, not for API clients.
//!
//! The code records through the `metrics` facade, but never into its global recorder: each
//! server owns a `PrometheusRecorder` and records into it with `metrics::with_local_recorder`.
//! A global recorder can be installed once per process, so servers sharing a process (the tests
//! start dozens) would mix their numbers or need a label per instance that means nothing in
//! production; one recorder per server keeps each server's numbers its own, with no global state.
//! Recording is synchronous, so a local recorder around each update is all it takes. Without
//! `--metrics-bind`, [`Metrics::disabled`] records nothing.
//!
//! What is recorded (README, "Metrics", lists the names): requests and their latency by route
//! and status, and the edge's refusals (`edge`); Stripe calls by operation and outcome
//! (`stripe`); webhook events by type and outcome (`purchase::webhook`); credits granted and
//! reversed (`purchase::fulfilment`, `purchase::reversal`); the database pool (sampled at each
//! scrape).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::store::Store;

/// Latency buckets, in seconds: from a cached read to a Stripe call near its deadline.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Where a server records its metrics; cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    recorder: Option<Arc<PrometheusRecorder>>,
}

impl Metrics {
    /// Records nothing (no metrics listener).
    pub fn disabled() -> Self {
        Metrics { recorder: None }
    }

    /// Records into a recorder of this server's own.
    pub fn enabled() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        Metrics { recorder: Some(Arc::new(recorder)) }
    }

    fn record(&self, update: impl FnOnce()) {
        if let Some(recorder) = &self.recorder {
            metrics::with_local_recorder(recorder.as_ref(), update);
        }
    }

    /// A request the edge answered: `route` is the spec's path template (`unmatched` for any
    /// other path, so scanners cannot grow the label set).
    /// `status` is `None` for a request dropped unanswered (a slow or broken body).
    pub fn request(&self, method: &str, route: &str, status: Option<u16>, elapsed: Duration) {
        let status = status.map_or_else(|| "dropped".to_string(), |s| s.to_string());
        let method = method.to_string();
        self.record(|| {
            let labels = [("method", method), ("route", route.to_string()), ("status", status)];
            metrics::counter!("credits_http_requests_total", &labels).increment(1);
            metrics::histogram!("credits_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
        });
    }

    /// A request the edge refused with 429: `reason` is `token`, `address`, `blocked_address`,
    /// `in_flight` or `connections`.
    pub fn rate_limited(&self, reason: &'static str) {
        self.record(|| metrics::counter!("credits_rate_limited_total", "reason" => reason).increment(1));
    }

    /// One call to Stripe (with its retries): `outcome` is `ok`, `error` (Stripe refused or failed)
    /// or `timeout`.
    pub fn stripe_call(&self, operation: &'static str, outcome: &'static str, elapsed: Duration) {
        self.record(|| {
            let labels = [("operation", operation), ("outcome", outcome)];
            metrics::counter!("credits_stripe_requests_total", &labels).increment(1);
            metrics::histogram!("credits_stripe_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
        });
    }

    /// A webhook delivery: `event_type` as Stripe signed it (`unverified` when the signature did not
    /// verify); `outcome` is `handled`, `ignored`, `rejected` or `failed`.
    pub fn webhook_event(&self, event_type: &str, outcome: &'static str) {
        let event_type = event_type.to_string();
        self.record(|| {
            metrics::counter!("credits_webhook_events_total", "type" => event_type, "outcome" => outcome).increment(1)
        });
    }

    /// Credits granted by a purchase.
    pub fn credits_granted(&self, credits: i64) {
        self.record(|| metrics::counter!("credits_granted_total").increment(credits.max(0) as u64));
    }

    /// Credits taken back (`kind`: `refund`, `dispute`) or given back (`dispute_reversal`, and
    /// `refund_reversal` for a refund that failed or was canceled).
    pub fn credits_reversed(&self, kind: &'static str, credits: i64) {
        self.record(|| metrics::counter!("credits_reversed_total", "kind" => kind).increment(credits.unsigned_abs()));
    }

    /// The database pool as it is now.
    fn database_pool(&self, size: u32, idle: usize) {
        self.record(|| {
            metrics::gauge!("credits_db_pool_connections").set(f64::from(size));
            metrics::gauge!("credits_db_pool_idle_connections").set(idle as f64);
        });
    }

    fn handle(&self) -> Option<PrometheusHandle> {
        self.recorder.as_ref().map(|recorder| recorder.handle())
    }
}

/// The running metrics listener.
pub struct MetricsListener {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl MetricsListener {
    /// Where Prometheus scrapes.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops listening; a scrape in progress is cut short (Prometheus retries at the next one).
    pub async fn close(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves `GET /metrics` on `bind`: the database pool is sampled, then everything rendered.
/// Any other path or method is a plain 404 or 405: this port speaks to Prometheus only.
pub async fn serve(bind: SocketAddr, metrics: Metrics, store: Store) -> std::io::Result<MetricsListener> {
    let handle = metrics.handle().ok_or_else(|| std::io::Error::other("metrics are disabled"))?;
    let listener = TcpListener::bind(bind).await?;
    let local_addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let scrape = Arc::new(Scrape { handle, metrics, store });
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = stopped.changed() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a metrics connection failed");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                },
            };
            let scrape = scrape.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let scrape = scrape.clone();
                    async move { Ok::<_, std::convert::Infallible>(scrape.answer(&request)) }
                });
                let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(MetricsListener { local_addr, stop, task })
}

struct Scrape {
    handle: PrometheusHandle,
    metrics: Metrics,
    store: Store,
}

impl Scrape {
    fn answer<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let plain = |status: u16, text: &str| {
            Response::builder()
                .status(status)
                .header("content-type", "text/plain; charset=utf-8")
                .body(Full::new(Bytes::from(text.to_string())))
                .expect("a valid response")
        };
        if request.uri().path() != "/metrics" {
            return plain(404, "not found: metrics are at /metrics\n");
        }
        if request.method() != http::Method::GET {
            return plain(405, "only GET\n");
        }
        let (size, idle) = self.store.pool_use();
        self.metrics.database_pool(size, idle);
        self.handle.run_upkeep();
        Response::builder()
            .status(200)
            .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .body(Full::new(Bytes::from(self.handle.render())))
            .expect("a valid response")
    }
}
