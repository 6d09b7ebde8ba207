//! Identifiers that look like Stripe's (`cs_test_a1…`, `price_…`, `evt_…`): a prefix and random
//! alphanumerics. Only the prefix carries meaning; the lengths follow Stripe's usual ones.

use rand::Rng;
use rand::distr::Alphanumeric;

fn random(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

pub fn checkout_session() -> String {
    format!("cs_test_a1{}", random(54))
}
pub fn price() -> String {
    format!("price_{}", random(24))
}
pub fn product() -> String {
    format!("prod_{}", random(14))
}
pub fn line_item() -> String {
    format!("li_{}", random(24))
}
pub fn payment_intent() -> String {
    format!("pi_{}", random(24))
}
pub fn charge() -> String {
    format!("ch_{}", random(24))
}
pub fn refund() -> String {
    format!("re_{}", random(24))
}
pub fn dispute() -> String {
    format!("dp_{}", random(24))
}
/// A PaymentIntent's `client_secret`: its id, `_secret_`, random characters.
pub fn client_secret(payment_intent: &str) -> String {
    format!("{payment_intent}_secret_{}", random(25))
}
pub fn event() -> String {
    format!("evt_{}", random(24))
}
pub fn request() -> String {
    format!("req_{}", random(14))
}
