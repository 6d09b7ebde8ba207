//! Granting credits on Stripe's word (`docs/purchase.md`, "Fulfilment"): the webhook's signature
//! is checked on the raw bytes; a paid session grants bundles × credits-per-bundle, counted from
//! the line items Stripe reports at the price the session was sold at, once; failed and expired
//! sessions are recorded; refunds and disputes go to `reversal`; other events are acknowledged
//! and ignored.
//!
//! [`fulfil`] is the one routine that grants a session: the webhook, the buyer's return
//! ([`refresh_on_return`]) and `admin reconcile` all call it, and it is safe to run from all three
//! at once (the ledger's unique `checkout_session_id` decides).
//!
//! Only the event's envelope is read from the payload (id, type, the object's id and payment
//! status): a signed event that the SDK's types cannot parse (another API version, a new field)
//! is still handled, since everything that decides money is fetched from Stripe again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use stripe_shared::{CheckoutSessionPaymentStatus, CheckoutSessionStatus};
use stripe_webhook::{Webhook, WebhookError};

use super::reversal;
use crate::ServerContext;
use crate::error::Error;
use crate::model::{PaymentStatus, SessionState, SessionStatus};
use crate::store::{Payment, Store};
use crate::stripe::{Stripe, bundles_sold};

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
    match Webhook::construct_event(payload, signature, ctx.config.stripe.webhook_secret.expose()) {
        // Signature and timestamp verified; the SDK's own parse is not needed (see above).
        Ok(_) | Err(WebhookError::BadParse(_)) => {}
        Err(e) => return Err(Error::BadRequest(format!("Webhook signature verification failed: {e}"))),
    }
    let event: Envelope =
        serde_json::from_str(payload).map_err(|e| Error::BadRequest(format!("The event cannot be read: {e}")))?;
    let object_id = event.data.object.id.as_deref().unwrap_or_default();
    let paid = event.data.object.payment_status.as_deref().and_then(PaymentStatus::parse) == Some(PaymentStatus::Paid);
    let completed = |payment| SessionState { status: SessionStatus::Complete, payment };
    let (store, stripe) = (&ctx.store, &ctx.stripe);
    match event.event_type.as_str() {
        "checkout.session.completed" if paid => fulfil_paid(store, stripe, object_id).await?,
        "checkout.session.completed" => advance(store, object_id, completed(PaymentStatus::Unpaid)).await?,
        "checkout.session.async_payment_succeeded" => fulfil_paid(store, stripe, object_id).await?,
        "checkout.session.async_payment_failed" => advance(store, object_id, completed(PaymentStatus::Failed)).await?,
        "checkout.session.expired" => advance(store, object_id, EXPIRED).await?,
        "charge.refunded" => reversal::refunds(store, stripe, object_id).await?,
        "charge.dispute.created"
        | "charge.dispute.funds_withdrawn"
        | "charge.dispute.updated"
        | "charge.dispute.closed"
        | "charge.dispute.funds_reinstated" => reversal::dispute(store, stripe, object_id).await?,
        other => tracing::info!(event = %event.id, event_type = other, "ignoring an event of another type"),
    }
    // Recorded after handling, so a delivery that failed half-way is handled again when retried;
    // handling is idempotent, so a duplicate that races this one changes nothing.
    ctx.store.record_event(&event.id, &event.event_type).await?;
    Ok(())
}

/// Moves an unfulfilled session to `next` if that is further along ([`SessionState::rank`]):
/// events arrive out of order, so a late `completed` (unpaid) must not undo a `failed` or
/// `expired` that came first, and nothing changes a fulfilled session. Compare-and-set: when
/// another event moved the session meanwhile, look again (the rank only grows, so this ends).
async fn advance(store: &Store, session_id: &str, next: SessionState) -> Result<(), Error> {
    for _ in 0..=SessionState::PAID.rank() {
        let Some(current) = store.unfulfilled_session_state(session_id).await? else { return Ok(()) };
        if current.rank() >= next.rank() || store.replace_session_state(session_id, current, next).await? {
            return Ok(());
        }
    }
    Err(Error::Internal(format!("session {session_id} kept changing state")))
}

const EXPIRED: SessionState = SessionState { status: SessionStatus::Expired, payment: PaymentStatus::Unpaid };

