//! The Stripe webhook (`docs/purchase.md`, "Fulfilment"; `docs/money.md`): the signature is
//! checked on the raw bytes, then the event's type decides: Checkout events go to `fulfilment`,
//! `charge.refunded`, a refund's changes (`charge.refund.updated`, `refund.updated`,
//! `refund.failed`) and `charge.dispute.*` to `reversal`; other events are acknowledged and
//! ignored.
//!
//! Only the event's envelope is read from the payload (id, type, the object's id, payment status
//! and, for a refund, its charge's id): a signed event that the SDK's types cannot parse (another API version, a new field)
//! is still handled, since everything that decides money is fetched from Stripe again.

use serde::Deserialize;
use stripe_webhook::{Webhook, WebhookError};

use super::fulfilment::{EXPIRED, Fulfilment, advance, fulfil};
use super::reversal;
use crate::ServerContext;
use crate::config::Secret;
use crate::error::Error;
use crate::model::{PaymentStatus, SessionState, SessionStatus};
use crate::store::Store;
use crate::stripe::Stripe;

/// The parts of an event this server reads.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: EnvelopeData,
}

#[derive(Deserialize)]
struct EnvelopeData {
    object: EnvelopeObject,
}

#[derive(Deserialize)]
struct EnvelopeObject {
    id: Option<String>,
    payment_status: Option<String>,
    /// A refund's charge: an id, or (were it ever expanded) the charge itself.
    charge: Option<serde_json::Value>,
}

impl EnvelopeObject {
    /// The id of the charge the object names, expanded or not.
    fn charge_id(&self) -> Option<&str> {
        let charge = self.charge.as_ref()?;
        charge.as_str().or_else(|| charge.get("id")?.as_str())
    }
}

/// Handles one webhook delivery: `body` is the raw request body, `signature` its
/// `Stripe-Signature` header. 400 when the signature does not verify or the event is unreadable.
/// Each delivery is counted by type and outcome.
pub async fn receive_webhook(ctx: &ServerContext, body: &[u8], signature: &str) -> Result<(), Error> {
    let metrics = ctx.stripe.metrics();
    let event = match read_verified(body, signature, &ctx.config.stripe.webhook_secrets) {
        Ok(event) => event,
        Err(e) => {
            // Not signed by Stripe (or unreadable): its claimed type is not worth a label.
            metrics.webhook_event("unknown", "rejected");
            return Err(e);
        }
    };
    let outcome = handle(ctx, &event).await;
    let label = match &outcome {
        Ok(true) => "handled",
        Ok(false) => "ignored",
        Err(_) => "failed",
    };
    metrics.webhook_event(&event.event_type, label);
    outcome.map(|_| ())
}

fn read_verified(body: &[u8], signature: &str, secrets: &[Secret]) -> Result<Envelope, Error> {
    let payload = std::str::from_utf8(body).map_err(|_| Error::BadRequest("The event is not UTF-8 text".into()))?;
    verify(payload, signature, secrets)?;
    serde_json::from_str(payload).map_err(|e| Error::BadRequest(format!("The event cannot be read: {e}")))
}

/// `Ok(false)` for an event of a type this server ignores.
async fn handle(ctx: &ServerContext, event: &Envelope) -> Result<bool, Error> {
    let object_id = event.data.object.id.as_deref().unwrap_or_default();
    let paid = event.data.object.payment_status.as_deref().and_then(PaymentStatus::parse) == Some(PaymentStatus::Paid);
    let completed = |payment| SessionState { status: SessionStatus::Complete, payment };
    let (store, stripe) = (&ctx.store, &ctx.stripe);
    let mut handled = true;
    match event.event_type.as_str() {
        "checkout.session.completed" if paid => fulfil_paid(store, stripe, object_id).await?,
        "checkout.session.completed" => advance(store, object_id, completed(PaymentStatus::Unpaid)).await?,
        "checkout.session.async_payment_succeeded" => fulfil_paid(store, stripe, object_id).await?,
        "checkout.session.async_payment_failed" => advance(store, object_id, completed(PaymentStatus::Failed)).await?,
        "checkout.session.expired" => advance(store, object_id, EXPIRED).await?,
        "charge.refunded" => reversal::refunds(store, stripe, object_id).await?,
        // A refund changed (failed, canceled, went through): its charge's refunds are read again.
        "charge.refund.updated" | "refund.updated" | "refund.failed" => match event.data.object.charge_id() {
            Some(charge_id) => reversal::refunds(store, stripe, charge_id).await?,
            None => tracing::info!(event = %event.id, "a refund event without a charge; ignored"),
        },
        "charge.dispute.created"
        | "charge.dispute.funds_withdrawn"
        | "charge.dispute.updated"
        | "charge.dispute.closed"
        | "charge.dispute.funds_reinstated" => reversal::dispute(store, stripe, object_id).await?,
        other => {
            handled = false;
            tracing::info!(event = %event.id, event_type = other, "ignoring an event of another type");
        }
    }
    record_later(&ctx.store, event);
    Ok(handled)
}

/// Records a handled event (what `--event-retention` keeps, for operators) without holding the
/// delivery's answer for it. Recorded only once handling succeeded, so a delivery that failed
/// half-way is handled again when retried; handling is idempotent, so the record decides nothing
/// and a record lost to a crash before its commit loses nothing else. Not waiting for it saves
/// each delivery a second wait for a commit (on SQLite, a second turn in the group-committing
/// writer's queue), which bounds how many deliveries a second a sender with a fixed number of
/// connections gets through.
fn record_later(store: &Store, event: &Envelope) {
    let (store, id, event_type) = (store.clone(), event.id.clone(), event.event_type.clone());
    tokio::spawn(async move {
        if let Err(error) = store.record_event(&id, &event_type).await {
            tracing::warn!(event = %id, %error, "recording a handled event failed");
        }
    });
}

/// The webhook's side of [`fulfil`]: an event said paid, so Stripe saying otherwise is an error
/// (Stripe retries the delivery).
async fn fulfil_paid(store: &Store, stripe: &Stripe, session_id: &str) -> Result<(), Error> {
    match fulfil(store, stripe, session_id).await? {
        Fulfilment::NotPaid(_) => Err(Error::Stripe(format!("session {session_id} is not paid according to Stripe"))),
        Fulfilment::Unknown => {
            tracing::warn!(session = %session_id, "a paid session this server did not create; ignored");
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks the signature against each configured secret (several while one is being rotated):
/// the delivery verifies when any one matches.
fn verify(payload: &str, signature: &str, secrets: &[Secret]) -> Result<(), Error> {
    let mut failure = None;
    for secret in secrets {
        match Webhook::construct_event(payload, signature, secret.expose()) {
            // Signature and timestamp verified; the SDK's own parse is not needed (see above).
            Ok(_) | Err(WebhookError::BadParse(_)) => return Ok(()),
            Err(e) => failure = Some(e),
        }
    }
    let cause = failure.map_or_else(|| "no signing secret is configured".to_string(), |e| e.to_string());
    Err(Error::BadRequest(format!("Webhook signature verification failed: {cause}")))
}
