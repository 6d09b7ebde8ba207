//! Migrations carry existing data forward: a PostgreSQL database made by `0001_initial` (its
//! timestamps RFC 3339 text) opens with the current code, which converts them to `timestamptz`
//! (`0002_timestamptz`) and reads them back as the same moments. SQLite keeps its timestamps as
//! text, so it has no such migration to check. On both databases, user-wide tokens become tokens
//! of one membership or are revoked (`0005_scoped_tokens`).

use credits_server::store::{IdempotencyClaim, KeyScope};
use credits_server::{Role, Store};
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
    let entries = store.transactions(&org, 10, &[], None).await.unwrap().unwrap();
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

/// A database at the migration before `0005_scoped_tokens`, for `db`: its URL, and its
/// PostgreSQL name. Every migration numbered below 5 of that database's folder is applied.
async fn database_before_scoped_tokens(db: Db, dir: &std::path::Path) -> (String, Option<String>) {
    let folder = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let old = dir.join("migrations");
    std::fs::create_dir_all(&old).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0005" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let (url, name) = fresh_database(db, dir).await;
    let url = if db == Db::Sqlite { format!("{url}?mode=rwc") } else { url };
    // `Any` connections need their drivers installed in this process, whatever ran before.
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&mut connection).await.unwrap();
    connection.close().await.unwrap();
    (url, name)
}

/// `0005_scoped_tokens`: a user-wide token of a user with one membership is bound to it (with its
/// role, flagged legacy); the tokens of a user in several orgs, or in none, are revoked and the
/// operator is told whom to issue new ones; idempotency keys follow the only membership.
async fn user_wide_tokens_are_bound_or_revoked(db: Db) {
    let dir = std::env::temp_dir().join(format!("credits-migrations-{}", uuid::Uuid::new_v4().simple()));
    let (url, name) = database_before_scoped_tokens(db, &dir).await;
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    let when = "'2026-01-02T03:04:05Z'";
    for statement in [
        format!("INSERT INTO orgs VALUES ('o1', 'acme', 'Acme', {when})"),
        format!("INSERT INTO orgs VALUES ('o2', 'beta', 'Beta', {when})"),
        format!("INSERT INTO users VALUES ('u1', 'solo@example.com', {when})"),
        format!("INSERT INTO users VALUES ('u2', 'multi@example.com', {when})"),
        format!("INSERT INTO users VALUES ('u3', 'nobody@example.com', {when})"),
        "INSERT INTO memberships VALUES ('o1', 'u1', 'admin')".into(),
        "INSERT INTO memberships VALUES ('o1', 'u2', 'owner')".into(),
        "INSERT INTO memberships VALUES ('o2', 'u2', 'member')".into(),
        format!("INSERT INTO api_tokens VALUES ('t1', 'u1', '{}', {when}, NULL)", sha256("solo-token")),
        format!("INSERT INTO api_tokens VALUES ('t2', 'u2', '{}', {when}, NULL)", sha256("multi-token")),
        format!("INSERT INTO api_tokens VALUES ('t3', 'u3', '{}', {when}, NULL)", sha256("nobody-token")),
        format!(
            "INSERT INTO idempotency_keys VALUES ('u1', 'k1', 'hash-1', 'credits-1', 200, '{{\"x\":1}}', {now}, {now})",
            now = format!("'{}'", chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        ),
    ] {
        sqlx::query(&statement).execute(&mut connection).await.unwrap();
    }
    connection.close().await.unwrap();

    let store = Store::connect(&url).await.expect("the current code opens the old database");
    let notices = store.notices().join("\n");
    assert!(notices.contains("multi@example.com") && notices.contains("nobody@example.com"), "{notices}");
    assert!(!notices.contains("solo@example.com"), "{notices}");

    let solo = store.token_grant("solo-token").await.unwrap().expect("bound to the only membership");
    assert_eq!((solo.org.slug.as_str(), solo.token_role, solo.membership_role), ("acme", Role::Admin, Role::Admin));
    assert!(store.token_grant("multi-token").await.unwrap().is_none(), "revoked: no single org was meant");
    assert!(store.token_grant("nobody-token").await.unwrap().is_none(), "revoked: a member of nothing");
    let listed = store.list_tokens(None).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].legacy && listed[0].id == "t1", "{listed:?}");

    let acme = store.org_by_slug("acme").await.unwrap().expect("acme");
    let scope = KeyScope { org_id: &acme.id, user_id: "u1" };
    let claim = store
        .claim_idempotency_key(scope, "k1", "hash-1", chrono::TimeDelta::hours(24), std::time::Duration::from_secs(15))
        .await
        .unwrap();
    assert!(matches!(claim, IdempotencyClaim::Replay { status: 200, .. }), "the key followed: {claim:?}");

    // Opened again: the migration has run, nothing more to say.
    store.close().await;
    let again = Store::connect(&url).await.unwrap();
    assert!(again.notices().is_empty(), "{:?}", again.notices());
    again.close().await;
    if let Some(name) = name {
        drop_postgres_database(name);
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

crate::on_both_databases!(user_wide_tokens_are_bound_or_revoked);
