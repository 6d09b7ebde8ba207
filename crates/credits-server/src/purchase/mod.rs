//! Buying credits (the rules are in `docs/purchase.md`): creating a Checkout Session, with the
//! `Idempotency-Key` protocol around the Stripe call (`checkout`), and granting the credits on
//! Stripe's word, from its signed webhook events (`fulfilment`).
//!
//! This module decides; the store keeps, and the Stripe adapter talks to Stripe. The HTTP layer
//! above only extracts, calls in here and maps the answer.

mod checkout;
mod fulfilment;

pub use checkout::{Order, create_checkout_session, session};
pub use fulfilment::receive_webhook;
