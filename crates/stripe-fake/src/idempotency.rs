//! Stripe's idempotency rules for POST requests. A key is scoped to the API key that sent it and
//! kept 24 hours. The first request with a key claims it; when it finishes, its status and body
//! are saved and replayed to later requests with the same key and the same parameters. The same
//! key with other parameters (or another endpoint) is an `idempotency_error`; the same key while
//! the first request is still running is a 409. Requests refused by validation save nothing, so
//! their key stays usable (Stripe saves results only once execution has begun).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

type Scope = (String, String);

enum Entry {
    InFlight { fingerprint: String },
    Done { fingerprint: String, saved: SavedResponse, at: Instant },
}

#[derive(Debug, Clone)]
pub struct SavedResponse {
    pub status: u16,
    pub body: Bytes,
}

/// What to do with a request that carries an `Idempotency-Key`.
pub enum Claim {
    /// First use: run it, then `finish` or drop the guard.
    Proceed(ClaimGuard),
    Replay(SavedResponse),
    Mismatch,
    InUse,
}

#[derive(Default, Clone)]
pub struct IdempotencyStore {
    entries: Arc<Mutex<HashMap<Scope, Entry>>>,
}

impl IdempotencyStore {
    /// `fingerprint` identifies the request: method, path and its canonical parameters.
    pub fn claim(&self, api_key: &str, key: &str, fingerprint: String) -> Claim {
        let mut entries = self.entries.lock().expect("idempotency lock");
        let now = Instant::now();
        entries.retain(|_, e| !matches!(e, Entry::Done { at, .. } if now.duration_since(*at) > RETENTION));
        let scope = (api_key.to_string(), key.to_string());
        match entries.get(&scope) {
            Some(Entry::InFlight { .. }) => Claim::InUse,
            Some(Entry::Done { fingerprint: first, saved, .. }) => {
                if *first == fingerprint {
                    Claim::Replay(saved.clone())
                } else {
                    Claim::Mismatch
                }
            }
            None => {
                entries.insert(scope.clone(), Entry::InFlight { fingerprint });
                Claim::Proceed(ClaimGuard { store: self.clone(), scope: Some(scope) })
            }
        }
    }

    /// How many keys have a request running, and how many have a saved response.
    pub fn counts(&self) -> (usize, usize) {
        let entries = self.entries.lock().expect("idempotency lock");
        let in_flight = entries.values().filter(|e| matches!(e, Entry::InFlight { .. })).count();
        (in_flight, entries.len() - in_flight)
    }
}

/// Holds a claimed key while its request runs. Dropping it without `finish` (validation error,
/// injected fault, client gone) forgets the key.
pub struct ClaimGuard {
    store: IdempotencyStore,
    scope: Option<Scope>,
}

impl ClaimGuard {
    pub fn finish(mut self, saved: SavedResponse) {
        let scope = self.scope.take().expect("guard used once");
        let mut entries = self.store.entries.lock().expect("idempotency lock");
        let fingerprint = match entries.remove(&scope) {
            Some(Entry::InFlight { fingerprint }) => fingerprint,
            _ => return,
        };
        entries.insert(scope, Entry::Done { fingerprint, saved, at: Instant::now() });
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take()
            && let Ok(mut entries) = self.store.entries.lock()
        {
            entries.remove(&scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> SavedResponse {
        SavedResponse { status: 200, body: Bytes::from_static(b"{}") }
    }

    #[test]
    fn replay_mismatch_in_use_and_scope() {
        let store = IdempotencyStore::default();
        let Claim::Proceed(guard) = store.claim("sk_test_a", "k", "f1".into()) else {
            panic!("first use must proceed")
        };
        assert!(matches!(store.claim("sk_test_a", "k", "f1".into()), Claim::InUse));
        // Another API key does not see this key.
        assert!(matches!(store.claim("sk_test_b", "k", "f1".into()), Claim::Proceed(_)));
        guard.finish(saved());
        assert!(matches!(store.claim("sk_test_a", "k", "f1".into()), Claim::Replay(_)));
        assert!(matches!(store.claim("sk_test_a", "k", "f2".into()), Claim::Mismatch));
    }

    #[test]
    fn dropped_guard_forgets_the_key() {
        let store = IdempotencyStore::default();
        let Claim::Proceed(guard) = store.claim("sk", "k", "f1".into()) else { panic!() };
        drop(guard);
        assert!(matches!(store.claim("sk", "k", "f2".into()), Claim::Proceed(_)));
    }
}
