//! `stripe-fake --port N`: command-line flags and environment variables into a `FakeConfig`,
//! then run until Ctrl-C. Everything else lives in the library.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use stripe_fake::{FakeConfig, RetryPolicy, StripeFake, WebhookEndpoint};

/// A Stripe API test double: Checkout Sessions, Prices, Products, signed webhooks.
#[derive(Parser, Debug)]
#[command(name = "stripe-fake", version)]
struct Args {
    /// Port to listen on.
    #[arg(long, env = "STRIPE_FAKE_PORT", default_value_t = 12111)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "STRIPE_FAKE_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Public base URL for checkout links, if not http://HOST:PORT/.
    #[arg(long, env = "STRIPE_FAKE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Accept only this API key (default: any sk_test_ key).
    #[arg(long, env = "STRIPE_FAKE_API_KEY")]
    api_key: Option<String>,
    /// A webhook endpoint as URL=whsec_SECRET; repeatable (env: comma-separated).
    #[arg(long = "webhook", env = "STRIPE_FAKE_WEBHOOKS", value_delimiter = ',')]
    webhooks: Vec<String>,
    /// A webhook endpoint URL (with --webhook-secret), the single-endpoint form.
    #[arg(long, env = "STRIPE_FAKE_WEBHOOK_URL", requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// The whsec_ secret of --webhook-url.
    #[arg(long, env = "STRIPE_FAKE_WEBHOOK_SECRET", requires = "webhook_url")]
    webhook_secret: Option<String>,
    /// Deliver each event this many times to each endpoint (concurrently, out of order).
    #[arg(long, env = "STRIPE_FAKE_DELIVERY_COPIES", default_value_t = 1)]
    delivery_copies: usize,
    /// Maximum delivery attempts per event and endpoint.
    #[arg(long, env = "STRIPE_FAKE_RETRY_MAX_ATTEMPTS", default_value_t = 5)]
    retry_max_attempts: u32,
    /// First retry delay in milliseconds; doubles after each failure.
    #[arg(long, env = "STRIPE_FAKE_RETRY_INITIAL_MS", default_value_t = 100)]
    retry_initial_ms: u64,
    /// Longest retry delay in milliseconds.
    #[arg(long, env = "STRIPE_FAKE_RETRY_MAX_MS", default_value_t = 2000)]
    retry_max_ms: u64,
    /// At most this many webhook delivery attempts in flight at once; the rest wait their turn.
    #[arg(long, env = "STRIPE_FAKE_MAX_CONCURRENT_DELIVERIES", default_value_t = 64)]
    max_concurrent_deliveries: usize,
    /// Every API request waits this long before it is answered (a remote Stripe's latency).
    #[arg(long, env = "STRIPE_FAKE_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
}

fn parse_webhook(spec: &str) -> anyhow::Result<WebhookEndpoint> {
    // The secret never contains '=', the URL may (query strings): split at the last one.
    let (url, secret) =
        spec.rsplit_once('=').with_context(|| format!("--webhook expects URL=whsec_SECRET, got {spec:?}"))?;
    anyhow::ensure!(secret.starts_with("whsec_"), "webhook secret must start with whsec_");
    url::Url::parse(url).with_context(|| format!("invalid webhook URL {url:?}"))?;
    Ok(WebhookEndpoint { url: url.to_string(), secret: secret.to_string() })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "stripe_fake=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut webhooks = args.webhooks.iter().map(|s| parse_webhook(s)).collect::<anyhow::Result<Vec<_>>>()?;
    if let (Some(url), Some(secret)) = (args.webhook_url, args.webhook_secret) {
        webhooks.push(WebhookEndpoint { url, secret });
    }
    let config = FakeConfig {
        webhooks,
        api_key: args.api_key,
        delivery_copies: args.delivery_copies,
        retry: RetryPolicy {
            max_attempts: args.retry_max_attempts,
            initial_backoff: Duration::from_millis(args.retry_initial_ms),
            max_backoff: Duration::from_millis(args.retry_max_ms),
            ..RetryPolicy::default()
        },
        public_url: args.public_url,
        latency: Duration::from_millis(args.latency_ms),
        max_concurrent_deliveries: args.max_concurrent_deliveries,
        ..FakeConfig::default()
    };
    let fake = StripeFake::bind(SocketAddr::new(args.host, args.port), config).await?;
    println!("stripe-fake listening on {}", fake.base_url());
    tokio::signal::ctrl_c().await?;
    fake.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_flag() {
        let endpoint = parse_webhook("http://127.0.0.1:3000/hook?a=b=whsec_abc").unwrap();
        assert_eq!(endpoint.url, "http://127.0.0.1:3000/hook?a=b");
        assert_eq!(endpoint.secret, "whsec_abc");
        assert!(parse_webhook("http://x/hook").is_err());
        assert!(parse_webhook("http://x/hook=secret").is_err());
    }
}
