//! Buying credits (the rules are in `docs/purchase.md` and `docs/money.md`): creating a Checkout
//! Session, with the `Idempotency-Key` protocol around the Stripe call (`checkout`); granting the
//! credits on Stripe's word, from its signed webhook events (`webhook`), the buyer's return or a
//! reconciliation run (`fulfilment`, `reconcile`); and taking them back on refunds and disputes
//! (`reversal`).
//!
//! This module decides; the store keeps, and the Stripe adapter talks to Stripe. The HTTP layer
//! above only extracts, calls in here and maps the answer.

mod checkout;
mod fulfilment;
mod reconcile;
mod reversal;
mod webhook;

pub use checkout::{Order, create_checkout_session, session};
pub use fulfilment::{ReturnChecks, refresh_on_return};
pub use reconcile::{Reconciliation, reconcile};
pub use webhook::receive_webhook;
