//! Graceful shutdown: a checkout in progress when shutdown starts (Stripe slowed by the double)
//! gets its answer and its session is recorded; then the server stops. Once through the
//! library's `close`, once through the binary and a real SIGTERM, which also shows the binary's
//! JSON log line for the request and its secrets read from files.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use credits_client::types::CreateCheckoutSessionRequest;
use credits_server::{Role, Store};
use stripe_fake::{FakeConfig, Fault, StripeFake, WebhookEndpoint};

use crate::helpers::{Db, WEBHOOK_SECRET, spawn_app};

crate::on_both_databases!(a_checkout_in_flight_finishes_before_the_server_stops);

fn order() -> CreateCheckoutSessionRequest {
    CreateCheckoutSessionRequest {
        cancel_url: "https://app.example/no".into(),
        quantity: std::num::NonZeroU64::new(2).expect("not zero"),
        success_url: "https://app.example/ok".into(),
    }
}

async fn a_checkout_in_flight_finishes_before_the_server_stops(db: Db) {
    let mut app = spawn_app(db).await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    app.fake.inject_fault(Fault::Hang { ms: 1500 }, 1);
    let client = app.client(&token);
    let in_flight = {
        let (client, org) = (client.clone(), org.clone());
        tokio::spawn(async move { client.create_checkout_session().org(&org).body(order()).send().await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    app.stop_server().await;
    assert!(started.elapsed() >= Duration::from_millis(800), "shutdown waited for the checkout");
    let created = in_flight.await.expect("the task").expect("the checkout is answered").into_inner();
    let org = app.store.org_by_slug(&org).await.unwrap().expect("the org");
    assert!(app.store.session(&org, &created.session_id).await.unwrap().is_some(), "the session is recorded");
    assert!(reqwest::get(format!("{}/healthz", app.base_url)).await.is_err(), "no longer accepting");
}

/// Reads the binary's stderr: JSON lines, collected as they come.
fn collect_log(stderr: std::process::ChildStderr) -> std::sync::mpsc::Receiver<serde_json::Value> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line).unwrap_or_else(|_| serde_json::json!({ "not_json": line }));
            if sender.send(value).is_err() {
                break;
            }
        }
    });
    receiver
}

#[tokio::test]
async fn sigterm_lets_the_checkout_in_flight_finish_and_exits_0() {
    let dir = std::env::temp_dir().join(format!("credits-sigterm-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}/credits.db", dir.display());
    let store = Store::connect(&database_url).await.expect("store");
    let org = store.create_org("sigterm", "Sigterm").await.unwrap();
    let token = store
        .create_token(&org, "owner@example.com", Role::Owner, credits_server::store::TokenOptions::default())
        .await
        .unwrap()
        .token;
    let fake = StripeFake::spawn(FakeConfig::default()).await.expect("the double");
    std::fs::write(dir.join("stripe-key"), "sk_test_from_file\n").unwrap();
    std::fs::write(dir.join("webhook-secret"), format!("{WEBHOOK_SECRET}\n")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_credits-server"))
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json", "--bundle-unit-amount", "500"])
        .args(["--allowed-redirect-origins", "https://app.example"])
        .args(["--credits-per-bundle", "100", "--stripe-api-base", &fake.base_url(), "--database-url", &database_url])
        .arg("--stripe-secret-key-file")
        .arg(dir.join("stripe-key"))
        .arg("--stripe-webhook-secret-file")
        .arg(dir.join("webhook-secret"))
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let log = collect_log(child.stderr.take().expect("stderr"));
    let address = loop {
        let line = log.recv_timeout(Duration::from_secs(30)).expect("the server logs where it listens");
        if let Some(address) = line["address"].as_str() {
            break address.to_string();
        }
    };
    let base_url = format!("http://{address}");
    fake.add_webhook(WebhookEndpoint {
        url: format!("{base_url}/api/v1/webhooks/stripe"),
        secret: WEBHOOK_SECRET.into(),
    });

    fake.inject_fault(Fault::Hang { ms: 1500 }, 1);
    let client = credits_client::connect(&base_url, credits_client::Credentials::Bearer(token)).unwrap();
    let in_flight =
        tokio::spawn(async move { client.create_checkout_session().org("sigterm").body(order()).send().await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());

    let created = in_flight.await.expect("the task").expect("the checkout is answered").into_inner();
    assert!(store.session(&org, &created.session_id).await.unwrap().is_some(), "the session is recorded");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server exits after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}");

    let lines: Vec<serde_json::Value> = log.try_iter().collect();
    let request_line = lines
        .iter()
        .find(|l| l["message"] == "request" && l["method"] == "POST")
        .unwrap_or_else(|| panic!("one JSON line for the checkout: {lines:?}"));
    assert_eq!(request_line["status"], 200);
    assert!(request_line["path"].as_str().unwrap().ends_with("/credits/checkout"));
    for field in ["request_id", "latency_ms", "client"] {
        assert!(request_line.get(field).is_some(), "{field} in {request_line}");
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_shows_no_secret_values() {
    let output = Command::new(env!("CARGO_BIN_EXE_credits-server"))
        .args(["serve", "--help"])
        .env("STRIPE_SECRET_KEY", "sk_test_must_not_show")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_must_not_show")
        .output()
        .expect("the binary runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--stripe-secret-key-file"), "{help}");
    assert!(!help.contains("must_not_show"), "{help}");
}
