//! The HTTP edge: what clients connect to, in front of dropshot.
//!
//! It exists because some answers must be written before dropshot runs, or with headers dropshot
//! 0.18 does not let a handler's error set (a 429's `Retry-After`, `docs/errors.md`). It owns
//! everything about the connection itself: deadlines for slow clients (headers, body, idle
//! keep-alive), caps on open connections and requests in flight, rate limits per token and per
//! client address, HTTP/2 (forwarded to dropshot as HTTP/1.1), the request id and the one log
//! line per request, and the envelope for the router's 404 and for its own refusals (among them
//! request heads over its limits: hyper's own answer to an oversized head is a bare 431, which is
//! not one of the API's statuses).
//!
//! dropshot listens on a loopback port that only this process should use: every forwarded
//! request carries a secret made at start (`inner_secret`), and dropshot's version policy
//! ([`EdgeOnly`], below) refuses requests without it, so the edge's limits cannot be bypassed by a
//! local process talking to that port directly.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use credits_api::support::{ApiError, BearerAuthOrApiKeyAuthSchemes, Credentials};
use credits_api::{ApiErrorPayload, Envelope};
use dropshot::ErrorStatusCode;
use governor::{DefaultKeyedRateLimiter, Quota};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Version};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::config::EdgeConfig;
use crate::cors::Cors;
use crate::hash::sha256_hex;
use crate::metrics::Metrics;

type Body = Either<Incoming, Full<Bytes>>;

/// The header that proves a request to dropshot came through the edge.
pub const INNER_SECRET_HEADER: &str = "x-credits-edge";

/// The request id, sent to dropshot (whose log lines show it) and back to the client.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The webhook's path: Stripe calls it from addresses of its own, unauthenticated by token, so
/// it is exempt from the per-address limit (its signature is checked by the handler).
const WEBHOOK_PATH: &str = "/api/v1/webhooks/stripe";

/// The probes' paths: counted per address whatever credentials they carry (they take none), so
/// a probe never spends a token's quota.
const HEALTH_PATHS: &[&str] = &["/healthz", "/readyz"];

/// The largest request body forwarded: dropshot's own limit (`lib.rs`), enforced here first so
/// the edge never buffers more.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Keys a rate limiter may hold before it is pruned on the spot rather than on its schedule.
const MAX_LIMITER_KEYS: usize = 100_000;

/// Addresses remembered as blocked (for failed authentication) at most; beyond it, the oldest
/// are not evicted, new ones are simply not remembered (each failure is still refused).
const MAX_BLOCKED_ADDRESSES: usize = 10_000;

/// Connections over the cap answered 429 at once, at most; more are closed unanswered.
const OVERFLOW_CONNECTIONS: usize = 64;

/// How long a connection over the cap is kept to be answered.
const OVERFLOW_DEADLINE: Duration = Duration::from_secs(2);

