//! The database failing under a running server: PostgreSQL cut off mid-run (through a TCP proxy
//! the test owns: the machine's PostgreSQL is shared, so it is never stopped), and SQLite opened
//! read-only or locked by another writer. Each test asserts the answer (the declared 500
//! envelope, promptly, no panic) and the data afterwards, and that the server recovers by itself
//! when the database returns: ready again, with no connection leaked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use credits_server::Role;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::helpers::{Db, fresh_database, postgres_available, spawn_app, spawn_app_with};

/// A TCP proxy to `upstream` that can be cut (every open connection dropped, new ones closed at
/// once) and restored.
struct CuttableProxy {
    address: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl CuttableProxy {
    async fn start(upstream: SocketAddr) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (cut, connections) = (cut.clone(), connections.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        continue; // dropped: the connection is closed at once
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().await.push(task);
                }
            }
        });
        CuttableProxy { address, cut, connections, accept }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.connections.lock().await.drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Connections through the proxy still open.
    async fn open_connections(&self) -> usize {
        self.connections.lock().await.iter().filter(|task| !task.is_finished()).count()
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The status of an unauthenticated probe (`/healthz`, `/readyz`).
async fn probe(base_url: &str, path: &str) -> u16 {
    reqwest::get(format!("{base_url}{path}")).await.expect("the server answers").status().as_u16()
}

/// The status and body of `GET /credits` for `org`.
async fn read_balance(base_url: &str, token: &str, org: &str) -> (u16, serde_json::Value) {
    let answer = reqwest::Client::new()
        .get(format!("{base_url}/api/v1/org/{org}/credits"))
        .bearer_auth(token)
        .header("api-version", "1.0.0")
        .send()
        .await
        .expect("the server answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or_default())
}

#[tokio::test]
async fn postgres_cut_off_mid_run_is_a_prompt_500_and_the_server_recovers_by_itself() {
    if !postgres_available().await {
        return;
    }
    let dir = std::env::temp_dir().join(format!("credits-faults-{}", uuid::Uuid::new_v4().simple()));
    let (direct_url, name) = fresh_database(Db::Postgres, &dir).await;
    let name = name.expect("a PostgreSQL database");
    let proxy = CuttableProxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let through_proxy = direct_url.replacen("127.0.0.1:5432", &proxy.address.to_string(), 1);
    assert_ne!(through_proxy, direct_url, "the test database is reached at 127.0.0.1:5432");

    let app = spawn_app_with(Db::Sqlite, |_| {}).await; // only for its Stripe double and helpers
    let mut config = crate::helpers::config(&through_proxy, &app.fake);
    config.bind = "127.0.0.1:0".parse().unwrap();
    let server = credits_server::start_server(config).await.expect("the server starts through the proxy");
    let base_url = format!("http://{}", server.local_addr());
    let store = credits_server::Store::connect(&direct_url).await.unwrap();
    let org = store.create_org("acme", "Acme").await.unwrap();
    let token = store
        .create_token(&org, "o@acme.example", Role::Owner, credits_server::store::TokenOptions::default())
        .await
        .unwrap()
        .token;
    store.grant(&org, 70, "before the outage").await.unwrap();
    assert_eq!(read_balance(&base_url, &token, "acme").await.0, 200);

    assert_eq!(probe(&base_url, "/readyz").await, 200);

    proxy.cut().await;
    assert_eq!(probe(&base_url, "/readyz").await, 503, "not ready while the database is cut off");
    assert_eq!(probe(&base_url, "/healthz").await, 200, "alive all the same: a restart would not help");
    for _ in 0..3 {
        let started = Instant::now();
        let (status, body) = read_balance(&base_url, &token, "acme").await;
        assert_eq!(status, 500, "{body}");
        assert_eq!(body["type"], "internal_server_error", "{body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with("Internal server error (request id "),
            "nothing about the database leaks: {body}"
        );
        assert!(started.elapsed() < Duration::from_secs(10), "answered promptly: {:?}", started.elapsed());
    }

    proxy.restore();
    let mut recovered = false;
    for _ in 0..100 {
        let (status, body) = read_balance(&base_url, &token, "acme").await;
        if status == 200 {
            assert_eq!(body["balance"], 70, "nothing lost or doubled");
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the server answers again once the database is back");
    assert_eq!(probe(&base_url, "/readyz").await, 200, "ready again");
    assert_eq!(probe(&base_url, "/healthz").await, 200);

    // The connections cut off are gone from the pool: 50 requests at once, more than the pool
    // holds, are all served, over no more connections than the pool's maximum (10).
    let answers: Vec<_> = (0..50)
        .map(|_| {
            let (base_url, token) = (base_url.clone(), token.clone());
            tokio::spawn(async move { read_balance(&base_url, &token, "acme").await })
        })
        .collect();
    for answer in answers {
        let (status, body) = answer.await.unwrap();
        assert_eq!((status, body["balance"].as_i64()), (200, Some(70)), "{body}");
    }
    let open = proxy.open_connections().await;
    assert!((1..=10).contains(&open), "{open} connections open through the proxy");
    server.close().await.unwrap();
    store.close().await;
    crate::helpers::drop_postgres_database(name);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_read_only_sqlite_database_refuses_writes_with_a_500_and_keeps_serving_reads() {
    let app = spawn_app(Db::Sqlite).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let org_record = app.store.org_by_slug(&org).await.unwrap().unwrap();
    app.store.grant(&org_record, 40, "before").await.unwrap();
    let path = app.database_url.strip_prefix("sqlite://").unwrap().to_string();
    let read_only = format!("sqlite://{path}?mode=ro");
    let mut config = crate::helpers::config(&read_only, &app.fake);
    config.bind = "127.0.0.1:0".parse().unwrap();
    let server = credits_server::start_server(config).await.expect("a read-only database still serves");
    let base_url = format!("http://{}", server.local_addr());

    let (status, body) = read_balance(&base_url, &token, &org).await;
    assert_eq!((status, body["balance"].as_i64()), (200, Some(40)), "{body}");
    let answer = reqwest::Client::new()
        .post(format!("{base_url}/api/v1/org/{org}/credits/checkout"))
        .bearer_auth(&token)
        .header("api-version", "1.0.0")
        .json(&serde_json::json!({"quantity": 1, "success_url": "https://app.example/ok", "cancel_url": "https://app.example/no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 500);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().starts_with("Internal server error (request id "), "{body}");
    assert_eq!(read_balance(&base_url, &token, &org).await.0, 200, "still healthy after the refused write");
    assert_eq!(app.store.balance(&org_record).await.unwrap(), 40, "nothing written");
    server.close().await.unwrap();
}

/// A second connection holding SQLite's strongest lock (`BEGIN EXCLUSIVE`), as another process
/// writing to the file would. Without WAL this lock would also stop readers; in WAL mode it is
/// the write lock only.
async fn lock_for_writing(database_url: &str) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect(database_url).await.expect("a second connection");
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut connection).await.expect("the write lock");
    connection
}

async fn buy(app: &crate::helpers::TestApp, token: &str, org: &str, key: &str) -> Result<String, u16> {
    let body = credits_client::types::CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/no".into(),
        quantity: std::num::NonZeroU64::new(1).unwrap(),
        success_url: "https://app.example/ok".into(),
    };
    match app.client(token).create_checkout_session().org(org).idempotency_key(key).body(body).send().await {
        Ok(answer) => Ok(answer.into_inner().session_id),
        Err(credits_client::Error::ErrorResponse(answer)) => {
            let status = answer.status().as_u16();
            let payload = answer.into_inner();
            assert_eq!(payload.type_, credits_client::types::ApiErrorPayloadType::InternalServerError, "{payload:?}");
            assert!(payload.detail.starts_with("Internal server error (request id "), "{payload:?}");
            Err(status)
        }
        Err(other) => panic!("no envelope: {other}"),
    }
}

/// Another writer holds the SQLite file longer than the busy timeout (5 s): a write waits that
/// long, then answers the 500 envelope having written nothing (no session at Stripe either);
/// reads go on (WAL). Once the lock is released everything works again. Held for less than the
/// busy timeout, the lock only delays the write.
#[tokio::test]
async fn a_sqlite_file_locked_by_another_writer_delays_writes_then_refuses_them_and_keeps_serving_reads() {
    let app = spawn_app(Db::Sqlite).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let org_record = app.store.org_by_slug(&org).await.unwrap().unwrap();
    app.store.grant(&org_record, 40, "before").await.unwrap();
    // The token's first use is recorded (a write); it is not the subject here.
    assert_eq!(read_balance(&app.base_url, &token, &org).await.0, 200);

    let mut locker = lock_for_writing(&app.database_url).await;
    let started = Instant::now();
    let refused = buy(&app, &token, &org, "while-locked").await;
    let waited = started.elapsed();
    println!("a write against a lock held past the busy timeout answered after {waited:?}");
    assert_eq!(refused, Err(500));
    assert!(waited >= Duration::from_millis(4500), "the write waited for the busy timeout: {waited:?}");
    assert!(waited < Duration::from_secs(15), "and no longer: {waited:?}");
    let (status, body) = read_balance(&app.base_url, &token, &org).await;
    assert_eq!((status, body["balance"].as_i64()), (200, Some(40)), "reads go on under the lock: {body}");
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();

    assert!(app.stripe_sessions().await.is_empty(), "the refused write never reached Stripe");
    let session = buy(&app, &token, &org, "after-the-lock").await.expect("writes work again");
    assert_eq!(app.stripe_sessions().await, vec![session.clone()]);
    assert!(app.store.session(&org_record, &session).await.unwrap().is_some(), "the session is stored");
    let retried = buy(&app, &token, &org, "while-locked").await.expect("the refused key can be used again");
    assert_ne!(retried, session);

    let mut locker = lock_for_writing(&app.database_url).await;
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    });
    let started = Instant::now();
    let waited_for = buy(&app, &token, &org, "short-lock").await.expect("a short lock only delays the write");
    let waited = started.elapsed();
    println!("a write against a lock held for 1.5 s succeeded after {waited:?}");
    assert!(waited >= Duration::from_millis(1000), "it waited for the lock: {waited:?}");
    release.await.unwrap();
    assert!(app.store.session(&org_record, &waited_for).await.unwrap().is_some());
    assert_eq!(app.store.balance(&org_record).await.unwrap(), 40, "no purchase was paid: the balance is as it was");
}
