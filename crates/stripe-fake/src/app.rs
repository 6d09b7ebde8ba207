//! `AppState`, what every handler (API, checkout page, control endpoints) is given: the
//! in-memory account (`store.rs`), the fake's own public URL, the accepted key, the idempotency
//! keys, pending faults and the webhook machinery; and `emit`, which records an event and hands
//! it to webhook delivery. `store.rs` holds the Stripe objects; this file holds the rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::faults::FaultQueue;
use crate::idempotency::IdempotencyStore;
use crate::store::Store;
use crate::webhooks::Webhooks;
use crate::{ids, objects};

pub struct AppState {
    /// `http://127.0.0.1:PORT/`, with the trailing slash.
    pub base_url: String,
    /// The only key accepted, or any `sk_test_` key when `None`.
    pub api_key: Option<String>,
    pub store: Mutex<Store>,
    pub idempotency: IdempotencyStore,
    pub faults: FaultQueue,
    pub webhooks: Arc<Webhooks>,
    /// How long every `/v1` request waits before it is handled, as a remote Stripe would.
    pub latency: std::time::Duration,
    /// How many `/v1` requests arrived, by method and path (`GET /v1/refunds`): what a client's
    /// use of the API costs, as Stripe's request log shows it.
    pub requests: Mutex<HashMap<String, usize>>,
}

impl AppState {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("store lock")
    }

    /// Counts one `/v1` request.
    pub fn count_request(&self, method: &str, path: &str) {
        *self.requests.lock().expect("requests lock").entry(format!("{method} {path}")).or_default() += 1;
    }

    /// Records an event about `object` and starts delivering it. Call without the store lock.
    pub fn emit(&self, event_type: &str, object: Value, request_id: Option<&str>) {
        let event =
            objects::event(&ids::event(), event_type, now(), object, self.webhooks.endpoint_count(), request_id);
        self.store().events.push(event.clone());
        tracing::info!(event_type, id = %event["id"], "event emitted");
        self.webhooks.dispatch(&event);
    }
}

impl AppState {
    /// Delivers an event emitted earlier again, to every endpoint (as "Resend" in Stripe's
    /// dashboard does): the same event, signed anew.
    pub fn resend(&self, event_id: &str) -> Option<Value> {
        let event = self.store().events.iter().find(|e| e["id"] == event_id).cloned()?;
        tracing::info!(id = event_id, "event re-sent");
        self.webhooks.dispatch(&event);
        Some(event)
    }
}

/// Unix time in seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
