//! Stripe events handled, by id, kept for a retention period and then purged. (Handling an event
//! is idempotent on its own, so a redelivery after its row is purged changes nothing.)

use super::{Result, Store, Timestamp, on_connection, write_tx};

impl Store {
    /// Records a Stripe event as handled (again: a redelivery changes nothing).
    pub async fn record_event(&self, id: &str, event_type: &str) -> Result<()> {
        let (id, event_type) = (id.to_string(), event_type.to_string());
        write_tx!(
            self,
            autocommit | conn | {
                sqlx::query(
                    "INSERT INTO stripe_events (id, event_type, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
                )
                .bind(&id)
                .bind(&event_type)
                .bind(Timestamp::now())
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        )
    }

    /// Deletes the events received before `cutoff`; safe on several instances at once (see
    /// `purge_idempotency_keys`). Returns how many this call deleted.
    pub async fn purge_events(&self, cutoff: Timestamp) -> Result<u64> {
        on_connection!(self, |conn| {
            Ok(sqlx::query("DELETE FROM stripe_events WHERE received_at < $1")
                .bind(cutoff)
                .execute(conn)
                .await?
                .rows_affected())
        })
    }
}