/// Headers meaningful only for one connection (RFC 9110 §7.6.1), never forwarded either way.
const HOP_BY_HOP: &[&str] =
    &["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];

/// Rate limits: per token for requests that carry one; per client address for requests that do
/// not and for those whose token failed authentication. Counted in this process.
pub struct RateLimits {
    tokens: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses whose failed authentications used up their quota, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    last_pruned: Mutex<Instant>,
}

impl RateLimits {
    /// `per_token` and `per_address` requests per minute.
    pub fn new(per_token: u32, per_address: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"));
        RateLimits {
            tokens: DefaultKeyedRateLimiter::keyed(quota(per_token)),
            addresses: DefaultKeyedRateLimiter::keyed(quota(per_address)),
            blocked: Mutex::new(HashMap::new()),
            last_pruned: Mutex::new(Instant::now()),
        }
    }

    /// Forgets keys whose quota is whole again: the limiters count whatever is presented,
    /// before authentication, so without this their memory would grow with every made-up token.
    fn prune(&self) {
        self.tokens.retain_recent();
        self.tokens.shrink_to_fit();
        self.addresses.retain_recent();
        self.addresses.shrink_to_fit();
        let now = Instant::now();
        self.blocked.lock().expect("not poisoned").retain(|_, until| *until > now);
        *self.last_pruned.lock().expect("not poisoned") = now;
    }

    /// Prunes now when a flood of keys has filled a limiter, at most once a second.
    fn prune_if_crowded(&self) {
        let crowded = self.tokens.len() > MAX_LIMITER_KEYS || self.addresses.len() > MAX_LIMITER_KEYS;
        let due = self.last_pruned.lock().expect("not poisoned").elapsed() > Duration::from_secs(1);
        if crowded && due {
            self.prune();
        }
    }

    /// `Err(seconds to wait)` when the token has used up its quota.
    fn check_token(&self, token: &str) -> Result<(), u64> {
        self.prune_if_crowded();
        // Keyed by a hash: the limiter's memory holds no token.
        self.tokens.check_key(&sha256_hex(token.as_bytes())).map_err(wait_secs)
    }

    /// `Err(seconds to wait)` when the address has used up its quota of requests without a
    /// working token.
    fn check_address(&self, address: IpAddr) -> Result<(), u64> {
        self.prune_if_crowded();
        self.addresses.check_key(&address).map_err(wait_secs)
    }

    /// `Err(seconds to wait)` while the address is blocked for failing authentication: its
    /// requests are then refused before their token costs a database lookup.
    fn check_blocked(&self, address: IpAddr) -> Result<(), u64> {
        let blocked = self.blocked.lock().expect("not poisoned");
        match blocked.get(&address) {
            Some(until) if *until > Instant::now() => {
                Err(until.saturating_duration_since(Instant::now()).as_secs_f64().ceil().max(1.0) as u64)
            }
            _ => Ok(()),
        }
    }

    /// A request from `address` failed authentication: it counts against the address's quota,
    /// and an address out of quota is blocked until its quota has room again.
    fn record_failed_authentication(&self, address: IpAddr) {
        if let Err(wait) = self.check_address(address) {
            let mut blocked = self.blocked.lock().expect("not poisoned");
            if blocked.len() >= MAX_BLOCKED_ADDRESSES {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
            }
            if blocked.len() < MAX_BLOCKED_ADDRESSES {
                blocked.insert(address, Instant::now() + Duration::from_secs(wait));
            }
        }
    }
}

fn wait_secs(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
    not_until.wait_time_from(now).as_secs_f64().ceil().max(1.0) as u64
}

/// The running edge.
pub struct Edge {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Edge {
    /// Where clients connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, asks the open ones to close once their request in progress
    /// is answered (idle ones at once), and waits for them for at most `grace`.
    pub async fn close(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("connections still open after {grace:?}; closing anyway");
            task.abort();
        }
    }
}

/// At most this many header fields: dropshot's server behind the edge reads at most 100 (hyper's
/// default) and answers more with a bare 431, and the edge adds up to three of its own (its
/// secret, the request id, `X-Forwarded-For`) and the request's `Content-Length`.
const MAX_HEADER_FIELDS: usize = 96;
/// At most this many bytes of header names and values together.
const MAX_HEADER_BYTES: usize = 32 * 1024;
/// At most this many bytes of path and query.
const MAX_TARGET_BYTES: usize = 8 * 1024;
/// The edge's hyper reads up to this many header fields, so that a head over
/// [`MAX_HEADER_FIELDS`] reaches [`head_over_limits`] and gets the envelope; beyond it, hyper
/// answers a bare 431 itself.
const HYPER_MAX_HEADER_FIELDS: usize = 1000;
/// The most a connection's read buffer holds (a request head must fit in it).
const HEAD_BUFFER_BYTES: usize = 256 * 1024;

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

/// The API's path templates (`/api/v1/org/{org}/credits/balance`), which name a request's route
/// in the metrics: a label per concrete path would grow with every org and every scanner's guess.
#[derive(Debug, Clone, Default)]
pub struct Routes(Vec<String>);

impl Routes {
    /// The templates of the served document's paths.
    pub fn new(templates: impl IntoIterator<Item = String>) -> Self {
        Routes(templates.into_iter().collect())
    }

    /// The template `path` matches, or `unmatched`.
    fn of(&self, path: &str) -> &str {
        let segments: Vec<&str> = path.split('/').collect();
        let matches = |template: &str| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    (part.starts_with('{') && part.ends_with('}') && !segment.is_empty()) || part == segment
                })
        };
        self.0.iter().find(|template| matches(template)).map_or("unmatched", String::as_str)
    }
}

/// What the edge records besides its log line.
pub struct Observed {
    /// Where requests and refusals are counted.
    pub metrics: Metrics,
    /// The routes requests are counted by.
    pub routes: Routes,
}

