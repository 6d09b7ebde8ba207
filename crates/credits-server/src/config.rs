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
    /// What is kept how long, and how often the purge runs.
    pub retention: Retention,
    /// Level of the HTTP log (one line per request, from dropshot).
    pub http_log_level: dropshot::ConfigLoggingLevel,
}
