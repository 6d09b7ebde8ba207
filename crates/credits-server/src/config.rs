//! The server's typed configuration. Secrets sit in [`Secret`], which never prints its value.

use std::net::SocketAddr;
use std::time::Duration;

/// A value that must not reach logs or responses.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What one credit bundle costs on Stripe: an existing Price, or an amount charged as-is.
#[derive(Debug, Clone, PartialEq)]
pub enum BundlePrice {
    /// A Stripe Price (`price_...`).
    PriceId(String),
    /// An amount in the currency's minor unit (cents), in a three-letter lowercase currency.
    Amount {
        /// Minor units per bundle.
        unit_amount: i64,
        /// `usd`, `eur`...
        currency: String,
    },
}

/// How to reach Stripe.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// The API key (`sk_...` or `rk_...`).
    pub secret_key: Secret,
    /// Stripe's API, or a double; ends with `/`.
    pub api_base: String,
    /// The webhook endpoint's signing secrets (`whsec_...`): a delivery verifies when its
    /// signature matches any one, so a secret can be rotated (add the new, then drop the old).
    pub webhook_secrets: Vec<Secret>,
    /// How long to wait for Stripe before answering 504.
    pub deadline: Duration,
}

/// How long stored state is kept before the purge deletes it, and how often the purge runs.
#[derive(Debug, Clone)]
pub struct Retention {
    /// `Idempotency-Key` records (and how long a key is remembered).
    pub idempotency_keys: Duration,
    /// Records of Stripe events handled.
    pub events: Duration,
    /// Time between two purges.
    pub purge_interval: Duration,
}

impl Default for Retention {
    /// 24 hours for keys (Stripe's own rule), 30 days for events, a purge every hour.
    fn default() -> Self {
        Retention {
            idempotency_keys: Duration::from_secs(24 * 3600),
            events: Duration::from_secs(30 * 24 * 3600),
            purge_interval: Duration::from_secs(3600),
        }
    }
}

/// Everything the server is started with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where clients connect (port 0: any free port).
    pub bind: SocketAddr,
    /// Where Prometheus scrapes `/metrics` (port 0: any free port); `None`: no metrics.
    pub metrics_bind: Option<SocketAddr>,
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// How to reach Stripe.
    pub stripe: StripeConfig,
    /// What a bundle costs.
    pub bundle_price: BundlePrice,
    /// Credits granted per bundle.
    pub credits_per_bundle: i64,
    /// Clients announcing an older `api-version` get 426; `None` accepts any.
    pub min_client_version: Option<dropshot::semver::Version>,
    /// Requests per minute allowed for one token.
    pub rate_limit_per_minute: u32,
    /// Origins (`https://app.example`) that checkout redirect URLs may point at; empty allows any.
    pub allowed_redirect_origins: Vec<String>,
    /// Below this balance `is_low_balance` is true.
    pub low_balance_threshold: i64,
    /// How long what a token grants is kept in this process: a revocation, a removed member or a
    /// demotion takes effect on every instance within it (zero: at once, a query per request).
    pub credential_cache_ttl: Duration,
    /// What is kept how long, and how often the purge runs.
    pub retention: Retention,
    /// How much of dropshot's own log is passed on (its lines carry the edge's request id):
    /// `Debug` or `Trace` add its debug records; anything else keeps `info` and above, which the
    /// `tracing` filter then sorts (`logging`).
    pub http_log_level: dropshot::ConfigLoggingLevel,
    /// The limits of the HTTP edge clients connect to.
    pub edge: EdgeConfig,
    /// How long a shutdown waits for requests in progress; longer than the Stripe deadline, so
    /// a checkout in flight gets its answer.
    pub shutdown_grace: Duration,
}

/// What the edge allows a client: deadlines for slow ones, caps for many, rate limits for those
/// without a working token, and which proxies may name the client's address.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Time for a request's headers to arrive (also the longest wait between HTTP/1.1 requests on
    /// a kept-alive connection); a connection that misses it is closed without an answer.
    pub header_read_timeout: Duration,
    /// Time for a request's body to arrive once its headers have; missed, the connection is
    /// closed without an answer.
    pub body_read_timeout: Duration,
    /// A connection with no request in progress for this long is closed.
    pub idle_timeout: Duration,
    /// Time for the server to answer a request once read; then 504. Longer than the Stripe
    /// deadline, so the handler's own 504 comes first.
    pub request_timeout: Duration,
    /// Connections open at once; more are answered 429 and closed.
    pub max_connections: usize,
    /// Requests in progress at once; more are answered 429.
    pub max_in_flight: usize,
    /// Requests per minute per client address without a token, or with one that failed.
    pub rate_limit_per_address_per_minute: u32,
    /// Peers (load balancers, TLS terminators) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl EdgeConfig {
    /// The defaults, for a Stripe deadline of `stripe_deadline`.
    pub fn defaults(stripe_deadline: Duration) -> Self {
        EdgeConfig {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: stripe_deadline + Duration::from_secs(5),
            max_connections: 1024,
            max_in_flight: 256,
            rate_limit_per_address_per_minute: 300,
            trusted_proxies: Vec::new(),
        }
    }
}
