//! `Idempotency-Key` records: one row per (membership, key), so a key belongs to the org and user
//! of the token that sent it; claimed by the first request, answered with the response to replay,
//! released after a failure, deleted by the purge once past retention. Whether a request may proceed is
//! decided by the insert (`ON CONFLICT DO NOTHING`) and by compare-and-set updates.

use sqlx::Row;
use uuid::Uuid;

use super::{Result, Store, StoreError, Timestamp, on_connection, write_tx};

/// What an `Idempotency-Key` says about a request.
#[derive(Debug)]
pub enum IdempotencyClaim {
    /// Process the request, sending `stripe_key` to Stripe; then `complete` or `release` the key.
    Claimed {
        /// The idempotency key to send to Stripe.
        stripe_key: String,
    },
    /// Already answered: replay this status and body.
    Replay {
        /// The status answered.
        status: u16,
        /// The body answered.
        body: String,
    },
    /// Used with another body.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// Whose key: the membership of the token that sent it.
#[derive(Debug, Clone, Copy)]
pub struct KeyScope<'a> {
    /// The token's org.
    pub org_id: &'a str,
    /// The token's user.
    pub user_id: &'a str,
}

/// A new idempotency key to send to Stripe.
pub fn new_stripe_key() -> String {
    format!("credits-{}", Uuid::new_v4().simple())
}

impl Store {
    /// Claims an idempotency key for a request whose body hashes to `request_hash`. Keys are kept
    /// for `lifetime`; a claim left unanswered for `lease`
    /// (the server stopped half-way), or released with its outcome unknown, is taken over by the
    /// next request with the same body, with the same Stripe key.
    pub async fn claim_idempotency_key(
        &self,
        scope: KeyScope<'_>,
        key: &str,
        request_hash: &str,
        lifetime: chrono::TimeDelta,
        lease: std::time::Duration,
    ) -> Result<IdempotencyClaim> {
        let lease = chrono::TimeDelta::from_std(lease).map_err(|e| StoreError::Invalid(format!("lease: {e}")))?;
        let (org_id, user_id, key) = (scope.org_id.to_string(), scope.user_id.to_string(), key.to_string());
        let request_hash = request_hash.to_string();
        write_tx!(
            self,
            autocommit | conn | {
                sqlx::query(
                    "DELETE FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 AND idempotency_key = $3 \
                 AND created_at < $4",
                )
                .bind(&org_id)
                .bind(&user_id)
                .bind(&key)
                .bind(Timestamp::now() - lifetime)
                .execute(&mut *conn)
                .await?;
                // The row can vanish between the insert and the select (its holder released it after
                // a Stripe error): then claim again.
                for _ in 0..3 {
                    let stripe_key = new_stripe_key();
                    let now = Timestamp::now();
                    let inserted = sqlx::query(
                        "INSERT INTO idempotency_keys (org_id, user_id, idempotency_key, request_hash, stripe_key, \
                     created_at, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (org_id, user_id, idempotency_key) DO NOTHING",
                    )
                    .bind(&org_id)
                    .bind(&user_id)
                    .bind(&key)
                    .bind(&request_hash)
                    .bind(&stripe_key)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                        > 0;
                    if inserted {
                        return Ok(IdempotencyClaim::Claimed { stripe_key });
                    }
                    let row = sqlx::query(
                        "SELECT request_hash, response_status, response_body, claimed_at, stripe_key \
                     FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 AND idempotency_key = $3",
                    )
                    .bind(&org_id)
                    .bind(&user_id)
                    .bind(&key)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(row) = row else { continue };
                    let stored_hash: String = row.try_get(0)?;
                    let status: Option<i64> = row.try_get(1)?;
                    let body: Option<String> = row.try_get(2)?;
                    let claimed_at: Timestamp = row.try_get(3)?;
                    let stripe_key: String = row.try_get(4)?;
                    if stored_hash != request_hash {
                        return Ok(IdempotencyClaim::Mismatch);
                    }
                    if let (Some(status), Some(body)) = (status, body) {
                        return Ok(IdempotencyClaim::Replay { status: status as u16, body });
                    }
                    if claimed_at >= Timestamp::now() - lease {
                        return Ok(IdempotencyClaim::InFlight);
                    }
                    // Compare-and-set on the old claim time: of several takers, one wins.
                    let taken = sqlx::query(
                        "UPDATE idempotency_keys SET claimed_at = $1 WHERE org_id = $2 AND user_id = $3 \
                     AND idempotency_key = $4 AND claimed_at = $5 AND response_status IS NULL",
                    )
                    .bind(Timestamp::now())
                    .bind(&org_id)
                    .bind(&user_id)
                    .bind(&key)
                    .bind(claimed_at)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                        > 0;
                    return Ok(if taken {
                        IdempotencyClaim::Claimed { stripe_key }
                    } else {
                        IdempotencyClaim::InFlight
                    });
                }
                Err(StoreError::Invalid(format!("idempotency key {key:?} kept changing hands")))
            }
        )
    }

