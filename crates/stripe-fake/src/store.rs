//! The fake's in-memory account: products, prices, Checkout Sessions, the payment intents,
//! charges, refunds and disputes behind paid sessions, and the events emitted, as plain structs
//! behind one mutex. Lists keep creation order (Stripe lists newest first; the
//! builders in `objects.rs` reverse them). Nothing here knows about HTTP or JSON.

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

/// A refund of (part of) a charge (`re_...`). The fake's refunds succeed at once.
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

#[derive(Debug, Default)]
pub struct Store {
    pub products: Vec<Product>,
    pub prices: Vec<Price>,
    pub sessions: Vec<Session>,
    pub payment_intents: Vec<PaymentIntent>,
    pub charges: Vec<Charge>,
    pub refunds: Vec<Refund>,
    pub disputes: Vec<Dispute>,
    /// Every event emitted, oldest first, as sent to webhook endpoints.
    pub events: Vec<Value>,
}

impl Store {
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
    pub fn price(&self, id: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.id == id)
    }
    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }
    pub fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }
    pub fn payment_intent(&self, id: &str) -> Option<&PaymentIntent> {
        self.payment_intents.iter().find(|p| p.id == id)
    }
    pub fn payment_intent_mut(&mut self, id: &str) -> Option<&mut PaymentIntent> {
        self.payment_intents.iter_mut().find(|p| p.id == id)
    }
    pub fn charge(&self, id: &str) -> Option<&Charge> {
        self.charges.iter().find(|c| c.id == id)
    }
    pub fn charge_mut(&mut self, id: &str) -> Option<&mut Charge> {
        self.charges.iter_mut().find(|c| c.id == id)
    }
    pub fn refund(&self, id: &str) -> Option<&Refund> {
        self.refunds.iter().find(|r| r.id == id)
    }
    pub fn dispute(&self, id: &str) -> Option<&Dispute> {
        self.disputes.iter().find(|d| d.id == id)
    }
    pub fn dispute_mut(&mut self, id: &str) -> Option<&mut Dispute> {
        self.disputes.iter_mut().find(|d| d.id == id)
    }
}
