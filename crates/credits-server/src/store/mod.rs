//! Storage: SQLite (the embedded default) or PostgreSQL (several instances sharing one database).
//!
//! One file per table or aggregate: `orgs` (organisations), `tokens` (users, their memberships and
//! the tokens bound to them),
//! `sessions` (checkout sessions), `ledger` (the append-only ledger and the balance),
//! `idempotency` (`Idempotency-Key` records), `events` (Stripe events handled). Each adds its
//! queries to [`Store`].
//!
//! The store holds sqlx's typed pool of one database or the other (on SQLite, beside it, its
//! own read connections, [`Readers`], and the group-committing writer, `batch`), and every
//! query is written once: [`on_connection!`] (and [`write_tx!`] for writes) runs the same code on
//! a connection of whichever database is open, compiled once per database. Typed pools rather than sqlx's `Any` driver because `Any` cannot carry a
//! `timestamptz`: through the typed drivers a [`Timestamp`] is a `timestamptz` in PostgreSQL and
//! RFC 3339 text (UTC, microseconds, which sorts as time) in SQLite, with no casts in the SQL.
//! Queries use `$N` placeholders in ascending order, which both databases accept.
//!
//! Exactly-once effects rest on unique constraints (`INSERT ... ON CONFLICT DO NOTHING`) or
//! compare-and-set updates, never on reading first, so concurrent deliveries on several
//! instances cannot both win.

mod batch;
mod events;
mod idempotency;
mod ledger;
mod orgs;
mod sessions;
mod timestamp;
mod tokens;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

pub use idempotency::{IdempotencyClaim, KeyScope, new_stripe_key};
pub use ledger::{LedgerEntry, Payment, SourcedEntry};
pub use sessions::{NewSession, SessionRecord, SessionTerms};
pub use timestamp::Timestamp;
pub use tokens::{IssuedToken, TokenGrant, TokenListing, TokenOptions};

/// Storage failures. The message is for logs only: clients get a generic 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration failed: {0}")]
    Migration(sqlx::migrate::MigrateError),
    /// The database holds something the code does not understand, or a URL is wrong.
    #[error("{0}")]
    Invalid(String),
    /// An administrator's request contradicts what is stored; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
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

/// The open database.
#[derive(Clone)]
enum Pool {
    /// sqlx's pool (migrations, backups, their checks) and the connections the queries run on.
    Sqlite(SqlitePool, Readers),
    Postgres(PgPool),
}

/// SQLite connections for the store's queries, held by the store rather than by sqlx's pool (the
/// group-committing writer has its own): sqlx 0.8
/// pings every connection it takes back (`PoolConnection::return_to_pool`), which on SQLite is
/// one more hand-off to the connection's worker thread and back after every query, for a file
/// handle in this process that nothing can break between uses. A connection is given back here
/// as it is (a query or transaction cut short is finished or rolled back by its worker thread,
/// in order, before the next command it gets).
type Readers = deadpool::unmanaged::Pool<sqlx::SqliteConnection>;

/// Read connections on SQLite: as many as sqlx's pool had.
const SQLITE_READERS: usize = 8;

/// Runs `$body` with `$pool` bound to the store's typed pool (for what needs the pool itself:
/// migrations and their checks): the body is compiled once for each database.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool, _) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` (returning `Result<T>`) with `$conn` bound to one connection of the open
/// database for the whole body: on SQLite one of the store's [`Readers`], on PostgreSQL one from
/// the pool. The body is compiled once for each database, so the same query text and binds serve
/// both.
macro_rules! on_connection {
    ($store:expr, |$conn:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite(_, readers) => {
                let mut connection = readers
                    .get()
                    .await
                    .map_err(|e| $crate::store::StoreError::Invalid(format!("database: no read connection: {e}")))?;
                let $conn: &mut sqlx::SqliteConnection = &mut connection;
                $body
            }
            $crate::store::Pool::Postgres(pool) => {
                let mut connection = pool.acquire().await?;
                let $conn: &mut sqlx::PgConnection = &mut connection;
                $body
            }
        }
    };
}
use on_connection;

