//! Webhook delivery as Stripe does it: each event is POSTed as JSON to every configured endpoint,
//! signed with `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` keyed with the whole
//! `whsec_...` string, and retried with exponential backoff until the endpoint answers 2xx or
//! the attempts run out. For tests of consumers' deduplication each event can be delivered
//! several times, concurrently and in random order. Every attempt is logged. To simulate an
//! endpoint that is unreachable, delivery can be paused (attempts wait, then go out on resume)
//! or the endpoints marked down (attempts fail as a refused connection would, and are retried).
//!
//! At most `max_concurrent_deliveries` attempts are in flight at once, and an attempt's timeout
//! starts when it is sent: releasing a backlog of thousands of deliveries at once made each of
//! them wait behind all the others inside the endpoint, so most timed out, were retried while the
//! endpoint was still working on the abandoned ones, and after five attempts gave up, while the
//! endpoint spent its time on work nobody waited for.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Semaphore, watch};

/// A webhook endpoint: where to POST events and the secret to sign them with.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Where events are POSTed.
    pub url: String,
    /// The signing secret (`whsec_...`).
    pub secret: String,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint").field("url", &self.url).field("secret", &"whsec_***").finish()
    }
}

/// How failed deliveries are retried: `initial_backoff`, doubling up to `max_backoff`, at most
/// `max_attempts` attempts in all; each attempt waits `timeout` for an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait before the first retry.
    #[serde(with = "millis")]
    pub initial_backoff: Duration,
    /// The longest wait between attempts.
    #[serde(with = "millis")]
    pub max_backoff: Duration,
    /// How long an attempt waits for an answer.
    #[serde(with = "millis")]
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempts count from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// One delivery attempt, as listed by `GET /_fake/events`.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryAttempt {
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The endpoint's URL.
    pub endpoint: String,
    /// Which of the `delivery_copies` copies this is (0-based).
    pub copy: usize,
    /// 1-based attempt number of this copy.
    pub attempt: u32,
    /// The endpoint's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without a status (connection refused, timeout).
    pub error: Option<String>,
    /// Whether the endpoint answered 2xx.
    pub succeeded: bool,
    /// Unix time in milliseconds.
    pub at_ms: i64,
}

/// `Stripe-Signature` header value for `body` signed at `timestamp`: async-stripe's own test
/// signer (`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`), checked below against an HMAC computed
/// outside Rust so the double does not merely agree with the SDK that verifies it.
pub fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
    stripe_webhook::Webhook::generate_test_header(body, secret, Some(timestamp))
}

/// The delivery machinery shared by the fake's handlers.
pub struct Webhooks {
    endpoints: RwLock<Vec<WebhookEndpoint>>,
    copies: AtomicUsize,
    retry: RwLock<RetryPolicy>,
    /// With several copies, each waits a random time up to this before its first attempt.
    jitter: Duration,
    log: Mutex<Vec<DeliveryAttempt>>,
    in_flight: watch::Sender<usize>,
    /// While true, every attempt waits before going out.
    paused: watch::Sender<bool>,
    /// While true, every attempt fails without reaching the endpoint.
    down: AtomicBool,
    /// One permit per attempt in flight.
    sending: Semaphore,
    client: reqwest::Client,
}

impl Webhooks {
    pub fn new(
        endpoints: Vec<WebhookEndpoint>,
        copies: usize,
        retry: RetryPolicy,
        jitter: Duration,
        max_concurrent: usize,
    ) -> Webhooks {
        Webhooks {
            endpoints: RwLock::new(endpoints),
            copies: AtomicUsize::new(copies.max(1)),
            retry: RwLock::new(retry),
            jitter,
            log: Mutex::new(Vec::new()),
            in_flight: watch::Sender::new(0),
            paused: watch::Sender::new(false),
            down: AtomicBool::new(false),
            sending: Semaphore::new(max_concurrent.max(1)),
            client: reqwest::Client::builder().build().expect("reqwest client"),
        }
    }

    pub fn add_endpoint(&self, endpoint: WebhookEndpoint) {
        self.endpoints.write().expect("endpoints lock").push(endpoint);
    }

    pub fn clear_endpoints(&self) {
        self.endpoints.write().expect("endpoints lock").clear();
    }

    pub fn endpoints(&self) -> Vec<WebhookEndpoint> {
        self.endpoints.read().expect("endpoints lock").clone()
    }

    pub fn endpoint_count(&self) -> usize {
        self.endpoints.read().expect("endpoints lock").len()
    }

    pub fn set_copies(&self, copies: usize) {
        self.copies.store(copies.max(1), Ordering::SeqCst);
    }

    pub fn copies(&self) -> usize {
        self.copies.load(Ordering::SeqCst)
    }

