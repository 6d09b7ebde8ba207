//! Refunds: `POST /v1/refunds` (by `charge` or `payment_intent`, all or part of what remains),
//! `GET /v1/refunds/{id}` and `GET /v1/refunds`. A refund succeeds at once, adds to its charge's
//! `amount_refunded`, and emits `refund.created` and `charge.refunded`, as Stripe does. Refusals
//! carry Stripe's codes: `charge_already_refunded`, `amount_too_large`, `charge_disputed`.
//! A succeeded refund can be made to fail later (`fail`, a control endpoint: the card network
//! refused it): its amount goes back onto the charge's refundable amount and Stripe's
//! `charge.refund.updated`, `refund.updated` and `refund.failed` are emitted.

use serde_json::Value;

use crate::app::{AppState, now};
use crate::endpoint::{Expand, RequestCtx, list_page};
use crate::errors::ApiError;
use crate::form::{Fields, Shape};
use crate::store::{PaymentState, Refund, Store};
use crate::{ids, objects};

/// The parameters of `POST /v1/refunds` the fake implements.
const REFUND_PARAMS: &[(&str, Shape)] = &[
    ("charge", Shape::Scalar),
    ("payment_intent", Shape::Scalar),
    ("amount", Shape::Scalar),
    ("reason", Shape::Scalar),
    ("metadata", Shape::Dictionary),
    ("expand", Shape::Array(&Shape::Scalar)),
];

const REASONS: &[&str] = &["duplicate", "fraudulent", "requested_by_customer"];

pub fn create(shared: &AppState, ctx: &RequestCtx, mut params: Fields) -> Result<Value, ApiError> {
    params.check_known(REFUND_PARAMS)?;
    Expand::read(&mut params, &[])?;
    let charge_param = params.optional_string("charge")?;
    let intent_param = params.optional_string("payment_intent")?;
    let amount = params.integer("amount")?;
    if amount.is_some_and(|a| a < 1) {
        return Err(ApiError::InvalidParameter {
            param: "amount".into(),
            message: "This value must be greater than or equal to 1.".into(),
        });
    }
    let reason = params.optional_string("reason")?;
    if let Some(reason) = &reason
        && !REASONS.contains(&reason.as_str())
    {
        return Err(ApiError::InvalidParameter {
            param: "reason".into(),
            message: format!("Invalid reason: must be one of {}", REASONS.join(", ")),
        });
    }
    let metadata = params.metadata("metadata")?.unwrap_or_default();

    let (refund, charge_json) = {
        let mut store = shared.store();
        let charge_id = find_charge(&store, charge_param, intent_param)?;
        let charge = store.charge_mut(&charge_id).expect("found above");
        if charge.state != PaymentState::Succeeded {
            return Err(ApiError::InvalidRequest {
                message: format!("Charge {charge_id} has not succeeded; only succeeded charges can be refunded."),
            });
        }
        if charge.disputed {
            return Err(ApiError::Refused {
                code: "charge_disputed",
                param: None,
                message: format!("Charge {charge_id} has been charged back; cannot issue a refund."),
            });
        }
        if charge.refundable() == 0 {
            return Err(ApiError::Refused {
                code: "charge_already_refunded",
                param: None,
                message: format!("Charge {charge_id} has already been refunded."),
            });
        }
        let amount = amount.unwrap_or(charge.refundable());
        if amount > charge.refundable() {
            return Err(ApiError::Refused {
                code: "amount_too_large",
                param: Some("amount".into()),
                message: format!(
                    "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
                    money(amount, &charge.currency),
                    money(charge.refundable(), &charge.currency)
                ),
            });
        }
        charge.amount_refunded += amount;
        let refund = Refund {
            id: ids::refund(),
            charge: charge.id.clone(),
            payment_intent: charge.payment_intent.clone(),
            amount,
            currency: charge.currency.clone(),
            created: now(),
            reason,
            metadata,
            failure_reason: None,
        };
        let charge_json = objects::charge(charge, &shared.base_url, None, None);
        store.refunds.push(refund.clone());
        (refund, charge_json)
    };
    tracing::info!(id = %refund.id, charge = %refund.charge, amount = refund.amount, "refund created");
    let json = objects::refund(&refund);
    shared.emit("refund.created", json.clone(), Some(&ctx.request_id));
    shared.emit("charge.refunded", charge_json, Some(&ctx.request_id));
    Ok(json)
}

