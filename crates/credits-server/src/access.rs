//! Who may call: the client's API version, the token, and the membership of the org named in
//! the path. Every operation but the webhook and the document starts here. (The rules are in
//! `docs/errors.md`: 426, 401, and 404 for an org the caller does not belong to, told apart from
//! an unknown one by nobody.)
//!
//! A token is bound to one membership and a role when it is issued (README, "Access"): it acts
//! only in that org, with its own role capped by the membership's role, so a demotion takes
//! effect and a removed member's tokens stop working (401, like a revoked token) once the
//! credential cache's time to live has passed (`--credential-cache-ttl`, at most 5 s). The org in
//! the path must be the token's; any other is 404, whatever other orgs the same user belongs to.

use crate::credential_cache::CredentialCache;
use crate::error::Error;
use crate::model::{Caller, Org, Role};
use crate::store::{Store, Timestamp};

/// How stale a token's recorded last use may get before a request writes it again: recording
/// every request would add a write to each read.
pub const LAST_USED_PRECISION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Who is calling, in which org, with which role.
#[derive(Debug, Clone)]
pub struct Access {
    /// The token's owner.
    pub caller: Caller,
    /// The org named in the path.
    pub org: Org,
    /// What the caller may do in it: the token's role, capped by the membership's.
    pub role: Role,
}

/// 426 when the client announces an `api-version` older than `minimum` (none: any is served).
pub fn check_client_version(minimum: Option<&dropshot::semver::Version>, announced: Option<&str>) -> Result<(), Error> {
    let (Some(minimum), Some(announced)) = (minimum, announced) else {
        return Ok(());
    };
    match dropshot::semver::Version::parse(announced) {
        Ok(version) if version >= *minimum => Ok(()),
        _ => Err(Error::UpgradeRequired(format!(
            "API version {announced:?} is no longer supported; upgrade the client to {minimum} or later"
        ))),
    }
}

/// The caller behind `token` and their role in the org `org_slug`: 401 for a token that is
/// unknown, revoked, expired, or whose membership has ended; 404 when `org_slug` is not the
/// token's org (unknown or not, the answer is the same). What the token grants comes from
/// `cache` when it was read within the cache's time to live (`credential_cache`).
pub async fn authorize(store: &Store, cache: &CredentialCache, token: &str, org_slug: &str) -> Result<Access, Error> {
    let grant = match cache.get(token) {
        Some(grant) => grant,
        None => {
            let grant = store.token_grant(token).await?.ok_or(Error::Unauthenticated)?;
            cache.insert(token, &grant);
            grant
        }
    };
    let now = Timestamp::now();
    if grant.expires_at.is_some_and(|expires| expires <= now) {
        return Err(Error::Unauthenticated);
    }
    if grant.org.slug != org_slug {
        return Err(Error::NotFound(format!("Organization {org_slug:?} not found")));
    }
    if grant.last_used_at.is_none_or(|used| used < now - LAST_USED_PRECISION) {
        // Bookkeeping, not authorization: a database that refuses writes (read-only, a replica)
        // must not turn every read into a 500.
        match store.touch_token(&grant.caller.token_id, now, now - LAST_USED_PRECISION).await {
            Ok(()) => cache.record_use(token, now),
            Err(error) => {
                tracing::warn!(token = %grant.caller.token_id, %error, "could not record the token's last use")
            }
        }
    }
    Ok(Access { role: grant.token_role.capped_by(grant.membership_role), caller: grant.caller, org: grant.org })
}