/// Listens on `bind` and passes requests to dropshot at `upstream`, proving their origin with
/// `inner_secret`.
pub async fn start(
    bind: SocketAddr,
    upstream: SocketAddr,
    inner_secret: String,
    config: EdgeConfig,
    limits: RateLimits,
    observed: Observed,
    cors: Cors,
) -> std::io::Result<Edge> {
    let listener = TcpListener::bind(bind).await?;
    let local_addr = listener.local_addr()?;
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let upstream_base = format!("http://{upstream}");
    let inner_secret = HeaderValue::from_str(&inner_secret).map_err(std::io::Error::other)?;
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let shared = Arc::new(Shared {
        client,
        upstream_base,
        inner_secret,
        in_flight: Semaphore::new(config.max_in_flight),
        limits,
        config,
        cors,
        metrics: observed.metrics,
        routes: observed.routes,
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared, connections, stopped));
    Ok(Edge { local_addr, stop, task })
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The timer is what makes the header deadline run at all; hyper also applies it between
    // requests on a kept-alive HTTP/1.1 connection.
    // The read buffer is capped below hyper's default (about 400 KiB) but above the edge's own
    // head limits, so that an oversized head is read and refused with the envelope
    // ([`head_over_limits`]); only a head beyond even this gets hyper's bare 431 or 414.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_read_timeout)
        .max_headers(HYPER_MAX_HEADER_FIELDS)
        .max_buf_size(HEAD_BUFFER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(u32::try_from(shared.config.max_in_flight).unwrap_or(u32::MAX))
        .keep_alive_interval(shared.config.idle_timeout / 2)
        .keep_alive_timeout(shared.config.header_read_timeout);
    let builder = Arc::new(builder);
    let overflow = Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS));
    let mut refusing = auto::Builder::new(TokioExecutor::new());
    refusing.http1().timer(TokioTimer::new()).header_read_timeout(OVERFLOW_DEADLINE).keep_alive(false);
    let refusing = Arc::new(refusing);
    let mut prune = tokio::time::interval(Duration::from_secs(10));
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => break,
            _ = prune.tick() => {
                shared.limits.prune();
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
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            shared.metrics.rate_limited("connections");
            if let Ok(overflow) = overflow.clone().try_acquire_owned() {
                let builder = refusing.clone();
                tokio::spawn(async move {
                    refuse_connection(&builder, stream).await;
                    drop(overflow);
                });
            }
            continue;
        };
        let shared = shared.clone();
        let builder = builder.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            serve_connection(&builder, shared, stream, peer, stopped).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every connection holds a permit until it ends: having them all back means all ended.
    let all = u32::try_from(shared.config.max_connections).unwrap_or(u32::MAX);
    let _ = connections.acquire_many(all).await;
}

