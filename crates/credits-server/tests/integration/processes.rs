//! The server as separate operating-system processes (the built binary, as deployed): two
//! processes sharing one PostgreSQL database, and a process killed half-way through a purchase.

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
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bind = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_credits-server"))
            .args(["serve", "--bind", &bind, "--database-url", database_url])
            .args(["--stripe-secret-key", "sk_test_credits", "--stripe-api-base", &app.fake.base_url()])
            .args(["--stripe-webhook-secret", WEBHOOK_SECRET, "--bundle-unit-amount", "500"])
            .args(["--credits-per-bundle", &CREDITS_PER_BUNDLE.to_string()])
            .args(["--allowed-redirect-origins", "https://app.example", "--rate-limit-per-minute", "10000"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let process = ServerProcess { child, base_url: format!("http://{bind}") };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{}/api/v1/unknown", process.base_url)).send().await.is_ok() {
                app.fake.add_webhook(WebhookEndpoint {
                    url: format!("{}/api/v1/webhooks/stripe", process.base_url),
                    secret: WEBHOOK_SECRET.into(),
                });
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
