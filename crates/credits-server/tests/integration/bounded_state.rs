//! Bounded state: the purge deletes idempotency records and Stripe event records past their
//! retention and keeps the fresh ones (called directly with its clock, no waiting); `admin
//! backup` copies a SQLite database that is in use, and refuses PostgreSQL.

use chrono::{SecondsFormat, TimeDelta};
use credits_server::store::{StoreError, Timestamp};
use credits_server::{Retention, Store, purge};
use sqlx::Connection;

use crate::helpers::{Db, TestApp, spawn_app};

/// `now - age` as an SQL literal both databases read as a time.
fn ago(now: Timestamp, age: TimeDelta) -> String {
    format!("'{}'", (now - age).0.to_rfc3339_opts(SecondsFormat::Micros, true))
}

async fn execute(app: &TestApp, statements: &[String]) {
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&mut connection).await.unwrap();
    }
    connection.close().await.unwrap();
}

async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    let ids = sqlx::query_scalar(query).fetch_all(&mut connection).await.unwrap();
    connection.close().await.unwrap();
    ids
}

async fn old_rows_go_and_fresh_rows_stay(db: Db) {
    let app = spawn_app(db).await;
    let now = Timestamp::now();
    let key = |name: &str, age| {
        format!(
            "INSERT INTO idempotency_keys (org_id, user_id, idempotency_key, request_hash, stripe_key, created_at, \
             claimed_at) VALUES ('o', 'u', '{name}', 'h', 's', {at}, {at})",
            at = ago(now, age)
        )
    };
    let event = |id: &str, age| {
        format!("INSERT INTO stripe_events (id, event_type, received_at) VALUES ('{id}', 't', {})", ago(now, age))
    };
    execute(
        &app,
        &[
            key("stale", TimeDelta::hours(25)),
            key("fresh", TimeDelta::hours(23)),
            event("evt_stale", TimeDelta::days(31)),
            event("evt_fresh", TimeDelta::days(29)),
        ],
    )
    .await;

    let retention = Retention::default();
    let purged = purge::purge(&app.store, &retention, now).await.unwrap();
    assert_eq!((purged.idempotency_keys, purged.events), (1, 1));
    assert_eq!(ids(&app, "SELECT idempotency_key FROM idempotency_keys").await, ["fresh"]);
    assert_eq!(ids(&app, "SELECT id FROM stripe_events").await, ["evt_fresh"]);
    // A second purge (another instance's, say) finds nothing left to do and does not fail.
    let again = purge::purge(&app.store, &retention, now).await.unwrap();
    assert_eq!((again.idempotency_keys, again.events), (0, 0));
    // A shorter retention takes the rest.
    let short = Retention { idempotency_keys: std::time::Duration::from_secs(3600), ..Retention::default() };
    assert_eq!(purge::purge(&app.store, &short, now).await.unwrap().idempotency_keys, 1);
}

async fn backup_copies_sqlite_and_refuses_postgres(db: Db) {
    let app = spawn_app(db).await;
    let (slug, _token) = app.org_with_token(credits_server::Role::Owner).await;
    let org = app.store.org_by_slug(&slug).await.unwrap().expect("org");
    app.store.grant(&org, 40, "welcome").await.unwrap();
    app.store.grant(&org, -5, "correction").await.unwrap();
    let dir = std::env::temp_dir().join(format!("credits-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("copy.db");

    let outcome = app.store.backup(&file).await;
    if db == Db::Postgres {
        let Err(StoreError::Refused(message)) = outcome else { panic!("PostgreSQL must be refused: {outcome:?}") };
        assert!(message.contains("pg_dump"), "{message}");
        assert!(!file.exists());
        return;
    }
    outcome.expect("backed up while the server runs");
    let copy = Store::connect(&format!("sqlite://{}", file.display())).await.expect("the copy opens");
    let copied = copy.org_by_slug(&slug).await.unwrap().expect("the org is in the copy");
    assert_eq!(copy.balance(&copied).await.unwrap(), 35);
    let amounts: Vec<i64> =
        copy.transactions(&copied, 10, &[], None).await.unwrap().unwrap().iter().map(|e| e.amount).collect();
    assert_eq!(amounts.len(), 2, "{amounts:?}");
    assert_eq!(amounts.iter().sum::<i64>(), 35);
    copy.close().await;
    let again = app.store.backup(&file).await;
    assert!(matches!(again, Err(StoreError::Refused(_))), "an existing file is not overwritten: {again:?}");
    let _ = std::fs::remove_dir_all(dir);
}

crate::on_both_databases!(old_rows_go_and_fresh_rows_stay, backup_copies_sqlite_and_refuses_postgres);
