//! API tokens: each bound to one membership (an org and a user) with a role fixed when it is
//! issued, kept as a hash, optionally expiring; revoked one by one or per membership; looked up
//! with the membership as it is now, which caps the token's role.

use sqlx::{Connection, Row};
use uuid::Uuid;

use super::{Result, Store, StoreError, Timestamp, on_connection};
use crate::hash::sha256_hex;
use crate::model::{Caller, Org, Role};

/// How a token is issued, beyond its org, e-mail and role.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenOptions {
    /// When the token stops working; `None`: never.
    pub expires_at: Option<Timestamp>,
    /// When the membership exists with another role, set it to the token's role (otherwise a
    /// token may only hold the membership's role or a lesser one).
    pub update_role: bool,
}

/// A token just issued: its id, and the token itself (shown once, never kept).
#[derive(Debug)]
pub struct IssuedToken {
    /// The token's id (also the middle of its visible prefix).
    pub id: String,
    /// The secret token.
    pub token: String,
}

/// What a presented token grants now: its membership's org, the role it was issued with, and
/// the role the membership holds today.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// The token and its user.
    pub caller: Caller,
    /// The org of the token's membership.
    pub org: Org,
    /// The role the token was issued with.
    pub token_role: Role,
    /// The membership's role now.
    pub membership_role: Role,
    /// When the token stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<Timestamp>,
}

/// A token as `admin list-tokens` shows it: everything but the secret.
#[derive(Debug, Clone)]
pub struct TokenListing {
    /// The token's id.
    pub id: String,
    /// The token's first characters, as the holder sees them (`cr_0123456789ab`).
    pub prefix: String,
    /// The org's slug (`None`: a legacy token that could not be bound, revoked by migration).
    pub org: Option<String>,
    /// The holder's e-mail.
    pub email: String,
    /// The role the token was issued with.
    pub role: Option<Role>,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
    /// Issued before tokens were bound to one membership (bound by migration 0005).
    pub legacy: bool,
}

/// The visible prefix of the token with this id (the token is `cr_{first 12 of the id}_{secret}`).
fn prefix(id: &str) -> String {
    format!("cr_{}", id.get(..12).unwrap_or(id))
}

fn role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Invalid(format!("unknown role {text:?}")))
}

