//! API tokens: issued to a member (making them one), kept as a hash, revoked, authenticated.

use sqlx::Row;
use uuid::Uuid;

use super::{Result, Store, Timestamp, on_pool};
use crate::hash::sha256_hex;
use crate::model::{Caller, Org, Role};

impl Store {
    /// Makes `email` a member of `org` with `role` (creating the user, or changing the role) and
    /// issues a token for them. Returns the token's id and the token, which is not kept.
    pub async fn create_token(&self, org: &Org, email: &str, role: Role) -> Result<(String, String)> {
        let token_id = Uuid::new_v4().simple().to_string();
        let secret: [u8; 32] = rand::random();
        let token = format!("cr_{}_{}", &token_id[..12], hex::encode(secret));
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
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
            sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(&org.id)
            .bind(&user_id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&token_id)
                .bind(&user_id)
                .bind(sha256_hex(token.as_bytes()))
                .bind(Timestamp::now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok((token_id, token))
    }

    /// Revokes a token given either the token itself or its id; says whether one was revoked.
    pub async fn revoke_token(&self, token_or_id: &str) -> Result<bool> {
        let result = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE (id = $2 OR token_hash = $3) AND revoked_at IS NULL",
            )
            .bind(Timestamp::now())
            .bind(token_or_id)
            .bind(sha256_hex(token_or_id.as_bytes()))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(result > 0)
    }

    /// The owner of a token, if it is known and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT id, user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                .bind(sha256_hex(token.as_bytes()))
                .fetch_optional(pool)
                .await?;
            row.map(|r| Ok(Caller { token_id: r.try_get(0)?, user_id: r.try_get(1)? })).transpose()
        })
    }
}
