//! The ledger: append-only (rows are inserted, never updated or deleted). Each org's balance is
//! its sum, kept in `org_balances` by every write in the same transaction, so a balance is one
//! row to read whatever the ledger's length. A checkout session credits the ledger at most once:
//! the unique `checkout_session_id` decides; an entry answering for a Stripe refund or dispute is
//! written at most once: the unique `source_key` decides.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Connection, Row};
use uuid::Uuid;

use super::{Result, Store, StoreError, Timestamp, on_connection, write_tx};
use crate::model::{Org, SessionState};

/// The ledger's name for credits bought through Checkout.
const PURCHASE: &str = "purchase";
/// The ledger's name for an administrator's adjustment.
const ADMIN_ADJUSTMENT: &str = "admin_adjustment";

/// Adds a ledger entry's amount to its org's balance; run in the transaction that writes the entry.
const ADD_TO_BALANCE: &str = "INSERT INTO org_balances (org_id, balance) VALUES ($1, $2) \
     ON CONFLICT (org_id) DO UPDATE SET balance = org_balances.balance + excluded.balance";

/// Writes an entry answering for a Stripe object, unless its `source_key` is taken.
const INSERT_SOURCED: &str = "INSERT INTO ledger (id, org_id, amount, transaction_type, description, source_key, \
     receipt_url, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source_key) DO NOTHING";

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
        let inserted = on_connection!(self, |conn| {
            let mut tx = conn.begin().await?;
            let inserted = sqlx::query(INSERT_SOURCED)
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

    /// Undoes the entry for a Stripe object that turned out to move no money (a refund that
    /// failed or was canceled), once: in one transaction, `original` is written if it is not
    /// there yet (and its amount is not 0), then whatever the entry under its `source_key` took
    /// is given back by an entry under `undo_key`, of the same type. Writing the original first
    /// means a delivery that read the object before it failed, and writes its entry late, finds
    /// the key taken: the two entries always end net zero. Returns what this call wrote: the
    /// original's credits taken (0 when it was there) and the credits given back (0 when undone
    /// before).
    pub async fn undo_sourced_entry(
        &self,
        original: &SourcedEntry<'_>,
        undo_key: &str,
        undo_description: &str,
    ) -> Result<(i64, i64)> {
        let org_id = original.org_id.to_string();
        let (amount, transaction_type) = (original.amount, original.transaction_type.to_string());
        let (description, source_key) = (original.description.clone(), original.source_key.clone());
        let receipt_url = original.receipt_url.map(str::to_string);
        let (undo_key, undo_description) = (undo_key.to_string(), undo_description.to_string());
        write_tx!(self, |conn| {
            let at = Timestamp::now();
            let insert = |amount: i64, description: &str, source_key: &str| {
                sqlx::query(INSERT_SOURCED)
                    .bind(Uuid::new_v4().to_string())
                    .bind(org_id.clone())
                    .bind(amount)
                    .bind(transaction_type.clone())
                    .bind(description.to_string())
                    .bind(source_key.to_string())
                    .bind(receipt_url.clone())
                    .bind(at)
            };
            let written =
                amount != 0 && insert(amount, &description, &source_key).execute(&mut *conn).await?.rows_affected() > 0;
            if written {
                sqlx::query(ADD_TO_BALANCE).bind(&org_id).bind(amount).execute(&mut *conn).await?;
            }
            let taken_now = if written { -amount } else { 0 };
            let taken: Option<i64> = sqlx::query("SELECT amount FROM ledger WHERE source_key = $1")
                .bind(&source_key)
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            let give_back = -taken.unwrap_or(0);
            if give_back == 0 {
                return Ok((taken_now, 0));
            }
            let undone = insert(give_back, &undo_description, &undo_key).execute(&mut *conn).await?.rows_affected() > 0;
            if !undone {
                return Ok((taken_now, 0));
            }
            sqlx::query(ADD_TO_BALANCE).bind(&org_id).bind(give_back).execute(&mut *conn).await?;
            Ok((taken_now, give_back))
        })
    }

    /// What the entries under `source_keys` moved, by key; keys with no entry are absent.
    pub async fn sourced_amounts(&self, source_keys: &[String]) -> Result<HashMap<String, i64>> {
        if source_keys.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (1..=source_keys.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT source_key, amount FROM ledger WHERE source_key IN ({})", placeholders.join(", "));
        on_connection!(self, |conn| {
            let mut query = sqlx::query(&sql);
            for key in source_keys {
                query = query.bind(key);
            }
            let mut amounts = HashMap::new();
            for row in query.fetch_all(conn).await? {
                amounts.insert(row.try_get(0)?, row.try_get(1)?);
            }
            Ok(amounts)
        })
    }

    /// An administrator's adjustment of an org's balance.
    pub async fn grant(&self, org: &Org, amount: i64, reason: &str) -> Result<()> {
        on_connection!(self, |conn| {
            let mut tx = conn.begin().await?;
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
        on_connection!(self, |conn| {
            let balance: Option<i64> = sqlx::query("SELECT balance FROM org_balances WHERE org_id = $1")
                .bind(&org.id)
                .fetch_optional(conn)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            Ok(balance.unwrap_or(0))
        })
    }

    /// The balance as the sum of the ledger itself: what `org_balances` must always equal.
    pub async fn ledger_sum(&self, org: &Org) -> Result<i64> {
        on_connection!(self, |conn| {
            let row = sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger WHERE org_id = $1")
                .bind(&org.id)
                .fetch_one(conn)
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
            "SELECT seq, id, amount, transaction_type, description, receipt_url, created_at FROM ledger \
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
        // The page comes back as one JSON array in one row: the SQLite driver hands each row
        // from its worker thread to the caller's task separately (a thread wake-up per row), so
        // 100 rows cost 100 hand-offs; one row costs one. Both databases build the same array.
        let (aggregate, array) = match self.pool {
            super::Pool::Sqlite(..) => ("json_group_array", "json_array"),
            super::Pool::Postgres(_) => ("json_agg", "json_build_array"),
        };
        let sql = format!(
            "SELECT COALESCE(CAST({aggregate}({array}(id, amount, transaction_type, description, receipt_url, \
             created_at) ORDER BY seq DESC) AS TEXT), '[]') FROM ({sql}) AS page"
        );
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
        on_connection!(self, |conn| {
            let found = sqlx::query("SELECT 1 FROM ledger WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(&org.id)
                .fetch_optional(conn)
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
        on_connection!(self, |conn| {
            let mut query = sqlx::query(sql).bind(&org.id);
            if let Some(before) = before {
                query = query.bind(before);
            }
            for t in types {
                query = query.bind(t);
            }
            let page: String = query.bind(limit).fetch_one(conn).await?.try_get(0)?;
            read_page(&page)
        })
    }
}

/// An entry as the page query's JSON array holds it: `[id, amount, type, description, receipt, created_at]`.
type PageEntry = (String, i64, String, Option<String>, Option<String>, String);

/// The entries of the page query's JSON array (timestamps in RFC 3339, as both databases write them).
fn read_page(page: &str) -> Result<Vec<LedgerEntry>> {
    let entries: Vec<PageEntry> =
        serde_json::from_str(page).map_err(|e| StoreError::Invalid(format!("a page of the ledger: {e}")))?;
    entries
        .into_iter()
        .map(|(id, amount, transaction_type, description, receipt_url, created_at)| {
            let created_at = Timestamp::parse(&created_at)
                .map_err(|e| StoreError::Invalid(format!("a ledger entry's time {created_at:?}: {e}")))?
                .0;
            Ok(LedgerEntry { id, amount, transaction_type, description, receipt_url, created_at })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_both_databases_json_and_keeps_its_order() {
        // SQLite writes times as stored (RFC 3339, `Z`); PostgreSQL's `json_build_array` writes a
        // `timestamptz` with an offset (in the session's time zone).
        let page = r#"[["b", -5, "refund", null, null, "2026-12-02T10:00:00.5+01:00"],
                       ["a", 9223372036854775807, "purchase", "3 \"bundles\"", "https://r.example/x", "2026-12-02T08:59:59.000001Z"]]"#;
        let entries = read_page(page).expect("reads");
        assert_eq!(entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(entries[0].created_at.to_rfc3339(), "2026-12-02T09:00:00.500+00:00");
        assert_eq!((entries[0].amount, entries[0].description.as_deref()), (-5, None));
        assert_eq!((entries[1].amount, entries[1].description.as_deref()), (i64::MAX, Some("3 \"bundles\"")));
        assert_eq!(entries[1].receipt_url.as_deref(), Some("https://r.example/x"));
        assert!(read_page("[]").expect("an empty page").is_empty());
        assert!(matches!(read_page(r#"[["a", 1, "purchase", null, null, "yesterday"]]"#), Err(StoreError::Invalid(_))));
    }
}
