//! stripe-fake driven by the real async-stripe client: one test binary, one fake per test.

mod checkout;
mod cli;
mod faults;
mod helpers;
mod idempotency;
mod modules;
mod money;
mod webhooks;
