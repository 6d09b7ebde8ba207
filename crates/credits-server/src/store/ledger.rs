//! The ledger: append-only (rows are inserted, never updated or deleted). Each org's balance is
//! its sum, kept in `org_balances` by every write in the same transaction, so a balance is one
//! row to read whatever the ledger's length. A checkout session credits the ledger at most once:
//! the unique `checkout_session_id` decides; an entry answering for a Stripe refund or dispute is
//! written at most once: the unique `source_key` decides.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Result, Store, Timestamp, on_pool, write_tx};
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
    /// Stripe's receipt for the charge behind it, when the charge has one.
    pub receipt_url: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// What Stripe made for a paid session: its payment intent and charge, and the charge's receipt.
#[derive(Debug, Clone, Default)]
pub struct Payment {
    /// `pi_...`, when the session had one.
    pub payment_intent_id: Option<String>,
    /// `ch_...`, the payment intent's charge.
    pub charge_id: Option<String>,
    /// The charge's receipt page, when Stripe made one.
    pub receipt_url: Option<String>,
}

/// An entry answering for one Stripe object (a refund, a dispute, a dispute won).
pub struct SourcedEntry<'a> {
    /// The org whose balance changes.
    pub org_id: &'a str,
    /// Credits added (positive) or removed (negative).
    pub amount: i64,
    /// The API's transaction type (`refund`, `dispute`, `dispute_reversal`).
    pub transaction_type: &'a str,
    /// For people.
    pub description: String,
    /// What makes it unique: `refund:re_...`, `dispute:dp_...`, `dispute_reversal:dp_...`.
    pub source_key: String,
    /// Stripe's receipt for the charge, shown with the entry.
    pub receipt_url: Option<&'a str>,
}

impl Store {
    /// Credits a paid session, once: the ledger's unique `checkout_session_id` decides which of
    /// several concurrent deliveries inserts. In the same transaction the session becomes paid
    /// and fulfilled, with what Stripe sold and the payment behind it. Returns whether this call
    /// granted the credits.
    pub async fn fulfil(
        &self,
        session_id: &str,
        org_id: &str,
        bundles: i64,
        credits: i64,
        payment: &Payment,
    ) -> Result<bool> {
        let at = Timestamp::now();
        let (session_id, org_id, payment) = (session_id.to_string(), org_id.to_string(), payment.clone());
        let inserted = write_tx!(self, |conn| {
            let inserted = sqlx::query(
                "INSERT INTO ledger (id, org_id, amount, transaction_type, description, checkout_session_id, \
                 created_at, receipt_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (checkout_session_id) DO NOTHING",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(&org_id)
            .bind(credits)
            .bind(PURCHASE)
            .bind(format!("{bundles} credit bundle(s) bought through Stripe Checkout"))
            .bind(&session_id)
            .bind(at)
            .bind(&payment.receipt_url)
            .execute(&mut *conn)
            .await?
            .rows_affected()
                > 0;
            if inserted {
                sqlx::query(ADD_TO_BALANCE).bind(&org_id).bind(credits).execute(&mut *conn).await?;
            }
            sqlx::query(
                "UPDATE checkout_sessions SET status = $1, payment_status = $2, bundles = $3, credits = $4, \
                 fulfilled_at = COALESCE(fulfilled_at, $5), payment_intent_id = $6, charge_id = $7, \
                 receipt_url = $8 WHERE id = $9 AND fulfilled_at IS NULL",
            )
            .bind(SessionState::PAID.status.as_str())
            .bind(SessionState::PAID.payment.as_str())
            .bind(bundles)
            .bind(credits)
            .bind(at)
            .bind(&payment.payment_intent_id)
            .bind(&payment.charge_id)
            .bind(&payment.receipt_url)
            .bind(&session_id)
            .execute(&mut *conn)
            .await?;
            Ok(inserted)
        })?;
        Ok(inserted)
    }

    /// Writes an entry answering for one Stripe object, once: the ledger's unique `source_key`
    /// decides which of several concurrent deliveries inserts; the balance moves with it in the
    /// same transaction. Returns whether this call wrote it.
    pub async fn insert_sourced_entry(&self, entry: &SourcedEntry<'_>) -> Result<bool> {
        let inserted = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO ledger (id, org_id, amount, transaction_type, description, source_key, receipt_url, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source_key) DO NOTHING",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(entry.org_id)
            .bind(entry.amount)
            .bind(entry.transaction_type)
            .bind(&entry.description)
            .bind(&entry.source_key)
            .bind(entry.receipt_url)
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if inserted {
                sqlx::query(ADD_TO_BALANCE).bind(entry.org_id).bind(entry.amount).execute(&mut *tx).await?;
            }
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

    /// A page of the org's entries, newest first: the newest `limit` of the given types (all when
    /// empty), older than the entry `before` when given. Pages are cut on `seq`, the ledger's
    /// insertion order, which is total (entries written in the same instant still have distinct
    /// places) and indexed with the org (`ledger_org (org_id, seq)`), so a page deep in a long
    /// history costs what the first one does. `Ok(None)`: `before` is not one of the org's
    /// entries (checked only when the page comes back empty, so a page costs one query).
    pub async fn transactions(
        &self,
        org: &Org,
        limit: i64,
        types: &[String],
        before: Option<&str>,
    ) -> Result<Option<Vec<LedgerEntry>>> {
        let mut sql = String::from(
            "SELECT id, amount, transaction_type, description, receipt_url, created_at FROM ledger \
             WHERE org_id = $1",
        );
        let mut next = 2;
        if before.is_some() {
            sql.push_str(&format!(" AND seq < (SELECT seq FROM ledger WHERE id = ${next} AND org_id = $1)"));
            next += 1;
        }
        if !types.is_empty() {
            let placeholders: Vec<String> = (next..next + types.len()).map(|i| format!("${i}")).collect();
            sql.push_str(&format!(" AND transaction_type IN ({})", placeholders.join(", ")));
            next += types.len();
        }
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${next}"));
        let page = self.page(&sql, org, before, types, limit).await?;
        if let Some(before) = before
            && page.is_empty()
            && !self.has_entry(org, before).await?
        {
            return Ok(None);
        }
        Ok(Some(page))
    }

    /// Whether `id` is one of the org's ledger entries.
    async fn has_entry(&self, org: &Org, id: &str) -> Result<bool> {
        on_pool!(self, |pool| {
            let found = sqlx::query("SELECT 1 FROM ledger WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(&org.id)
                .fetch_optional(pool)
                .await?;
            Ok(found.is_some())
        })
    }

    /// Runs the page query `transactions` built, binding in the order it numbered the parameters.
    async fn page(
        &self,
        sql: &str,
        org: &Org,
        before: Option<&str>,
        types: &[String],
        limit: i64,
    ) -> Result<Vec<LedgerEntry>> {
        on_pool!(self, |pool| {
            let mut query = sqlx::query(sql).bind(&org.id);
            if let Some(before) = before {
                query = query.bind(before);
            }
            for t in types {
                query = query.bind(t);
            }
            let rows = query.bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(LedgerEntry {
                        id: r.try_get(0)?,
                        amount: r.try_get(1)?,
                        transaction_type: r.try_get(2)?,
                        description: r.try_get(3)?,
                        receipt_url: r.try_get(4)?,
                        created_at: r.try_get::<Timestamp, _>(5)?.0,
                    })
                })
                .collect()
        })
    }
}
