//! The server's typed configuration. Secrets sit in [`Secret`], which never prints its value.

use std::net::SocketAddr;
use std::time::Duration;

/// A value that must not reach logs or responses.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
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
    PriceId(String),
    Amount { unit_amount: i64, currency: String },
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: Secret,
    /// Stripe's API, or a double; ends with `/`.
    pub api_base: String,
    pub webhook_secret: Secret,
    /// How long to wait for Stripe before answering 504.
    pub deadline: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub stripe: StripeConfig,
    pub bundle_price: BundlePrice,
    pub credits_per_bundle: i64,
    /// Clients announcing an older `api-version` get 426; `None` accepts any.
    pub min_client_version: Option<dropshot::semver::Version>,
    /// Requests per minute allowed for one token.
    pub rate_limit_per_minute: u32,
    /// Origins (`https://app.example`) that checkout redirect URLs may point at; empty allows any.
    pub allowed_redirect_origins: Vec<String>,
    /// Below this balance `is_low_balance` is true.
    pub low_balance_threshold: i64,
    /// Level of the HTTP log (one line per request, from dropshot).
    pub http_log_level: dropshot::ConfigLoggingLevel,
}
