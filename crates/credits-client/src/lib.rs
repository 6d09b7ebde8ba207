//! Rust client for the credits API.
//!
//! `generated.rs` is written by progenitor (`cargo xtask codegen`) from `openapi/credits.json`;
//! this file adds what every consumer needs beside it: a constructor that takes a base URL and a
//! token and sets authentication, timeout and user agent, so nobody has to touch HTTP headers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use credits_client::{Credentials, connect, types::CreateCheckoutSessionRequest};
//! let client = connect("http://127.0.0.1:8080", Credentials::Bearer("cr_...".into()))?;
//! let session = client
//!     .create_checkout_session()
//!     .org("acme")
//!     .body(CreateCheckoutSessionRequest {
//!         cancel_url: "https://app.example/cancel".into(),
//!         quantity: std::num::NonZeroU64::new(3).expect("not zero"),
//!         success_url: "https://app.example/ok?session={CHECKOUT_SESSION_ID}".into(),
//!     })
//!     .send()
//!     .await?;
//! println!("pay at {}", session.checkout_url);
//! # Ok(()) }
//! ```

// Formatted by the generator (prettyplease), not by rustfmt; documented as the spec is.
#[rustfmt::skip]
#[allow(missing_docs)]
mod generated;

use std::time::Duration;

pub use generated::*;

/// How the client proves who it is: the same API token, in one of the two headers the API accepts.
#[derive(Clone)]
pub enum Credentials {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `X-API-Key: <token>`.
    ApiKey(String),
}

impl std::fmt::Debug for Credentials {
    // Tokens never reach logs, even through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credentials::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

/// Settings of the HTTP client under the generated one.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Total time allowed for one request, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(15), user_agent: format!("credits-client/{}", env!("CARGO_PKG_VERSION")) }
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The token cannot be a header value.
    #[error("the token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,
    /// reqwest refused the settings.
    #[error("building the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for the API at `base_url` (e.g. `http://127.0.0.1:8080`), with default options.
pub fn connect(base_url: &str, credentials: Credentials) -> Result<Client, ConnectError> {
    connect_with(base_url, credentials, ClientOptions::default())
}

/// A client for the API at `base_url`, with the given options.
pub fn connect_with(base_url: &str, credentials: Credentials, options: ClientOptions) -> Result<Client, ConnectError> {
    let (name, value) = match &credentials {
        Credentials::Bearer(token) => (reqwest::header::AUTHORIZATION, format!("Bearer {token}")),
        Credentials::ApiKey(token) => (reqwest::header::HeaderName::from_static("x-api-key"), token.clone()),
    };
    let mut value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| ConnectError::InvalidToken)?;
    value.set_sensitive(true);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(name, value);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(options.timeout)
        .user_agent(options.user_agent)
        .build()?;
    Ok(Client::new_with_client(base_url.trim_end_matches('/'), http))
}

/// A client without credentials, for the operations that need none (the OpenAPI document) and
/// for checking that the others refuse it.
pub fn connect_anonymous(base_url: &str, options: ClientOptions) -> Result<Client, ConnectError> {
    let http = reqwest::Client::builder().timeout(options.timeout).user_agent(options.user_agent).build()?;
    Ok(Client::new_with_client(base_url.trim_end_matches('/'), http))
}
