//! Control endpoints for tests and demos, under `/_fake/...` where Stripe has nothing: drive a
//! session's life cycle (complete paid or unpaid, settle the async payment, expire), open and
//! close disputes, make a refund fail, list and re-send events and delivery attempts, pause webhook delivery or mark
//! the endpoints down, count idempotency keys, and change webhooks, delivery copies, retries and
//! faults at run time.
//! They need no API key and never consume faults.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::checkout::{self, PaymentOutcome};
use crate::errors::ApiError;
use crate::faults::Fault;
use crate::webhooks::{RetryPolicy, WebhookEndpoint};
use crate::{disputes, refunds};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_fake/checkout/sessions/{id}/complete", post(complete))
        .route("/_fake/checkout/sessions/{id}/async_payment/succeed", post(async_succeed))
        .route("/_fake/checkout/sessions/{id}/async_payment/fail", post(async_fail))
        .route("/_fake/checkout/sessions/{id}/expire", post(expire))
        .route("/_fake/charges/{id}/dispute", post(open_dispute))
        .route("/_fake/disputes/{id}/close", post(close_dispute))
        .route("/_fake/refunds/{id}/fail", post(fail_refund))
        .route("/_fake/events", get(events))
        .route("/_fake/events/{id}/resend", post(resend_event))
        .route("/_fake/webhooks/pause", post(pause_webhooks))
        .route("/_fake/webhooks/resume", post(resume_webhooks))
        .route("/_fake/webhooks/down", post(webhooks_down))
        .route("/_fake/webhooks/up", post(webhooks_up))
        .route("/_fake/webhooks", get(list_webhooks).post(add_webhook).delete(clear_webhooks))
        .route("/_fake/config", post(configure))
        .route("/_fake/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/_fake/idempotency", get(idempotency))
}

#[derive(Deserialize)]
struct CompleteQuery {
    #[serde(default)]
    outcome: Option<String>,
}

async fn complete(
    State(shared): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<CompleteQuery>,
) -> Response {
    let outcome = match query.outcome.as_deref() {
        None | Some("paid") => PaymentOutcome::Paid,
        Some("unpaid") => PaymentOutcome::Unpaid,
        Some(other) => {
            return ApiError::InvalidParameter {
                param: "outcome".into(),
                message: format!("outcome must be paid or unpaid, not {other}"),
            }
            .into_response();
        }
    };
    respond(&shared, &id, checkout::complete(&shared, &id, outcome))
}

async fn async_succeed(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    respond(&shared, &id, checkout::settle_async_payment(&shared, &id, true))
}

async fn async_fail(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    respond(&shared, &id, checkout::settle_async_payment(&shared, &id, false))
}

async fn expire(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    respond(&shared, &id, checkout::expire(&shared, &id, None))
}

/// The session after a transition, or the Stripe-shaped error.
fn respond(shared: &AppState, id: &str, result: Result<(), ApiError>) -> Response {
    if let Err(error) = result {
        return error.into_response();
    }
    let store = shared.store();
    let session = store.session(id).expect("transition succeeded");
    Json(crate::objects::checkout_session(session, &store, &shared.base_url, false)).into_response()
}

#[derive(Deserialize)]
struct DisputeQuery {
    amount: Option<i64>,
    reason: Option<String>,
}

