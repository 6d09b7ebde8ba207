//! Organisations. (Their members, each with a role, are made and ended with tokens: `tokens`.)

use sqlx::Row;
use uuid::Uuid;

use super::{Result, Store, Timestamp, on_connection};
use crate::model::Org;

impl Store {
    /// Creates an organisation; fails when the slug is taken.
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org> {
        let id = Uuid::new_v4().to_string();
        on_connection!(self, |conn| {
            sqlx::query("INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&id)
                .bind(slug)
                .bind(name)
                .bind(Timestamp::now())
                .execute(conn)
                .await?;
        });
        Ok(Org { id, slug: slug.to_string(), name: name.to_string() })
    }

    /// Every organisation, by slug.
    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        on_connection!(self, |conn| {
            let rows = sqlx::query("SELECT id, slug, name FROM orgs ORDER BY slug").fetch_all(conn).await?;
            rows.iter().map(|r| Ok(Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? })).collect()
        })
    }

    /// The organisation with this slug.
    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        on_connection!(self, |conn| {
            let row =
                sqlx::query("SELECT id, slug, name FROM orgs WHERE slug = $1").bind(slug).fetch_optional(conn).await?;
            row.map(|r| Ok(Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? })).transpose()
        })
    }
}
