//! How the Stripe adapter's requests reach Stripe: an HTTP client that keeps its connections.
//!
//! async-stripe's own hyper client is built with `pool_max_idle_per_host(0)`, so every call
//! opened a new TCP connection (and, against the real API, a new TLS handshake), and closed it
//! after the answer: under load the benchmark saw tens of thousands of sockets in `TIME_WAIT`
//! towards the Stripe double and a fifth of the server's time in connect and close. The SDK lets
//! any type implementing its `StripeClient` send its requests, so this one does, with hyper's
//! pool left on. It sends what the SDK's client sends (the secret, the SDK's user agent, the
//! pinned API version, the idempotency key, the form body) and reads the answer the same way: a
//! 2xx body is returned for the SDK to parse; any other status becomes `StripeError::Stripe`
//! with Stripe's error object. It makes one attempt per call: retries and the deadline are the
//! adapter's (`Stripe::within_deadline`).

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use stripe::StripeError;
use stripe_client_core::{CustomizedStripeRequest, StripeClient, StripeMethod};

/// What async-stripe's client calls itself.
const USER_AGENT_VALUE: &str = "Stripe/v1 RustBindings/1.0.0-rc.10";

/// How long an unused connection to Stripe is kept open.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A pooled HTTP(S) client for the Stripe API at one base URL.
#[derive(Clone)]
pub struct StripeHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    api_base: String,
    secret: HeaderValue,
    version: HeaderValue,
}

impl StripeHttp {
    /// A client for `api_base` (ending with `/`, as the configuration keeps it) with `secret_key`.
    pub fn new(api_base: &str, secret_key: &str) -> Result<StripeHttp, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(IDLE_TIMEOUT).build(connector);
        let mut secret = HeaderValue::try_from(format!("Bearer {secret_key}"))
            .map_err(|_| "the Stripe secret key is not a valid header value".to_string())?;
        secret.set_sensitive(true);
        let api_base = if api_base.ends_with('/') { api_base.to_string() } else { format!("{api_base}/") };
        api_base.parse::<http::Uri>().map_err(|e| format!("the Stripe API base {api_base:?}: {e}"))?;
        let version = HeaderValue::from_str(stripe_shared::version::VERSION.as_str())
            .map_err(|_| "the Stripe API version is not a valid header value".to_string())?;
        Ok(StripeHttp { client, api_base, secret, version })
    }
}

impl StripeClient for StripeHttp {
    type Err = StripeError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, StripeError> {
        let (request, config) = request.into_pieces();
        // The SDK's paths start with `/`; the base ends with one.
        let mut uri = format!("{}v1{}", self.api_base, request.path);
        if let Some(query) = &request.query {
            uri.push('?');
            uri.push_str(query);
        }
        let method = match request.method {
            StripeMethod::Get => http::Method::GET,
            StripeMethod::Post => http::Method::POST,
            StripeMethod::Delete => http::Method::DELETE,
        };
        let mut builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(AUTHORIZATION, self.secret.clone())
            .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
            .header(HeaderName::from_static("stripe-version"), self.version.clone());
        if let Some(key) = config.request_strategy.as_ref().and_then(|strategy| strategy.get_key()) {
            builder = builder.header(HeaderName::from_static("idempotency-key"), key.as_str());
        }
        if request.body.is_some() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        let body = Full::new(request.body.map(Bytes::from).unwrap_or_default());
        let request = builder.body(body).map_err(|e| StripeError::ClientError(e.to_string()))?;
        let response = self.client.request(request).await.map_err(|e| StripeError::ClientError(e.to_string()))?;
        let status = response.status();
        let bytes =
            response.into_body().collect().await.map_err(|e| StripeError::ClientError(e.to_string()))?.to_bytes();
        if status.is_success() {
            return Ok(bytes);
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| StripeError::JSONDeserialize("Response was not valid UTF-8".into()))?;
        Err(miniserde::json::from_str::<stripe_shared::Error>(text)
            .map(|error| StripeError::Stripe(error.error, status.as_u16()))
            .unwrap_or_else(|_| StripeError::JSONDeserialize("error deserializing Stripe error".into())))
    }
}
