//! Storage: SQLite (embedded default) or PostgreSQL (several instances sharing one database),
//! through sqlx's `Any` driver so that one set of queries serves both.
//!
//! Queries use `$N` placeholders in ascending order, which both databases accept. Exactly-once
//! effects rest on unique constraints (`INSERT ... ON CONFLICT DO NOTHING`), never on reading
//! first, so concurrent deliveries on several instances cannot both win.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Row};

use crate::config::BundlePrice;
use uuid::Uuid;

/// Storage failures. The message is for logs only: clients get a generic 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
}

// Implemented by hand (not `#[from]`) so that the cause is in the message once, not again as a
// source: `{:#}` would print sqlx's message twice.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(error)
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// A member's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Owners and admins hold billing rights; members may only read.
    pub fn may_buy(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub user_id: String,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub bundles: i64,
    pub credits: i64,
    pub status: String,
    pub payment_status: String,
    pub created_at: DateTime<Utc>,
    pub fulfilled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub id: String,
    pub amount: i64,
    pub transaction_type: String,
    pub description: Option<String>,
    pub has_receipt: bool,
    pub created_at: DateTime<Utc>,
}

/// A session to record.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub org: &'a Org,
    pub user_id: &'a str,
    pub bundles: i64,
    pub price: &'a BundlePrice,
    pub credits_per_bundle: i64,
    pub url: &'a str,
}

/// What a session was sold on.
#[derive(Debug, Clone)]
pub struct SessionTerms {
    pub org_id: String,
    pub price: BundlePrice,
    pub credits_per_bundle: i64,
    /// Whether its credits were already granted.
    pub fulfilled: bool,
}

/// What an `Idempotency-Key` says about a request.
#[derive(Debug)]
pub enum IdempotencyClaim {
    /// Process the request, sending `stripe_key` to Stripe; then `complete` or `release` the key.
    Claimed { stripe_key: String },
    /// Already answered: replay this status and body.
    Replay { status: u16, body: String },
    /// Used with another body.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// How long an idempotency key is remembered (Stripe's own rule).
pub const IDEMPOTENCY_KEY_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// How long an unanswered claim is honoured before it counts as abandoned.
pub const ABANDONED_CLAIM_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
}

pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("bad timestamp {text:?}: {e}")))
}

