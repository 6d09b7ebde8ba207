//! Disputes (chargebacks): opened on a charge and closed as won or lost by the control
//! endpoints (a cardholder's bank does this at Stripe, not the API), read with
//! `GET /v1/disputes/{id}` and `GET /v1/disputes`. Opening emits `charge.dispute.created` and
//! `charge.dispute.funds_withdrawn`; closing emits `charge.dispute.closed`, and after a win
//! `charge.dispute.funds_reinstated`, as Stripe does. A disputed charge can no longer be refunded.

use serde_json::Value;

use crate::app::{AppState, now};
use crate::endpoint::{Expand, list_page};
use crate::errors::ApiError;
use crate::form::Fields;
use crate::store::{Dispute, DisputeStatus, PaymentState};
use crate::{ids, objects};

/// The reasons Stripe gives for disputes.
const REASONS: &[&str] = &[
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
];

/// Opens a dispute on a succeeded charge, for `amount` (default: the whole charge) and `reason`
/// (default `fraudulent`). Returns the dispute's id.
pub fn open(shared: &AppState, charge_id: &str, amount: Option<i64>, reason: Option<&str>) -> Result<String, ApiError> {
    let reason = reason.unwrap_or("fraudulent");
    if !REASONS.contains(&reason) {
        return Err(ApiError::InvalidParameter {
            param: "reason".into(),
            message: format!("Invalid reason: must be one of {}", REASONS.join(", ")),
        });
    }
    let dispute = {
        let mut store = shared.store();
        let charge = store.charge_mut(charge_id).ok_or(ApiError::NotFound { kind: "charge", id: charge_id.into() })?;
        if charge.state != PaymentState::Succeeded || charge.disputed {
            return Err(ApiError::InvalidRequest {
                message: format!("Charge {charge_id} cannot be disputed: it has not succeeded or is disputed already."),
            });
        }
        let amount = amount.unwrap_or(charge.amount);
        if !(1..=charge.amount).contains(&amount) {
            return Err(ApiError::InvalidParameter {
                param: "amount".into(),
                message: format!("A dispute's amount must be between 1 and the charge's amount ({}).", charge.amount),
            });
        }
        charge.disputed = true;
        let dispute = Dispute {
            id: ids::dispute(),
            charge: charge.id.clone(),
            payment_intent: charge.payment_intent.clone(),
            amount,
            currency: charge.currency.clone(),
            created: now(),
            reason: reason.to_string(),
            status: DisputeStatus::NeedsResponse,
        };
        store.disputes.push(dispute.clone());
        dispute
    };
    tracing::info!(id = %dispute.id, charge = %dispute.charge, amount = dispute.amount, "dispute opened");
    let json = objects::dispute(&dispute);
    shared.emit("charge.dispute.created", json.clone(), None);
    shared.emit("charge.dispute.funds_withdrawn", json, None);
    Ok(dispute.id)
}

/// Closes an open dispute as won or lost.
pub fn close(shared: &AppState, id: &str, won: bool) -> Result<(), ApiError> {
    let json = {
        let mut store = shared.store();
        let dispute = store.dispute_mut(id).ok_or(ApiError::NotFound { kind: "dispute", id: id.into() })?;
        if dispute.status != DisputeStatus::NeedsResponse {
            return Err(ApiError::InvalidRequest {
                message: format!("Dispute {id} is already closed ({}).", dispute.status.as_str()),
            });
        }
        dispute.status = if won { DisputeStatus::Won } else { DisputeStatus::Lost };
        objects::dispute(dispute)
    };
    shared.emit("charge.dispute.closed", json.clone(), None);
    if won {
        shared.emit("charge.dispute.funds_reinstated", json, None);
    }
    Ok(())
}

pub fn retrieve(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    Expand::read(&mut params, &[])?;
    let store = shared.store();
    let dispute = store.dispute(id).ok_or(ApiError::NotFound { kind: "dispute", id: id.into() })?;
    Ok(objects::dispute(dispute))
}

pub fn list(shared: &AppState, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&[
        "limit",
        "starting_after",
        "ending_before",
        "charge",
        "payment_intent",
        "created",
        "expand",
    ])?;
    Expand::read(&mut params, &[])?;
    let charge = params.optional_string("charge")?;
    let payment_intent = params.optional_string("payment_intent")?;
    let created = params.range("created")?.unwrap_or_default();
    let store = shared.store();
    let items = store
        .disputes
        .iter()
        .rev()
        .filter(|d| charge.as_ref().is_none_or(|c| &d.charge == c))
        .filter(|d| payment_intent.as_ref().is_none_or(|p| &d.payment_intent == p))
        .filter(|d| created.contains(d.created))
        .map(|d| (d.id.as_str(), d))
        .collect();
    list_page("/v1/disputes", items, objects::dispute, &mut params)
}
