//! Migrations carry existing data forward: a PostgreSQL database made by `0001_initial` (its
//! timestamps RFC 3339 text) opens with the current code, which converts them to `timestamptz`
//! (`0002_timestamptz`) and reads them back as the same moments. SQLite keeps its timestamps as
//! text, so it has no such migration to check.

use credits_server::Store;
use sqlx::Connection;

use crate::helpers::{Db, drop_postgres_database, fresh_database, postgres_available};

#[tokio::test]
async fn text_timestamps_become_timestamptz() {
    if !postgres_available().await {
        return;
    }
    let dir = std::env::temp_dir().join(format!("credits-migrations-{}", uuid::Uuid::new_v4().simple()));
    let first = dir.join("migrations");
    std::fs::create_dir_all(&first).unwrap();
    let (url, name) = fresh_database(Db::Postgres, &dir).await;
    let name = name.expect("a PostgreSQL database");

    // The schema as the first migration left it, with rows written by the code of that time.
    let initial = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres/0001_initial.sql");
    std::fs::copy(initial, first.join("0001_initial.sql")).unwrap();
    let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(first.as_path()).await.unwrap().run(&mut connection).await.unwrap();
    for statement in [
        "INSERT INTO orgs VALUES ('o1', 'acme', 'Acme', '2026-01-02T03:04:05.123456Z')",
        "INSERT INTO ledger (id, org_id, amount, transaction_type, created_at) \
         VALUES ('00000000-0000-4000-8000-000000000001', 'o1', 7, 'admin_adjustment', '2026-01-02T03:04:06.000001Z')",
    ] {
        sqlx::query(statement).execute(&mut connection).await.unwrap();
    }

    let store = Store::connect(&url).await.expect("the current code opens the old database");
    let org = store.org_by_slug("acme").await.unwrap().expect("the org survived");
    let entries = store.transactions(&org, 10, &[]).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].created_at.to_rfc3339(), "2026-01-02T03:04:06.000001+00:00");
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT CAST(data_type AS TEXT) FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name IN ('created_at', 'revoked_at', 'fulfilled_at', \
         'received_at', 'claimed_at')",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    assert_eq!(types, ["timestamp with time zone"]);

    store.close().await;
    connection.close().await.unwrap();
    drop_postgres_database(name);
    let _ = std::fs::remove_dir_all(dir);
}

/// `0003_org_balances` sums the ledgers that exist, and the stored balance then follows every
/// ledger write (here an administrator's grant) in step with the ledger's own sum.
#[tokio::test]
async fn existing_ledgers_get_their_balance_kept_in_step() {
    let dir = std::env::temp_dir().join(format!("credits-migrations-{}", uuid::Uuid::new_v4().simple()));
    let first = dir.join("migrations");
    std::fs::create_dir_all(&first).unwrap();
    let url = format!("sqlite://{}/old.db?mode=rwc", dir.display());
    let initial = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite/0001_initial.sql");
    std::fs::copy(initial, first.join("0001_initial.sql")).unwrap();
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(first.as_path()).await.unwrap().run(&mut connection).await.unwrap();
    for statement in [
        "INSERT INTO orgs VALUES ('o1', 'acme', 'Acme', '2026-01-02T03:04:05Z')",
        "INSERT INTO orgs VALUES ('o2', 'beta', 'Beta', '2026-01-02T03:04:05Z')",
        "INSERT INTO ledger (id, org_id, amount, transaction_type, created_at) \
         VALUES ('00000000-0000-4000-8000-000000000001', 'o1', 7, 'admin_adjustment', '2026-01-02T03:04:06Z')",
        "INSERT INTO ledger (id, org_id, amount, transaction_type, created_at) \
         VALUES ('00000000-0000-4000-8000-000000000002', 'o1', 5, 'purchase', '2026-01-02T03:04:07Z')",
    ] {
        sqlx::query(statement).execute(&mut connection).await.unwrap();
    }
    connection.close().await.unwrap();

    let store = Store::connect(&url).await.expect("the current code opens the old database");
    let acme = store.org_by_slug("acme").await.unwrap().expect("acme");
    let beta = store.org_by_slug("beta").await.unwrap().expect("beta");
    assert_eq!(store.balance(&acme).await.unwrap(), 12);
    assert_eq!(store.balance(&beta).await.unwrap(), 0, "an org without entries has a zero balance");
    store.grant(&acme, -20, "correction").await.unwrap();
    store.grant(&beta, 3, "welcome").await.unwrap();
    assert_eq!(store.balance(&acme).await.unwrap(), -8);
    assert_eq!(store.balance(&acme).await.unwrap(), store.ledger_sum(&acme).await.unwrap());
    assert_eq!(store.balance(&beta).await.unwrap(), 3);
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
