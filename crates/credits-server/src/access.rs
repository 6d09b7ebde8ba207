//! Who may call: the client's API version, the token, and the membership of the org named in
//! the path. Every operation but the webhook and the document starts here. (The rules are in
//! `docs/errors.md`: 426, 401, and 404 for an org the caller does not belong to, told apart from
//! an unknown one by nobody.)

use crate::error::Error;
use crate::model::{Caller, Org, Role};
use crate::store::Store;

/// Who is calling, in which org, with which role.
#[derive(Debug, Clone)]
pub struct Access {
    /// The token's owner.
    pub caller: Caller,
    /// The org named in the path.
    pub org: Org,
    /// The caller's role in it.
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
/// unknown or revoked, 404 when the org is unknown or not theirs.
pub async fn authorize(store: &Store, token: &str, org_slug: &str) -> Result<Access, Error> {
    let caller = store.authenticate(token).await?.ok_or(Error::Unauthenticated)?;
    let (org, role) = store
        .membership(&caller.user_id, org_slug)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Organization {org_slug:?} not found")))?;
    Ok(Access { caller, org, role })
}
