//! Granting credits on Stripe's word (`docs/purchase.md`, "Fulfilment"): a paid session grants
//! bundles × credits-per-bundle, counted from the line items Stripe reports at the price the
//! session was sold at, once, with the payment intent, charge and receipt behind it; sessions
//! that failed or expired move forward to that state.
//!
//! [`fulfil`] is the one routine that grants a session: the webhook (`webhook`), the buyer's
//! return ([`refresh_on_return`]) and `admin reconcile` (`reconcile`) all call it, and it is safe
//! to run from all three at once (the ledger's unique `checkout_session_id` decides).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stripe_shared::{CheckoutSessionPaymentStatus, CheckoutSessionStatus};

use crate::ServerContext;
use crate::error::Error;
use crate::model::{PaymentStatus, SessionState, SessionStatus};
use crate::store::{Payment, Store};
use crate::stripe::{Stripe, bundles_sold};

/// Moves an unfulfilled session to `next` if that is further along ([`SessionState::rank`]):
/// events arrive out of order, so a late `completed` (unpaid) must not undo a `failed` or
/// `expired` that came first, and nothing changes a fulfilled session. Compare-and-set: when
/// another event moved the session meanwhile, look again (the rank only grows, so this ends).
pub(super) async fn advance(store: &Store, session_id: &str, next: SessionState) -> Result<(), Error> {
    for _ in 0..=SessionState::PAID.rank() {
        let Some(current) = store.unfulfilled_session_state(session_id).await? else { return Ok(()) };
        if current.rank() >= next.rank() || store.replace_session_state(session_id, current, next).await? {
            return Ok(());
        }
    }
    Err(Error::Internal(format!("session {session_id} kept changing state")))
}

pub(super) const EXPIRED: SessionState =
    SessionState { status: SessionStatus::Expired, payment: PaymentStatus::Unpaid };

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
        if let Some(charge) = stripe.charge_of_intent(intent).await? {
            payment.charge_id = Some(charge.id);
            payment.receipt_url = charge.receipt_url;
        }
    }
    let credits = bundles * terms.credits_per_bundle;
    let granted = store.fulfil(session_id, &terms.org_id, bundles, credits, &payment).await?;
    if granted {
        stripe.metrics().credits_granted(credits);
    }
    tracing::info!(session = %session_id, bundles, credits, granted, "checkout session fulfilled");
    Ok(Fulfilment::Granted(granted))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_checks_are_bounded_and_forget_sessions_whose_interval_passed() {
        let checks = ReturnChecks::default();
        assert!(checks.allow("cs_0"));
        assert!(!checks.allow("cs_0"), "once per interval");
        for i in 1..RETURN_CHECKS_REMEMBERED {
            assert!(checks.allow(&format!("cs_{i}")));
        }
        // Full of sessions checked within the interval: a new one stays local, so memory and the
        // traffic to Stripe stay bounded under a flood.
        assert!(!checks.allow("cs_new"));
        std::thread::sleep(RETURN_CHECK_INTERVAL + Duration::from_millis(100));
        assert!(checks.allow("cs_new"), "sessions whose interval has passed are forgotten");
        assert!(checks.allow("cs_0"));
    }
}
