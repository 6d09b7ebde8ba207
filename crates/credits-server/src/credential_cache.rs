//! What a token grants, kept in this process for a few seconds, so that a request does not ask
//! the database whose token it carries every time (one query of every request's few).
//!
//! The price is bounded staleness, and the bound is the promise (README, "Access"): a token
//! revoked, a member removed or demoted, an org renamed, takes effect on every instance within
//! the time to live (`--credential-cache-ttl`, 2 s by default, at most [`MAX_TTL`]; `0s` turns
//! the cache off). An expiry date is checked on every request all the same. Only tokens found
//! are kept, keyed by their hash: a made-up token always asks the database (the edge limits how
//! often an address may fail), so guesses neither fill the cache nor stay in it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::hash::sha256_hex;
use crate::store::{Timestamp, TokenGrant};

/// The time to live unless configured otherwise (`--credential-cache-ttl`).
pub const DEFAULT_TTL: Duration = Duration::from_secs(2);

/// The longest a grant may be kept: how late a revocation may take effect on an instance.
pub const MAX_TTL: Duration = Duration::from_secs(5);

/// Grants kept at most; beyond, the least used are dropped.
const CAPACITY: u64 = 100_000;

/// Grants by token hash, each kept for the time to live from when it was read.
#[derive(Clone)]
pub struct CredentialCache {
    /// `None`: a time to live of zero, every request asks the database.
    grants: Option<moka::sync::Cache<String, Arc<Kept>>>,
}

/// A grant as read, and its last use as recorded since (updated in place: writing the entry
/// again would start its time to live anew).
struct Kept {
    grant: TokenGrant,
    last_used_at: Mutex<Option<Timestamp>>,
}

impl CredentialCache {
    /// A cache keeping grants for `ttl` (zero: none kept). `ttl` over [`MAX_TTL`] is refused by
    /// the configuration before it gets here, and capped here all the same.
    pub fn new(ttl: Duration) -> Self {
        let grants = (!ttl.is_zero())
            .then(|| moka::sync::Cache::builder().max_capacity(CAPACITY).time_to_live(ttl.min(MAX_TTL)).build());
        CredentialCache { grants }
    }

    /// The grant read for `token` within the time to live, if any.
    pub fn get(&self, token: &str) -> Option<TokenGrant> {
        let kept = self.grants.as_ref()?.get(&sha256_hex(token.as_bytes()))?;
        let mut grant = kept.grant.clone();
        grant.last_used_at = *kept.last_used_at.lock().expect("not poisoned");
        Some(grant)
    }

    /// Keeps what `token` grants, as just read from the database.
    pub fn insert(&self, token: &str, grant: &TokenGrant) {
        if let Some(grants) = &self.grants {
            let kept = Kept { grant: grant.clone(), last_used_at: Mutex::new(grant.last_used_at) };
            grants.insert(sha256_hex(token.as_bytes()), Arc::new(kept));
        }
    }

    /// The token's use at `at` is now recorded in the database: the kept grant says so too, so
    /// the next requests do not record it again.
    pub fn record_use(&self, token: &str, at: Timestamp) {
        if let Some(kept) = self.grants.as_ref().and_then(|grants| grants.get(&sha256_hex(token.as_bytes()))) {
            *kept.last_used_at.lock().expect("not poisoned") = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Caller, Org, Role};

    fn grant() -> TokenGrant {
        TokenGrant {
            caller: Caller { token_id: "t1".into(), user_id: "u1".into() },
            org: Org { id: "o1".into(), slug: "acme".into(), name: "Acme".into() },
            token_role: Role::Admin,
            membership_role: Role::Owner,
            expires_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_grant_is_kept_for_the_time_to_live_and_no_longer() {
        let cache = CredentialCache::new(Duration::from_millis(300));
        assert!(cache.get("cr_token").is_none(), "nothing read yet");
        cache.insert("cr_token", &grant());
        let kept = cache.get("cr_token").expect("kept");
        assert_eq!((kept.org.slug.as_str(), kept.token_role), ("acme", Role::Admin));
        assert!(cache.get("cr_other").is_none(), "kept for that token only");

        // A use recorded meanwhile shows, and does not start the time to live anew.
        std::thread::sleep(Duration::from_millis(200));
        let used = Timestamp::now();
        cache.record_use("cr_token", used);
        assert_eq!(cache.get("cr_token").expect("still kept").last_used_at, Some(used));
        std::thread::sleep(Duration::from_millis(150));
        assert!(cache.get("cr_token").is_none(), "read again once its time to live has passed");
    }

    #[test]
    fn a_time_to_live_of_zero_keeps_nothing() {
        let cache = CredentialCache::new(Duration::ZERO);
        cache.insert("cr_token", &grant());
        cache.record_use("cr_token", Timestamp::now());
        assert!(cache.get("cr_token").is_none());
    }

    #[test]
    fn the_time_to_live_is_capped() {
        let cache = CredentialCache::new(Duration::from_secs(3600));
        let ttl = cache.grants.as_ref().expect("a cache").policy().time_to_live();
        assert_eq!(ttl, Some(MAX_TTL));
    }
}