    /// Stores the answer to replay for a claimed key.
    pub async fn complete_idempotency_key(
        &self,
        scope: KeyScope<'_>,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<()> {
        let (org_id, user_id, key) = (scope.org_id.to_string(), scope.user_id.to_string(), key.to_string());
        let body = body.to_string();
        write_tx!(
            self,
            autocommit | conn | {
                sqlx::query(
                    "UPDATE idempotency_keys SET response_status = $1, response_body = $2 \
                 WHERE org_id = $3 AND user_id = $4 AND idempotency_key = $5",
                )
                .bind(i64::from(status))
                .bind(&body)
                .bind(&org_id)
                .bind(&user_id)
                .bind(&key)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        )
    }

    /// Frees a claimed key after a failure. When Stripe answered (it refused, or failed), the key
    /// is forgotten: a retry starts afresh with a new Stripe key. (Stripe replays its first
    /// answer to a key, a 5xx or an unreadable body included, so reusing the key could never get
    /// past it; a fresh key may at worst leave behind an open session whose URL nobody was
    /// given, which expires unpaid.) When the outcome is unknown (no answer in time, the
    /// connection dropped), the Stripe key is kept and the claim is dated [`Timestamp::EPOCH`],
    /// long abandoned, so the next request with the same body takes it over at once and reaches
    /// whatever Stripe did.
    pub async fn release_idempotency_key(&self, scope: KeyScope<'_>, key: &str, outcome_known: bool) -> Result<()> {
        let (org_id, user_id, key) = (scope.org_id.to_string(), scope.user_id.to_string(), key.to_string());
        write_tx!(
            self,
            autocommit | conn | {
                let query = if outcome_known {
                    sqlx::query(
                        "DELETE FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 AND idempotency_key = $3 \
                     AND response_status IS NULL",
                    )
                    .bind(&org_id)
                    .bind(&user_id)
                    .bind(&key)
                } else {
                    sqlx::query(
                        "UPDATE idempotency_keys SET claimed_at = $1 WHERE org_id = $2 AND user_id = $3 \
                     AND idempotency_key = $4 AND response_status IS NULL",
                    )
                    .bind(Timestamp::EPOCH)
                    .bind(&org_id)
                    .bind(&user_id)
                    .bind(&key)
                };
                query.execute(&mut *conn).await?;
                Ok(())
            }
        )
    }

    /// Deletes the keys created before `cutoff` (past retention): a plain `DELETE ... WHERE
    /// created_at < cutoff`, so instances purging at the same time delete each row once between
    /// them and neither fails. Returns how many this call deleted.
    pub async fn purge_idempotency_keys(&self, cutoff: Timestamp) -> Result<u64> {
        on_connection!(self, |conn| {
            Ok(sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(cutoff)
                .execute(conn)
                .await?
                .rows_affected())
        })
    }
}
