//! The fake's in-memory account: products, prices, Checkout Sessions, the payment intents,
//! charges, refunds and disputes behind paid sessions, and the events emitted, as plain structs
//! behind one mutex. Each kind is a [`Table`]: creation order (Stripe lists newest first; the
//! list endpoints reverse it) plus an index by id, so that a lookup costs the same after a long
//! soak as on an empty account. Nothing here knows about HTTP or JSON.

use std::collections::HashMap;

use serde_json::Value;

pub type Metadata = Vec<(String, String)>;

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub metadata: Metadata,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Price {
    pub id: String,
    pub product: String,
    pub currency: String,
    pub unit_amount: i64,
    pub active: bool,
    pub nickname: Option<String>,
    pub lookup_key: Option<String>,
    pub metadata: Metadata,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct LineItem {
    pub id: String,
    pub price: String,
    pub quantity: i64,
    pub description: String,
    pub currency: String,
    /// unit amount × quantity; no discounts nor taxes in the fake.
    pub amount: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Complete => "complete",
            SessionStatus::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Unpaid,
    Paid,
    NoPaymentRequired,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::NoPaymentRequired => "no_payment_required",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub created: i64,
    pub expires_at: i64,
    pub mode: String,
    pub status: SessionStatus,
    pub payment_status: PaymentStatus,
    pub line_items: Vec<LineItem>,
    pub currency: String,
    pub amount_subtotal: i64,
    pub amount_total: i64,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub client_reference_id: Option<String>,
    pub customer_email: Option<String>,
    pub metadata: Metadata,
    pub payment_method_types: Vec<String>,
    pub payment_intent: Option<String>,
    /// Completed unpaid, waiting for `settle_async_payment`.
    pub async_payment_pending: bool,
}

/// Where a payment stands; a session completed unpaid has a `Processing` payment until its
/// asynchronous payment settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    Processing,
    Succeeded,
    Failed,
}

/// The PaymentIntent behind a completed session (`pi_...`).
#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub state: PaymentState,
    pub payment_method_types: Vec<String>,
    pub receipt_email: Option<String>,
    pub client_secret: String,
    /// The charge of its (only) payment attempt.
    pub latest_charge: String,
}

/// The charge of a payment intent (`ch_...`); `amount_refunded` grows with each refund.
#[derive(Debug, Clone)]
pub struct Charge {
    pub id: String,
    pub payment_intent: String,
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub created: i64,
    pub state: PaymentState,
    pub billing_email: Option<String>,
    pub disputed: bool,
}

impl Charge {
    /// What a refund can still give back.
    pub fn refundable(&self) -> i64 {
        self.amount - self.amount_refunded
    }
}

/// A refund of (part of) a charge (`re_...`). The fake's refunds succeed at once; a control
/// endpoint can make one fail afterwards, as a card network sometimes does.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub charge: String,
    pub payment_intent: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub reason: Option<String>,
    pub metadata: Metadata,
    /// Stripe's `failure_reason` once the refund has failed; `None` while it has succeeded.
    pub failure_reason: Option<String>,
}

impl Refund {
    /// Stripe's `status`: `succeeded`, or `failed` after a failure.
    pub fn status(&self) -> &'static str {
        if self.failure_reason.is_some() { "failed" } else { "succeeded" }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeStatus {
    NeedsResponse,
    Won,
    Lost,
}

impl DisputeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::NeedsResponse => "needs_response",
            DisputeStatus::Won => "won",
            DisputeStatus::Lost => "lost",
        }
    }
}

/// A dispute (chargeback) on a charge (`dp_...`), opened and closed by control endpoints.
#[derive(Debug, Clone)]
pub struct Dispute {
    pub id: String,
    pub charge: String,
    pub payment_intent: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub reason: String,
    pub status: DisputeStatus,
}

/// An object that Stripe names by its id.
pub trait Keyed {
    fn id(&self) -> &str;
}

/// Objects of one kind, oldest first, with an index from id to position. Objects are never
/// removed and their ids never change, so the index stays valid.
#[derive(Debug)]
pub struct Table<T> {
    rows: Vec<T>,
    by_id: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { rows: Vec::new(), by_id: HashMap::new() }
    }
}

impl<T: Keyed> Table<T> {
    pub fn push(&mut self, row: T) {
        self.by_id.insert(row.id().to_owned(), self.rows.len());
        self.rows.push(row);
    }
    pub fn get(&self, id: &str) -> Option<&T> {
        self.by_id.get(id).map(|&at| &self.rows[at])
    }
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.by_id.get(id).map(|&at| &mut self.rows[at])
    }
    /// Oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }
}

macro_rules! keyed {
    ($($kind:ty),*) => {
        $(impl Keyed for $kind {
            fn id(&self) -> &str {
                &self.id
            }
        })*
    };
}
keyed!(Product, Price, Session, PaymentIntent, Charge, Refund, Dispute);

#[derive(Debug, Default)]
pub struct Store {
    pub products: Table<Product>,
    pub prices: Table<Price>,
    pub sessions: Table<Session>,
    pub payment_intents: Table<PaymentIntent>,
    pub charges: Table<Charge>,
    pub refunds: Table<Refund>,
    pub disputes: Table<Dispute>,
    /// Every event emitted, oldest first, as sent to webhook endpoints.
    pub events: Vec<Value>,
}

impl Store {
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.get(id)
    }
    pub fn price(&self, id: &str) -> Option<&Price> {
        self.prices.get(id)
    }
    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.get(id)
    }
    pub fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.get_mut(id)
    }
    pub fn payment_intent(&self, id: &str) -> Option<&PaymentIntent> {
        self.payment_intents.get(id)
    }
    pub fn payment_intent_mut(&mut self, id: &str) -> Option<&mut PaymentIntent> {
        self.payment_intents.get_mut(id)
    }
    pub fn charge(&self, id: &str) -> Option<&Charge> {
        self.charges.get(id)
    }
    pub fn charge_mut(&mut self, id: &str) -> Option<&mut Charge> {
        self.charges.get_mut(id)
    }
    pub fn refund(&self, id: &str) -> Option<&Refund> {
        self.refunds.get(id)
    }
    pub fn refund_mut(&mut self, id: &str) -> Option<&mut Refund> {
        self.refunds.get_mut(id)
    }
    pub fn dispute(&self, id: &str) -> Option<&Dispute> {
        self.disputes.get(id)
    }
    pub fn dispute_mut(&mut self, id: &str) -> Option<&mut Dispute> {
        self.disputes.get_mut(id)
    }
}
