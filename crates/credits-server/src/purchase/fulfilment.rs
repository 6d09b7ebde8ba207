//! Granting credits on Stripe's word (`docs/purchase.md`, "Fulfilment"): the webhook's signature
//! is checked on the raw bytes; a paid session grants bundles × credits-per-bundle, counted from
//! the line items Stripe reports at the price the session was sold at, once; failed and expired
//! sessions are recorded; other events are acknowledged and ignored.
//!
//! Only the event's envelope is read from the payload (id, type, the session's id and payment
//! status): a signed event that the SDK's types cannot parse (another API version, a new field)
//! is still handled, since everything that decides money is fetched from Stripe again.

use serde::Deserialize;
use stripe_shared::CheckoutSessionPaymentStatus;
use stripe_webhook::{Webhook, WebhookError};

use crate::ServerContext;
use crate::config::Secret;
use crate::error::Error;
use crate::model::{PaymentStatus, SessionState, SessionStatus};
use crate::stripe::bundles_sold;

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
}

/// Handles one webhook delivery: `body` is the raw request body, `signature` its
/// `Stripe-Signature` header. 400 when the signature does not verify or the event is unreadable.
pub async fn receive_webhook(ctx: &ServerContext, body: &[u8], signature: &str) -> Result<(), Error> {
    let payload = std::str::from_utf8(body).map_err(|_| Error::BadRequest("The event is not UTF-8 text".into()))?;
    verify(payload, signature, &ctx.config.stripe.webhook_secrets)?;
    let event: Envelope =
        serde_json::from_str(payload).map_err(|e| Error::BadRequest(format!("The event cannot be read: {e}")))?;
    let session_id = event.data.object.id.as_deref().unwrap_or_default();
    let paid = event.data.object.payment_status.as_deref().and_then(PaymentStatus::parse) == Some(PaymentStatus::Paid);
    let completed = |payment| SessionState { status: SessionStatus::Complete, payment };
    match event.event_type.as_str() {
        "checkout.session.completed" if paid => fulfil(ctx, session_id).await?,
        "checkout.session.completed" => advance(ctx, session_id, completed(PaymentStatus::Unpaid)).await?,
        "checkout.session.async_payment_succeeded" => fulfil(ctx, session_id).await?,
        "checkout.session.async_payment_failed" => advance(ctx, session_id, completed(PaymentStatus::Failed)).await?,
        "checkout.session.expired" => {
            let expired = SessionState { status: SessionStatus::Expired, payment: PaymentStatus::Unpaid };
            advance(ctx, session_id, expired).await?
        }
        other => tracing::info!(event = %event.id, event_type = other, "ignoring an event of another type"),
    }
    // Recorded after handling, so a delivery that failed half-way is handled again when retried;
    // handling is idempotent, so a duplicate that races this one changes nothing.
    ctx.store.record_event(&event.id, &event.event_type).await?;
    Ok(())
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

/// Moves an unfulfilled session to `next` if that is further along ([`SessionState::rank`]):
/// events arrive out of order, so a late `completed` (unpaid) must not undo a `failed` or
/// `expired` that came first, and nothing changes a fulfilled session. Compare-and-set: when
/// another event moved the session meanwhile, look again (the rank only grows, so this ends).
async fn advance(ctx: &ServerContext, session_id: &str, next: SessionState) -> Result<(), Error> {
    for _ in 0..=SessionState::PAID.rank() {
        let Some(current) = ctx.store.unfulfilled_session_state(session_id).await? else { return Ok(()) };
        if current.rank() >= next.rank() || ctx.store.replace_session_state(session_id, current, next).await? {
            return Ok(());
        }
    }
    Err(Error::Internal(format!("session {session_id} kept changing state")))
}

/// Grants the session's credits, computed from what Stripe says it sold.
async fn fulfil(ctx: &ServerContext, session_id: &str) -> Result<(), Error> {
    let Some(terms) = ctx.store.session_terms(session_id).await? else {
        tracing::warn!(session = %session_id, "a paid session this server did not create; ignored");
        return Ok(());
    };
    if terms.fulfilled {
        // A duplicate delivery: nothing to ask Stripe. (Two racing first deliveries both get
        // here; the ledger's unique constraint keeps the grant single.)
        return Ok(());
    }
    let session = ctx.stripe.session_with_line_items(session_id).await?;
    if session.payment_status != CheckoutSessionPaymentStatus::Paid {
        return Err(Error::Stripe(format!("session {session_id} is not paid according to Stripe")));
    }
    let bundles = bundles_sold(&session, &terms.price)? as i64;
    if bundles == 0 {
        // Paid, but for nothing at the price it was sold at: granting zero silently would hide
        // it; the session stays unfulfilled for a person to look at, and Stripe gets its 2xx.
        tracing::error!(session = %session_id, "a paid session with no line item at its bundle price");
        return advance(ctx, session_id, SessionState::PAID).await;
    }
    let credits = bundles * terms.credits_per_bundle;
    let granted = ctx.store.fulfil(session_id, &terms.org_id, bundles, credits).await?;
    tracing::info!(session = %session_id, bundles, credits, granted, "checkout session fulfilled");
    Ok(())
}
