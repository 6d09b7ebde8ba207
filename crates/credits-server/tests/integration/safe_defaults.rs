//! Safe defaults: `serve` will not start open to any redirect origin unless told so, and webhook
//! signing secrets can be rotated (a delivery verifies against any configured secret).

use std::process::Stdio;
use std::time::Duration;

use credits_client::types::CheckoutStatus;
use credits_server::{Role, Secret};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{Db, WEBHOOK_SECRET, spawn_app_with};

/// `credits-server serve` with every required flag but the redirect origins, on a database in a
/// new temporary folder, with none of the variables that could fill the missing flags.
fn serve_command(dir: &std::path::Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_credits-server"));
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--stripe-secret-key", "sk_test_cli"])
        .args(["--stripe-api-base", "http://127.0.0.1:9/", "--stripe-webhook-secret", "whsec_a,whsec_b"])
        .args(["--bundle-unit-amount", "500", "--credits-per-bundle", "100", "--log-level", "info"])
        .env("DATABASE_URL", format!("sqlite://{}/credits.db", dir.display()))
        .env_remove("CREDITS_ALLOWED_REDIRECT_ORIGINS")
        .env_remove("CREDITS_ALLOW_ANY_REDIRECT_ORIGIN")
        .kill_on_drop(true);
    command
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("credits-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serve_without_allowed_origins_refuses_to_start() {
    let dir = temp_dir();
    let output = serve_command(&dir).output().await.expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it must not start: {stderr}");
    assert!(stderr.contains("refusing to start without --allowed-redirect-origins"), "{stderr}");
    assert!(stderr.contains("--allow-any-redirect-origin"), "the message names the way out: {stderr}");
    assert!(!dir.join("credits.db").exists(), "refused before touching the database");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn serve_starts_when_any_origin_is_allowed_explicitly() {
    for explicit in [&["--allow-any-redirect-origin"][..], &["--allowed-redirect-origins", "https://app.example"]] {
        let dir = temp_dir();
        let mut child = serve_command(&dir).args(explicit).stderr(Stdio::piped()).spawn().expect("the binary runs");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let listening = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("stderr readable") {
                if line.contains("credits-server listening") {
                    return true;
                }
            }
            false
        })
        .await;
        child.kill().await.expect("stopped");
        assert_eq!(listening, Ok(true), "{explicit:?}: the server did not report listening");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Two secrets configured (the new one and the one being retired): deliveries signed with either
/// are handled; one signed with a third is refused and changes nothing.
async fn a_delivery_verifies_with_any_configured_secret(db: Db) {
    let app = spawn_app_with(db, |config| {
        config.stripe.webhook_secrets = vec![Secret::new("whsec_new"), Secret::new(WEBHOOK_SECRET)];
    })
    .await;
    let (org, token) = app.org_with_token(Role::Owner).await;
    let client = app.client(&token);
    let open_session = || async {
        let order = credits_client::types::CreateCheckoutSessionRequest {
            cancel_url: "https://app.example/cancel".into(),
            quantity: std::num::NonZeroU64::new(1).unwrap(),
            success_url: "https://app.example/ok".into(),
        };
        client.create_checkout_session().org(&org).body(order).send().await.unwrap().into_inner().session_id
    };
    let status = |id: String| {
        let client = &client;
        let org = &org;
        async move { client.get_checkout_session().org(org).session_id(id).send().await.unwrap().into_inner().status }
    };

    for (secret, answer, expected) in [
        ("whsec_new", 200, CheckoutStatus::Expired),
        (WEBHOOK_SECRET, 200, CheckoutStatus::Expired),
        ("whsec_someone_else", 400, CheckoutStatus::Open),
    ] {
        let session = open_session().await;
        let event = serde_json::json!({
            "id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event",
            "type": "checkout.session.expired",
            "data": {"object": {"id": session, "object": "checkout.session", "payment_status": "unpaid"}}
        })
        .to_string();
        let signature = stripe_fake::signature_header(secret, chrono::Utc::now().timestamp(), &event);
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/webhooks/stripe", app.base_url))
            .header("Stripe-Signature", signature)
            .header("content-type", "application/json")
            .body(event)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), answer, "signed with {secret}");
        assert_eq!(status(session).await, expected, "signed with {secret}");
    }
}

crate::on_both_databases!(a_delivery_verifies_with_any_configured_secret);