/// The hex SHA-256 of a secret (tokens, request bodies).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl Store {
    /// Connects and applies the migrations. A `sqlite:` URL's file and folder are created.
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite
            && let Some(path) = sqlite_path(url)
            && let Some(dir) = std::path::Path::new(&path).parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Invalid(format!("creating {}: {e}", dir.display())))?;
        }
        let url = if is_sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
        } else {
            url.to_string()
        };
        // A single connection first: a pool reports an unreachable database only as a time-out,
        // while this says why (refused, unknown database, bad password...).
        sqlx::AnyConnection::connect(&url).await?.close().await?;
        let pool = AnyPoolOptions::new().max_connections(if is_sqlite { 4 } else { 10 }).connect(&url).await?;
        if is_sqlite {
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        } else {
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        }
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org> {
        let id = Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(slug)
            .bind(name)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(Org { id, slug: slug.to_string(), name: name.to_string() })
    }

    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        let rows = sqlx::query("SELECT id, slug, name FROM orgs ORDER BY slug").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? })).collect()
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT id, slug, name FROM orgs WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? })).transpose()
    }

    /// Makes `email` a member of `org` with `role` (creating the user, or changing the role) and
    /// issues a token for them. Returns the token's id and the token, which is not kept.
    pub async fn create_token(&self, org: &Org, email: &str, role: Role) -> Result<(String, String)> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING")
            .bind(Uuid::new_v4().to_string())
            .bind(email)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        let user_id: String =
            sqlx::query("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(&mut *tx).await?.try_get(0)?;
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(&org.id)
        .bind(&user_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        let token_id = Uuid::new_v4().simple().to_string();
        let secret: [u8; 32] = rand::random();
        let token = format!("cr_{}_{}", &token_id[..12], hex::encode(secret));
        sqlx::query("INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&token_id)
            .bind(&user_id)
            .bind(sha256_hex(token.as_bytes()))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((token_id, token))
    }

    /// Revokes a token given either the token itself or its id; says whether one was revoked.
    pub async fn revoke_token(&self, token_or_id: &str) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE (id = $2 OR token_hash = $3) AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(token_or_id)
        .bind(sha256_hex(token_or_id.as_bytes()))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// The owner of a token, if it is known and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>> {
        let row = sqlx::query("SELECT id, user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(sha256_hex(token.as_bytes()))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(Caller { token_id: r.try_get(0)?, user_id: r.try_get(1)? })).transpose()
    }

    /// The org and the caller's role in it, if the caller is a member.
    pub async fn membership(&self, user_id: &str, slug: &str) -> Result<Option<(Org, Role)>> {
        let row = sqlx::query(
            "SELECT o.id, o.slug, o.name, m.role FROM orgs o JOIN memberships m ON m.org_id = o.id \
             WHERE m.user_id = $1 AND o.slug = $2",
        )
        .bind(user_id)
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.try_get(3)?;
        let role = Role::parse(&role).ok_or_else(|| StoreError::Invalid(format!("unknown role {role:?}")))?;
        Ok(Some((Org { id: r.try_get(0)?, slug: r.try_get(1)?, name: r.try_get(2)? }, role)))
    }

    /// Records a session Stripe created, with the price and credits per bundle it was sold at.
    pub async fn insert_session(&self, new: &NewSession<'_>) -> Result<()> {
        let (price_id, unit_amount, currency) = match new.price {
            BundlePrice::PriceId(id) => (Some(id.clone()), None, None),
            BundlePrice::Amount { unit_amount, currency } => (None, Some(*unit_amount), Some(currency.clone())),
        };
        sqlx::query(
            "INSERT INTO checkout_sessions (id, org_id, created_by, bundles, credits, price_id, unit_amount, currency, \
             credits_per_bundle, status, payment_status, checkout_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', 'unpaid', $10, $11) ON CONFLICT (id) DO NOTHING",
        )
        .bind(new.id)
        .bind(&new.org.id)
        .bind(new.user_id)
        .bind(new.bundles)
        .bind(new.bundles * new.credits_per_bundle)
        .bind(price_id)
        .bind(unit_amount)
        .bind(currency)
        .bind(new.credits_per_bundle)
        .bind(new.url)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, org: &Org, id: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT id, bundles, credits, status, payment_status, created_at, fulfilled_at FROM checkout_sessions \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(&org.id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let fulfilled: Option<String> = r.try_get(6)?;
        Ok(Some(SessionRecord {
            id: r.try_get(0)?,
            bundles: r.try_get(1)?,
            credits: r.try_get(2)?,
            status: r.try_get(3)?,
            payment_status: r.try_get(4)?,
            created_at: parse_time(&r.try_get::<String, _>(5)?)?,
            fulfilled_at: fulfilled.as_deref().map(parse_time).transpose()?,
        }))
    }

    /// The org a checkout session belongs to and the terms it was sold on, for webhook events.
    pub async fn session_terms(&self, id: &str) -> Result<Option<SessionTerms>> {
        let row = sqlx::query(
            "SELECT org_id, price_id, unit_amount, currency, credits_per_bundle, fulfilled_at FROM checkout_sessions \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let price_id: Option<String> = r.try_get(1)?;
        let unit_amount: Option<i64> = r.try_get(2)?;
        let currency: Option<String> = r.try_get(3)?;
        let price = match (price_id, unit_amount, currency) {
            (Some(id), _, _) => BundlePrice::PriceId(id),
            (None, Some(unit_amount), Some(currency)) => BundlePrice::Amount { unit_amount, currency },
            _ => return Err(StoreError::Invalid(format!("session {id} has no price"))),
        };
        let fulfilled_at: Option<String> = r.try_get(5)?;
        Ok(Some(SessionTerms {
            org_id: r.try_get(0)?,
            price,
            credits_per_bundle: r.try_get(4)?,
            fulfilled: fulfilled_at.is_some(),
        }))
    }

    /// Moves a session to the state Stripe reports, forward only: events arrive out of order,
    /// so a late `completed` (unpaid) must not undo a `failed` or `expired` that came first, and
    /// nothing changes a fulfilled session.
    pub async fn set_session_state(&self, id: &str, status: &str, payment_status: &str) -> Result<()> {
        let rank = |status: &str, payment_status: &str| match (status, payment_status) {
            (_, "paid") => 3,
            ("expired", _) | (_, "failed") => 2,
            ("complete", _) => 1,
            _ => 0,
        };
        sqlx::query(
            "UPDATE checkout_sessions SET status = $1, payment_status = $2 WHERE id = $3 AND fulfilled_at IS NULL \
             AND (CASE WHEN payment_status = 'paid' THEN 3 \
                       WHEN status = 'expired' OR payment_status = 'failed' THEN 2 \
                       WHEN status = 'complete' THEN 1 ELSE 0 END) < $4",
        )
        .bind(status)
        .bind(payment_status)
        .bind(id)
        .bind(rank(status, payment_status) as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Credits a paid session, once: the ledger's unique `checkout_session_id` decides which of
    /// several concurrent deliveries inserts. Returns whether this call granted the credits.
    pub async fn fulfil(&self, session_id: &str, org_id: &str, bundles: i64, credits: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        let inserted = sqlx::query(
            "INSERT INTO ledger (id, org_id, amount, transaction_type, description, checkout_session_id, created_at) \
             VALUES ($1, $2, $3, 'purchase', $4, $5, $6) ON CONFLICT (checkout_session_id) DO NOTHING",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(org_id)
        .bind(credits)
        .bind(format!("{bundles} credit bundle(s) bought through Stripe Checkout"))
        .bind(session_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        sqlx::query(
            "UPDATE checkout_sessions SET status = 'complete', payment_status = 'paid', bundles = $1, credits = $2, \
             fulfilled_at = COALESCE(fulfilled_at, $3) WHERE id = $4",
        )
        .bind(bundles)
        .bind(credits)
        .bind(&at)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Records a Stripe event id; false when it was already recorded.
    pub async fn record_event(&self, id: &str, event_type: &str) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO stripe_events (id, event_type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(event_type)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// An administrator's adjustment of an org's balance.
    pub async fn grant(&self, org: &Org, amount: i64, reason: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO ledger (id, org_id, amount, transaction_type, description, created_at) VALUES ($1, $2, $3, 'admin_adjustment', $4, $5)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&org.id)
        .bind(amount)
        .bind(reason)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The balance: the sum of the ledger.
    pub async fn balance(&self, org: &Org) -> Result<i64> {
        let row = sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger WHERE org_id = $1")
            .bind(&org.id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// The newest `limit` entries, of the given types (all when empty).
    pub async fn transactions(&self, org: &Org, limit: i64, types: &[String]) -> Result<Vec<LedgerEntry>> {
        let mut sql = String::from(
            "SELECT id, amount, transaction_type, description, checkout_session_id, created_at FROM ledger WHERE org_id = $1",
        );
        if !types.is_empty() {
            let placeholders: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 2)).collect();
            sql.push_str(&format!(" AND transaction_type IN ({})", placeholders.join(", ")));
        }
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", types.len() + 2));
        let mut query = sqlx::query(&sql).bind(&org.id);
        for t in types {
            query = query.bind(t);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let session: Option<String> = r.try_get(4)?;
                Ok(LedgerEntry {
                    id: r.try_get(0)?,
                    amount: r.try_get(1)?,
                    transaction_type: r.try_get(2)?,
                    description: r.try_get(3)?,
                    has_receipt: session.is_some(),
                    created_at: parse_time(&r.try_get::<String, _>(5)?)?,
                })
            })
            .collect()
    }

    /// Claims an idempotency key for a request whose body hashes to `request_hash`. Keys are kept
    /// for [`IDEMPOTENCY_KEY_LIFETIME`]; a claim left unanswered for [`ABANDONED_CLAIM_AFTER`]
    /// (the server stopped half-way), or released with its outcome unknown, is taken over by the
    /// next request with the same body, with the same Stripe key.
    pub async fn claim_idempotency_key(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyClaim> {
        let expired = (Utc::now() - IDEMPOTENCY_KEY_LIFETIME).to_rfc3339_opts(SecondsFormat::Micros, true);
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2 AND created_at < $3")
            .bind(user_id)
            .bind(key)
            .bind(&expired)
            .execute(&self.pool)
            .await?;
        // The row can vanish between the insert and the select (its holder released it after a
        // Stripe error): then claim again.
        for _ in 0..3 {
            let stripe_key = format!("credits-{}", Uuid::new_v4().simple());
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, stripe_key, created_at, claimed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, idempotency_key) DO NOTHING",
            )
            .bind(user_id)
            .bind(key)
            .bind(request_hash)
            .bind(&stripe_key)
            .bind(now())
            .bind(now())
            .execute(&self.pool)
            .await?
            .rows_affected()
                > 0;
            if inserted {
                return Ok(IdempotencyClaim::Claimed { stripe_key });
            }
            let row = sqlx::query(
                "SELECT request_hash, response_status, response_body, claimed_at, stripe_key FROM idempotency_keys \
                 WHERE user_id = $1 AND idempotency_key = $2",
            )
            .bind(user_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { continue };
            let stored_hash: String = row.try_get(0)?;
            let status: Option<i64> = row.try_get(1)?;
            let body: Option<String> = row.try_get(2)?;
            let claimed_at: String = row.try_get(3)?;
            let stripe_key: String = row.try_get(4)?;
            if stored_hash != request_hash {
                return Ok(IdempotencyClaim::Mismatch);
            }
            if let (Some(status), Some(body)) = (status, body) {
                return Ok(IdempotencyClaim::Replay { status: status as u16, body });
            }
            let abandoned = (Utc::now() - ABANDONED_CLAIM_AFTER).to_rfc3339_opts(SecondsFormat::Micros, true);
            if claimed_at >= abandoned {
                return Ok(IdempotencyClaim::InFlight);
            }
            // Compare-and-set on the old claim time: of several takers, one wins.
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET claimed_at = $1 WHERE user_id = $2 AND idempotency_key = $3 \
                 AND claimed_at = $4 AND response_status IS NULL",
            )
            .bind(now())
            .bind(user_id)
            .bind(key)
            .bind(&claimed_at)
            .execute(&self.pool)
            .await?
            .rows_affected()
                > 0;
            return Ok(if taken { IdempotencyClaim::Claimed { stripe_key } } else { IdempotencyClaim::InFlight });
        }
        Err(StoreError::Invalid(format!("idempotency key {key:?} kept changing hands")))
    }

    /// Stores the answer to replay for a claimed key.
    pub async fn complete_idempotency_key(&self, user_id: &str, key: &str, status: u16, body: &str) -> Result<()> {
        sqlx::query("UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE user_id = $3 AND idempotency_key = $4")
            .bind(i64::from(status))
            .bind(body)
            .bind(user_id)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Frees a claimed key after a failure. When Stripe answered (it refused, or failed), the key
    /// is forgotten: a retry starts afresh with a new Stripe key. (Stripe replays its first
    /// answer to a key, a 5xx or an unreadable body included, so reusing the key could never get
    /// past it; a fresh key may at worst leave behind an open session whose URL nobody was
    /// given, which expires unpaid.) When the outcome is unknown (no
    /// answer in time, the connection dropped), the Stripe key is kept and the claim is marked
    /// abandoned, so a retry with the same body reaches whatever Stripe did.
    pub async fn release_idempotency_key(&self, user_id: &str, key: &str, outcome_known: bool) -> Result<()> {
        let query = if outcome_known {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2 AND response_status IS NULL",
            )
            .bind(user_id)
            .bind(key)
        } else {
            sqlx::query(
                "UPDATE idempotency_keys SET claimed_at = $1 WHERE user_id = $2 AND idempotency_key = $3 \
                 AND response_status IS NULL",
            )
            .bind(RELEASED_CLAIM)
            .bind(user_id)
            .bind(key)
        };
        query.execute(&self.pool).await?;
        Ok(())
    }
}

/// The claim time of a key released with its outcome unknown: long abandoned, so the next request
/// with the same body takes it over at once.
const RELEASED_CLAIM: &str = "1970-01-01T00:00:00.000000Z";

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}