impl Store {
    /// Issues a token for `email` in `org` with `role`, making them a member when they are not.
    /// No other token changes. When the membership exists with a lesser role than `role`, this
    /// is refused unless `options.update_role` (then the membership takes `role`, which caps or
    /// widens what the membership's other tokens may do, each within its own role).
    pub async fn create_token(&self, org: &Org, email: &str, role: Role, options: TokenOptions) -> Result<IssuedToken> {
        let id = Uuid::new_v4().simple().to_string();
        let secret: [u8; 32] = rand::random();
        let token = format!("{}_{}", prefix(&id), hex::encode(secret));
        on_connection!(self, |conn| {
            let mut tx = conn.begin().await?;
            sqlx::query("INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING")
                .bind(Uuid::new_v4().to_string())
                .bind(email)
                .bind(Timestamp::now())
                .execute(&mut *tx)
                .await?;
            let user_id: String = sqlx::query("SELECT id FROM users WHERE email = $1")
                .bind(email)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            let current: Option<String> =
                sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
                    .bind(&org.id)
                    .bind(&user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let current = current.as_deref().map(self::role).transpose()?;
            let set_membership = match current {
                None => true,
                Some(current) if current == role => false,
                Some(_) if options.update_role => true,
                Some(current) if role.rank() < current.rank() => false,
                Some(current) => {
                    return Err(StoreError::Refused(format!(
                        "{email} is {} in {}: a token cannot hold more than its membership's role; pass \
                         --update-role to make them {}",
                        current.as_str(),
                        org.slug,
                        role.as_str()
                    )));
                }
            };
            if set_membership {
                sqlx::query(
                    "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(&org.id)
                .bind(&user_id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, token_hash, created_at, org_id, role, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(&user_id)
            .bind(sha256_hex(token.as_bytes()))
            .bind(Timestamp::now())
            .bind(&org.id)
            .bind(role.as_str())
            .bind(options.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(IssuedToken { id, token })
    }

    /// Revokes a token given either the token itself or its id; says whether one was revoked.
    pub async fn revoke_token(&self, token_or_id: &str) -> Result<bool> {
        let result = on_connection!(self, |conn| {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE (id = $2 OR token_hash = $3) AND revoked_at IS NULL",
            )
            .bind(Timestamp::now())
            .bind(token_or_id)
            .bind(sha256_hex(token_or_id.as_bytes()))
            .execute(conn)
            .await?
            .rows_affected()
        });
        Ok(result > 0)
    }

    /// Revokes every active token of `email`'s membership of `org`; returns how many.
    pub async fn revoke_tokens(&self, org: &Org, email: &str) -> Result<u64> {
        on_connection!(self, |conn| {
            Ok(sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND revoked_at IS NULL \
                 AND user_id = (SELECT id FROM users WHERE email = $3)",
            )
            .bind(Timestamp::now())
            .bind(&org.id)
            .bind(email)
            .execute(conn)
            .await?
            .rows_affected())
        })
    }

    /// Ends `email`'s membership of `org` and revokes its tokens (so that making them a member
    /// again does not revive old tokens); false when they were not a member.
    pub async fn remove_member(&self, org: &Org, email: &str) -> Result<bool> {
        on_connection!(self, |conn| {
            let mut tx = conn.begin().await?;
            let removed = sqlx::query(
                "DELETE FROM memberships WHERE org_id = $1 AND user_id = (SELECT id FROM users WHERE email = $2)",
            )
            .bind(&org.id)
            .bind(email)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND revoked_at IS NULL \
                 AND user_id = (SELECT id FROM users WHERE email = $3)",
            )
            .bind(Timestamp::now())
            .bind(&org.id)
            .bind(email)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// The tokens not revoked, of one org or of all, oldest first; never their secrets.
    pub async fn list_tokens(&self, org: Option<&Org>) -> Result<Vec<TokenListing>> {
        on_connection!(self, |conn| {
            let rows = sqlx::query(
                "SELECT t.id, o.slug, u.email, t.role, t.created_at, t.last_used_at, t.expires_at, t.legacy \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN orgs o ON o.id = t.org_id \
                 WHERE t.revoked_at IS NULL AND ($1 IS NULL OR t.org_id = $1) ORDER BY t.created_at, t.id",
            )
            .bind(org.map(|o| o.id.clone()))
            .fetch_all(conn)
            .await?;
            rows.iter()
                .map(|r| {
                    let id: String = r.try_get(0)?;
                    let token_role: Option<String> = r.try_get(3)?;
                    Ok(TokenListing {
                        prefix: prefix(&id),
                        id,
                        org: r.try_get(1)?,
                        email: r.try_get(2)?,
                        role: token_role.as_deref().map(role).transpose()?,
                        created_at: r.try_get(4)?,
                        last_used_at: r.try_get(5)?,
                        expires_at: r.try_get(6)?,
                        legacy: r.try_get(7)?,
                    })
                })
                .collect()
        })
    }

    /// What a token grants, if it is known, not revoked, and its membership still exists.
    /// (Expiry is the caller's to judge, against its clock.)
    pub async fn token_grant(&self, token: &str) -> Result<Option<TokenGrant>> {
        on_connection!(self, |conn| {
            let row = sqlx::query(
                "SELECT t.id, t.user_id, o.id, o.slug, o.name, t.role, m.role, t.expires_at, t.last_used_at \
                 FROM api_tokens t JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id \
                 JOIN orgs o ON o.id = t.org_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.role IS NOT NULL",
            )
            .bind(sha256_hex(token.as_bytes()))
            .fetch_optional(conn)
            .await?;
            let Some(r) = row else { return Ok(None) };
            let token_role: String = r.try_get(5)?;
            let membership_role: String = r.try_get(6)?;
            Ok(Some(TokenGrant {
                caller: Caller { token_id: r.try_get(0)?, user_id: r.try_get(1)? },
                org: Org { id: r.try_get(2)?, slug: r.try_get(3)?, name: r.try_get(4)? },
                token_role: role(&token_role)?,
                membership_role: role(&membership_role)?,
                expires_at: r.try_get(7)?,
                last_used_at: r.try_get(8)?,
            }))
        })
    }

    /// Records that a token was used at `now`, unless a use since `not_before` is already
    /// recorded (compare-and-set: of concurrent requests, one writes).
    pub async fn touch_token(&self, token_id: &str, now: Timestamp, not_before: Timestamp) -> Result<()> {
        on_connection!(self, |conn| {
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
                 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(now)
            .bind(token_id)
            .bind(not_before)
            .execute(conn)
            .await?;
        });
        Ok(())
    }

    /// One message per user whose user-wide tokens migration 0005 revoked (a user in several
    /// orgs, or in none), saying what to do.
    pub async fn tokens_revoked_by_migration(&self) -> Result<Vec<String>> {
        on_connection!(self, |conn| {
            let rows = sqlx::query(
                "SELECT u.email, COUNT(*) FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.legacy AND t.org_id IS NULL GROUP BY u.email ORDER BY u.email",
            )
            .fetch_all(conn)
            .await?;
            rows.iter()
                .map(|r| {
                    let email: String = r.try_get(0)?;
                    let count: i64 = r.try_get(1)?;
                    Ok(format!(
                        "migration 0005 revoked {count} user-wide token(s) of {email}, who is a member of several \
                         organisations (or none): issue one per org with `admin create-token --org SLUG --email \
                         {email} --role ROLE`"
                    ))
                })
                .collect()
        })
    }
}
