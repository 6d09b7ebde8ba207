//! The server as separate operating-system processes (the built binary, as deployed): two
//! processes sharing one PostgreSQL database, and a process killed half-way through a purchase;
//! rate limits counted per process, as the README says.

use std::net::TcpListener;
use std::num::NonZeroU64;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use credits_client::types::{CreateCheckoutSessionRequest, CreditTransactionType};
use credits_server::Role;
use stripe_fake::{PaymentOutcome, WebhookEndpoint};

use crate::helpers::{CREDITS_PER_BUNDLE, Db, TestApp, WEBHOOK_SECRET, postgres_available, spawn_app};

/// A `credits-server serve` process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// Starts `serve` on a free port against `database_url` and the app's Stripe double, with
    /// `extra` flags; registers its webhook with the double; waits until it answers.
    pub async fn start(app: &TestApp, database_url: &str, extra: &[&str]) -> ServerProcess {
        let process = ServerProcess::start_unregistered(app, database_url, extra).await;
        app.fake.add_webhook(WebhookEndpoint {
            url: format!("{}/api/v1/webhooks/stripe", process.base_url),
            secret: WEBHOOK_SECRET.into(),
        });
        process
    }

    /// Like [`ServerProcess::start`], but Stripe's events are not sent to it directly (a load
    /// balancer in front receives them).
    pub async fn start_unregistered(app: &TestApp, database_url: &str, extra: &[&str]) -> ServerProcess {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bind = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_credits-server"))
            .args(["serve", "--bind", &bind, "--database-url", database_url])
            .args(["--stripe-secret-key", "sk_test_credits", "--stripe-api-base", &app.fake.base_url()])
            .args(["--stripe-webhook-secret", WEBHOOK_SECRET, "--bundle-unit-amount", "500"])
            .args(["--credits-per-bundle", &CREDITS_PER_BUNDLE.to_string()])
            .args(["--allowed-redirect-origins", "https://app.example"])
            .args(if extra.contains(&"--rate-limit-per-minute") {
                &[][..]
            } else {
                &["--rate-limit-per-minute", "10000"][..]
            })
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let process = ServerProcess { child, base_url: format!("http://{bind}") };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{}/healthz", process.base_url)).send().await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server process did not start listening on {bind}");
    }

    /// Kills the process at once (SIGKILL: no shutdown of any kind).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn order(bundles: u64) -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/cancel".into(),
        quantity: NonZeroU64::new(bundles).expect("at least one"),
        success_url: "https://app.example/ok".into(),
    }
}