/// Over the connection cap: the connection is served just long enough to answer its first
/// request 429, then closed (HTTP/1.1 keep-alive is off; any connection ends after
/// [`OVERFLOW_DEADLINE`]). Those
/// answers are capped too ([`OVERFLOW_CONNECTIONS`]); beyond, the connection is closed at once.
async fn refuse_connection(builder: &auto::Builder<TokioExecutor>, stream: TcpStream) {
    let service = service_fn(|_request: Request<Incoming>| async {
        let mut response = rate_limited(1, "Too many open connections");
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, std::convert::Infallible>(response)
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(OVERFLOW_DEADLINE, connection).await;
}

/// What one connection's requests share, for its idle deadline.
struct ConnectionActivity {
    in_flight: AtomicUsize,
    last_active: Mutex<Instant>,
    any_request: std::sync::atomic::AtomicBool,
}

impl ConnectionActivity {
    /// Whether the connection has yet to deliver a whole request head, `limit` after it opened.
    /// hyper's header deadline does not run before it knows the protocol (the first 24 bytes),
    /// so a client sending fewer is caught here.
    fn silent_beyond(&self, opened: Instant, limit: Duration) -> bool {
        !self.any_request.load(Ordering::SeqCst) && opened.elapsed() >= limit
    }

    fn idle_for(&self) -> Option<Duration> {
        (self.in_flight.load(Ordering::SeqCst) == 0).then(|| self.last_active.lock().expect("not poisoned").elapsed())
    }
}

/// Marks a request of a connection as in progress until dropped.
struct ActiveRequest(Arc<ConnectionActivity>);

impl ActiveRequest {
    fn start(activity: &Arc<ConnectionActivity>) -> Self {
        activity.any_request.store(true, Ordering::SeqCst);
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        ActiveRequest(activity.clone())
    }
}

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        *self.0.last_active.lock().expect("not poisoned") = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    mut stopped: watch::Receiver<bool>,
) {
    let opened = Instant::now();
    let activity = Arc::new(ConnectionActivity {
        in_flight: AtomicUsize::new(0),
        last_active: Mutex::new(opened),
        any_request: std::sync::atomic::AtomicBool::new(false),
    });
    let header_read_timeout = shared.config.header_read_timeout;
    let service_activity = activity.clone();
    let idle_timeout = shared.config.idle_timeout;
    let service = service_fn(move |request| {
        let shared = shared.clone();
        let active = ActiveRequest::start(&service_activity);
        async move {
            let outcome = shared.handle(request, peer).await;
            drop(active);
            outcome
        }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = pin!(connection);
    let mut tick = tokio::time::interval(idle_timeout.min(header_read_timeout).min(Duration::from_secs(1)));
    let mut closing = *stopped.borrow();
    if closing {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            _ = stopped.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = tick.tick(), if !closing => {
                let idle = activity.idle_for().is_some_and(|idle| idle >= idle_timeout);
                if idle || activity.silent_beyond(opened, header_read_timeout) {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

struct Shared {
    client: Client<HttpConnector, Full<Bytes>>,
    upstream_base: String,
    inner_secret: HeaderValue,
    in_flight: Semaphore,
    limits: RateLimits,
    config: EdgeConfig,
    cors: Cors,
    metrics: Metrics,
    routes: Routes,
}

/// A request the edge gives up on without answering: its connection is closed.
#[derive(Debug, thiserror::Error)]
enum Dropped {
    #[error("the request body did not arrive within {0:?}")]
    SlowBody(Duration),
    #[error("the request body could not be read: {0}")]
    BrokenBody(String),
}

impl Shared {
    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Result<Response<Body>, Dropped> {
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let client = client_address(&self.config.trusted_proxies, peer.ip(), request.headers());
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let origin = self.cors.allowed_origin(request.headers());
        let outcome = self.answer(request, client, &request_id).await;
        let elapsed = started.elapsed();
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        let status = outcome.as_ref().ok().map(|response| response.status().as_u16());
        self.metrics.request(method.as_str(), self.routes.of(&path), status, elapsed);
        match &outcome {
            Ok(response) => {
                tracing::info!(
                    request_id, %method, path, status = response.status().as_u16(), latency_ms, %client, "request"
                );
            }
            Err(dropped) => {
                tracing::info!(request_id, %method, path, latency_ms, %client, reason = %dropped, "request dropped");
            }
        }
        let mut response = outcome?;
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        self.cors.allow(&mut response, origin);
        Ok(response)
    }

    async fn answer(
        &self,
        request: Request<Incoming>,
        client: IpAddr,
        request_id: &str,
    ) -> Result<Response<Body>, Dropped> {
        if let Some(problem) = head_over_limits(&request) {
            tracing::info!(request_id, problem, "request head over the limits");
            return Ok(envelope(ErrorStatusCode::BAD_REQUEST, &problem));
        }
        let credentials = Credentials::<BearerAuthOrApiKeyAuthSchemes>::find(request.headers());
        if let Err((wait, which)) = self.check_limits(credentials.as_ref(), client, request.uri().path()) {
            self.metrics.rate_limited(which);
            return Ok(rate_limited(wait, "Rate limited"));
        }
        if let Some(headers) = self.cors.preflight(request.method(), request.headers()) {
            let mut response = Response::new(Either::Right(Full::new(Bytes::new())));
            *response.status_mut() = StatusCode::NO_CONTENT;
            *response.headers_mut() = headers;
            return Ok(response);
        }
        let Ok(_permit) = self.in_flight.try_acquire() else {
            self.metrics.rate_limited("in_flight");
            return Ok(rate_limited(1, "Too many requests in progress"));
        };
        let upstream = match self.upstream_request(request, client, request_id).await? {
            Ok(upstream) => upstream,
            Err(refusal) => return Ok(refusal),
        };
        let response = match tokio::time::timeout(self.config.request_timeout, self.client.request(upstream)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                tracing::error!(request_id, error = %e, "the API server did not answer");
                return Ok(server_error(ErrorStatusCode::BAD_GATEWAY, "The server behind the edge failed", request_id));
            }
            Err(_) => {
                return Ok(server_error(
                    ErrorStatusCode::GATEWAY_TIMEOUT,
                    "The request was not answered in time",
                    request_id,
                ));
            }
        };
        if credentials.is_some() && response.status() == StatusCode::UNAUTHORIZED {
            // A made-up token cost a database lookup: the address pays for it.
            self.limits.record_failed_authentication(client);
        }
        Ok(self.downstream_response(response, request_id).await)
    }

    /// `Err((seconds to wait, which limit))` when a limit refuses the request.
    fn check_limits(
        &self,
        credentials: Option<&Credentials<BearerAuthOrApiKeyAuthSchemes>>,
        client: IpAddr,
        path: &str,
    ) -> Result<(), (u64, &'static str)> {
        let by_address = |wait| (wait, "address");
        match credentials {
            _ if HEALTH_PATHS.contains(&path) => self.limits.check_address(client).map_err(by_address),
            Some(credentials) => {
                self.limits.check_blocked(client).map_err(|wait| (wait, "blocked_address"))?;
                self.limits.check_token(&credentials.value).map_err(|wait| (wait, "token"))
            }
            None if path == WEBHOOK_PATH => Ok(()),
            None => self.limits.check_address(client).map_err(by_address),
        }
    }

    /// The request as dropshot gets it: HTTP/1.1 whatever the client spoke, its body read in
    /// full (within the body deadline and size limit), hop-by-hop headers and anything
    /// claiming to be the edge's own removed, the edge's headers added. `Ok(Err(..))` is a
    /// refusal to send to the client.
    async fn upstream_request(
        &self,
        request: Request<Incoming>,
        client: IpAddr,
        request_id: &str,
    ) -> Result<Result<Request<Full<Bytes>>, Response<Body>>, Dropped> {
        let (parts, body) = request.into_parts();
        let target = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        if !target.starts_with('/') {
            // `OPTIONS *` and the like: nothing the API serves.
            return Ok(Err(envelope(ErrorStatusCode::BAD_REQUEST, "Invalid request target")));
        }
        let declared_length = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        if declared_length.and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > BODY_LIMIT as u64) {
            return Ok(Err(too_large()));
        }
        let body =
            match tokio::time::timeout(self.config.body_read_timeout, Limited::new(body, BODY_LIMIT).collect()).await {
                Err(_) => return Err(Dropped::SlowBody(self.config.body_read_timeout)),
                Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Ok(Err(too_large())),
                Ok(Err(e)) => return Err(Dropped::BrokenBody(e.to_string())),
                Ok(Ok(collected)) => collected.to_bytes(),
            };
        let Ok(uri) = format!("{}{target}", self.upstream_base).parse::<http::Uri>() else {
            return Ok(Err(envelope(ErrorStatusCode::BAD_REQUEST, "Invalid request target")));
        };
        let mut headers = forwardable(&parts.headers);
        for name in [INNER_SECRET_HEADER, REQUEST_ID_HEADER, "x-forwarded-for", "content-length", "host"] {
            headers.remove(name);
        }
        // HTTP/2 names the host in `:authority`, HTTP/1.1 in `Host`.
        let host = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string));
        if let Some(value) = host.and_then(|h| HeaderValue::from_str(&h).ok()) {
            headers.insert(header::HOST, value);
        }
        headers.insert(INNER_SECRET_HEADER, self.inner_secret.clone());
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        if let Ok(value) = HeaderValue::from_str(&client.to_string()) {
            headers.insert("x-forwarded-for", value);
        }
        let mut upstream = Request::new(Full::new(body));
        *upstream.method_mut() = parts.method;
        *upstream.uri_mut() = uri;
        *upstream.version_mut() = Version::HTTP_11;
        *upstream.headers_mut() = headers;
        Ok(Ok(upstream))
    }

    /// dropshot's answer as the client gets it: hop-by-hop headers removed (HTTP/2 forbids
    /// them), the router's 404 in the envelope, and the request id in a 5xx envelope's detail.
    async fn downstream_response(&self, response: Response<Incoming>, request_id: &str) -> Response<Body> {
        let (mut parts, body) = response.into_parts();
        parts.headers = forwardable(&parts.headers);
        parts.version = Version::default();
        if parts.status == StatusCode::NOT_FOUND || parts.status.is_server_error() {
            // Both are small bodies of ours or dropshot's; reading is capped all the same.
            let bytes = match Limited::new(body, BODY_LIMIT).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => Bytes::new(),
            };
            let mut value =
                serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(|v| v.get("type").is_some());
            if parts.status == StatusCode::NOT_FOUND {
                // dropshot's router answers a path it does not serve with a body of its own.
                return match value {
                    Some(_) => Response::from_parts(parts, Either::Right(Full::new(bytes))),
                    None => envelope(ErrorStatusCode::NOT_FOUND, "Not found"),
                };
            }
            let Some(detail) = value.as_mut().and_then(|v| v.get_mut("detail")) else {
                let status =
                    ErrorStatusCode::from_u16(parts.status.as_u16()).unwrap_or(ErrorStatusCode::INTERNAL_SERVER_ERROR);
                return server_error(status, "Internal server error", request_id);
            };
            *detail = format!("{} (request id {request_id})", detail.as_str().unwrap_or_default()).into();
            let bytes = serde_json::to_vec(&value).expect("JSON serializes");
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Either::Right(Full::new(Bytes::from(bytes))));
        }
        Response::from_parts(parts, Either::Left(body))
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not one (the ones before it could be made up by the client).
fn client_address(trusted_proxies: &[IpNet], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return rate_key(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => client = ip,
            Ok(ip) => return rate_key(ip),
            Err(_) => break,
        }
    }
    rate_key(client)
}

/// IPv6 clients are counted per /64, the block one subscriber usually gets: counting single
/// addresses would give each of them billions of buckets.
fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => IpNet::new(ip, 64).map(|net| net.network()).unwrap_or(ip),
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().expect("checked")),
        v4 => v4,
    }
}

