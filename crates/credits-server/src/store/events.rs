//! Stripe events handled, by id.

use super::{Result, Store, Timestamp, on_pool};

impl Store {
    /// Records a Stripe event id; false when it was already recorded.
    pub async fn record_event(&self, id: &str, event_type: &str) -> Result<bool> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO stripe_events (id, event_type, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(event_type)
            .bind(Timestamp::now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(inserted > 0)
    }
}
