//! `credits-server`: parses flags (each with an environment variable) into a `Config` and runs
//! `serve`, or one of the `admin` commands against the same database (`admin reconcile` also
//! against the same Stripe account, with `serve`'s Stripe flags).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use credits_server::credential_cache;
use credits_server::store::{Timestamp, TokenListing, TokenOptions};
use credits_server::{BundlePrice, Config, EdgeConfig, Retention, Role, Secret, Store, StripeConfig};

const DEFAULT_DATABASE: &str = "sqlite://data/credits.db";

#[derive(Parser)]
#[command(name = "credits-server", version, about = "The credits API server", arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve(Box<ServeArgs>),
    /// Manage organisations, tokens and balances.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Args)]
struct DatabaseArgs {
    /// `sqlite://PATH` (created on first run) or `postgres://...`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE)]
    database_url: String,
}

/// How to reach Stripe: shared by `serve` and `admin reconcile`.
#[derive(Args)]
struct StripeArgs {
    /// Stripe secret key (`sk_test_...` or `sk_live_...`); or give --stripe-secret-key-file.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true, required_unless_present = "stripe_secret_key_file")]
    stripe_secret_key: Option<String>,
    /// A file holding the Stripe secret key (a Docker or Kubernetes secret), instead of --stripe-secret-key.
    #[arg(long, env = "STRIPE_SECRET_KEY_FILE", conflicts_with = "stripe_secret_key")]
    stripe_secret_key_file: Option<PathBuf>,
    /// Stripe's API base URL (a test double's, in tests and the demo).
    #[arg(long, env = "STRIPE_API_BASE", default_value = "https://api.stripe.com/")]
    stripe_api_base: String,
    /// Seconds to wait for Stripe before answering 504.
    #[arg(long, env = "CREDITS_STRIPE_TIMEOUT_SECS", default_value_t = 10)]
    stripe_timeout_secs: u64,
}