/// `headers` without the hop-by-hop ones, including those the `Connection` header names.
fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower) || named.iter().any(|n| n == lower) {
            continue;
        }
        kept.append(HeaderName::clone(name), value.clone());
    }
    kept
}

fn too_large() -> Response<Body> {
    envelope(ErrorStatusCode::BAD_REQUEST, &format!("The request body is larger than {BODY_LIMIT} bytes"))
}

fn rate_limited(wait: u64, why: &str) -> Response<Body> {
    let mut response = envelope(ErrorStatusCode::TOO_MANY_REQUESTS, &format!("{why}: retry after {wait} s"));
    response.headers_mut().insert(header::RETRY_AFTER, wait.into());
    response
}

/// A 5xx of the edge's own; its detail names the request id, which the log line also carries.
fn server_error(status: ErrorStatusCode, detail: &str, request_id: &str) -> Response<Body> {
    envelope(status, &format!("{detail} (request id {request_id})"))
}

fn envelope_bytes(status: ErrorStatusCode, detail: &str) -> Bytes {
    let error: ApiError<ApiErrorPayload> = ApiError::from_status(status, detail);
    Bytes::from(serde_json::to_vec(&error.body).expect("the envelope serializes"))
}

/// An answer of the edge's own, in the API's error envelope.
fn envelope(status: ErrorStatusCode, detail: &str) -> Response<Body> {
    Response::builder()
        .status(status.as_u16())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Either::Right(Full::new(envelope_bytes(status, detail))))
        .expect("a valid response")
}

