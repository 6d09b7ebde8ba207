//! The spec drives the server: in a copy of the workspace, existing bounds of the spec are
//! changed (quantity's maximum 10 → 20, the redirect URLs' `maxLength` 2048 → 60, the
//! transactions `limit` maximum 100 → 60), `cargo xtask codegen` regenerates, and the copy's
//! server, with no hand-written change, answers by the new bounds.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use stripe_fake::{FakeConfig, StripeFake};

use crate::copy::{Copy, printed, target_dir};

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_bounds_in_the_spec_change_the_servers_answers() {
    let copy = Copy::new("spec-drives");
    copy.set_versions("0.1.0-spec-copy");
    copy.edit_spec(|spec| {
        let request = &mut spec["components"]["schemas"]["CreateCheckoutSessionRequest"]["properties"];
        request["quantity"]["maximum"] = 20.into();
        request["success_url"]["maxLength"] = 60.into();
        request["cancel_url"]["maxLength"] = 60.into();
        let params = spec["paths"]["/api/v1/org/{org}/credits/transactions"]["get"]["parameters"]
            .as_array_mut()
            .expect("parameters");
        let limit = params.iter_mut().find(|p| p["name"] == "limit").expect("limit");
        limit["schema"]["maximum"] = 60.into();
    });
    let codegen = copy.cargo(&["xtask", "codegen"]);
    assert!(codegen.status.success(), "{}", printed(&codegen));
    let build = copy.cargo(&["build", "--quiet", "-p", "credits-server", "--bin", "credits-server"]);
    assert!(build.status.success(), "{}", printed(&build));
    // Kept aside at once: the target directory's top-level binary is this workspace's again later.
    let binary = copy.root.join("credits-server");
    std::fs::copy(target_dir().join("debug/credits-server"), &binary).unwrap();

    let fake = StripeFake::spawn(FakeConfig::default()).await.expect("Stripe double");
    let database_url = format!("sqlite://{}/credits.db", copy.root.display());
    let admin = |args: &[&str]| {
        let out = Command::new(&binary).arg("admin").args(args).env("DATABASE_URL", &database_url).output().unwrap();
        assert!(out.status.success(), "{}", printed(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    admin(&["create-org", "acme"]);
    let token = admin(&["create-token", "--org", "acme", "--email", "o@acme.example", "--role", "owner"]);
    let token = token.lines().last().expect("the token").trim().to_string();

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Server(
        Command::new(&binary)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--stripe-secret-key", "sk_test_copy"])
            .args(["--stripe-api-base", &fake.base_url(), "--stripe-webhook-secret", "whsec_copy"])
            .arg("--allow-any-redirect-origin")
            .args(["--bundle-unit-amount", "500", "--credits-per-bundle", "100", "--log-level", "warn"])
            .env("DATABASE_URL", &database_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_until_serving(&http, &base).await;

    let checkout = |quantity: i64, url: String| {
        http.post(format!("{base}/api/v1/org/acme/credits/checkout"))
            .bearer_auth(&token)
            .json(&json!({"quantity": quantity, "success_url": url, "cancel_url": "https://app.example/no"}))
            .send()
    };
    let accepted = checkout(15, "https://app.example/ok".into()).await.unwrap();
    assert_eq!(accepted.status(), 200, "15 bundles fit the new maximum: {:?}", accepted.text().await);

    let refused = checkout(21, "https://app.example/ok".into()).await.unwrap();
    let (status, body) = (refused.status(), refused.json::<Value>().await.unwrap());
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["loc"], json!(["body", "quantity"]), "{body}");
    assert!(body["errors"][0]["msg"].as_str().unwrap().contains("20"), "the new bound is named: {body}");

    let long_url = format!("https://app.example/{}", "x".repeat(60));
    let refused = checkout(1, long_url).await.unwrap();
    let body = refused.json::<Value>().await.unwrap();
    assert_eq!(body["errors"][0]["loc"], json!(["body", "success_url"]), "{body}");
    assert!(body["errors"][0]["msg"].as_str().unwrap().contains("60"), "{body}");

    let transactions = |limit: u32| {
        http.get(format!("{base}/api/v1/org/acme/credits/transactions?limit={limit}")).bearer_auth(&token).send()
    };
    assert_eq!(transactions(60).await.unwrap().status(), 200);
    let refused = transactions(61).await.unwrap();
    assert_eq!(refused.status(), 422);
    let body = refused.json::<Value>().await.unwrap();
    assert_eq!(body["errors"][0]["loc"], json!(["query", "limit"]), "{body}");
    assert!(body["errors"][0]["msg"].as_str().unwrap().contains("60"), "{body}");
}

async fn wait_until_serving(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http.get(format!("{base}/openapi.json")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the copy's server did not start at {base}");
}