/// Opens a dispute on a charge; answers with the dispute.
async fn open_dispute(
    State(shared): State<Arc<AppState>>,
    Path(charge): Path<String>,
    Query(query): Query<DisputeQuery>,
) -> Response {
    match disputes::open(&shared, &charge, query.amount, query.reason.as_deref()) {
        Ok(id) => dispute_json(&shared, &id),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
struct CloseQuery {
    outcome: String,
}

/// Closes a dispute: `?outcome=won` or `?outcome=lost`; answers with the dispute.
async fn close_dispute(
    State(shared): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<CloseQuery>,
) -> Response {
    let won = match query.outcome.as_str() {
        "won" => true,
        "lost" => false,
        other => {
            return ApiError::InvalidParameter {
                param: "outcome".into(),
                message: format!("outcome must be won or lost, not {other}"),
            }
            .into_response();
        }
    };
    match disputes::close(&shared, &id, won) {
        Ok(()) => dispute_json(&shared, &id),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
struct FailRefundQuery {
    failure_reason: Option<String>,
}

/// Makes a succeeded refund fail (`?failure_reason=...`, Stripe's reasons); answers with the refund.
async fn fail_refund(
    State(shared): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<FailRefundQuery>,
) -> Response {
    if let Err(error) = refunds::fail(&shared, &id, query.failure_reason.as_deref()) {
        return error.into_response();
    }
    let store = shared.store();
    Json(crate::objects::refund(store.refund(&id).expect("refund exists"))).into_response()
}

fn dispute_json(shared: &AppState, id: &str) -> Response {
    let store = shared.store();
    let dispute = store.dispute(id).expect("dispute exists");
    Json(crate::objects::dispute(dispute)).into_response()
}

async fn resend_event(State(shared): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match shared.resend(&id) {
        Some(event) => Json(event).into_response(),
        None => ApiError::NotFound { kind: "event", id }.into_response(),
    }
}

async fn pause_webhooks(State(shared): State<Arc<AppState>>) -> Response {
    shared.webhooks.set_paused(true);
    list_webhooks(State(shared)).await
}

async fn resume_webhooks(State(shared): State<Arc<AppState>>) -> Response {
    shared.webhooks.set_paused(false);
    list_webhooks(State(shared)).await
}

async fn webhooks_down(State(shared): State<Arc<AppState>>) -> Response {
    shared.webhooks.set_down(true);
    list_webhooks(State(shared)).await
}

async fn webhooks_up(State(shared): State<Arc<AppState>>) -> Response {
    shared.webhooks.set_down(false);
    list_webhooks(State(shared)).await
}

async fn events(State(shared): State<Arc<AppState>>) -> Response {
    let events = shared.store().events.clone();
    Json(json!({ "events": events, "deliveries": shared.webhooks.attempts() })).into_response()
}

/// Idempotency keys with a request running and with a saved response (e.g. to know that a
/// slow request holds its key before sending a concurrent one).
async fn idempotency(State(shared): State<Arc<AppState>>) -> Response {
    let (in_flight, saved) = shared.idempotency.counts();
    Json(json!({ "in_flight": in_flight, "saved": saved })).into_response()
}

async fn list_webhooks(State(shared): State<Arc<AppState>>) -> Response {
    let urls: Vec<_> = shared.webhooks.endpoints().into_iter().map(|e| json!({ "url": e.url })).collect();
    Json(json!({
        "endpoints": urls,
        "delivery_copies": shared.webhooks.copies(),
        "paused": shared.webhooks.paused(),
        "down": shared.webhooks.down(),
        "retry": shared.webhooks.retry(),
    }))
    .into_response()
}

async fn add_webhook(State(shared): State<Arc<AppState>>, Json(endpoint): Json<WebhookEndpoint>) -> Response {
    shared.webhooks.add_endpoint(endpoint);
    list_webhooks(State(shared)).await
}

async fn clear_webhooks(State(shared): State<Arc<AppState>>) -> Response {
    shared.webhooks.clear_endpoints();
    list_webhooks(State(shared)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    delivery_copies: Option<usize>,
    retry: Option<RetryPolicy>,
}

async fn configure(State(shared): State<Arc<AppState>>, Json(change): Json<ConfigChange>) -> Response {
    if let Some(copies) = change.delivery_copies {
        shared.webhooks.set_copies(copies);
    }
    if let Some(retry) = change.retry {
        shared.webhooks.set_retry(retry);
    }
    list_webhooks(State(shared)).await
}

#[derive(Deserialize)]
struct FaultRequest {
    #[serde(flatten)]
    fault: Fault,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

async fn list_faults(State(shared): State<Arc<AppState>>) -> Response {
    Json(json!({ "pending": shared.faults.pending() })).into_response()
}

async fn add_fault(State(shared): State<Arc<AppState>>, Json(request): Json<FaultRequest>) -> Response {
    shared.faults.push(request.fault, request.times);
    list_faults(State(shared)).await
}

async fn clear_faults(State(shared): State<Arc<AppState>>) -> Response {
    shared.faults.clear();
    list_faults(State(shared)).await
}
