//! The `credits-server admin` commands, run as an operator runs them (the built binary, against
//! the database of a running server), and their effect seen through the API.

use std::process::Output;

use credits_client::types::CreditTransactionType;

use crate::helpers::{Db, TestApp, past_credential_cache_ttl, spawn_app};

/// Runs `credits-server admin ARGS` against the app's database.
fn admin(app: &TestApp, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_credits-server"))
        .arg("admin")
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

fn refused(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// An operator sets up an org, gives its owner a token, grants and takes back credits, and
/// revokes the token; each step is what the API then shows.
async fn an_operator_manages_an_org_from_the_command_line(db: Db) {
    let app = spawn_app(db).await;
    let slug = format!("acme-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let created = succeeded(&admin(&app, &["create-org", &slug, "--name", "Acme Inc"]));
    assert!(created.contains(&slug) && created.contains("Acme Inc"), "{created}");
    assert!(refused(&admin(&app, &["create-org", &slug])).contains("slug"), "a taken slug is refused");
    assert!(refused(&admin(&app, &["create-org", "Not A Slug"])).contains("slug"));
    let listed = succeeded(&admin(&app, &["list-orgs"]));
    assert!(listed.lines().any(|l| l == format!("{slug}\tAcme Inc")), "{listed}");

    let issued =
        succeeded(&admin(&app, &["create-token", "--org", &slug, "--email", "o@acme.example", "--role", "owner"]));
    let token = issued.lines().last().expect("the token is the last line").trim().to_string();
    let client = app.client(&token);
    assert_eq!(client.get_credit_balance().org(&slug).send().await.unwrap().into_inner().balance, 0);

    let granted = succeeded(&admin(&app, &["grant", "--org", &slug, "--amount", "250", "--reason", "welcome"]));
    assert!(granted.contains("balance 250"), "{granted}");
    succeeded(&admin(&app, &["grant", "--org", &slug, "--amount", "-50", "--reason", "correction"]));
    let balance = client.get_credit_balance().org(&slug).send().await.unwrap().into_inner();
    assert_eq!(balance.balance, 200);
    let entries = client.list_credit_transactions().org(&slug).send().await.unwrap().into_inner();
    let mut amounts: Vec<(i64, CreditTransactionType)> =
        entries.iter().map(|e| (e.amount, e.transaction_type)).collect();
    amounts.sort_by_key(|(amount, _)| *amount);
    assert_eq!(amounts, [(-50, CreditTransactionType::AdminAdjustment), (250, CreditTransactionType::AdminAdjustment)]);
    assert!(
        refused(&admin(&app, &["grant", "--org", "no-such-org", "--amount", "5", "--reason", "x"]))
            .contains("no-such-org")
    );

    succeeded(&admin(&app, &["revoke-token", &token]));
    past_credential_cache_ttl().await;
    let status = client.get_credit_balance().org(&slug).send().await.expect_err("revoked").status();
    assert_eq!(status.map(|s| s.as_u16()), Some(401));
    assert!(refused(&admin(&app, &["revoke-token", &token])).contains("no active token"), "revoked once only");
}

/// A token can be revoked by the id printed when it was issued, without the secret.
async fn a_token_is_revoked_by_its_id(db: Db) {
    let app = spawn_app(db).await;
    let slug = format!("beta-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    succeeded(&admin(&app, &["create-org", &slug]));
    let issued =
        succeeded(&admin(&app, &["create-token", "--org", &slug, "--email", "a@beta.example", "--role", "admin"]));
    let id = issued.split_whitespace().nth(1).expect("token ID ...").to_string();
    let token = issued.lines().last().unwrap().trim().to_string();
    assert!(!issued.lines().next().unwrap().contains(&token), "the id line does not hold the secret");
    succeeded(&admin(&app, &["revoke-token", &id]));
    let status = app.client(&token).get_credit_balance().org(&slug).send().await.expect_err("revoked").status();
    assert_eq!(status.map(|s| s.as_u16()), Some(401));
}

crate::on_both_databases!(an_operator_manages_an_org_from_the_command_line, a_token_is_revoked_by_its_id);
