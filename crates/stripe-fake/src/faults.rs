//! Fault injection: a queue of faults, each applied to one Stripe API (`/v1/...`) request, in
//! order. A fault is a 5xx with Stripe's `api_error` body, any given Stripe error, a body that is
//! not JSON, a connection closed without an answer, or a delay before answering normally.
//! Control endpoints and the checkout page never consume faults.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::errors::ApiError;

/// One injected failure. In JSON (`POST /_fake/faults`) it is tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 500 with Stripe's `api_error` body.
    ServerError,
    /// Any Stripe error: `{"kind":"stripe_error","status":402,"type":"card_error",...}`.
    StripeError {
        /// The HTTP status.
        status: u16,
        /// Stripe's error `type` (`card_error`, `api_error`...).
        #[serde(rename = "type")]
        error_type: String,
        /// Stripe's error `code`, if any.
        #[serde(default)]
        code: Option<String>,
        /// The error's `message`.
        message: String,
    },
    /// 500 with an HTML body, as a broken proxy would answer.
    NonJson,
    /// The connection is closed without a response.
    DropConnection,
    /// Wait this long, then answer normally (after the idempotency key is claimed, so a second
    /// request with the same key sees the first one in flight).
    Hang {
        /// Milliseconds to wait.
        ms: u64,
    },
}

impl Fault {
    /// The error this fault answers with, if it answers with a Stripe error.
    pub fn as_api_error(&self) -> Option<ApiError> {
        match self {
            Fault::ServerError => Some(ApiError::Injected {
                status: 500,
                error_type: "api_error".into(),
                code: None,
                message: "An unknown error occurred (injected by stripe-fake).".into(),
            }),
            Fault::StripeError { status, error_type, code, message } => Some(ApiError::Injected {
                status: *status,
                error_type: error_type.clone(),
                code: code.clone(),
                message: message.clone(),
            }),
            _ => None,
        }
    }

    /// How long this fault holds the request, if it is a `Hang`.
    pub fn hang(&self) -> Option<Duration> {
        match self {
            Fault::Hang { ms } => Some(Duration::from_millis(*ms)),
            _ => None,
        }
    }
}

/// The pending faults, shared by the connection layer and the API handler.
#[derive(Default, Clone)]
pub struct FaultQueue {
    queue: Arc<Mutex<VecDeque<Fault>>>,
}

impl FaultQueue {
    pub fn push(&self, fault: Fault, times: usize) {
        let mut queue = self.queue.lock().expect("fault lock");
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// The fault for the next API request, if any.
    pub fn next(&self) -> Option<Fault> {
        self.queue.lock().expect("fault lock").pop_front()
    }

    pub fn pending(&self) -> Vec<Fault> {
        self.queue.lock().expect("fault lock").iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.queue.lock().expect("fault lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_json_and_apply_in_order() {
        let fault: Fault = serde_json::from_str(
            r#"{"kind":"stripe_error","status":402,"type":"card_error","code":"card_declined","message":"declined"}"#,
        )
        .unwrap();
        assert_eq!(fault.as_api_error().unwrap().status().as_u16(), 402);
        let hang: Fault = serde_json::from_str(r#"{"kind":"hang","ms":250}"#).unwrap();
        assert_eq!(hang.hang(), Some(Duration::from_millis(250)));

        let queue = FaultQueue::default();
        queue.push(Fault::ServerError, 2);
        queue.push(Fault::NonJson, 1);
        assert_eq!(queue.next(), Some(Fault::ServerError));
        assert_eq!(queue.next(), Some(Fault::ServerError));
        assert_eq!(queue.next(), Some(Fault::NonJson));
        assert_eq!(queue.next(), None);
    }
}
