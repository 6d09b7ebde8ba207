//! Spawning a Stripe double and a server with its own database, and making orgs and tokens.

use std::time::Duration;

use credits_client::{Client, Credentials};
use credits_server::store::TokenOptions;
use credits_server::{BundlePrice, Config, EdgeConfig, Retention, Role, Secret, Store, StripeConfig};
use stripe_fake::{FakeConfig, StripeFake, WebhookEndpoint};

pub const WEBHOOK_SECRET: &str = "whsec_test_secret";
pub const CREDITS_PER_BUNDLE: i64 = 100;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A server, the double it talks to, and direct access to its store.
pub struct TestApp {
    /// The server, running as long as the test holds the app (unless stopped).
    server: Option<credits_server::RunningServer>,
    pub fake: StripeFake,
    pub store: Store,
    pub base_url: String,
    pub database_url: String,
    /// The PostgreSQL database made for this test, dropped with the app.
    postgres_database: Option<String>,
    _dir: tempdir::Dir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_database.take() {
            drop_postgres_database(name);
        }
    }
}

/// Drops a database made by [`fresh_database`]. Drop is not async: a short-lived runtime on
/// another thread removes the database.
pub fn drop_postgres_database(name: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            if let Ok(pool) = sqlx::AnyPool::connect(&postgres_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
                pool.close().await;
            }
        });
    })
    .join();
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// PostgreSQL for tests: `CREDITS_TEST_POSTGRES` (an admin URL), else the local server CI has.
pub fn postgres_admin_url() -> String {
    std::env::var("CREDITS_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether PostgreSQL can be reached; when not, says so loudly (the test then checks SQLite
/// only), or fails when `CREDITS_REQUIRE_POSTGRES` is set (as CI does).
pub async fn postgres_available() -> bool {
    sqlx::any::install_default_drivers();
    let url = postgres_admin_url();
    // A single connection says why it fails at once; a pool would wait for its time-out.
    match <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await {
        Ok(connection) => {
            let _ = sqlx::Connection::close(connection).await;
            true
        }
        Err(e) if std::env::var_os("CREDITS_REQUIRE_POSTGRES").is_some() => {
            panic!("PostgreSQL is required (CREDITS_REQUIRE_POSTGRES) but not reachable at {url}: {e}")
        }
        Err(e) => {
            // Written to stderr directly: the test harness captures `eprintln!` of passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! PostgreSQL not reachable at {url} ({e}): PostgreSQL tests SKIPPED !!!\n"
            );
            false
        }
    }
}

/// A new, empty database: its URL, and its name when it is a PostgreSQL one.
pub async fn fresh_database(db: Db, dir: &std::path::Path) -> (String, Option<String>) {
    match db {
        Db::Sqlite => (format!("sqlite://{}/credits.db", dir.display()), None),
        Db::Postgres => {
            let admin = postgres_admin_url();
            let name = format!("credits_test_{}", uuid::Uuid::new_v4().simple());
            let pool = sqlx::AnyPool::connect(&admin).await.expect("PostgreSQL reachable");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.expect("create database");
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            (format!("{base}/{name}"), Some(name))
        }
    }
}

pub fn config(database_url: &str, fake: &StripeFake) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        metrics_bind: None,
        database_url: database_url.to_string(),
        stripe: StripeConfig {
            secret_key: Secret::new("sk_test_credits"),
            api_base: fake.base_url(),
            webhook_secrets: vec![Secret::new(WEBHOOK_SECRET)],
            deadline: Duration::from_secs(5),
        },
        bundle_price: BundlePrice::Amount { unit_amount: 500, currency: "usd".into() },
        credits_per_bundle: CREDITS_PER_BUNDLE,
        min_client_version: None,
        rate_limit_per_minute: 1000,
        allowed_redirect_origins: vec!["https://app.example".into()],
        low_balance_threshold: 100,
        credential_cache_ttl: credits_server::credential_cache::DEFAULT_TTL,
        retention: Retention::default(),
        http_log_level: dropshot::ConfigLoggingLevel::Warn,
        edge: EdgeConfig::defaults(Duration::from_secs(5)),
        shutdown_grace: Duration::from_secs(15),
    }
}

/// A double and a server on a new database; `tweak` adjusts the server's configuration.
pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    sqlx::any::install_default_drivers();
    let dir = std::env::temp_dir().join(format!("credits-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = StripeFake::spawn(FakeConfig::default()).await.expect("stripe double starts");
    let (database_url, postgres_database) = fresh_database(db, &dir).await;
    let mut config = config(&database_url, &fake);
    tweak(&mut config);
    let server = credits_server::start_server(config).await.expect("server starts");
    let base_url = format!("http://{}", server.local_addr());
    fake.add_webhook(WebhookEndpoint {
        url: format!("{base_url}/api/v1/webhooks/stripe"),
        secret: WEBHOOK_SECRET.into(),
    });
    let store = Store::connect(&database_url).await.expect("store");
    TestApp { server: Some(server), fake, store, base_url, database_url, postgres_database, _dir: tempdir::Dir(dir) }
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

impl TestApp {
    /// A second server on the same database and double, its webhook registered with the double;
    /// `tweak` adjusts its configuration.
    pub async fn start_second_instance(&self, tweak: impl FnOnce(&mut Config)) -> credits_server::RunningServer {
        let mut config = config(&self.database_url, &self.fake);
        tweak(&mut config);
        let second = credits_server::start_server(config).await.expect("second instance starts");
        self.fake.add_webhook(WebhookEndpoint {
            url: format!("http://{}/api/v1/webhooks/stripe", second.local_addr()),
            secret: WEBHOOK_SECRET.into(),
        });
        second
    }

    /// Where the server's dropshot listens, behind the edge.
    pub fn inner_addr(&self) -> std::net::SocketAddr {
        self.server.as_ref().expect("the server runs").inner_addr()
    }

    /// Where the server's metrics listener is, if it has one.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().expect("the server runs").metrics_addr()
    }

    /// Stops the server gracefully (the double and the database stay).
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.close().await.expect("the server stops");
        }
    }

    /// A new org and a token for a member with `role`; returns the org slug and the token.
    pub async fn org_with_token(&self, role: Role) -> (String, String) {
        let slug = format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let org = self.store.create_org(&slug, "Test Org").await.expect("org");
        let email = format!("{}@example.com", role.as_str());
        let issued = self.store.create_token(&org, &email, role, TokenOptions::default()).await.expect("token");
        (slug, issued.token)
    }

    /// Stripe's sessions, as the double lists them (newest first).
    pub async fn stripe_sessions(&self) -> Vec<String> {
        let list: serde_json::Value = reqwest::Client::new()
            .get(format!("{}v1/checkout/sessions?limit=100", self.fake.base_url()))
            .bearer_auth("sk_test_credits")
            .send()
            .await
            .expect("the double answers")
            .json()
            .await
            .expect("a list");
        list["data"].as_array().expect("data").iter().map(|s| s["id"].as_str().expect("id").to_string()).collect()
    }

    pub fn client(&self, token: &str) -> Client {
        credits_client::connect(&self.base_url, Credentials::Bearer(token.to_string())).expect("client")
    }
}

/// Waits out the credential cache's time to live (`credits_server::credential_cache`): what a
/// token granted when last read is then read again, so a revocation or a demotion has taken
/// effect: the bound the README promises.
pub async fn past_credential_cache_ttl() {
    tokio::time::sleep(credits_server::credential_cache::DEFAULT_TTL + Duration::from_millis(100)).await;
}

/// Waits until `check` holds, polling; fails after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "condition not met within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
