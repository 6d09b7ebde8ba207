//! Stripe webhook fulfilment (product.md §4): the signature is checked on the raw bytes; a paid
//! session grants bundles × credits-per-bundle, counted from the line items Stripe reports at the
//! price the session was sold at, once; failed and expired sessions are recorded; other events
//! are acknowledged and ignored.
//!
//! Only the event's envelope is read from the payload (id, type, the session's id and payment
//! status): a signed event that the SDK's types cannot parse (another API version, a new field)
//! is still handled, since everything that decides money is fetched from Stripe again.

use serde::Deserialize;
use stripe_shared::CheckoutSessionPaymentStatus;
use stripe_webhook::{Webhook, WebhookError};

use crate::ServerContext;
use crate::error::Error;
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

pub async fn receive(ctx: &ServerContext, body: &[u8], signature: &str) -> Result<(), Error> {
    let payload = std::str::from_utf8(body).map_err(|_| Error::BadRequest("The event is not UTF-8 text".into()))?;
    match Webhook::construct_event(payload, signature, ctx.config.stripe.webhook_secret.expose()) {
        // Signature and timestamp verified; the SDK's own parse is not needed (see above).
        Ok(_) | Err(WebhookError::BadParse(_)) => {}
        Err(e) => return Err(Error::BadRequest(format!("Webhook signature verification failed: {e}"))),
    }
    let event: Envelope =
        serde_json::from_str(payload).map_err(|e| Error::BadRequest(format!("The event cannot be read: {e}")))?;
    let session_id = event.data.object.id.as_deref().unwrap_or_default();
    match event.event_type.as_str() {
        "checkout.session.completed" if event.data.object.payment_status.as_deref() == Some("paid") => {
            fulfil(ctx, session_id).await?
        }
        "checkout.session.completed" => ctx.store.set_session_state(session_id, "complete", "unpaid").await?,
        "checkout.session.async_payment_succeeded" => fulfil(ctx, session_id).await?,
        "checkout.session.async_payment_failed" => {
            ctx.store.set_session_state(session_id, "complete", "failed").await?
        }
        "checkout.session.expired" => ctx.store.set_session_state(session_id, "expired", "unpaid").await?,
        other => tracing::info!(event = %event.id, event_type = other, "ignoring an event of another type"),
    }
    // Recorded after handling, so a delivery that failed half-way is handled again when retried;
    // handling is idempotent, so a duplicate that races this one changes nothing.
    ctx.store.record_event(&event.id, &event.event_type).await?;
    Ok(())
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
        ctx.store.set_session_state(session_id, "complete", "paid").await?;
        return Ok(());
    }
    let credits = bundles * terms.credits_per_bundle;
    let granted = ctx.store.fulfil(session_id, &terms.org_id, bundles, credits).await?;
    tracing::info!(session = %session_id, bundles, credits, granted, "checkout session fulfilled");
    Ok(())
}
