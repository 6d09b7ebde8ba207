//! `GET /healthz` and `GET /readyz` through the generated client: alive without the database,
//! ready only with a reachable, fully migrated database, and never charged to a token's quota.

use credits_client::types::{ApiErrorPayloadType, HealthStatusStatus};
use credits_server::Role;

use crate::helpers::{Db, spawn_app, spawn_app_with};

crate::on_both_databases!(alive_and_ready, not_ready_without_every_migration, probes_spend_no_token_quota);

async fn alive_and_ready(db: Db) {
    let app = spawn_app(db).await;
    let client = app.client("unused");
    assert_eq!(client.get_liveness().send().await.expect("alive").into_inner().status, HealthStatusStatus::Ok);
    assert_eq!(client.get_readiness().send().await.expect("ready").into_inner().status, HealthStatusStatus::Ok);
}

async fn not_ready_without_every_migration(db: Db) {
    let app = spawn_app(db).await;
    // As if the database had been restored from before this build's last migration.
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("a second connection");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(&pool)
        .await
        .expect("forget a migration");
    pool.close().await;
    let client = app.client("unused");
    match client.get_readiness().send().await {
        Err(credits_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 503);
            let payload = response.into_inner();
            assert_eq!(payload.type_, ApiErrorPayloadType::ServiceUnavailableError);
            assert!(!payload.detail.contains("migration"), "the cause goes to the log only: {payload:?}");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // Alive all the same: restarting would not bring the migration back.
    assert!(client.get_liveness().send().await.is_ok());
}

async fn probes_spend_no_token_quota(db: Db) {
    let app = spawn_app_with(db, |c| c.rate_limit_per_minute = 1).await;
    let (org, token) = app.org_with_token(Role::Member).await;
    let client = app.client(&token);
    assert!(client.get_credit_balance().org(&org).send().await.is_ok());
    for _ in 0..3 {
        assert!(client.get_readiness().send().await.is_ok(), "a probe with a spent token is still answered");
    }
    let spent = client.get_credit_balance().org(&org).send().await;
    assert!(matches!(spent, Err(credits_client::Error::ErrorResponse(r)) if r.status().as_u16() == 429));
}