/// dropshot's version policy, used to refuse what did not come through the edge: it runs on
/// every request before routing, and a request without the edge's secret gets a 403 (from
/// dropshot, not in the envelope: no client of the API is meant to see it).
#[derive(Debug)]
pub struct EdgeOnly {
    secret: String,
    version: dropshot::semver::Version,
}

impl EdgeOnly {
    /// Accepts requests carrying `secret` in [`INNER_SECRET_HEADER`].
    pub fn new(secret: String) -> Self {
        let version = dropshot::semver::Version::parse(credits_api::API_VERSION).expect("the spec's version is semver");
        EdgeOnly { secret, version }
    }
}

impl dropshot::DynamicVersionPolicy for EdgeOnly {
    fn request_extract_version(
        &self,
        request: &Request<dropshot::Body>,
        _log: &slog::Logger,
    ) -> Result<dropshot::semver::Version, dropshot::HttpError> {
        let presented = request.headers().get(INNER_SECRET_HEADER).map(HeaderValue::as_bytes);
        // Compared by hash so the time taken says nothing about how much of the secret matched.
        if presented.is_some_and(|p| sha256_hex(p) == sha256_hex(self.secret.as_bytes())) {
            Ok(self.version.clone())
        } else {
            Err(dropshot::HttpError::for_client_error(
                None,
                dropshot::ClientErrorStatusCode::FORBIDDEN,
                "this port serves only the server's own edge".to_string(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge_config() -> EdgeConfig {
        EdgeConfig::defaults(Duration::from_secs(1))
    }

    async fn start_edge(upstream: SocketAddr) -> Edge {
        let observed = Observed { metrics: Metrics::disabled(), routes: Routes::default() };
        start(
            "127.0.0.1:0".parse().unwrap(),
            upstream,
            "secret".into(),
            edge_config(),
            RateLimits::new(100, 100),
            observed,
            Cors::default(),
        )
        .await
        .expect("the edge starts")
    }

    /// An upstream that answers one request 200 after `delay`, and says when the request has
    /// reached it.
    async fn slow_upstream(delay: Duration) -> (SocketAddr, tokio::sync::oneshot::Receiver<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        let (arrived, request_arrived) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut stream, _) = upstream.accept().await.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer).await;
            let _ = arrived.send(());
            tokio::time::sleep(delay).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
        });
        (upstream_addr, request_arrived)
    }

    #[tokio::test]
    async fn a_failed_upstream_is_502_in_the_envelope_with_the_request_id() {
        // A port nothing listens on any more.
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let edge = start_edge(gone).await;
        let response = reqwest::get(format!("http://{}/healthz", edge.local_addr())).await.unwrap();
        assert_eq!(response.status(), 502);
        let id = response.headers()[REQUEST_ID_HEADER].to_str().unwrap().to_string();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["type"], "bad_gateway_error");
        assert!(body["detail"].as_str().unwrap().ends_with(&format!("(request id {id})")), "{body}");
    }