/// Runs `$body` (an expression returning `Result<T>`, using `$conn` as its executor) as one
/// write, committed before the result is returned: on SQLite queued to the group-committing
/// writer (`batch`), so what the body captures must be owned; on PostgreSQL in a transaction of
/// its own (the server already groups concurrent commits' log flushes), or, with `autocommit`,
/// each statement on its own as before (no `BEGIN`/`COMMIT` round trips for a single statement,
/// or for statements each safe alone).
macro_rules! write_tx {
    ($store:expr, autocommit |$conn:ident| $body:expr) => {
        match (&$store.pool, &$store.writer) {
            ($crate::store::Pool::Sqlite(..), Some(writer)) => {
                writer.write(false, move |$conn| Box::pin(async move { $body })).await
            }
            ($crate::store::Pool::Sqlite(pool, _), None) => {
                let mut connection = pool.acquire().await?;
                let $conn: &mut sqlx::SqliteConnection = &mut connection;
                async { $body }.await
            }
            ($crate::store::Pool::Postgres(pool), _) => {
                let mut connection = pool.acquire().await?;
                let $conn: &mut sqlx::PgConnection = &mut connection;
                async { $body }.await
            }
        }
    };
    ($store:expr, |$conn:ident| $body:expr) => {
        match (&$store.pool, &$store.writer) {
            ($crate::store::Pool::Sqlite(..), Some(writer)) => {
                writer.write(true, move |$conn| Box::pin(async move { $body })).await
            }
            ($crate::store::Pool::Sqlite(pool, _), None) => {
                let mut tx = pool.begin().await?;
                let outcome = {
                    let $conn: &mut sqlx::SqliteConnection = &mut tx;
                    async { $body }.await
                };
                if outcome.is_ok() {
                    tx.commit().await?;
                }
                outcome
            }
            ($crate::store::Pool::Postgres(pool), _) => {
                let mut tx = pool.begin().await?;
                let outcome = {
                    let $conn: &mut sqlx::PgConnection = &mut tx;
                    async { $body }.await
                };
                if outcome.is_ok() {
                    tx.commit().await?;
                }
                outcome
            }
        }
    };
}
use write_tx;

/// The database: cheap to clone (a pool).
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// SQLite's group-committing writer for the hot writes (`None` on PostgreSQL, and for a
    /// read-only SQLite file).
    writer: Option<batch::Writer>,
    notices: Vec<String>,
}

/// The migration that bound tokens to one membership (`0005_scoped_tokens`).
const SCOPED_TOKENS_MIGRATION: i64 = 5;

impl Store {
    /// The pool's open connections and how many of them are idle (for the metrics).
    pub fn pool_use(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(_, readers) => {
                let status = readers.status();
                (u32::try_from(status.size).unwrap_or(u32::MAX), status.available)
            }
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }

    /// Connects and applies the migrations. A `sqlite:` URL's file and folder are created (unless
    /// the URL sets a `mode`); any other URL must be PostgreSQL's.
    pub async fn connect(url: &str) -> Result<Store> {
        // A single connection first: a pool reports an unreachable database only as a time-out,
        // while this says why (refused, unknown database, bad password...).
        let mut writer = None;
        let pool = if url.starts_with("sqlite:") {
            create_sqlite_folder(url)?;
            let mut options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(!url.contains("mode="))
                // Writers wait for each other (up to 5 s) rather than failing with "database is
                // locked".
                .busy_timeout(std::time::Duration::from_secs(5));
            if !url.contains("mode=ro") {
                // WAL: readers never wait for a writer, and a commit costs one fsync of the log.
                // `synchronous=FULL` keeps that fsync: with NORMAL, a purchase acknowledged to
                // Stripe could be lost across a power cut.
                options = options.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Full);
            }
            options.connect().await?.close().await?;
            // No ping before each use: a SQLite connection is a file handle in this process, with
            // nothing that can break between uses, and sqlx's ping is one more hand-off to the
            // connection's worker thread and back on every query.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await?;
            if !url.contains("mode=ro") {
                writer = Some(batch::Writer::open(&options).await?);
            }
            let readers = Readers::from_config(&deadpool::unmanaged::PoolConfig {
                max_size: SQLITE_READERS,
                // As sqlx's pool: a query waits at most this long for a connection.
                timeout: Some(std::time::Duration::from_secs(30)),
                runtime: Some(deadpool::Runtime::Tokio1),
            });
            for _ in 0..SQLITE_READERS {
                readers.add(options.connect().await?).await.map_err(|(_, e)| StoreError::Invalid(e.to_string()))?;
            }
            Pool::Sqlite(pool, readers)
        } else {
            let options = PgConnectOptions::from_str(url)?;
            options.connect().await?.close().await?;
            let pool = PgPoolOptions::new().max_connections(10).connect_with(options).await?;
            Pool::Postgres(pool)
        };
        let mut store = Store { pool, writer, notices: Vec::new() };
        let scoped_before = store.migration_applied(SCOPED_TOKENS_MIGRATION).await;
        match &store.pool {
            Pool::Sqlite(pool, _) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        if !scoped_before {
            store.notices = store.tokens_revoked_by_migration().await?;
        }
        Ok(store)
    }

