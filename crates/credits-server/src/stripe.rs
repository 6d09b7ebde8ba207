//! The Stripe adapter: a base URL, a secret key and a deadline, so tests point it at a double.
//!
//! It creates Checkout Sessions (with an idempotency key of its own, the org as
//! `client_reference_id`, the org and bundle count in `metadata`) and reads back what a session
//! sold, the charge behind it, the charge's refunds, a dispute, and the sessions created since a
//! moment (for reconciliation). Lists are read page by page to their end. Failures become 502 (Stripe said no, or said something unreadable) or 504 (no answer in
//! time); the server knows nothing else about where Stripe is.

use std::collections::HashMap;

use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    ListCheckoutSession, ProductData, RetrieveCheckoutSession,
};
use stripe_core::charge::RetrieveCharge;
use stripe_core::dispute::RetrieveDispute;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::ListRefund;
use stripe_shared::{
    Charge, CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus, DisputeStatus, PaymentIntent,
};
use stripe_types::{Expandable, List, RangeQueryTs};

use crate::config::{BundlePrice, StripeConfig};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::stripe_transport::StripeHttp;

/// The Stripe client with its configuration.
pub struct Stripe {
    client: StripeHttp,
    config: StripeConfig,
    /// Where each call's latency and outcome is counted; the purchase routines, which all hold
    /// the adapter, count the credits they move there too.
    metrics: Metrics,
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
        let client = StripeHttp::new(&config.api_base, config.secret_key.expose())
            .map_err(|e| Error::Internal(format!("building the Stripe client: {e}")))?;
        Ok(Stripe { client, config, metrics: Metrics::disabled() })
    }

    /// The same client, counting its calls in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Stripe {
        Stripe { metrics, ..self }
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
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
            .within_deadline("create_checkout_session", Retry::UnsavedFailures, || {
                request.customize().request_strategy(RequestStrategy::Idempotent(key.clone())).send(&self.client)
            })
            .await?;
        let url = session.url.clone().ok_or_else(|| Error::Stripe("session created without a url".into()))?;
        Ok(CreatedSession { id: session.id.to_string(), url })
    }

    /// The session as Stripe has it now, with its line items and its payment intent's latest
    /// charge expanded: what fulfilment needs, in one request.
    pub async fn session_with_line_items(&self, id: &str) -> Result<CheckoutSession, Error> {
        let expand = vec!["line_items".to_string(), "payment_intent.latest_charge".to_string()];
        let request = RetrieveCheckoutSession::new(id).expand(expand);
        self.within_deadline("retrieve_checkout_session", Retry::AllTransient, || request.send(&self.client)).await
    }

    /// The charge behind a session's payment intent (its latest), with its receipt: from the
    /// session's expansion when Stripe gave it, otherwise asked for. `None` while there is none.
    pub async fn charge_of_intent(&self, intent: &Expandable<PaymentIntent>) -> Result<Option<ChargeFacts>, Error> {
        match intent {
            Expandable::Object(intent) => self.latest_charge(intent.latest_charge.clone()).await,
            Expandable::Id(id) => self.charge_of_payment_intent(id.as_str()).await,
        }
    }

    /// The charge behind a payment intent (its latest), with its receipt; `None` while the intent
    /// has none.
    pub async fn charge_of_payment_intent(&self, payment_intent_id: &str) -> Result<Option<ChargeFacts>, Error> {
        let request = RetrievePaymentIntent::new(payment_intent_id).expand(vec!["latest_charge".to_string()]);
        let intent =
            self.within_deadline("retrieve_payment_intent", Retry::AllTransient, || request.send(&self.client)).await?;
        self.latest_charge(intent.latest_charge).await
    }

    /// A payment intent's latest charge: as given when expanded, otherwise asked for.
    async fn latest_charge(&self, latest: Option<Expandable<Charge>>) -> Result<Option<ChargeFacts>, Error> {
        match latest {
            None => Ok(None),
            Some(Expandable::Object(charge)) => Ok(Some(ChargeFacts::from(*charge))),
            Some(Expandable::Id(id)) => self.charge(id.as_str()).await.map(Some),
        }
    }

    /// A charge as Stripe has it now.
    pub async fn charge(&self, id: &str) -> Result<ChargeFacts, Error> {
        let request = RetrieveCharge::new(id);
        let charge =
            self.within_deadline("retrieve_charge", Retry::AllTransient, || request.send(&self.client)).await?;
        Ok(ChargeFacts::from(charge))
    }

    /// Every refund of a charge, whatever its status.
    pub async fn refunds_of_charge(&self, charge_id: &str) -> Result<Vec<RefundFacts>, Error> {
        let refunds = self
            .every_item(
                "list_refunds",
                |r: &stripe_shared::Refund| r.id.to_string(),
                |after| {
                    let mut request = ListRefund::new().charge(charge_id).limit(PAGE);
                    if let Some(after) = after {
                        request = request.starting_after(after);
                    }
                    async move { request.send(&self.client).await }
                },
            )
            .await?;
        Ok(refunds
            .into_iter()
            .map(|r| RefundFacts { id: r.id.to_string(), amount: r.amount, status: r.status.unwrap_or_default() })
            .collect())
    }

    /// A dispute as Stripe has it now.
    pub async fn dispute(&self, id: &str) -> Result<DisputeFacts, Error> {
        let request = RetrieveDispute::new(id);
        let dispute =
            self.within_deadline("retrieve_dispute", Retry::AllTransient, || request.send(&self.client)).await?;
        Ok(DisputeFacts {
            id: dispute.id.to_string(),
            charge_id: dispute.charge.id().to_string(),
            amount: dispute.amount,
            status: dispute.status,
        })
    }

    /// The id of the Checkout Session that created a payment intent, if any.
    pub async fn session_of_payment_intent(&self, payment_intent_id: &str) -> Result<Option<String>, Error> {
        let request = ListCheckoutSession::new().payment_intent(payment_intent_id).limit(1);
        let page =
            self.within_deadline("list_checkout_sessions", Retry::AllTransient, || request.send(&self.client)).await?;
        Ok(page.data.first().map(|s| s.id.to_string()))
    }

    /// Every Checkout Session created at or after `since` (Unix seconds), newest first: its id and
    /// whether it is paid.
    pub async fn sessions_created_since(&self, since: i64) -> Result<Vec<(String, bool)>, Error> {
        let sessions = self
            .every_item(
                "list_checkout_sessions",
                |s: &CheckoutSession| s.id.to_string(),
                |after| {
                    let mut request = ListCheckoutSession::new().created(RangeQueryTs::gte(since)).limit(PAGE);
                    if let Some(after) = after {
                        request = request.starting_after(after);
                    }
                    async move { request.send(&self.client).await }
                },
            )
            .await?;
        Ok(sessions
            .into_iter()
            .map(|s| (s.id.to_string(), s.payment_status == CheckoutSessionPaymentStatus::Paid))
            .collect())
    }

    /// Every item of one of Stripe's lists, page after page: `page(after)` asks for the page that
    /// follows the item whose id is `after` (the first page for `None`).
    async fn every_item<T, F, Fut>(
        &self,
        operation: &'static str,
        id_of: impl Fn(&T) -> String,
        page: F,
    ) -> Result<Vec<T>, Error>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<List<T>, StripeError>>,
    {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let list = self.within_deadline(operation, Retry::AllTransient, || page(after.clone())).await?;
            after = list.data.last().map(&id_of);
            items.extend(list.data);
            if !list.has_more || after.is_none() {
                return Ok(items);
            }
        }
    }

    /// Sends, and again while the failure is worth retrying, until the deadline: 504 if it passes,
    /// 502 if Stripe keeps failing or refuses.
    async fn within_deadline<T, F, Fut>(&self, operation: &'static str, retry: Retry, send: F) -> Result<T, Error>
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
                        error @ StripeError::Stripe(_, 404) => Error::StripeNoSuchObject(error.to_string()),
                        other => Error::Stripe(other.to_string()),
                    });
                }
                tracing::warn!(attempt, error = %error, "transient Stripe failure; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
        };
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(self.config.deadline, attempts).await.unwrap_or(Err(Error::StripeTimeout));
        let label = match &outcome {
            Ok(_) => "ok",
            Err(Error::StripeTimeout) => "timeout",
            Err(_) => "error",
        };
        self.metrics.stripe_call(operation, label, started.elapsed());
        outcome
    }
}

