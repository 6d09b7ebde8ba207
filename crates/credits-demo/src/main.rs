//! The offline demo (`cargo xtask demo`): the Stripe double and the server on a temporary SQLite
//! database, an org and an owner token, 3 bundles bought with the generated client, paid on the
//! double's checkout page as a browser would, the webhook awaited, and the balance and ledger
//! printed. Everything it starts it stops, and its temporary directory is removed.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use credits_client::types::{CheckoutPaymentStatus, CreateCheckoutSessionRequest};
use credits_client::{Client, Credentials};
use credits_server::store::TokenOptions;
use credits_server::{BundlePrice, Config, EdgeConfig, Retention, Role, Secret, Store, StripeConfig};
use stripe_fake::{FakeConfig, StripeFake, WebhookEndpoint};

const WEBHOOK_SECRET: &str = "whsec_demo";
const CREDITS_PER_BUNDLE: i64 = 100;
const BUNDLES: u64 = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("credits-demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let outcome = run(&dir).await;
    std::fs::remove_dir_all(&dir).ok();
    println!("cleaned up {}", dir.display());
    outcome
}

async fn run(dir: &std::path::Path) -> anyhow::Result<()> {
    let fake = StripeFake::spawn(FakeConfig::default()).await?;
    println!("1. Stripe double listening at {}", fake.base_url());

    let database_url = format!("sqlite://{}/credits.db", dir.display());
    let config = Config {
        bind: "127.0.0.1:0".parse()?,
        metrics_bind: None,
        database_url: database_url.clone(),
        stripe: StripeConfig {
            secret_key: Secret::new("sk_test_demo"),
            api_base: fake.base_url(),
            webhook_secrets: vec![Secret::new(WEBHOOK_SECRET)],
            deadline: Duration::from_secs(10),
        },
        bundle_price: BundlePrice::Amount { unit_amount: 500, currency: "usd".into() },
        credits_per_bundle: CREDITS_PER_BUNDLE,
        min_client_version: None,
        rate_limit_per_minute: 120,
        allowed_redirect_origins: vec!["https://app.example".into()],
        low_balance_threshold: 100,
        credential_cache_ttl: credits_server::credential_cache::DEFAULT_TTL,
        retention: Retention::default(),
        http_log_level: dropshot::ConfigLoggingLevel::Warn,
        edge: EdgeConfig::defaults(Duration::from_secs(10)),
        shutdown_grace: Duration::from_secs(15),
    };
    let server = credits_server::start_server(config).await?;
    let base_url = format!("http://{}", server.local_addr());
    fake.add_webhook(WebhookEndpoint {
        url: format!("{base_url}/api/v1/webhooks/stripe"),
        secret: WEBHOOK_SECRET.into(),
    });
    println!("2. credits-server listening at {base_url} on {database_url}");

    let store = Store::connect(&database_url).await?;
    let org = store.create_org("acme", "Acme Corp").await?;
    let token = store.create_token(&org, "owner@acme.example", Role::Owner, TokenOptions::default()).await?.token;
    store.close().await;
    println!("3. created org `acme` and an owner token");

    let client = credits_client::connect(&base_url, Credentials::Bearer(token))?;
    let before = balance(&client).await?;
    println!("4. balance before: {before}");

    let session = client
        .create_checkout_session()
        .org("acme")
        .idempotency_key(uuid::Uuid::new_v4().to_string())
        .body(CreateCheckoutSessionRequest {
            cancel_url: "https://app.example/cancel".into(),
            quantity: NonZeroU64::new(BUNDLES).expect("not zero"),
            success_url: "https://app.example/success?session={CHECKOUT_SESSION_ID}".into(),
        })
        .send()
        .await
        .context("creating the checkout session")?
        .into_inner();
    println!("5. checkout session {} for {BUNDLES} bundles: {}", session.session_id, session.checkout_url);

    let redirect = pay_on_checkout_page(&session.checkout_url).await?;
    println!("6. paid on the checkout page; Stripe redirects the buyer to {redirect}");

    let status = wait_for_fulfilment(&client, &session.session_id).await?;
    println!("7. webhook received: session {:?}, payment {:?}, {} credits granted", status.0, status.1, status.2);

    let after = balance(&client).await?;
    println!("8. balance after: {after} (+{})", after - before);
    println!("9. ledger, newest first:");
    for entry in client.list_credit_transactions().org("acme").send().await?.into_inner() {
        println!(
            "   {}  {:>6}  {:<17} {}",
            entry.created_at.format("%Y-%m-%d %H:%M:%S"),
            entry.amount,
            entry.transaction_type.to_string(),
            entry.description.unwrap_or_default()
        );
    }
    if after - before != BUNDLES as i64 * CREDITS_PER_BUNDLE {
        bail!("the balance grew by {} instead of {}", after - before, BUNDLES as i64 * CREDITS_PER_BUNDLE);
    }

    server.close().await.map_err(|e| anyhow::anyhow!(e))?;
    fake.shutdown().await;
    println!("10. stopped the server and the Stripe double");
    Ok(())
}

async fn balance(client: &Client) -> anyhow::Result<i64> {
    Ok(client.get_credit_balance().org("acme").send().await?.into_inner().balance)
}

/// Opens the hosted checkout page and submits its Pay form, as a browser would; returns where
/// the buyer is redirected.
async fn pay_on_checkout_page(checkout_url: &str) -> anyhow::Result<String> {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let page = browser.get(checkout_url).send().await?.error_for_status()?.text().await?;
    let action = page
        .split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|action| action.ends_with("/pay"))
        .context("the checkout page has no Pay form")?;
    let url = reqwest::Url::parse(checkout_url)?.join(action)?;
    let response = browser.post(url).send().await?;
    if !response.status().is_redirection() {
        bail!("paying answered {} instead of a redirect", response.status());
    }
    Ok(response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string())
}

async fn wait_for_fulfilment(
    client: &Client,
    session_id: &str,
) -> anyhow::Result<(String, CheckoutPaymentStatus, i64)> {
    let start = Instant::now();
    loop {
        let status = client.get_checkout_session().org("acme").session_id(session_id).send().await?.into_inner();
        if status.fulfilled_at.is_some() {
            return Ok((status.status.to_string(), status.payment_status, status.credits));
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!(
                "the webhook did not arrive within 30 s (session {:?}, payment {:?})",
                status.status,
                status.payment_status
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
