//! The `/v1/...` pipeline, in the order Stripe applies it: authentication, parameters (form body
//! or query string), idempotency, then the endpoint, chosen by `dispatch`. Injected faults take
//! their place in it: a proxy's HTML page before everything, a hang after the idempotency claim,
//! a Stripe error in the endpoint's place.
//! The helpers the endpoints share live in `endpoint.rs`, so that endpoint modules never need
//! to import this one.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::app::AppState;
use crate::endpoint::RequestCtx;
use crate::errors::ApiError;
use crate::faults::Fault;
use crate::form::{self, Fields};
use crate::idempotency::{Claim, SavedResponse};
use crate::{auth, catalog, checkout, disputes, ids, payments, refunds};

/// The fault the connection layer took for this request, if any.
#[derive(Clone, Default)]
pub struct TakenFault(pub Option<Fault>);

pub async fn handle(
    State(shared): State<Arc<AppState>>,
    fault: Option<axum::Extension<TakenFault>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = ids::request();
    let fault = fault.and_then(|f| f.0.0);
    // Like Stripe, finish the work even when the client stops waiting (a timeout on its side):
    // the request runs in its own task, which a dropped connection does not cancel.
    let task_request_id = request_id.clone();
    let task = tokio::spawn(async move { run(&shared, fault, &method, &uri, &headers, body, &task_request_id).await });
    let mut response = match task.await {
        Ok(response) => response,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("the fake failed: {e}")).into_response(),
    };
    let response_headers = response.headers_mut();
    response_headers.insert("request-id", HeaderValue::from_str(&request_id).expect("ascii"));
    response_headers.insert("stripe-version", HeaderValue::from_static(stripe_shared::version::VERSION.as_str()));
    response
}

async fn run(
    shared: &AppState,
    fault: Option<Fault>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    request_id: &str,
) -> Response {
    if fault == Some(Fault::NonJson) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response();
    }
    let api_key = match auth::authenticate(headers, shared.api_key.as_deref()) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    // Parameters: the query string, and for POST the form body after it.
    let mut encoded = uri.query().unwrap_or_default().as_bytes().to_vec();
    if *method == Method::POST && !body.is_empty() {
        if !encoded.is_empty() {
            encoded.push(b'&');
        }
        encoded.extend_from_slice(&body);
    }
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && *method == Method::POST);
    let guard = match idempotency_key {
        None => None,
        Some(key) => {
            let fingerprint = format!("{method} {} {}", uri.path(), form::canonical(&encoded));
            match shared.idempotency.claim(&api_key, key, fingerprint) {
                Claim::Proceed(guard) => Some(guard),
                Claim::Replay(saved) => return replay(saved, key),
                Claim::Mismatch => {
                    return ApiError::IdempotencyMismatch { key: key.into() }.into_response();
                }
                Claim::InUse => {
                    return ApiError::IdempotencyInUse { key: key.into() }.into_response();
                }
            }
        }
    };
    if let Some(delay) = fault.as_ref().and_then(Fault::hang) {
        tokio::time::sleep(delay).await;
    }
    let ctx = RequestCtx { request_id: request_id.to_string() };
    // An injected Stripe error stands for the endpoint failing while it ran: like any answer of
    // an endpoint that started executing, it is kept under the idempotency key (below).
    let result = match fault.as_ref().and_then(Fault::as_api_error) {
        Some(error) => Err(error),
        None => form::parse(&encoded)
            .map(Fields::root)
            .and_then(|params| dispatch(shared, &ctx, method, uri.path(), params)),
    };
    let (status, body) = match &result {
        Ok(object) => (StatusCode::OK, object.clone()),
        Err(error) => {
            tracing::info!(request = %ctx.request_id, %error, "request refused");
            (error.status(), error.to_json())
        }
    };
    let body = Bytes::from(serde_json::to_vec_pretty(&body).expect("json"));
    if let Some(guard) = guard {
        let saved = !matches!(&result, Err(e) if e.is_validation() || e.is_refusal_before_running());
        if saved {
            guard.finish(SavedResponse { status: status.as_u16(), body: body.clone() });
        }
    }
    let mut response = json_response(status, body);
    if let Some(key) = idempotency_key.and_then(|k| HeaderValue::from_str(k).ok()) {
        response.headers_mut().insert("idempotency-key", key);
    }
    response
}

fn replay(saved: SavedResponse, key: &str) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let mut response = json_response(status, saved.body);
    let headers = response.headers_mut();
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Ok(key) = HeaderValue::from_str(key) {
        headers.insert("idempotency-key", key);
    }
    response
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("valid response")
}

fn dispatch(
    shared: &AppState,
    ctx: &RequestCtx,
    method: &Method,
    path: &str,
    params: Fields,
) -> Result<Value, ApiError> {
    let segments: Vec<&str> = path.trim_start_matches("/v1/").trim_end_matches('/').split('/').collect();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    match segments.as_slice() {
        ["checkout", "sessions"] if post => checkout::create(shared, ctx, params),
        ["checkout", "sessions"] if get => checkout::list(shared, params),
        ["checkout", "sessions", id] if get => checkout::retrieve(shared, id, params),
        ["checkout", "sessions", id, "line_items"] if get => checkout::list_line_items(shared, id, params),
        ["checkout", "sessions", id, "expire"] if post => checkout::expire_endpoint(shared, ctx, id, params),
        ["prices"] if post => catalog::create_price(shared, params),
        ["prices"] if get => catalog::list_prices(shared, params),
        ["prices", id] if get => catalog::retrieve_price(shared, id, params),
        ["products"] if post => catalog::create_product(shared, params),
        ["products"] if get => catalog::list_products(shared, params),
        ["products", id] if get => catalog::retrieve_product(shared, id, params),
        ["payment_intents", id] if get => payments::retrieve_payment_intent(shared, id, params),
        ["charges", id] if get => payments::retrieve_charge(shared, id, params),
        ["refunds"] if post => refunds::create(shared, ctx, params),
        ["refunds"] if get => refunds::list(shared, params),
        ["refunds", id] if get => refunds::retrieve(shared, id, params),
        ["disputes"] if get => disputes::list(shared, params),
        ["disputes", id] if get => disputes::retrieve(shared, id, params),
        _ => Err(ApiError::UnrecognizedUrl { method: method.to_string(), path: path.to_string() }),
    }
}
