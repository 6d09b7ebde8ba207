//! The HTTP edge: what clients connect to, in front of dropshot on a loopback port.
//!
//! It exists for the per-token rate limit. A 429 must say in a `Retry-After` header when to come
//! back (`docs/errors.md`), and dropshot 0.18 gives a handler's error type no way to set a
//! response header; so the limit is applied here, before dropshot, where the answer is ours to
//! write. It also gives the router's own 404 (a path the API does not have) the API's envelope,
//! and refuses request heads over its limits (too many header fields, too many header bytes, a
//! request target too long) with a 400 in the envelope, before anything reads them: hyper's own
//! answer to an oversized head is a bare 431, which is not one of the API's statuses.
//! Everything else is passed through unchanged (with `X-Forwarded-For`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use credits_api::support::{ApiError, BearerAuthOrApiKeyAuthSchemes, Credentials};
use credits_api::{ApiErrorPayload, Envelope};
use dropshot::ErrorStatusCode;
use governor::{DefaultKeyedRateLimiter, Quota};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::hash::sha256_hex;

type Body = Either<Incoming, Full<Bytes>>;

/// Requests per token per minute, counted in this process (each instance counts its own).
pub struct RateLimiter(DefaultKeyedRateLimiter<String>);

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
        RateLimiter(DefaultKeyedRateLimiter::keyed(quota))
    }

    /// Forgets tokens whose quota is whole again: the limiter counts whatever is presented,
    /// before authentication, so without this its memory would grow with every made-up token.
    fn prune(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }

    /// `Err(seconds to wait)` when the token has used up its quota.
    fn check(&self, token: &str) -> Result<(), u64> {
        // Keyed by a hash: the limiter's memory holds no token.
        self.0.check_key(&sha256_hex(token.as_bytes())).map_err(|not_until| {
            let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
            not_until.wait_time_from(now).as_secs_f64().ceil().max(1.0) as u64
        })
    }
}

/// The running edge.
pub struct Edge {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Edge {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and lets those open finish the requests in progress (for at
    /// most [`CLOSE_GRACE`]).
    pub async fn close(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// At most this many header fields (hyper's own default limit, within which dropshot's server
/// behind the edge also reads them).
const MAX_HEADER_FIELDS: usize = 100;
/// At most this many bytes of header names and values together.
const MAX_HEADER_BYTES: usize = 32 * 1024;
/// At most this many bytes of path and query.
const MAX_TARGET_BYTES: usize = 8 * 1024;
/// The edge's hyper reads up to this many header fields, so that a head over
/// [`MAX_HEADER_FIELDS`] reaches [`head_over_limits`] and gets the envelope; beyond it, hyper
/// answers a bare 431 itself.
const HYPER_MAX_HEADER_FIELDS: usize = 1000;

/// Why a request's head is over the edge's limits, if it is.
fn head_over_limits(request: &Request<Incoming>) -> Option<String> {
    let headers = request.headers();
    if headers.len() > MAX_HEADER_FIELDS {
        return Some(format!("Too many header fields: at most {MAX_HEADER_FIELDS}"));
    }
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(format!("Request headers too large: at most {MAX_HEADER_BYTES} bytes"));
    }
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Some(format!("Request target too long: at most {MAX_TARGET_BYTES} bytes of path and query"));
    }
    None
}

/// How long closing waits for the requests in progress.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Listens on `bind` and passes requests to dropshot at `upstream`.
pub async fn start(bind: SocketAddr, upstream: SocketAddr, limiter: RateLimiter) -> std::io::Result<Edge> {
    let listener = TcpListener::bind(bind).await?;
    let local_addr = listener.local_addr()?;
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new()).build_http();
    let shared = Arc::new(Shared { client, upstream, limiter });
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().max_headers(HYPER_MAX_HEADER_FIELDS);
        let mut prune = tokio::time::interval(Duration::from_secs(60));
        loop {
            let (stream, peer) = tokio::select! {
                _ = stopped.changed() => break,
                _ = prune.tick() => {
                    shared.limiter.prune();
                    continue;
                }
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, say: wait rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                },
            };
            let handler = shared.clone();
            let service = service_fn(move |request| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler.handle(request, peer).await) }
            });
            // HTTP/1.1 and HTTP/2, as dropshot itself serves.
            let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            });
        }
        drop(listener);
        if tokio::time::timeout(CLOSE_GRACE, graceful.shutdown()).await.is_err() {
            tracing::warn!("requests still in progress after {CLOSE_GRACE:?}; closing anyway");
        }
    });
    Ok(Edge { local_addr, stop, task })
}