impl StripeArgs {
    /// The adapter's configuration, with the webhook's signing secrets (which only `serve` uses).
    fn config(self, webhook_secrets: Vec<Secret>) -> anyhow::Result<StripeConfig> {
        let secret_key = secret_from(self.stripe_secret_key, self.stripe_secret_key_file, "--stripe-secret-key")?;
        if !secret_key.starts_with("sk_") && !secret_key.starts_with("rk_") {
            bail!("--stripe-secret-key must be a Stripe secret key (sk_... or rk_...)");
        }
        let api_base = if self.stripe_api_base.ends_with('/') {
            self.stripe_api_base
        } else {
            format!("{}/", self.stripe_api_base)
        };
        url::Url::parse(&api_base).with_context(|| format!("--stripe-api-base {api_base:?} is not a URL"))?;
        Ok(StripeConfig {
            secret_key: Secret::new(secret_key),
            api_base,
            webhook_secrets,
            deadline: Duration::from_secs(self.stripe_timeout_secs.max(1)),
        })
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CREDITS_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Address of a separate listener serving Prometheus metrics at `/metrics`; off by default.
    #[arg(long, env = "CREDITS_METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    stripe: StripeArgs,
    /// Signing secrets of the webhook endpoint (`whsec_...`), comma-separated: a delivery
    /// verifies when any one matches (give the old and the new while rotating); or give
    /// --stripe-webhook-secret-file.
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        hide_env_values = true,
        required_unless_present = "stripe_webhook_secret_file"
    )]
    stripe_webhook_secret: Option<String>,
    /// A file holding the webhook signing secrets (comma-separated), instead of --stripe-webhook-secret.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET_FILE", conflicts_with = "stripe_webhook_secret")]
    stripe_webhook_secret_file: Option<PathBuf>,
    /// The Stripe Price ID of one credit bundle (or give --bundle-unit-amount).
    #[arg(long, env = "CREDITS_BUNDLE_PRICE_ID", conflicts_with = "bundle_unit_amount")]
    bundle_price_id: Option<String>,
    /// The price of one credit bundle in minor units (cents), with --currency.
    #[arg(long, env = "CREDITS_BUNDLE_UNIT_AMOUNT")]
    bundle_unit_amount: Option<i64>,
    /// Currency of --bundle-unit-amount.
    #[arg(long, env = "CREDITS_CURRENCY", default_value = "usd")]
    currency: String,
    /// Credits granted per bundle bought.
    #[arg(long, env = "CREDITS_PER_BUNDLE")]
    credits_per_bundle: i64,
    /// Oldest client API version still served (older get 426); unset accepts any.
    #[arg(long, env = "CREDITS_MIN_CLIENT_VERSION")]
    min_client_version: Option<String>,
    /// Requests per minute allowed for one token.
    #[arg(long, env = "CREDITS_RATE_LIMIT_PER_MINUTE", default_value_t = 120)]
    rate_limit_per_minute: u32,
    /// Origins checkout redirect URLs may point at, comma-separated (`https://app.example`);
    /// required unless --allow-any-redirect-origin.
    #[arg(long, env = "CREDITS_ALLOWED_REDIRECT_ORIGINS", value_delimiter = ',')]
    allowed_redirect_origins: Vec<String>,
    /// Accept redirect URLs to any origin (development and contract testing only).
    #[arg(long, env = "CREDITS_ALLOW_ANY_REDIRECT_ORIGIN", conflicts_with = "allowed_redirect_origins")]
    allow_any_redirect_origin: bool,
    /// How long an Idempotency-Key is remembered before the purge deletes it (`24h`, `2days`).
    #[arg(long, env = "CREDITS_IDEMPOTENCY_RETENTION", default_value = "24h", value_parser = humantime::parse_duration)]
    idempotency_retention: Duration,
    /// How long records of handled Stripe events are kept (`30days`).
    #[arg(long, env = "CREDITS_EVENT_RETENTION", default_value = "30days", value_parser = humantime::parse_duration)]
    event_retention: Duration,
    /// Time between two purges of records past retention.
    #[arg(long, env = "CREDITS_PURGE_INTERVAL", default_value = "1h", value_parser = humantime::parse_duration)]
    purge_interval: Duration,
    /// Balance under which `is_low_balance` is true.
    #[arg(long, env = "CREDITS_LOW_BALANCE_THRESHOLD", default_value_t = 100)]
    low_balance_threshold: i64,
    /// How long what a token grants is kept in memory (`2s`; at most `5s`; `0s`: not kept):
    /// a revoked token, a removed member or a demotion takes effect on every instance within it.
    #[arg(long, env = "CREDITS_CREDENTIAL_CACHE_TTL", default_value = "2s", value_parser = credential_cache_ttl)]
    credential_cache_ttl: Duration,
    /// Log filter (`info`, `debug`, `credits_server=debug,warn`...).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log_level: String,
    /// Log lines (on stderr) as JSON objects or as text; default JSON unless stdout is a terminal.
    #[arg(long, env = "CREDITS_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Seconds a client has to send a request's headers (and, on a kept-alive connection, to
    /// start the next request); then the connection is closed without an answer.
    #[arg(long, env = "CREDITS_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's body; then the connection is closed.
    #[arg(long, env = "CREDITS_BODY_READ_TIMEOUT_SECS", default_value_t = 10)]
    body_read_timeout_secs: u64,
    /// Seconds a connection may stay open with no request in progress.
    #[arg(long, env = "CREDITS_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    idle_timeout_secs: u64,
    /// Seconds the server has to answer a request once read (then 504); default the Stripe
    /// timeout + 5.
    #[arg(long, env = "CREDITS_REQUEST_TIMEOUT_SECS")]
    request_timeout_secs: Option<u64>,
    /// Connections open at once; more are answered 429 and closed.
    #[arg(long, env = "CREDITS_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Requests in progress at once; more are answered 429.
    #[arg(long, env = "CREDITS_MAX_IN_FLIGHT", default_value_t = 256)]
    max_in_flight: usize,
    /// Requests per minute per client address without a token or with a failing one.
    #[arg(long, env = "CREDITS_RATE_LIMIT_PER_ADDRESS_PER_MINUTE", default_value_t = 300)]
    rate_limit_per_address_per_minute: u32,
    /// Proxies (CIDRs, comma-separated) whose `X-Forwarded-For` names the client's address.
    #[arg(long, env = "CREDITS_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds a shutdown (SIGTERM, SIGINT) waits for requests in progress; default the request
    /// timeout + 5.
    #[arg(long, env = "CREDITS_SHUTDOWN_GRACE_SECS")]
    shutdown_grace_secs: Option<u64>,
}

