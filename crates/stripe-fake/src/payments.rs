//! The money behind a completed Checkout Session: its PaymentIntent (`pi_...`) and that intent's
//! Charge (`ch_...`), created when the session completes and settled with its asynchronous
//! payment; and the read endpoints `GET /v1/payment_intents/{id}` and `GET /v1/charges/{id}`.
//! Refunds and disputes change charges in their own modules.

use serde_json::Value;

use crate::app::{AppState, now};
use crate::endpoint::{Expand, list_page};
use crate::errors::ApiError;
use crate::form::Fields;
use crate::store::{Charge, PaymentIntent, PaymentState, Session, Store};
use crate::{ids, objects};

/// Creates the payment intent and charge of `session` (completing now) in `state`; returns the
/// intent's id for the session's `payment_intent`.
pub fn open(store: &mut Store, session: &Session, state: PaymentState) -> String {
    let intent_id = ids::payment_intent();
    let charge = Charge {
        id: ids::charge(),
        payment_intent: intent_id.clone(),
        amount: session.amount_total,
        amount_refunded: 0,
        currency: session.currency.clone(),
        created: now(),
        state,
        billing_email: session.customer_email.clone(),
        disputed: false,
    };
    store.payment_intents.push(PaymentIntent {
        id: intent_id.clone(),
        amount: session.amount_total,
        currency: session.currency.clone(),
        created: charge.created,
        state,
        payment_method_types: session.payment_method_types.clone(),
        receipt_email: session.customer_email.clone(),
        client_secret: ids::client_secret(&intent_id),
        latest_charge: charge.id.clone(),
    });
    store.charges.push(charge);
    intent_id
}

/// Settles a processing payment: the intent and its charge succeed or fail together.
pub fn settle(store: &mut Store, intent_id: &str, succeeded: bool) {
    let state = if succeeded { PaymentState::Succeeded } else { PaymentState::Failed };
    let Some(intent) = store.payment_intent_mut(intent_id) else {
        return;
    };
    intent.state = state;
    let charge_id = intent.latest_charge.clone();
    if let Some(charge) = store.charge_mut(&charge_id) {
        charge.state = state;
    }
}

pub fn retrieve_payment_intent(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand", "client_secret"])?;
    let expand = Expand::read(&mut params, &["latest_charge"])?;
    let store = shared.store();
    let intent = store.payment_intent(id).ok_or(ApiError::NotFound { kind: "payment_intent", id: id.into() })?;
    Ok(intent_json(&store, &shared.base_url, intent, expand.has("latest_charge")))
}

/// A payment intent as the API shows it, its latest charge expanded when `with_charge` (on its
/// own endpoint, or inside a session expanded with `payment_intent.latest_charge`).
pub fn intent_json(store: &Store, base_url: &str, intent: &PaymentIntent, with_charge: bool) -> Value {
    let charge = with_charge
        .then(|| store.charge(&intent.latest_charge))
        .flatten()
        .map(|charge| objects::charge(charge, base_url, None, None));
    objects::payment_intent(intent, charge)
}

pub fn retrieve_charge(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    let expand = Expand::read(&mut params, &["payment_intent", "refunds"])?;
    let store = shared.store();
    let charge = store.charge(id).ok_or(ApiError::NotFound { kind: "charge", id: id.into() })?;
    let intent = expand
        .has("payment_intent")
        .then(|| store.payment_intent(&charge.payment_intent))
        .flatten()
        .map(|intent| objects::payment_intent(intent, None));
    let refunds = if expand.has("refunds") {
        let items = store.refunds.iter().rev().filter(|r| r.charge == charge.id).map(|r| (r.id.as_str(), r)).collect();
        let mut none = Fields::root(Vec::new());
        Some(list_page(&format!("/v1/charges/{id}/refunds"), items, objects::refund, &mut none)?)
    } else {
        None
    };
    Ok(objects::charge(charge, &shared.base_url, intent, refunds))
}