struct Shared {
    client: Client<HttpConnector, Incoming>,
    upstream: SocketAddr,
    limiter: RateLimiter,
}

impl Shared {
    async fn handle(&self, mut request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        if let Some(problem) = head_over_limits(&request) {
            tracing::info!(method = %request.method(), problem, "request head over the limits");
            return envelope(ErrorStatusCode::BAD_REQUEST, &problem);
        }
        // Counted under the credentials the server will authenticate, found the way it finds them.
        if let Some(credentials) = Credentials::<BearerAuthOrApiKeyAuthSchemes>::find(request.headers())
            && let Err(wait) = self.limiter.check(&credentials.value)
        {
            tracing::info!(method = %request.method(), path = %request.uri().path(), wait, "rate limited");
            let mut response =
                envelope(ErrorStatusCode::TOO_MANY_REQUESTS, &format!("Rate limited: retry after {wait} s"));
            response.headers_mut().insert(http::header::RETRY_AFTER, wait.into());
            return response;
        }
        let path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let uri = match format!("http://{}{path}", self.upstream).parse() {
            Ok(uri) if path.starts_with('/') => uri,
            // `OPTIONS *` and the like: nothing the API serves.
            _ => return envelope(ErrorStatusCode::BAD_REQUEST, "Invalid request target"),
        };
        *request.uri_mut() = uri;
        if let Ok(value) = peer.ip().to_string().parse() {
            request.headers_mut().insert("x-forwarded-for", value);
        }
        match self.client.request(request).await {
            Ok(response) if response.status() == http::StatusCode::NOT_FOUND => not_found_in_envelope(response).await,
            Ok(response) => response.map(Either::Left),
            Err(e) if e.is_connect() => {
                tracing::error!(error = %e, "the API server did not answer");
                envelope(ErrorStatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
            Err(e) => {
                // The request itself failed on the way (a broken body, a client that left).
                tracing::warn!(error = %e, "a request could not be passed on");
                envelope(ErrorStatusCode::BAD_REQUEST, "The request could not be read")
            }
        }
    }
}

/// dropshot's router answers a path it does not serve with a body of its own, before any of the
/// API's code runs; the edge gives it the API's envelope. (The API's own 404s already have it.)
async fn not_found_in_envelope(response: Response<Incoming>) -> Response<Body> {
    let (parts, body) = response.into_parts();
    // Both kinds of 404 body are a few hundred bytes; reading is capped all the same.
    let bytes = match http_body_util::Limited::new(body, 64 * 1024).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return envelope(ErrorStatusCode::NOT_FOUND, "Not found"),
    };
    let is_envelope = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v.get("type").is_some());
    if is_envelope {
        return Response::from_parts(parts, Either::Right(Full::new(bytes)));
    }
    envelope(ErrorStatusCode::NOT_FOUND, "Not found")
}

/// An answer of the edge's own, in the API's error envelope.
fn envelope(status: ErrorStatusCode, detail: &str) -> Response<Body> {
    let error: ApiError<ApiErrorPayload> = ApiError::from_status(status, detail);
    let body = serde_json::to_vec(&error.body).expect("the envelope serializes");
    Response::builder()
        .status(status.as_u16())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Either::Right(Full::new(Bytes::from(body))))
        .expect("a valid response")
}
