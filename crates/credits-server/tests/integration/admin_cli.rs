//! The admin commands as an operator runs them (the built binary): tokens issued, refused,
//! listed without secrets, revoked and removed; backups of SQLite, and PostgreSQL refused with
//! the way to back it up.

use std::process::Output;

use crate::helpers::{Db, drop_postgres_database, fresh_database, postgres_available};

fn admin(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_credits-server"))
        .arg("admin")
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("the binary runs")
}

fn ok(database_url: &str, args: &[&str]) -> String {
    let output = admin(database_url, args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn refused(database_url: &str, args: &[&str]) -> String {
    let output = admin(database_url, args);
    assert!(!output.status.success(), "{args:?} must fail: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[tokio::test]
async fn tokens_and_backups_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("credits-admin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/credits.db", dir.display());
    ok(&url, &["create-org", "acme"]);
    ok(&url, &["create-org", "beta"]);

    let issued = ok(&url, &["create-token", "--org", "beta", "--email", "a@x.example", "--role", "member"]);
    let token = issued.lines().last().expect("the token").trim().to_string();
    assert!(issued.contains("never expires"), "{issued}");
    let message = refused(&url, &["create-token", "--org", "beta", "--email", "a@x.example", "--role", "owner"]);
    assert!(message.contains("--update-role"), "{message}");
    let expiring =
        ok(&url, &["create-token", "--org", "acme", "--email", "a@x.example", "--role", "owner", "--expires-in", "2h"]);
    assert!(expiring.contains("expires 20"), "{expiring}");

    let listing = ok(&url, &["list-tokens"]);
    assert_eq!(listing.lines().count(), 3, "a header and two tokens: {listing}");
    assert!(!listing.contains(&token), "never the secret: {listing}");
    assert!(listing.contains(token.rsplit_once('_').expect("prefix_secret").0), "the prefix is shown: {listing}");
    let beta_only = ok(&url, &["list-tokens", "--org", "beta"]);
    assert!(beta_only.lines().skip(1).all(|l| l.contains("\tbeta\t") && l.contains("\tmember\t")), "{beta_only}");

    assert!(ok(&url, &["revoke-tokens", "--org", "acme", "--email", "a@x.example"]).contains("revoked 1"));
    ok(&url, &["remove-member", "--org", "beta", "--email", "a@x.example"]);
    assert_eq!(ok(&url, &["list-tokens"]).lines().count(), 1, "nothing left but the header");
    refused(&url, &["remove-member", "--org", "beta", "--email", "a@x.example"]);

    ok(&url, &["grant", "--org", "acme", "--amount", "7", "--reason", "welcome"]);
    let copy = dir.join("copy.db");
    ok(&url, &["backup", copy.to_str().unwrap()]);
    let copy_url = format!("sqlite://{}", copy.display());
    assert!(ok(&copy_url, &["list-orgs"]).contains("acme"), "the copy opens with its data");
    assert!(refused(&url, &["backup", copy.to_str().unwrap()]).contains("exists already"));

    if postgres_available().await {
        let (postgres_url, name) = fresh_database(Db::Postgres, &dir).await;
        let message = refused(&postgres_url, &["backup", dir.join("pg.db").to_str().unwrap()]);
        assert!(message.contains("pg_dump"), "{message}");
        drop_postgres_database(name.expect("a PostgreSQL database"));
    }
    let _ = std::fs::remove_dir_all(dir);
}