    #[tokio::test]
    async fn dropshot_gets_http1_with_the_edge_headers_and_no_hop_by_hop_ones() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        let received = tokio::spawn(async move {
            let (mut stream, _) = upstream.accept().await.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                stream.read_exact(&mut byte).await.unwrap();
                head.push(byte[0]);
            }
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive, x-hop\r\n\
                          keep-alive: timeout=5\r\nx-hop: 1\r\nx-kept: 1\r\n\r\nok";
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8(head).unwrap().to_lowercase()
        });
        let edge = start_edge(upstream_addr).await;
        let response = reqwest::Client::new()
            .get(format!("http://{}/x?y=1", edge.local_addr()))
            .header("connection", "x-private")
            .header("x-private", "1")
            .header("x-forwarded-for", "203.0.113.1")
            .header(INNER_SECRET_HEADER, "forged")
            .header("x-passed", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-kept"));
        for hop in ["keep-alive", "x-hop"] {
            assert!(!response.headers().contains_key(hop), "{hop} is not passed back");
        }
        let head = received.await.unwrap();
        assert!(head.starts_with("get /x?y=1 http/1.1\r\n"), "{head}");
        assert!(head.contains("x-credits-edge: secret\r\n") && !head.contains("forged"), "{head}");
        // The peer (loopback) is not a trusted proxy: its X-Forwarded-For is replaced.
        assert!(head.contains("x-forwarded-for: 127.0.0.1\r\n"), "{head}");
        assert!(head.contains("x-passed: 1\r\n") && head.contains("x-request-id: "), "{head}");
        assert!(!head.contains("x-private"), "a header named by Connection is not forwarded: {head}");
    }

    /// Log output captured for one test (the subscriber is this thread's: a `tokio::test`
    /// runs the edge's tasks on it).
    #[derive(Clone, Default)]
    struct CapturedLog(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for CapturedLog {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn each_request_is_logged_with_its_latency_in_milliseconds() {
        let log = CapturedLog::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let (upstream_addr, _) = slow_upstream(Duration::from_millis(100)).await;
        let edge = start_edge(upstream_addr).await;
        let response = reqwest::get(format!("http://{}/slow", edge.local_addr())).await.unwrap();
        assert_eq!(response.status(), 200);
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let line = text.lines().find(|line| line.contains("path=\"/slow\"")).expect(&text);
        let latency: f64 = line
            .split("latency_ms=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .expect(line);
        // The upstream's 100 ms, and what a loaded machine adds to it: milliseconds, not seconds.
        assert!((100.0..900.0).contains(&latency), "{line}");
        assert!(line.contains("status=200"), "{line}");
    }

    #[test]
    fn requests_are_counted_by_their_route_template() {
        let routes = Routes::new(["/api/v1/org/{org}/credits/balance".to_string(), "/healthz".to_string()]);
        assert_eq!(routes.of("/api/v1/org/acme/credits/balance"), "/api/v1/org/{org}/credits/balance");
        assert_eq!(routes.of("/healthz"), "/healthz");
        assert_eq!(routes.of("/api/v1/org//credits/balance"), "unmatched", "an empty segment is no parameter");
        assert_eq!(routes.of("/api/v1/org/acme/credits/balance/x"), "unmatched");
        assert_eq!(routes.of("/wp-login.php"), "unmatched");
    }

    #[test]
    fn forwarded_for_is_read_from_trusted_proxies_only() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 198.51.100.7, 10.1.1.1"));
        let from_proxy = client_address(&proxies, "10.0.0.2".parse().unwrap(), &headers);
        assert_eq!(from_proxy, "198.51.100.7".parse::<IpAddr>().unwrap(), "the last untrusted hop");
        let direct = client_address(&proxies, "192.0.2.5".parse().unwrap(), &headers);
        assert_eq!(direct, "192.0.2.5".parse::<IpAddr>().unwrap());
        let v6 = client_address(&[], "2001:db8:1:2:3:4:5:6".parse().unwrap(), &headers);
        assert_eq!(v6, "2001:db8:1:2::".parse::<IpAddr>().unwrap(), "IPv6 counted per /64");
        // A dual-stack listener sees IPv4 clients as IPv4-mapped IPv6 addresses, which all share
        // one /64: each must still be counted as its own IPv4 address.
        let mapped = |host: &str| client_address(&[], format!("::ffff:{host}").parse().unwrap(), &HeaderMap::new());
        assert_eq!(mapped("192.0.2.1"), "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(mapped("192.0.2.2"), "192.0.2.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn limiter_memory_is_given_back_for_keys_whose_quota_refilled() {
        // 60,000 a minute: a used cell is back after a millisecond.
        let limits = RateLimits::new(60_000, 60_000);
        for n in 0..1_000 {
            limits.check_token(&format!("made-up-{n}")).unwrap();
            limits.check_address(IpAddr::from([192, 0, 2, (n % 250) as u8])).unwrap();
        }
        assert_eq!(limits.tokens.len(), 1_000);
        std::thread::sleep(Duration::from_millis(20));
        limits.prune();
        assert_eq!((limits.tokens.len(), limits.addresses.len()), (0, 0));
    }

    #[test]
    fn a_flood_of_keys_is_forgotten_without_waiting_for_the_schedule() {
        for flood_of_tokens in [true, false] {
            // 60,000 a minute: a used cell is whole again after a millisecond.
            let limits = RateLimits::new(60_000, 60_000);
            let request = |n: u32| match flood_of_tokens {
                true => limits.check_token(&format!("made-up-{n}")),
                false => limits.check_address(IpAddr::from(n.to_be_bytes())),
            };
            for n in 0..=MAX_LIMITER_KEYS as u32 {
                request(n).unwrap();
            }
            assert_eq!(limits.tokens.len() + limits.addresses.len(), MAX_LIMITER_KEYS + 1);
            // Crowded, and the last pruning over a second ago: the next request prunes.
            std::thread::sleep(Duration::from_millis(1100));
            request(u32::MAX).unwrap();
            let kept = limits.tokens.len() + limits.addresses.len();
            assert!(kept <= 1, "{kept} keys kept after a flood of tokens: {flood_of_tokens}");
        }
    }

    #[test]
    fn below_the_cap_keys_wait_for_the_scheduled_pruning() {
        // Pruning walks every key: a request does it only when a limiter is crowded.
        let limits = RateLimits::new(60_000, 60_000);
        for n in 0..10 {
            limits.check_token(&format!("made-up-{n}")).unwrap();
            limits.check_address(IpAddr::from([192, 0, 2, n])).unwrap();
        }
        std::thread::sleep(Duration::from_millis(1100));
        limits.check_token("one-more").unwrap();
        limits.check_address(IpAddr::from([192, 0, 2, 200])).unwrap();
        assert_eq!((limits.tokens.len(), limits.addresses.len()), (11, 11));
    }

    #[test]
    fn a_block_ends_when_its_time_is_up_without_waiting_for_pruning() {
        let limits = RateLimits::new(100, 1);
        let address = IpAddr::from([192, 0, 2, 10]);
        limits.blocked.lock().unwrap().insert(address, Instant::now() + Duration::from_millis(100));
        assert!(limits.check_blocked(address).is_err(), "blocked");
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(limits.check_blocked(address), Ok(()), "the block is over");
    }

    #[test]
    fn a_full_block_list_makes_room_by_forgetting_ended_blocks() {
        let limits = RateLimits::new(100, 1);
        let still = IpAddr::from([192, 0, 2, 77]);
        let ended = Instant::now().checked_sub(Duration::from_secs(1)).expect("the clock is past its start");
        {
            let mut blocked = limits.blocked.lock().unwrap();
            for n in 0..MAX_BLOCKED_ADDRESSES - 1 {
                blocked.insert(IpAddr::from((n as u32).to_be_bytes()), ended);
            }
            blocked.insert(still, Instant::now() + Duration::from_secs(60));
        }
        let newcomer = IpAddr::from([198, 51, 100, 1]);
        // The first failure uses the address's quota of one a minute; the second blocks it.
        limits.record_failed_authentication(newcomer);
        limits.record_failed_authentication(newcomer);
        assert!(limits.check_blocked(newcomer).is_err(), "room was made for the newcomer");
        assert!(limits.check_blocked(still).is_err(), "a block still running is kept");
        assert_eq!(limits.blocked.lock().unwrap().len(), 2, "the ended ones are forgotten");
    }

    #[test]
    fn a_block_list_full_of_running_blocks_remembers_no_more() {
        let limits = RateLimits::new(100, 1);
        let running = Instant::now() + Duration::from_secs(60);
        {
            let mut blocked = limits.blocked.lock().unwrap();
            for n in 0..MAX_BLOCKED_ADDRESSES {
                blocked.insert(IpAddr::from((n as u32).to_be_bytes()), running);
            }
        }
        let newcomer = IpAddr::from([198, 51, 100, 2]);
        limits.record_failed_authentication(newcomer);
        limits.record_failed_authentication(newcomer);
        assert_eq!(limits.blocked.lock().unwrap().len(), MAX_BLOCKED_ADDRESSES, "memory stays bounded");
        assert_eq!(limits.check_blocked(newcomer), Ok(()), "not remembered (each failure is still refused)");
    }

    #[test]
    fn a_token_out_of_quota_is_told_when_its_quota_has_room_again() {
        // Two a minute: a cell comes back every 30 s.
        let limits = RateLimits::new(2, 100);
        limits.check_token("cr_token").unwrap();
        limits.check_token("cr_token").unwrap();
        let wait = limits.check_token("cr_token").expect_err("out of quota");
        assert!((25..=30).contains(&wait), "retry after {wait} s");
    }

    #[tokio::test]
    async fn a_closed_edge_accepts_no_more_connections() {
        let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let edge = start_edge(upstream).await;
        let address = edge.local_addr();
        assert!(TcpStream::connect(address).await.is_ok(), "listening");
        edge.close(Duration::from_secs(1)).await;
        assert!(TcpStream::connect(address).await.is_err(), "the port is given back");
    }

    #[tokio::test]
    async fn closing_waits_for_the_request_in_progress_to_be_answered() {
        let (upstream_addr, request_arrived) = slow_upstream(Duration::from_millis(500)).await;
        let edge = start_edge(upstream_addr).await;
        let url = format!("http://{}/slow", edge.local_addr());
        let request = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) });
        // Closing starts only once the request is in progress, however loaded the machine.
        request_arrived.await.unwrap();
        let started = Instant::now();
        edge.close(Duration::from_secs(5)).await;
        assert!(started.elapsed() >= Duration::from_millis(300), "closed after {:?}", started.elapsed());
        assert_eq!(request.await.unwrap().ok(), Some(200), "the request in progress is answered");
    }

    #[test]
    fn pruning_keeps_the_addresses_still_blocked() {
        let limits = RateLimits::new(100, 1);
        let address = IpAddr::from([192, 0, 2, 9]);
        limits.record_failed_authentication(address);
        limits.record_failed_authentication(address);
        assert!(limits.check_blocked(address).is_err(), "blocked");
        limits.prune();
        assert!(limits.check_blocked(address).is_err(), "still blocked after pruning");
    }

    #[test]
    fn an_address_failing_authentication_is_blocked_once_out_of_quota() {
        let limits = RateLimits::new(100, 2);
        let address = IpAddr::from([192, 0, 2, 1]);
        for _ in 0..2 {
            limits.record_failed_authentication(address);
            assert_eq!(limits.check_blocked(address), Ok(()));
        }
        limits.record_failed_authentication(address);
        let wait = limits.check_blocked(address).expect_err("blocked");
        assert!((1..=30).contains(&wait), "{wait}");
        assert_eq!(limits.check_blocked(IpAddr::from([192, 0, 2, 2])), Ok(()), "others are not");
    }
}
