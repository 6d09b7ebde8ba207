//! The server's nouns, shared by the domain modules and the store: who calls (`Caller`), in which
//! organisation (`Org`) with which `Role`, and the states a checkout session moves through
//! (`SessionStatus`, `PaymentStatus`). Their text forms, as stored and as Stripe spells them,
//! are written here and nowhere else.

/// A member's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Holds billing rights.
    Owner,
    /// Holds billing rights.
    Admin,
    /// May only read.
    Member,
}

impl Role {
    /// The role named `text` (`owner`, `admin`, `member`).
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// The role's name, as stored and as the admin commands take it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// The role's standing: a role may do what every role of a lesser rank may do.
    pub fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Member => 1,
        }
    }

    /// This role, limited to what `cap` may do: the lesser of the two.
    pub fn capped_by(self, cap: Role) -> Role {
        if self.rank() <= cap.rank() { self } else { cap }
    }

    /// Owners and admins hold billing rights; members may only read.
    pub fn may_buy(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// An organisation.
#[derive(Debug, Clone)]
pub struct Org {
    /// Its stable id (a UUID).
    pub id: String,
    /// The name in URLs.
    pub slug: String,
    /// The name people read.
    pub name: String,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token presented.
    pub token_id: String,
    /// Its holder (the user of the token's membership).
    pub user_id: String,
}

/// Where a checkout session stands, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Created; the buyer has not finished.
    Open,
    /// The buyer finished (the payment may still be pending or have failed).
    Complete,
    /// Nobody paid in time.
    Expired,
}

impl SessionStatus {
    /// Stripe's (and the store's) name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Complete => "complete",
            SessionStatus::Expired => "expired",
        }
    }

    /// The status named `text`.
    pub fn parse(text: &str) -> Option<SessionStatus> {
        match text {
            "open" => Some(SessionStatus::Open),
            "complete" => Some(SessionStatus::Complete),
            "expired" => Some(SessionStatus::Expired),
            _ => None,
        }
    }
}

/// Whether a checkout session's money arrived, as Stripe names it (`failed` is ours: Stripe
/// reports it as an event, `checkout.session.async_payment_failed`, not as a payment status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Not paid (yet).
    Unpaid,
    /// Paid.
    Paid,
    /// A delayed payment failed.
    Failed,
}

impl PaymentStatus {
    /// The store's name of the payment status (Stripe's, where Stripe has one).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
        }
    }

    /// The payment status named `text`.
    pub fn parse(text: &str) -> Option<PaymentStatus> {
        match text {
            "unpaid" => Some(PaymentStatus::Unpaid),
            "paid" => Some(PaymentStatus::Paid),
            "failed" => Some(PaymentStatus::Failed),
            _ => None,
        }
    }
}

/// A session's status and payment status together: what webhook events move forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionState {
    /// Where the session stands.
    pub status: SessionStatus,
    /// Whether its money arrived.
    pub payment: PaymentStatus,
}

impl SessionState {
    /// A session just created.
    pub const OPEN: SessionState = SessionState { status: SessionStatus::Open, payment: PaymentStatus::Unpaid };
    /// A session paid for.
    pub const PAID: SessionState = SessionState { status: SessionStatus::Complete, payment: PaymentStatus::Paid };

    /// How far along the session is. Events arrive out of order, so a state only ever gives way
    /// to one further along: paid beats everything; expired or failed beat a completion still
    /// unpaid; that beats open.
    pub fn rank(self) -> u8 {
        match (self.status, self.payment) {
            (_, PaymentStatus::Paid) => 3,
            (SessionStatus::Expired, _) | (_, PaymentStatus::Failed) => 2,
            (SessionStatus::Complete, _) => 1,
            (SessionStatus::Open, _) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in [SessionStatus::Open, SessionStatus::Complete, SessionStatus::Expired] {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
        }
        for payment in [PaymentStatus::Unpaid, PaymentStatus::Paid, PaymentStatus::Failed] {
            assert_eq!(PaymentStatus::parse(payment.as_str()), Some(payment));
        }
        for role in [Role::Owner, Role::Admin, Role::Member] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn states_only_move_forward() {
        let unpaid = SessionState { status: SessionStatus::Complete, payment: PaymentStatus::Unpaid };
        let failed = SessionState { status: SessionStatus::Complete, payment: PaymentStatus::Failed };
        let expired = SessionState { status: SessionStatus::Expired, payment: PaymentStatus::Unpaid };
        assert!(SessionState::OPEN.rank() < unpaid.rank());
        assert!(unpaid.rank() < failed.rank() && unpaid.rank() < expired.rank());
        assert!(failed.rank() < SessionState::PAID.rank() && expired.rank() < SessionState::PAID.rank());
    }
}
