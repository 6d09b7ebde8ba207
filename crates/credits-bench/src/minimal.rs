//! The minimal checkout: only the I/O a checkout must do, and nothing else. The token's hash is
//! looked up with its org and role in one query, one form-encoded Stripe call goes through a
//! shared client, one row is inserted. SQLite runs in WAL mode with `synchronous=NORMAL`.
//! It keeps its own two tables, so it does not depend on the server's schema.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use dropshot::{
    ApiDescription, ClientErrorStatusCode, HttpError, HttpResponseOk, Path, RequestContext, TypedBody, endpoint,
};
use schemars::JsonSchema;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::bare::{CheckoutRequest, CheckoutResponse};

enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

struct State {
    db: Db,
    http: reqwest::Client,
    stripe_api_base: String,
}

#[derive(Deserialize, JsonSchema)]
struct OrgPath {
    org: String,
}

#[derive(Deserialize)]
struct StripeSession {
    id: String,
    url: String,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn internal(e: impl std::fmt::Display) -> HttpError {
    HttpError::for_internal_error(e.to_string())
}

#[endpoint { method = POST, path = "/api/v1/org/{org}/credits/checkout" }]
async fn checkout(
    rqctx: RequestContext<Arc<State>>,
    path: Path<OrgPath>,
    body: TypedBody<CheckoutRequest>,
) -> Result<HttpResponseOk<CheckoutResponse>, HttpError> {
    let state = rqctx.context();
    let unauthorized =
        || HttpError::for_client_error(None, ClientErrorStatusCode::UNAUTHORIZED, "authentication failed".into());
    let token = rqctx
        .request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let org = path.into_inner().org;
    let found: Option<(String, String)> = match &state.db {
        Db::Sqlite(pool) => {
            sqlx::query_as("SELECT org_id, role FROM bench_tokens WHERE token_hash = ? AND org_slug = ?")
                .bind(hash(token))
                .bind(&org)
                .fetch_optional(pool)
                .await
                .map_err(internal)?
        }
        Db::Postgres(pool) => {
            sqlx::query_as("SELECT org_id, role FROM bench_tokens WHERE token_hash = $1 AND org_slug = $2")
                .bind(hash(token))
                .bind(&org)
                .fetch_optional(pool)
                .await
                .map_err(internal)?
        }
    };
    let (org_id, role) = found.ok_or_else(unauthorized)?;
    if role != "owner" && role != "admin" {
        return Err(HttpError::for_client_error(None, ClientErrorStatusCode::FORBIDDEN, "forbidden".into()));
    }
    let body = body.into_inner();
    let quantity = body.quantity.to_string();
    let form = [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", "500"),
        ("line_items[0][price_data][product_data][name]", "Credits"),
        ("line_items[0][quantity]", quantity.as_str()),
        ("success_url", body.success_url.as_str()),
        ("cancel_url", body.cancel_url.as_str()),
        ("client_reference_id", org.as_str()),
    ];
    let session: StripeSession = state
        .http
        .post(format!("{}v1/checkout/sessions", state.stripe_api_base))
        .bearer_auth("sk_test_bench")
        .form(&form)
        .send()
        .await
        .map_err(internal)?
        .error_for_status()
        .map_err(internal)?
        .json()
        .await
        .map_err(internal)?;
    let bundles = body.quantity as i64;
    match &state.db {
        Db::Sqlite(pool) => {
            sqlx::query("INSERT INTO bench_sessions (id, org_id, bundles, url) VALUES (?, ?, ?, ?)")
                .bind(&session.id)
                .bind(&org_id)
                .bind(bundles)
                .bind(&session.url)
                .execute(pool)
                .await
                .map_err(internal)?;
        }
        Db::Postgres(pool) => {
            sqlx::query("INSERT INTO bench_sessions (id, org_id, bundles, url) VALUES ($1, $2, $3, $4)")
                .bind(&session.id)
                .bind(&org_id)
                .bind(bundles)
                .bind(&session.url)
                .execute(pool)
                .await
                .map_err(internal)?;
        }
    }
    Ok(HttpResponseOk(CheckoutResponse { checkout_url: session.url, session_id: session.id }))
}

const TABLES: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS bench_tokens (token_hash TEXT PRIMARY KEY, org_slug TEXT NOT NULL, \
     org_id TEXT NOT NULL, role TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_sessions (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, \
     bundles BIGINT NOT NULL, url TEXT NOT NULL)",
];

async fn connect(database_url: &str, token: &str, org: &str) -> anyhow::Result<Db> {
    let db = if database_url.starts_with("postgres") {
        let pool = PgPoolOptions::new().max_connections(16).connect(database_url).await?;
        for table in TABLES {
            sqlx::query(table).execute(&pool).await?;
        }
        sqlx::query("INSERT INTO bench_tokens VALUES ($1, $2, $3, 'owner') ON CONFLICT DO NOTHING")
            .bind(hash(token))
            .bind(org)
            .bind(format!("org-{org}"))
            .execute(&pool)
            .await?;
        Db::Postgres(pool)
    } else {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        for table in TABLES {
            sqlx::query(table).execute(&pool).await?;
        }
        sqlx::query("INSERT OR IGNORE INTO bench_tokens VALUES (?, ?, ?, 'owner')")
            .bind(hash(token))
            .bind(org)
            .bind(format!("org-{org}"))
            .execute(&pool)
            .await?;
        Db::Sqlite(pool)
    };
    Ok(db)
}

pub async fn serve(
    bind: SocketAddr,
    database_url: &str,
    stripe_api_base: &str,
    token: &str,
    org: &str,
) -> anyhow::Result<()> {
    let db = connect(database_url, token, org).await?;
    let state = Arc::new(State { db, http: reqwest::Client::new(), stripe_api_base: stripe_api_base.to_string() });
    let mut api = ApiDescription::new();
    api.register(checkout).map_err(|e| anyhow::anyhow!("{e}"))?;
    let log = dropshot::ConfigLogging::StderrTerminal { level: dropshot::ConfigLoggingLevel::Error }
        .to_logger("minimal")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = dropshot::ServerBuilder::new(api, state, log)
        .config(dropshot::ConfigDropshot { bind_address: bind, ..Default::default() })
        .start()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("listening on {}", server.local_addr());
    server.await.map_err(|e| anyhow::anyhow!("{e}"))
}
