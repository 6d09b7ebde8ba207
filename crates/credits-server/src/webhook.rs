//! Stripe webhook fulfilment (product.md §4): the signature is checked over the raw bytes; a paid
//! session grants bundles × credits-per-bundle, counted from the line items Stripe reports, once;
//! failed and expired sessions are recorded; other events are acknowledged and ignored.

use stripe_shared::CheckoutSessionPaymentStatus;
use stripe_webhook::{EventObject, Webhook};

use crate::ServerContext;
use crate::error::Error;
use crate::stripe::bundles_sold;

pub async fn receive(ctx: &ServerContext, body: &[u8], signature: &str) -> Result<(), Error> {
    let payload = std::str::from_utf8(body).map_err(|_| Error::BadRequest("The event is not UTF-8 text".into()))?;
    let event = Webhook::construct_event(payload, signature, ctx.config.stripe.webhook_secret.expose())
        .map_err(|e| Error::BadRequest(format!("Webhook signature verification failed: {e}")))?;
    let event_id = event.id.to_string();
    match event.data.object {
        EventObject::CheckoutSessionCompleted(session) => {
            if session.payment_status == CheckoutSessionPaymentStatus::Paid {
                fulfil(ctx, session.id.as_str()).await?;
            } else {
                ctx.store.set_session_state(session.id.as_str(), "complete", "unpaid").await?;
            }
        }
        EventObject::CheckoutSessionAsyncPaymentSucceeded(session) => fulfil(ctx, session.id.as_str()).await?,
        EventObject::CheckoutSessionAsyncPaymentFailed(session) => {
            ctx.store.set_session_state(session.id.as_str(), "complete", "failed").await?;
        }
        EventObject::CheckoutSessionExpired(session) => {
            ctx.store.set_session_state(session.id.as_str(), "expired", "unpaid").await?;
        }
        _ => tracing::info!(event = %event_id, "ignoring an event of another type"),
    }
    // Recorded after handling, so a delivery that failed half-way is handled again when retried;
    // handling is idempotent, so a duplicate that races this one changes nothing.
    ctx.store.record_event(&event_id, &event.type_.to_string()).await?;
    Ok(())
}

/// Grants the session's credits, computed from what Stripe says it sold.
async fn fulfil(ctx: &ServerContext, session_id: &str) -> Result<(), Error> {
    let Some(org_id) = ctx.store.session_org(session_id).await? else {
        tracing::warn!(session = %session_id, "a paid session this server did not create; ignored");
        return Ok(());
    };
    let session = ctx.stripe.session_with_line_items(session_id).await?;
    if session.payment_status != CheckoutSessionPaymentStatus::Paid {
        return Err(Error::Stripe(format!("session {session_id} is not paid according to Stripe")));
    }
    let bundles = bundles_sold(&session, &ctx.config.bundle_price)? as i64;
    if bundles == 0 {
        // Paid, but not for our bundle price (the price changed, or someone else's session):
        // granting nothing silently would hide it; the session stays unfulfilled for a person
        // to look at, and Stripe gets its 2xx.
        tracing::error!(session = %session_id, "a paid session with no line item at the configured bundle price");
        ctx.store.set_session_state(session_id, "complete", "paid").await?;
        return Ok(());
    }
    let credits = bundles * ctx.config.credits_per_bundle;
    let granted = ctx.store.fulfil(session_id, &org_id, bundles, credits).await?;
    tracing::info!(session = %session_id, bundles, credits, granted, "checkout session fulfilled");
    Ok(())
}