    /// Writes a consistent copy of a SQLite database to `path` (`VACUUM INTO`: one read
    /// transaction, so writers may go on meanwhile), which must not exist yet. PostgreSQL is
    /// refused: it is backed up with its own tools (`pg_dump`, see the README).
    pub async fn backup(&self, path: &std::path::Path) -> Result<()> {
        let Pool::Sqlite(pool, _) = &self.pool else {
            return Err(StoreError::Refused(
                "admin backup copies SQLite databases only; back up PostgreSQL with pg_dump (see the README)".into(),
            ));
        };
        if path.exists() {
            return Err(StoreError::Refused(format!("{} exists already; give a new file", path.display())));
        }
        let target = path.to_str().ok_or_else(|| StoreError::Invalid(format!("{} is not UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
        Ok(())
    }

    /// Whether the migration `version` had been applied (false for a new database, which has no
    /// migrations table yet).
    async fn migration_applied(&self, version: i64) -> bool {
        on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = $1")
                .bind(version)
                .fetch_one(pool)
                .await
                .is_ok_and(|count| count > 0)
        })
    }

    /// What opening the database changed that an operator must hear about (tokens a migration
    /// revoked), one message each; empty on an ordinary start.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Whether the database answers and has applied every migration this build carries (an
    /// instance of an older build shares the database with a newer one during a rollout; a
    /// newer build must not take traffic on a database it has not migrated).
    pub async fn migrations_applied(&self) -> Result<bool> {
        let applied: Vec<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await?
        });
        let known: Vec<i64> = match &self.pool {
            Pool::Sqlite(..) => sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).collect(),
            Pool::Postgres(_) => sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).collect(),
        };
        Ok(known.iter().all(|version| applied.contains(version)))
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool, readers) => {
                readers.close();
                pool.close().await;
            }
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

fn create_sqlite_folder(url: &str) -> Result<()> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or_default();
    let path = rest.split('?').next().unwrap_or_default();
    // `:memory:` and a bare file name have an empty parent: nothing to create.
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Invalid(format!("creating {}: {e}", dir.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_url(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("credits-store-{}", uuid::Uuid::new_v4().simple()));
        format!("sqlite://{}/{name}", dir.display())
    }

    #[tokio::test]
    async fn the_pool_reports_its_open_and_idle_connections() {
        let store = Store::connect(&sqlite_url("pool.db")).await.expect("opens");
        let Pool::Sqlite(_, readers) = &store.pool else { panic!("a SQLite pool") };
        let held = [readers.get().await.unwrap(), readers.get().await.unwrap(), readers.get().await.unwrap()];
        let (open, idle) = store.pool_use();
        assert_eq!((open as usize, idle), (SQLITE_READERS, SQLITE_READERS - 3), "three in use");
        drop(held);
        assert_eq!(store.pool_use(), (SQLITE_READERS as u32, SQLITE_READERS), "given back at once");
    }

    #[tokio::test]
    async fn an_in_memory_database_needs_no_folder() {
        let store = Store::connect("sqlite::memory:").await.expect("opens");
        assert!(store.migrations_applied().await.expect("answers"));
    }

    #[tokio::test]
    async fn a_closed_store_answers_no_query() {
        let store = Store::connect(&sqlite_url("closed.db")).await.expect("opens");
        assert!(store.migrations_applied().await.expect("answers"));
        store.close().await;
        assert!(store.migrations_applied().await.is_err(), "closed");
    }

    #[tokio::test]
    async fn sqlite_writes_are_grouped_unless_the_file_is_read_only() {
        let url = sqlite_url("writer.db");
        let writable = Store::connect(&url).await.expect("opens");
        assert!(writable.writer.is_some(), "a writable file gets the group-committing writer");
        let read_only = Store::connect(&format!("{url}?mode=ro")).await.expect("opens read-only");
        assert!(read_only.writer.is_none(), "a read-only file has nothing to write with");
    }
}