/// Items per page of a Stripe list (its maximum).
const PAGE: i64 = 100;

/// What this server reads of a charge.
#[derive(Debug, Clone)]
pub struct ChargeFacts {
    /// `ch_...`.
    pub id: String,
    /// What was charged, in minor units.
    pub amount: i64,
    /// The payment intent that made it.
    pub payment_intent_id: Option<String>,
    /// Stripe's receipt page, when it made one.
    pub receipt_url: Option<String>,
}

impl From<stripe_shared::Charge> for ChargeFacts {
    fn from(charge: stripe_shared::Charge) -> Self {
        ChargeFacts {
            id: charge.id.to_string(),
            amount: charge.amount,
            payment_intent_id: charge.payment_intent.as_ref().map(|pi| pi.id().to_string()),
            receipt_url: charge.receipt_url,
        }
    }
}

/// What this server reads of a refund.
#[derive(Debug, Clone)]
pub struct RefundFacts {
    /// `re_...`.
    pub id: String,
    /// Refunded, in minor units.
    pub amount: i64,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: String,
}

/// What this server reads of a dispute.
#[derive(Debug, Clone)]
pub struct DisputeFacts {
    /// `dp_...`.
    pub id: String,
    /// The disputed charge.
    pub charge_id: String,
    /// Disputed, in minor units.
    pub amount: i64,
    /// Where the dispute stands.
    pub status: DisputeStatus,
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
