//! Organisations, and their members with a role each (users and memberships).

use sqlx::Row;
use uuid::Uuid;

use super::{Result, Store, StoreError, Timestamp, on_pool};
use crate::model::{Org, Role};

impl Store {
    /// Creates an organisation; fails when the slug is taken.
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org> {
        let id = Uuid::new_v4().to_string();
        on_pool!(self, |pool| {
            sqlx::query("INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&id)
                .bind(slug)
                .bind(name)
                .bind(Timestamp::now())
                .execute(pool)
                .await?;
        });
        Ok(Org { id, slug: slug.to_string(), name: name.to_string() })
    }

    /// Every organisation, by slug.
    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT id, slug, name FROM orgs ORDER BY slug").fetch_all(pool).await?;
            rows.iter().map(|r| Ok(Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? })).collect()
        })
    }

    /// The organisation with this slug.
    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        on_pool!(self, |pool| {
            let row =
                sqlx::query("SELECT id, slug, name FROM orgs WHERE slug = $1").bind(slug).fetch_optional(pool).await?;
            row.map(|r| Ok(Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? })).transpose()
        })
    }

    /// The org and the user's role in it, if the user is a member.
    pub async fn membership(&self, user_id: &str, slug: &str) -> Result<Option<(Org, Role)>> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT o.id, o.slug, o.name, m.role FROM orgs o JOIN memberships m ON m.org_id = o.id \
                 WHERE m.user_id = $1 AND o.slug = $2",
            )
            .bind(user_id)
            .bind(slug)
            .fetch_optional(pool)
            .await?;
            let Some(r) = row else { return Ok(None) };
            let role: String = r.try_get(3)?;
            let role = Role::parse(&role).ok_or_else(|| StoreError::Invalid(format!("unknown role {role:?}")))?;
            Ok(Some((Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? }, role)))
        })
    }
}
