//! The `stripe-fake` binary: flags reach the configuration, the acceptance request works.

use tokio::io::AsyncBufReadExt;

use crate::helpers::*;

#[tokio::test]
async fn binary_serves_sessions_and_sends_webhooks_from_flags() {
    let receiver = Receiver::start().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_stripe-fake"))
        .args(["--port", "0", "--webhook", &format!("{}={SECRET}", receiver.url)])
        .env_remove("STRIPE_FAKE_WEBHOOKS")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .expect("announces itself in time")
        .unwrap()
        .expect("a line");
    let base = line.strip_prefix("stripe-fake listening on ").expect("banner").to_string();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with('/'), "{base}");

    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}v1/checkout/sessions"))
        .basic_auth(KEY, Some(""))
        .form(&credits_form())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let session: serde_json::Value = created.json().await.unwrap();
    assert_eq!(session["amount_total"], 1000);
    let id = session["id"].as_str().unwrap();
    let completed = http.post(format!("{base}_fake/checkout/sessions/{id}/complete")).send().await.unwrap();
    assert_eq!(completed.status(), 200);
    let event = verify(&receiver.wait_for(1).await[0]);
    assert_eq!(event.type_.as_str(), "checkout.session.completed");
    child.kill().await.unwrap();
}
