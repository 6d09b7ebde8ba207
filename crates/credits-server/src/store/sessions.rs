//! Checkout sessions: recorded when Stripe creates them, with the terms they were sold on; their
//! state as Stripe's events report it. (Granting a session's credits is in `ledger`, which
//! marks it fulfilled in the same transaction.)

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store, StoreError, Timestamp, on_connection, write_tx};
use crate::config::BundlePrice;
use crate::model::{Org, PaymentStatus, SessionState, SessionStatus};

/// A session as the org sees it.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Stripe's id.
    pub id: String,
    /// Bundles bought (as Stripe reported them once fulfilled).
    pub bundles: i64,
    /// Credits they grant.
    pub credits: i64,
    /// Its status and payment status.
    pub state: SessionState,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its credits were granted.
    pub fulfilled_at: Option<DateTime<Utc>>,
}

/// A session to record.
pub struct NewSession<'a> {
    /// Stripe's id.
    pub id: &'a str,
    /// The org buying.
    pub org: &'a Org,
    /// The member who started it.
    pub user_id: &'a str,
    /// Bundles asked for.
    pub bundles: i64,
    /// The price of a bundle in force.
    pub price: &'a BundlePrice,
    /// The credits per bundle in force.
    pub credits_per_bundle: i64,
    /// Where the buyer pays.
    pub url: &'a str,
}

/// What a session was sold on.
#[derive(Debug, Clone)]
pub struct SessionTerms {
    /// The org that bought.
    pub org_id: String,
    /// The price of a bundle when it was created.
    pub price: BundlePrice,
    /// The credits per bundle when it was created.
    pub credits_per_bundle: i64,
    /// Whether its credits were already granted.
    pub fulfilled: bool,
    /// The credits granted, once fulfilled (what refunds and disputes take back from).
    pub credits: i64,
}

fn state(status: &str, payment: &str) -> Result<SessionState> {
    match (SessionStatus::parse(status), PaymentStatus::parse(payment)) {
        (Some(status), Some(payment)) => Ok(SessionState { status, payment }),
        _ => Err(StoreError::Invalid(format!("unknown session state {status:?}/{payment:?}"))),
    }
}

impl Store {
    /// Records a session Stripe created, open and unpaid, with the price and credits per bundle
    /// it was sold at.
    pub async fn insert_session(&self, new: &NewSession<'_>) -> Result<()> {
        let (price_id, unit_amount, currency) = match new.price {
            BundlePrice::PriceId(id) => (Some(id.clone()), None, None),
            BundlePrice::Amount { unit_amount, currency } => (None, Some(*unit_amount), Some(currency.clone())),
        };
        let (id, org_id, user_id, url) =
            (new.id.to_string(), new.org.id.clone(), new.user_id.to_string(), new.url.to_string());
        let (bundles, credits_per_bundle) = (new.bundles, new.credits_per_bundle);
        write_tx!(
            self,
            autocommit | conn | {
                sqlx::query(
                    "INSERT INTO checkout_sessions (id, org_id, created_by, bundles, credits, price_id, unit_amount, \
                 currency, credits_per_bundle, status, payment_status, checkout_url, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&id)
                .bind(&org_id)
                .bind(&user_id)
                .bind(bundles)
                .bind(bundles * credits_per_bundle)
                .bind(&price_id)
                .bind(unit_amount)
                .bind(&currency)
                .bind(credits_per_bundle)
                .bind(SessionState::OPEN.status.as_str())
                .bind(SessionState::OPEN.payment.as_str())
                .bind(&url)
                .bind(Timestamp::now())
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        )
    }

    /// One of the org's sessions.
    pub async fn session(&self, org: &Org, id: &str) -> Result<Option<SessionRecord>> {
        on_connection!(self, |conn| {
            let row = sqlx::query(
                "SELECT id, bundles, credits, status, payment_status, created_at, fulfilled_at \
                 FROM checkout_sessions WHERE org_id = $1 AND id = $2",
            )
            .bind(&org.id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
            let Some(r) = row else { return Ok(None) };
            Ok(Some(SessionRecord {
                id: r.try_get(0)?,
                bundles: r.try_get(1)?,
                credits: r.try_get(2)?,
                state: state(r.try_get(3)?, r.try_get(4)?)?,
                created_at: r.try_get::<Timestamp, _>(5)?.0,
                fulfilled_at: r.try_get::<Option<Timestamp>, _>(6)?.map(|t| t.0),
            }))
        })
    }

    /// The org a checkout session belongs to and the terms it was sold on, for webhook events.
    pub async fn session_terms(&self, id: &str) -> Result<Option<SessionTerms>> {
        on_connection!(self, |conn| {
            let row = sqlx::query(
                "SELECT org_id, price_id, unit_amount, currency, credits_per_bundle, fulfilled_at, credits \
                 FROM checkout_sessions WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(conn)
            .await?;
            let Some(r) = row else { return Ok(None) };
            let price_id: Option<String> = r.try_get(1)?;
            let unit_amount: Option<i64> = r.try_get(2)?;
            let currency: Option<String> = r.try_get(3)?;
            let price = match (price_id, unit_amount, currency) {
                (Some(id), _, _) => BundlePrice::PriceId(id),
                (None, Some(unit_amount), Some(currency)) => BundlePrice::Amount { unit_amount, currency },
                _ => return Err(StoreError::Invalid(format!("session {id} has no price"))),
            };
            let fulfilled_at: Option<Timestamp> = r.try_get(5)?;
            Ok(Some(SessionTerms {
                org_id: r.try_get(0)?,
                price,
                credits_per_bundle: r.try_get(4)?,
                fulfilled: fulfilled_at.is_some(),
                credits: r.try_get(6)?,
            }))
        })
    }

    /// The session this server recorded paying through `payment_intent_id` (known once fulfilled).
    pub async fn session_by_payment_intent(&self, payment_intent_id: &str) -> Result<Option<String>> {
        on_connection!(self, |conn| {
            let row = sqlx::query("SELECT id FROM checkout_sessions WHERE payment_intent_id = $1")
                .bind(payment_intent_id)
                .fetch_optional(conn)
                .await?;
            row.map(|r| r.try_get(0)).transpose().map_err(StoreError::from)
        })
    }

    /// The state of a session not yet fulfilled (`None` when unknown or fulfilled).
    pub async fn unfulfilled_session_state(&self, id: &str) -> Result<Option<SessionState>> {
        on_connection!(self, |conn| {
            let row = sqlx::query(
                "SELECT status, payment_status FROM checkout_sessions WHERE id = $1 AND fulfilled_at IS NULL",
            )
            .bind(id)
            .fetch_optional(conn)
            .await?;
            row.map(|r| state(r.try_get(0)?, r.try_get(1)?)).transpose()
        })
    }

    /// Compare-and-set: moves an unfulfilled session from state `from` to `to`; false when its
    /// state was no longer `from` (another event got there first) or it was fulfilled.
    pub async fn replace_session_state(&self, id: &str, from: SessionState, to: SessionState) -> Result<bool> {
        let changed = on_connection!(self, |conn| {
            sqlx::query(
                "UPDATE checkout_sessions SET status = $1, payment_status = $2 \
                 WHERE id = $3 AND fulfilled_at IS NULL AND status = $4 AND payment_status = $5",
            )
            .bind(to.status.as_str())
            .bind(to.payment.as_str())
            .bind(id)
            .bind(from.status.as_str())
            .bind(from.payment.as_str())
            .execute(conn)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }
}
