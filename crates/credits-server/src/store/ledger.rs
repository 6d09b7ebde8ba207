//! The ledger: append-only (rows are inserted, never updated or deleted). Each org's balance is
//! its sum, kept in `org_balances` by every write in the same transaction, so a balance is one
//! row to read whatever the ledger's length. A checkout session credits the ledger at most once:
//! the unique `checkout_session_id` decides.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Result, Store, Timestamp, on_pool};
use crate::model::{Org, SessionState};

/// The ledger's name for credits bought through Checkout.
const PURCHASE: &str = "purchase";
/// The ledger's name for an administrator's adjustment.
const ADMIN_ADJUSTMENT: &str = "admin_adjustment";

/// Adds a ledger entry's amount to its org's balance; run in the transaction that writes the entry.
const ADD_TO_BALANCE: &str = "INSERT INTO org_balances (org_id, balance) VALUES ($1, $2) \
     ON CONFLICT (org_id) DO UPDATE SET balance = org_balances.balance + excluded.balance";

/// One ledger entry.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    /// Its id (a UUID).
    pub id: String,
    /// Credits added (positive) or removed (negative).
    pub amount: i64,
    /// What kind of entry it is (the API's transaction type).
    pub transaction_type: String,
    /// For people.
    pub description: Option<String>,
    /// Whether Stripe holds a receipt for it (a purchase).
    pub has_receipt: bool,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Credits a paid session, once: the ledger's unique `checkout_session_id` decides which of
    /// several concurrent deliveries inserts. In the same transaction the session becomes paid
    /// and fulfilled, with what Stripe sold. Returns whether this call granted the credits.
    pub async fn fulfil(&self, session_id: &str, org_id: &str, bundles: i64, credits: i64) -> Result<bool> {
        let at = Timestamp::now();
        let inserted = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO ledger (id, org_id, amount, transaction_type, description, checkout_session_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (checkout_session_id) DO NOTHING",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(org_id)
            .bind(credits)
            .bind(PURCHASE)
            .bind(format!("{bundles} credit bundle(s) bought through Stripe Checkout"))
            .bind(session_id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if inserted {
                sqlx::query(ADD_TO_BALANCE).bind(org_id).bind(credits).execute(&mut *tx).await?;
            }
            sqlx::query(
                "UPDATE checkout_sessions SET status = $1, payment_status = $2, bundles = $3, credits = $4, \
                 fulfilled_at = COALESCE(fulfilled_at, $5) WHERE id = $6",
            )
            .bind(SessionState::PAID.status.as_str())
            .bind(SessionState::PAID.payment.as_str())
            .bind(bundles)
            .bind(credits)
            .bind(at)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            inserted
        });
        Ok(inserted)
    }

    /// An administrator's adjustment of an org's balance.
    pub async fn grant(&self, org: &Org, amount: i64, reason: &str) -> Result<()> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO ledger (id, org_id, amount, transaction_type, description, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(&org.id)
            .bind(amount)
            .bind(ADMIN_ADJUSTMENT)
            .bind(reason)
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?;
            sqlx::query(ADD_TO_BALANCE).bind(&org.id).bind(amount).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The balance: the sum of the ledger, as `org_balances` keeps it.
    pub async fn balance(&self, org: &Org) -> Result<i64> {
        on_pool!(self, |pool| {
            let balance: Option<i64> = sqlx::query("SELECT balance FROM org_balances WHERE org_id = $1")
                .bind(&org.id)
                .fetch_optional(pool)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            Ok(balance.unwrap_or(0))
        })
    }

    /// The balance as the sum of the ledger itself: what `org_balances` must always equal.
    pub async fn ledger_sum(&self, org: &Org) -> Result<i64> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger WHERE org_id = $1")
                .bind(&org.id)
                .fetch_one(pool)
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    /// The newest `limit` entries, of the given types (all when empty).
    pub async fn transactions(&self, org: &Org, limit: i64, types: &[String]) -> Result<Vec<LedgerEntry>> {
        let mut sql = String::from(
            "SELECT id, amount, transaction_type, description, checkout_session_id, created_at FROM ledger \
             WHERE org_id = $1",
        );
        if !types.is_empty() {
            let placeholders: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 2)).collect();
            sql.push_str(&format!(" AND transaction_type IN ({})", placeholders.join(", ")));
        }
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", types.len() + 2));
        on_pool!(self, |pool| {
            let mut query = sqlx::query(&sql).bind(&org.id);
            for t in types {
                query = query.bind(t);
            }
            let rows = query.bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let session: Option<String> = r.try_get(4)?;
                    Ok(LedgerEntry {
                        id: r.try_get(0)?,
                        amount: r.try_get(1)?,
                        transaction_type: r.try_get(2)?,
                        description: r.try_get(3)?,
                        has_receipt: session.is_some(),
                        created_at: r.try_get::<Timestamp, _>(5)?.0,
                    })
                })
                .collect()
        })
    }
}