/// Stripe's reasons for a refund's failure.
const FAILURE_REASONS: &[&str] = &[
    "charge_for_pending_refund_disputed",
    "declined",
    "expired_or_canceled_card",
    "insufficient_funds",
    "lost_or_stolen_card",
    "merchant_request",
    "unknown",
];

/// Makes a succeeded refund fail for `reason` (default `expired_or_canceled_card`): the money
/// stays with the merchant, so the charge's `amount_refunded` drops by the refund's amount.
pub fn fail(shared: &AppState, id: &str, reason: Option<&str>) -> Result<(), ApiError> {
    let reason = reason.unwrap_or("expired_or_canceled_card");
    if !FAILURE_REASONS.contains(&reason) {
        return Err(ApiError::InvalidParameter {
            param: "failure_reason".into(),
            message: format!("Invalid failure_reason: must be one of {}", FAILURE_REASONS.join(", ")),
        });
    }
    let json = {
        let mut store = shared.store();
        let refund = store.refund_mut(id).ok_or(ApiError::NotFound { kind: "refund", id: id.into() })?;
        if refund.failure_reason.is_some() {
            return Err(ApiError::InvalidRequest { message: format!("Refund {id} has already failed.") });
        }
        refund.failure_reason = Some(reason.to_string());
        let (charge_id, amount, json) = (refund.charge.clone(), refund.amount, objects::refund(refund));
        let charge = store.charge_mut(&charge_id).expect("a refund's charge exists");
        charge.amount_refunded -= amount;
        json
    };
    tracing::info!(id, reason, "refund failed");
    shared.emit("charge.refund.updated", json.clone(), None);
    shared.emit("refund.updated", json.clone(), None);
    shared.emit("refund.failed", json, None);
    Ok(())
}

/// The charge a refund request names: `charge`, or the latest charge of `payment_intent`.
fn find_charge(store: &Store, charge: Option<String>, intent: Option<String>) -> Result<String, ApiError> {
    match (charge, intent) {
        (Some(_), Some(_)) => Err(ApiError::InvalidParameter {
            param: "payment_intent".into(),
            message: "You may only specify one of these parameters: charge, payment_intent.".into(),
        }),
        (None, None) => Err(ApiError::InvalidRequest {
            message: "One of the following params should be provided for this request: payment_intent or charge."
                .into(),
        }),
        (Some(id), None) => match store.charge(&id) {
            Some(charge) => Ok(charge.id.clone()),
            None => Err(ApiError::MissingReference { kind: "charge", id, param: "charge".into() }),
        },
        (None, Some(id)) => match store.payment_intent(&id) {
            Some(intent) => Ok(intent.latest_charge.clone()),
            None => Err(ApiError::MissingReference { kind: "payment_intent", id, param: "payment_intent".into() }),
        },
    }
}

/// `$1.00` for USD, `1.00 EUR` otherwise: how Stripe words amounts in refund errors.
fn money(amount: i64, currency: &str) -> String {
    let value = format!("{}.{:02}", amount / 100, amount % 100);
    if currency == "usd" { format!("${value}") } else { format!("{value} {}", currency.to_uppercase()) }
}

pub fn retrieve(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    Expand::read(&mut params, &[])?;
    let store = shared.store();
    let refund = store.refund(id).ok_or(ApiError::NotFound { kind: "refund", id: id.into() })?;
    Ok(objects::refund(refund))
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
        .refunds
        .iter()
        .rev()
        .filter(|r| charge.as_ref().is_none_or(|c| &r.charge == c))
        .filter(|r| payment_intent.as_ref().is_none_or(|p| &r.payment_intent == p))
        .filter(|r| created.contains(r.created))
        .map(|r| (r.id.as_str(), r))
        .collect();
    list_page("/v1/refunds", items, objects::refund, &mut params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_refusals() {
        assert_eq!(money(100, "usd"), "$1.00");
        assert_eq!(money(90, "usd"), "$0.90");
        assert_eq!(money(1250, "eur"), "12.50 EUR");
    }
}