/// How log lines are written.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines.
    Text,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an organisation.
    CreateOrg {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Issue an API token acting in ORG with ROLE for EMAIL (made a member when they are not);
    /// the token is the last line. Other tokens are left as they are.
    CreateToken {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["owner", "admin", "member"])]
        role: String,
        /// The token stops working after this long (`90days`, `12h`); unset: never.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<Duration>,
        /// Set the membership's role to ROLE when it holds another (otherwise ROLE may not
        /// exceed the membership's role).
        #[arg(long)]
        update_role: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// End EMAIL's membership of ORG and revoke its tokens.
    RemoveMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke every token of EMAIL's membership of ORG.
    RevokeTokens {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the tokens not revoked (never their secrets), of one org or all.
    ListTokens {
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Copy a SQLite database to FILE, consistently, while the server runs (PostgreSQL: use pg_dump).
    Backup {
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a token, given the token or its id.
    RevokeToken {
        token_or_id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Add (or, negative, remove) credits, recorded as an admin adjustment.
    Grant {
        #[arg(long)]
        org: String,
        #[arg(long, allow_negative_numbers = true)]
        amount: i64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List organisations.
    ListOrgs {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Fulfil paid Checkout Sessions created recently whose webhook was missed; safe while
    /// servers run, and a second run changes nothing.
    Reconcile {
        /// How far back to list sessions (`72h`, `7days`, `30m`).
        #[arg(long, default_value = "72h", value_parser = humantime::parse_duration)]
        since: Duration,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        stripe: StripeArgs,
    },
}

#[tokio::main]
async fn main() {
    let outcome = match Cli::parse().command {
        Command::Serve(args) => serve(*args).await,
        Command::Admin(command) => admin(command).await,
    };
    if let Err(error) = outcome {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level).context("--log-level")?;
    // Run by hand in a terminal: text; under a supervisor (Docker, systemd, Kubernetes): JSON.
    let interactive = std::io::stdout().is_terminal();
    let format = args.log_format.unwrap_or(if interactive { LogFormat::Text } else { LogFormat::Json });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.init(),
    }
    let config = config_from(args)?;
    let server = credits_server::start_server(config).await?;
    tracing::info!(address = %server.local_addr(), "credits-server listening");
    if let Some(metrics) = server.metrics_addr() {
        tracing::info!(address = %metrics, "metrics listening at /metrics");
    }
    let signal = shutdown_signal().await?;
    tracing::info!(signal, "shutting down: no new connections; waiting for requests in progress");
    server.close().await.map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM (what orchestrators send) or SIGINT (Ctrl-C); returns which came.
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}

/// A secret given directly or in a file (whose trailing newline is not part of it).
fn secret_from(value: Option<String>, file: Option<PathBuf>, flag: &str) -> anyhow::Result<String> {
    match (value, file) {
        (Some(value), _) => Ok(value),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("{flag}-file {}", path.display()))?;
            Ok(text.trim_end_matches(['\r', '\n']).to_string())
        }
        (None, None) => bail!("give {flag} or {flag}-file"),
    }
}

fn config_from(args: ServeArgs) -> anyhow::Result<Config> {
    let bundle_price = match (args.bundle_price_id, args.bundle_unit_amount) {
        (Some(id), None) if id.starts_with("price_") => BundlePrice::PriceId(id),
        (Some(id), None) => bail!("--bundle-price-id must be a Stripe Price ID (price_...), not {id:?}"),
        (None, Some(amount)) if amount > 0 => {
            if args.currency.len() != 3 || !args.currency.chars().all(|c| c.is_ascii_alphabetic()) {
                bail!("--currency must be a three-letter ISO code, not {:?}", args.currency);
            }
            BundlePrice::Amount { unit_amount: amount, currency: args.currency.to_lowercase() }
        }
        (None, Some(amount)) => bail!("--bundle-unit-amount must be positive, not {amount}"),
        (None, None) => bail!("give the bundle's price: --bundle-price-id or --bundle-unit-amount"),
        (Some(_), Some(_)) => bail!("give either --bundle-price-id or --bundle-unit-amount, not both"),
    };
    if args.credits_per_bundle <= 0 {
        bail!("--credits-per-bundle must be positive");
    }
    let webhook_secrets: Vec<String> =
        secret_from(args.stripe_webhook_secret, args.stripe_webhook_secret_file, "--stripe-webhook-secret")?
            .split(',')
            .map(|secret| secret.trim().to_string())
            .filter(|secret| !secret.is_empty())
            .collect();
    if webhook_secrets.is_empty() || webhook_secrets.iter().any(|secret| !secret.starts_with("whsec_")) {
        bail!("--stripe-webhook-secret must be webhook signing secrets (whsec_...), comma-separated");
    }
    if args.allowed_redirect_origins.is_empty() && !args.allow_any_redirect_origin {
        bail!(
            "refusing to start without --allowed-redirect-origins (CREDITS_ALLOWED_REDIRECT_ORIGINS): give the \
             origins checkout may redirect buyers to (https://app.example,...), or pass \
             --allow-any-redirect-origin (CREDITS_ALLOW_ANY_REDIRECT_ORIGIN=true) to accept any, for development only"
        );
    }
    let stripe = args.stripe.config(webhook_secrets.into_iter().map(Secret::new).collect())?;
    let min_client_version = args
        .min_client_version
        .map(|v| {
            dropshot::semver::Version::parse(&v)
                .with_context(|| format!("--min-client-version {v:?} is not a semver version"))
        })
        .transpose()?;
    for origin in &args.allowed_redirect_origins {
        let parsed =
            url::Url::parse(origin).with_context(|| format!("--allowed-redirect-origins: {origin:?} is not a URL"))?;
        if parsed.origin().ascii_serialization() != origin.trim_end_matches('/') {
            bail!("--allowed-redirect-origins: {origin:?} is not an origin (scheme://host[:port])");
        }
    }
    let stripe_deadline = stripe.deadline;
    let request_timeout = args
        .request_timeout_secs
        .map(|s| Duration::from_secs(s.max(1)))
        .unwrap_or(stripe_deadline + Duration::from_secs(5));
    let edge = EdgeConfig {
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
        body_read_timeout: Duration::from_secs(args.body_read_timeout_secs.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout_secs.max(1)),
        request_timeout,
        max_connections: args.max_connections.max(1),
        max_in_flight: args.max_in_flight.max(1),
        rate_limit_per_address_per_minute: args.rate_limit_per_address_per_minute.max(1),
        trusted_proxies: args.trusted_proxies,
    };
    let shutdown_grace =
        args.shutdown_grace_secs.map(Duration::from_secs).unwrap_or(request_timeout + Duration::from_secs(5));
    Ok(Config {
        bind: args.bind,
        metrics_bind: args.metrics_bind,
        database_url: args.database.database_url,
        stripe,
        bundle_price,
        credits_per_bundle: args.credits_per_bundle,
        min_client_version,
        rate_limit_per_minute: args.rate_limit_per_minute.max(1),
        allowed_redirect_origins: args.allowed_redirect_origins,
        low_balance_threshold: args.low_balance_threshold,
        credential_cache_ttl: args.credential_cache_ttl,
        retention: Retention {
            idempotency_keys: args.idempotency_retention,
            events: args.event_retention,
            purge_interval: args.purge_interval,
        },
        http_log_level: http_log_level(&args.log_level),
        edge,
        shutdown_grace,
    })
}

/// `--credential-cache-ttl`: a duration of at most [`credential_cache::MAX_TTL`], the bound the
/// README promises for a revocation to take effect.
fn credential_cache_ttl(text: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if ttl > credential_cache::MAX_TTL {
        return Err(format!("at most {}", humantime::format_duration(credential_cache::MAX_TTL)));
    }
    Ok(ttl)
}

/// Opens the database (migrating it), telling the operator what a migration changed for them.
async fn open(database: &DatabaseArgs) -> anyhow::Result<Store> {
    let store = Store::connect(&database.database_url).await?;
    for notice in store.notices() {
        eprintln!("notice: {notice}");
    }
    Ok(store)
}

/// One row of `admin list-tokens`, tab-separated; `-` for what is unset.
fn token_line(token: &TokenListing) -> String {
    let time = |t: Option<Timestamp>| t.map_or("-".to_string(), |t| t.0.to_rfc3339());
    [
        token.id.clone(),
        token.prefix.clone(),
        token.org.clone().unwrap_or_else(|| "-".into()),
        token.email.clone(),
        token.role.map_or("-", Role::as_str).to_string(),
        time(Some(token.created_at)),
        time(token.last_used_at),
        time(token.expires_at),
        if token.legacy { "legacy" } else { "-" }.to_string(),
    ]
    .join("\t")
}

/// The level for dropshot's request log: the `--log-level` filter's default level.
fn http_log_level(filter: &str) -> dropshot::ConfigLoggingLevel {
    use dropshot::ConfigLoggingLevel as L;
    let default = filter.split(',').find(|d| !d.contains('=')).unwrap_or("info").trim().to_lowercase();
    match default.as_str() {
        "trace" => L::Trace,
        "debug" => L::Debug,
        "warn" => L::Warn,
        "error" => L::Error,
        "off" => L::Critical,
        _ => L::Info,
    }
}

async fn admin(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateOrg { slug, name, database } => {
            if slug.is_empty() || !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                bail!("the slug must be lowercase letters, digits and dashes, not {slug:?}");
            }
            let store = open(&database).await?;
            let org = store
                .create_org(&slug, name.as_deref().unwrap_or(&slug))
                .await
                .context("creating the organisation (is the slug taken?)")?;
            println!("created organisation {} ({})", org.slug, org.name);
        }
        AdminCommand::CreateToken { org, email, role, expires_in, update_role, database } => {
            let store = open(&database).await?;
            let org = store.org_by_slug(&org).await?.with_context(|| format!("no organisation {org:?}"))?;
            let role = Role::parse(&role).expect("clap checked the role");
            let expires_at = expires_in
                .map(|d| chrono::TimeDelta::from_std(d).map(|d| Timestamp::now() + d))
                .transpose()
                .context("--expires-in is too long")?;
            let issued = store.create_token(&org, &email, role, TokenOptions { expires_at, update_role }).await?;
            let expiry = expires_at.map_or("never expires".to_string(), |t| format!("expires {}", t.0.to_rfc3339()));
            println!(
                "token {} for {email} ({}) in {}, {expiry}; shown once, keep it:",
                issued.id,
                role.as_str(),
                org.slug
            );
            println!("{}", issued.token);
        }
        AdminCommand::RemoveMember { org, email, database } => {
            let store = open(&database).await?;
            let org = store.org_by_slug(&org).await?.with_context(|| format!("no organisation {org:?}"))?;
            if !store.remove_member(&org, &email).await? {
                bail!("{email} is not a member of {}", org.slug);
            }
            println!("removed {email} from {}; their tokens there are revoked", org.slug);
        }
        AdminCommand::RevokeTokens { org, email, database } => {
            let store = open(&database).await?;
            let org = store.org_by_slug(&org).await?.with_context(|| format!("no organisation {org:?}"))?;
            let revoked = store.revoke_tokens(&org, &email).await?;
            println!("revoked {revoked} token(s) of {email} in {}", org.slug);
        }
        AdminCommand::ListTokens { org, database } => {
            let store = open(&database).await?;
            let org = match org {
                Some(slug) => {
                    Some(store.org_by_slug(&slug).await?.with_context(|| format!("no organisation {slug:?}"))?)
                }
                None => None,
            };
            println!("id\tprefix\torg\temail\trole\tcreated\tlast used\texpires\tlegacy");
            for token in store.list_tokens(org.as_ref()).await? {
                println!("{}", token_line(&token));
            }
        }
        AdminCommand::Backup { file, database } => {
            let store = open(&database).await?;
            store.backup(&file).await?;
            println!("backed up to {}", file.display());
        }
        AdminCommand::RevokeToken { token_or_id, database } => {
            let store = open(&database).await?;
            if !store.revoke_token(&token_or_id).await? {
                bail!("no active token matches");
            }
            println!("revoked");
        }
        AdminCommand::Grant { org, amount, reason, database } => {
            let store = open(&database).await?;
            let org = store.org_by_slug(&org).await?.with_context(|| format!("no organisation {org:?}"))?;
            store.grant(&org, amount, &reason).await?;
            println!("granted {amount} credits to {}; balance {}", org.slug, store.balance(&org).await?);
        }
        AdminCommand::Reconcile { since, database, stripe } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
            let from = now.saturating_sub(since).as_secs() as i64;
            // Reconciliation reads from Stripe and never receives webhooks: no signing secret.
            let stripe =
                credits_server::stripe::Stripe::new(stripe.config(Vec::new())?).map_err(|e| anyhow::anyhow!("{e}"))?;
            let store = Store::connect(&database.database_url).await?;
            let report = credits_server::reconcile(&store, &stripe, from).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{report}");
        }
        AdminCommand::ListOrgs { database } => {
            let store = open(&database).await?;
            for org in store.list_orgs().await? {
                println!("{}\t{}", org.slug, org.name);
            }
        }
    }
    Ok(())
}