    pub fn set_retry(&self, retry: RetryPolicy) {
        *self.retry.write().expect("retry lock") = retry;
    }

    pub fn retry(&self) -> RetryPolicy {
        self.retry.read().expect("retry lock").clone()
    }

    /// Pauses (true) or resumes (false) delivery: paused attempts wait, nothing is lost.
    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    pub fn paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Marks every endpoint unreachable (true) or reachable again (false).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        self.log.lock().expect("log lock").clone()
    }

    /// Starts delivering `event` to every endpoint; returns at once.
    pub fn dispatch(self: &Arc<Self>, event: &Value) {
        let body = Arc::new(serde_json::to_string(event).expect("event serialises"));
        let event_id = event["id"].as_str().unwrap_or_default().to_string();
        let event_type = event["type"].as_str().unwrap_or_default().to_string();
        let copies = self.copies();
        for endpoint in self.endpoints() {
            for copy in 0..copies {
                let delay = if copies > 1 && !self.jitter.is_zero() {
                    rand::rng().random_range(Duration::ZERO..=self.jitter)
                } else {
                    Duration::ZERO
                };
                let delivery = Delivery {
                    webhooks: Arc::clone(self),
                    endpoint: endpoint.clone(),
                    body: Arc::clone(&body),
                    event_id: event_id.clone(),
                    event_type: event_type.clone(),
                    copy,
                };
                self.in_flight.send_modify(|n| *n += 1);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let webhooks = Arc::clone(&delivery.webhooks);
                    delivery.run().await;
                    webhooks.in_flight.send_modify(|n| *n -= 1);
                });
            }
        }
    }

    /// Waits until no delivery is running (all succeeded or gave up), at most `timeout`.
    pub async fn wait_idle(&self, timeout: Duration) -> anyhow::Result<()> {
        let mut rx = self.in_flight.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0))
            .await
            .map_err(|_| anyhow::anyhow!("webhook deliveries still running after {timeout:?}"))?
            .map_err(|_| anyhow::anyhow!("webhook machinery stopped"))?;
        Ok(())
    }
}

struct Delivery {
    webhooks: Arc<Webhooks>,
    endpoint: WebhookEndpoint,
    body: Arc<String>,
    event_id: String,
    event_type: String,
    copy: usize,
}

impl Delivery {
    async fn run(self) {
        let retry = self.webhooks.retry();
        for attempt in 1..=retry.max_attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(retry.backoff(attempt - 1)).await;
            }
            // Paused: wait here until resumed (the sender lives as long as `webhooks`).
            let _ = self.webhooks.paused.subscribe().wait_for(|paused| !*paused).await;
            let (status, error) = if self.webhooks.down() {
                (None, Some("connection refused: the endpoint is marked down (stripe-fake)".to_string()))
            } else {
                let _permit = self.webhooks.sending.acquire().await.expect("the semaphore is never closed");
                self.send().await
            };
            let succeeded = status.is_some_and(|s| (200..300).contains(&s));
            tracing::debug!(event = %self.event_id, url = %self.endpoint.url, attempt, ?status, "webhook attempt");
            self.webhooks.log.lock().expect("log lock").push(DeliveryAttempt {
                event_id: self.event_id.clone(),
                event_type: self.event_type.clone(),
                endpoint: self.endpoint.url.clone(),
                copy: self.copy,
                attempt,
                status,
                error,
                succeeded,
                at_ms: chrono::Utc::now().timestamp_millis(),
            });
            if succeeded {
                return;
            }
        }
        tracing::warn!(event = %self.event_id, url = %self.endpoint.url, "webhook delivery gave up");
    }

    /// One signed POST: the endpoint's status, or why there was none.
    async fn send(&self) -> (Option<u16>, Option<String>) {
        let timestamp = chrono::Utc::now().timestamp();
        let result = self
            .webhooks
            .client
            .post(&self.endpoint.url)
            .timeout(self.webhooks.retry().timeout)
            .header("content-type", "application/json; charset=utf-8")
            .header("user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
            .header("stripe-signature", signature_header(&self.endpoint.secret, timestamp, &self.body))
            .body(self.body.as_str().to_owned())
            .send()
            .await;
        match result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(err) => (None, Some(err.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(100));
        assert_eq!(policy.backoff(2), Duration::from_millis(200));
        assert_eq!(policy.backoff(3), Duration::from_millis(350));
    }

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Known answer from Python: hmac.new(b"whsec_test", b"12.{}", hashlib.sha256).hexdigest()
        let header = signature_header("whsec_test", 12, "{}");
        assert_eq!(header, "t=12,v1=af237b033edb42cd78d7ae826c46e5f7b0f626ba5215b9ac9ce6131f7da4aafa");
        assert_ne!(signature_header("whsec_other", 12, "{}"), header);
    }
}