/// Two processes on one PostgreSQL database: checkouts spread over both, every event delivered
/// three times to each; every purchase is credited exactly once and the stored balance equals
/// the ledger's sum.
#[tokio::test]
async fn two_processes_on_one_postgres_credit_each_purchase_once() {
    if !postgres_available().await {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let first = ServerProcess::start(&app, &app.database_url, &[]).await;
    let second = ServerProcess::start(&app, &app.database_url, &[]).await;
    app.fake.set_delivery_copies(3);
    let (org, token) = app.org_with_token(Role::Owner).await;
    let clients: Vec<credits_client::Client> = [&first, &second]
        .iter()
        .map(|p| {
            credits_client::connect(&p.base_url, credits_client::Credentials::Bearer(token.clone())).expect("client")
        })
        .collect();

    let purchases: Vec<_> = (0..12u64)
        .map(|i| {
            let client = clients[i as usize % 2].clone();
            let org = org.clone();
            tokio::spawn(async move {
                let key = format!("purchase-{i}");
                client.create_checkout_session().org(&org).idempotency_key(&key).body(order(i % 3 + 1)).send().await
            })
        })
        .collect();
    let mut expected = 0;
    for (i, purchase) in purchases.into_iter().enumerate() {
        let session = purchase.await.unwrap().expect("every checkout succeeds").into_inner();
        app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
        expected += (i as i64 % 3 + 1) * CREDITS_PER_BUNDLE;
    }
    app.fake.wait_for_deliveries(Duration::from_secs(60)).await.unwrap();

    for client in &clients {
        let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
        assert_eq!(balance, expected);
    }
    let entries = clients[0].list_credit_transactions().org(&org).send().await.unwrap().into_inner();
    let purchases: Vec<_> = entries.iter().filter(|e| e.transaction_type == CreditTransactionType::Purchase).collect();
    assert_eq!(purchases.len(), 12, "one ledger entry per purchase");
    assert_eq!(purchases.iter().map(|e| e.amount).sum::<i64>(), expected);
}

fn free_address() -> String {
    format!("127.0.0.1:{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port())
}

/// HAProxy with `deploy/haproxy.cfg` (the file compose.yaml uses), killed when dropped.
struct LoadBalancer(Child);

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether HAProxy is installed; when not, says so loudly (the test then checks nothing), or
/// fails when `CREDITS_REQUIRE_HAPROXY` is set (as CI does, after installing it).
fn haproxy_available() -> bool {
    if Command::new("haproxy").arg("-v").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(
        std::env::var_os("CREDITS_REQUIRE_HAPROXY").is_none(),
        "HAProxy is required (CREDITS_REQUIRE_HAPROXY) but `haproxy` is not installed"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n!!! haproxy not installed: the load-balancer test is SKIPPED !!!\n");
    false
}

/// The deployment of compose.yaml, as processes: PostgreSQL, two server processes, and HAProxy
/// in front with the same configuration file. A buyer and Stripe's events go through the one
/// address; every purchase is credited once, and an instance stopped is routed around.
#[tokio::test]
async fn two_processes_behind_haproxy_serve_purchases_through_one_address() {
    if !postgres_available().await || !haproxy_available() {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let trusted = ["--trusted-proxies", "127.0.0.1/32"];
    let first = ServerProcess::start_unregistered(&app, &app.database_url, &trusted).await;
    let second = ServerProcess::start_unregistered(&app, &app.database_url, &trusted).await;
    let listen = free_address();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/haproxy.cfg");
    let balancer = LoadBalancer(
        Command::new("haproxy")
            .args(["-f", config, "-db"])
            .env("LISTEN", &listen)
            .env("CREDITS_1", first.base_url.trim_start_matches("http://"))
            .env("CREDITS_2", second.base_url.trim_start_matches("http://"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts"),
    );
    let front = format!("http://{listen}");
    let http = reqwest::Client::new();
    crate::helpers::eventually(Duration::from_secs(20), || async {
        http.get(format!("{front}/readyz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
    app.fake
        .add_webhook(WebhookEndpoint { url: format!("{front}/api/v1/webhooks/stripe"), secret: WEBHOOK_SECRET.into() });
    app.fake.set_delivery_copies(2);
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = credits_client::connect(&front, credits_client::Credentials::Bearer(token.clone())).expect("client");
    let buy = |bundles| {
        let client = client.clone();
        let org = org.clone();
        async move { client.create_checkout_session().org(&org).body(order(bundles)).send().await }
    };
    for bundles in [1, 2, 3, 4] {
        let session = buy(bundles).await.expect("a checkout through the balancer").into_inner();
        app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    }
    app.fake.wait_for_deliveries(Duration::from_secs(60)).await.unwrap();
    let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(balance, 10 * CREDITS_PER_BUNDLE);

    // One instance gone: the balancer's health check takes it out, and buying goes on.
    first.kill();
    crate::helpers::eventually(Duration::from_secs(20), || async {
        let mut served = 0;
        for _ in 0..4 {
            served += usize::from(buy(1).await.is_ok());
        }
        served == 4
    })
    .await;
    drop(balancer);
}

/// The double's count of Stripe requests still running under an idempotency key.
async fn stripe_requests_in_flight(app: &TestApp) -> u64 {
    let counts: serde_json::Value = reqwest::get(format!("{}_fake/idempotency", app.fake.base_url()))
        .await
        .expect("the double answers")
        .json()
        .await
        .expect("counts");
    counts["in_flight"].as_u64().expect("a count")
}

/// The server is killed (SIGKILL) after Stripe received the purchase and before the server
/// stored its answer. A new process takes over; the buyer's retry with the same
/// `Idempotency-Key` is told the first attempt is still in progress until the dead server's claim
/// lapses (the Stripe deadline plus a margin), then gets the very session Stripe created: one
/// session at Stripe, one in the database, one credit when paid.
async fn a_server_killed_half_way_through_a_purchase_leaves_one_session(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let deadline = ["--stripe-timeout-secs", "1"];
    let doomed = ServerProcess::start(&app, &app.database_url, &deadline).await;
    let connect = |base_url: &str| {
        credits_client::connect(base_url, credits_client::Credentials::Bearer(token.clone())).expect("client")
    };
    let buy = |client: credits_client::Client| {
        let org = org.clone();
        async move { client.create_checkout_session().org(&org).idempotency_key("crash-me").body(order(2)).send().await }
    };
    app.fake.inject_fault(stripe_fake::Fault::Hang { ms: 700 }, 1);
    let cut_short = tokio::spawn(buy(connect(&doomed.base_url)));
    crate::helpers::eventually(Duration::from_secs(10), || async { stripe_requests_in_flight(&app).await == 1 }).await;
    doomed.kill();
    assert!(cut_short.await.unwrap().is_err(), "the killed server never answered");
    // Stripe finishes the request it received: the session exists there, not in the database.
    crate::helpers::eventually(Duration::from_secs(10), || async { stripe_requests_in_flight(&app).await == 0 }).await;

    let successor = ServerProcess::start(&app, &app.database_url, &deadline).await;
    let client = connect(&successor.base_url);
    let early = buy(client.clone()).await.expect_err("the dead server's claim is still honoured");
    assert_eq!(early.status().map(|s| s.as_u16()), Some(409));
    let mut session = None;
    for _ in 0..300 {
        match buy(client.clone()).await {
            Ok(answer) => {
                session = Some(answer.into_inner());
                break;
            }
            Err(e) => assert_eq!(e.status().map(|s| s.as_u16()), Some(409), "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let session = session.expect("the claim lapses within the deadline and its margin");
    assert_eq!(app.stripe_sessions().await, vec![session.session_id.clone()], "no second session at Stripe");

    app.fake.complete_session(&session.session_id, PaymentOutcome::Paid).await.unwrap();
    app.fake.wait_for_deliveries(Duration::from_secs(60)).await.unwrap();
    let balance = client.get_credit_balance().org(&org).send().await.unwrap().into_inner().balance;
    assert_eq!(balance, 2 * CREDITS_PER_BUNDLE);
}

crate::on_both_databases!(a_server_killed_half_way_through_a_purchase_leaves_one_session);

/// Rate limits are counted by each process in its own memory (README, "Known limits"): with a
/// limit of one request a minute, the same token gets one purchase from each of two processes on
/// one database, and a 429 after that from each; two sessions exist, at Stripe and stored.
async fn rate_limits_are_counted_per_process(db: Db) {
    let app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let limit = ["--rate-limit-per-minute", "1"];
    let processes = [
        ServerProcess::start(&app, &app.database_url, &limit).await,
        ServerProcess::start(&app, &app.database_url, &limit).await,
    ];
    let mut sessions = Vec::new();
    for (i, process) in processes.iter().enumerate() {
        let client = credits_client::connect(&process.base_url, credits_client::Credentials::Bearer(token.clone()))
            .expect("client");
        let buy = |key: String| {
            let (client, org) = (client.clone(), org.clone());
            async move { client.create_checkout_session().org(&org).idempotency_key(&key).body(order(1)).send().await }
        };
        let first = buy(format!("first-{i}")).await.expect("the process's first request is allowed");
        sessions.push(first.into_inner().session_id);
        match buy(format!("second-{i}")).await {
            Err(credits_client::Error::ErrorResponse(answer)) => {
                assert_eq!(answer.status().as_u16(), 429);
                assert!(answer.headers().contains_key("retry-after"), "{:?}", answer.headers());
            }
            other => panic!("the second request to one process is limited: {other:?}"),
        }
    }
    let mut at_stripe = app.stripe_sessions().await;
    at_stripe.sort();
    sessions.sort();
    assert_eq!(at_stripe, sessions, "one session per process at Stripe, none for the refused requests");
    let org_record = app.store.org_by_slug(&org).await.unwrap().unwrap();
    for session in &sessions {
        assert!(app.store.session(&org_record, session).await.unwrap().is_some(), "{session} stored");
    }
}

crate::on_both_databases!(rate_limits_are_counted_per_process);
