//! Bounded state: the purge deletes `Idempotency-Key` records and Stripe event records past their
//! retention, so neither table grows without end. It runs in the background every
//! `purge_interval`, on every instance: each purge is a plain `DELETE ... WHERE created < cutoff`,
//! which is idempotent, so instances purging at the same time only share the work.

use std::time::Duration;

use crate::config::Retention;
use crate::store::{Store, StoreError, Timestamp};

/// How many rows one purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// `Idempotency-Key` records.
    pub idempotency_keys: u64,
    /// Stripe event records.
    pub events: u64,
}

/// Deletes what is older than its retention, as of `now` (the caller's clock, so tests need not
/// wait).
pub async fn purge(store: &Store, retention: &Retention, now: Timestamp) -> Result<Purged, StoreError> {
    let idempotency_keys = store.purge_idempotency_keys(cutoff(now, retention.idempotency_keys)?).await?;
    let events = store.purge_events(cutoff(now, retention.events)?).await?;
    Ok(Purged { idempotency_keys, events })
}

fn cutoff(now: Timestamp, retention: Duration) -> Result<Timestamp, StoreError> {
    let retention = chrono::TimeDelta::from_std(retention)
        .map_err(|e| StoreError::Invalid(format!("retention {retention:?} out of range: {e}")))?;
    Ok(now - retention)
}

/// Runs [`purge`] every `retention.purge_interval` until the task is aborted; a failed purge is
/// logged and tried again at the next interval.
pub fn spawn(store: Store, retention: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(retention.purge_interval.max(Duration::from_secs(1)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match purge(&store, &retention, Timestamp::now()).await {
                Ok(purged) if purged.idempotency_keys + purged.events > 0 => tracing::info!(
                    idempotency_keys = purged.idempotency_keys,
                    events = purged.events,
                    "purged records past retention"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging records past retention failed; trying again later"),
            }
        }
    })
}
