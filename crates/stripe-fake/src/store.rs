//! The fake's in-memory account: products, prices, Checkout Sessions and the events emitted, as
//! plain structs behind one mutex. Lists keep creation order (Stripe lists newest first; the
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

#[derive(Debug, Default)]
pub struct Store {
    pub products: Vec<Product>,
    pub prices: Vec<Price>,
    pub sessions: Vec<Session>,
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
}
