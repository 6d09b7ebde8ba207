//! The Stripe adapter: a base URL, a secret key and a deadline, so tests point it at a double.
//!
//! It creates Checkout Sessions (with an idempotency key of its own, the org as
//! `client_reference_id`, the org and bundle count in `metadata`) and reads back what a session
//! sold. Failures become 502 (Stripe said no, or said something unreadable) or 504 (no answer in
//! time); the server knows nothing else about where Stripe is.

use std::collections::HashMap;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData, ProductData,
    RetrieveCheckoutSession,
};
use stripe_shared::{CheckoutSession, CheckoutSessionMode};

use crate::config::{BundlePrice, StripeConfig};
use crate::error::Error;

/// The Stripe client with its configuration.
pub struct Stripe {
    client: Client,
    config: StripeConfig,
}

/// A session Stripe created.
pub struct CreatedSession {
    /// Stripe's id (`cs_...`).
    pub id: String,
    /// Where the buyer pays.
    pub url: String,
}

impl Stripe {
    /// A client for `config` (nothing is sent yet).
    pub fn new(config: StripeConfig) -> Result<Stripe, Error> {
        let client = ClientBuilder::new(config.secret_key.expose())
            .url(config.api_base.clone())
            .build()
            .map_err(|e| Error::Internal(format!("building the Stripe client: {e}")))?;
        Ok(Stripe { client, config })
    }

    /// Creates a payment-mode session for `bundles` bundles of `price`.
    pub async fn create_session(
        &self,
        idempotency_key: &str,
        org_slug: &str,
        bundles: u64,
        price: &BundlePrice,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<CreatedSession, Error> {
        let mut item = CreateCheckoutSessionLineItems::new();
        item.quantity = Some(bundles);
        match price {
            BundlePrice::PriceId(id) => item.price = Some(id.clone()),
            BundlePrice::Amount { unit_amount, currency } => {
                let currency: stripe_types::Currency = currency
                    .to_lowercase()
                    .parse()
                    .map_err(|_| Error::Internal(format!("unknown currency {currency:?}")))?;
                let mut data = CreateCheckoutSessionLineItemsPriceData::new(currency);
                data.unit_amount = Some(*unit_amount);
                data.product_data = Some(ProductData::new("Credit bundle"));
                item.price_data = Some(data);
            }
        }
        let metadata =
            HashMap::from([("org".to_string(), org_slug.to_string()), ("bundles".to_string(), bundles.to_string())]);
        let request = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .success_url(success_url)
            .cancel_url(cancel_url)
            .client_reference_id(org_slug)
            .metadata(metadata);
        let key = IdempotencyKey::new(idempotency_key).map_err(|e| Error::Internal(format!("idempotency key: {e}")))?;
        let session = self
            .within_deadline(Retry::UnsavedFailures, || {
                request.customize().request_strategy(RequestStrategy::Idempotent(key.clone())).send(&self.client)
            })
            .await?;
        let url = session.url.clone().ok_or_else(|| Error::Stripe("session created without a url".into()))?;
        Ok(CreatedSession { id: session.id.to_string(), url })
    }

    /// The session with its line items, as Stripe has it now.
    pub async fn session_with_line_items(&self, id: &str) -> Result<CheckoutSession, Error> {
        let request = RetrieveCheckoutSession::new(id).expand(vec!["line_items".to_string()]);
        self.within_deadline(Retry::AllTransient, || request.send(&self.client)).await
    }

    /// Sends, and again while the failure is worth retrying, until the deadline: 504 if it passes,
    /// 502 if Stripe keeps failing or refuses.
    async fn within_deadline<T, F, Fut>(&self, retry: Retry, send: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, StripeError>>,
    {
        let attempts = async {
            let mut backoff = std::time::Duration::from_millis(100);
            let mut attempt = 1;
            loop {
                let error = match send().await {
                    Ok(value) => return Ok(value),
                    Err(StripeError::Timeout) => return Err(Error::StripeTimeout),
                    Err(e) => e,
                };
                if attempt >= MAX_ATTEMPTS || !retry.covers(&error) {
                    return Err(match error {
                        StripeError::ClientError(cause) => Error::StripeUnreachable(cause),
                        other => Error::Stripe(other.to_string()),
                    });
                }
                tracing::warn!(attempt, error = %error, "transient Stripe failure; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
        };
        tokio::time::timeout(self.config.deadline, attempts).await.unwrap_or(Err(Error::StripeTimeout))
    }
}

/// Which failures a call retries (with the same idempotency key).
#[derive(Clone, Copy)]
enum Retry {
    /// Reads: any transient failure.
    AllTransient,
    /// Idempotent writes: only failures Stripe does not save under the key (a network failure, a
    /// concurrent request, rate limiting). Stripe replays a saved 5xx for the same key, so
    /// retrying one would only repeat it.
    UnsavedFailures,
}

impl Retry {
    fn covers(self, error: &StripeError) -> bool {
        match error {
            StripeError::ClientError(_) => true,
            StripeError::Stripe(_, status) => {
                *status == 409 || *status == 429 || (matches!(self, Retry::AllTransient) && *status >= 500)
            }
            _ => false,
        }
    }
}

/// Attempts per Stripe call.
const MAX_ATTEMPTS: u32 = 3;

/// How many bundles a session sold, from its line items: only items at the configured price count.
pub fn bundles_sold(session: &CheckoutSession, price: &BundlePrice) -> Result<u64, Error> {
    let items = session.line_items.as_ref().ok_or_else(|| Error::Stripe("session without line items".into()))?;
    let mut bundles = 0;
    for item in &items.data {
        let Some(item_price) = &item.price else { continue };
        let matches = match price {
            BundlePrice::PriceId(id) => item_price.id.as_str() == id,
            BundlePrice::Amount { unit_amount, currency } => {
                item_price.unit_amount == Some(*unit_amount)
                    && item_price.currency.to_string().eq_ignore_ascii_case(currency)
            }
        };
        if matches {
            bundles += item.quantity.unwrap_or(0);
        }
    }
    Ok(bundles)
}