/// What [`fulfil`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfilment {
    /// A session this server did not create.
    Unknown,
    /// Its credits were granted before.
    AlreadyFulfilled,
    /// Stripe does not say it is paid; its state as Stripe reports it.
    NotPaid(SessionState),
    /// Paid, but for nothing at the price it was sold at: nothing granted, left for a person.
    NothingSold,
    /// Granted now: by this call (`true`) or by a racing one (`false`).
    Granted(bool),
}

/// Grants the session's credits, computed from what Stripe says it sold, once; records the
/// payment intent, charge and receipt behind it. The one fulfilment routine.
pub async fn fulfil(store: &Store, stripe: &Stripe, session_id: &str) -> Result<Fulfilment, Error> {
    let Some(terms) = store.session_terms(session_id).await? else {
        return Ok(Fulfilment::Unknown);
    };
    if terms.fulfilled {
        // A duplicate: nothing to ask Stripe. (Two racing first calls both get past this; the
        // ledger's unique constraint keeps the grant single.)
        return Ok(Fulfilment::AlreadyFulfilled);
    }
    let session = stripe.session_with_line_items(session_id).await?;
    if session.payment_status != CheckoutSessionPaymentStatus::Paid {
        let state = match session.status {
            Some(CheckoutSessionStatus::Expired) => EXPIRED,
            Some(CheckoutSessionStatus::Complete) => {
                SessionState { status: SessionStatus::Complete, payment: PaymentStatus::Unpaid }
            }
            _ => SessionState::OPEN,
        };
        return Ok(Fulfilment::NotPaid(state));
    }
    let bundles = bundles_sold(&session, &terms.price)? as i64;
    if bundles == 0 {
        // Paid, but for nothing at the price it was sold at: granting zero silently would hide
        // it; the session stays unfulfilled for a person to look at, and Stripe gets its 2xx.
        tracing::error!(session = %session_id, "a paid session with no line item at its bundle price");
        advance(store, session_id, SessionState::PAID).await?;
        return Ok(Fulfilment::NothingSold);
    }
    let mut payment = Payment::default();
    if let Some(intent) = &session.payment_intent {
        payment.payment_intent_id = Some(intent.id().to_string());
        if let Some(charge) = stripe.charge_of_payment_intent(intent.id().as_str()).await? {
            payment.charge_id = Some(charge.id);
            payment.receipt_url = charge.receipt_url;
        }
    }
    let credits = bundles * terms.credits_per_bundle;
    let granted = store.fulfil(session_id, &terms.org_id, bundles, credits, &payment).await?;
    tracing::info!(session = %session_id, bundles, credits, granted, "checkout session fulfilled");
    Ok(Fulfilment::Granted(granted))
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

/// The buyer is back (the success page reads a session this server still has open): asks Stripe
/// once per session per [`RETURN_CHECK_INTERVAL`] at most, and fulfils or records what it says.
/// A failure is logged and the read goes on with the local state: a read never fails because
/// Stripe does.
pub async fn refresh_on_return(ctx: &ServerContext, session_id: &str) {
    if !ctx.return_checks.allow(session_id) {
        return;
    }
    let outcome = match fulfil(&ctx.store, &ctx.stripe, session_id).await {
        Ok(Fulfilment::NotPaid(state)) => advance(&ctx.store, session_id, state).await,
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(error) = outcome {
        tracing::warn!(session = %session_id, error = %error, "checking a returning buyer's session at Stripe failed");
    }
}

/// How often a returning buyer's session may be checked at Stripe.
pub const RETURN_CHECK_INTERVAL: Duration = Duration::from_secs(3);

/// Sessions remembered by [`ReturnChecks`]; beyond it, checks wait until old ones are forgotten.
const RETURN_CHECKS_REMEMBERED: usize = 10_000;

/// When each session was last checked at Stripe for a returning buyer. Per server instance, in
/// memory: several instances may each ask once per interval.
#[derive(Default)]
pub struct ReturnChecks {
    last: Mutex<HashMap<String, Instant>>,
}

impl ReturnChecks {
    /// Whether `session_id` may be checked now (and if so, counts this check).
    fn allow(&self, session_id: &str) -> bool {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.get(session_id).is_some_and(|at| now.duration_since(*at) < RETURN_CHECK_INTERVAL) {
            return false;
        }
        if last.len() >= RETURN_CHECKS_REMEMBERED {
            last.retain(|_, at| now.duration_since(*at) < RETURN_CHECK_INTERVAL);
            if last.len() >= RETURN_CHECKS_REMEMBERED {
                // Bounded memory and bounded Stripe traffic under a flood: this read stays local.
                return false;
            }
        }
        last.insert(session_id.to_string(), now);
        true
    }
}
