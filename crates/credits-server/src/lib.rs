//! The credits API server: the hand-written implementation of the generated `CreditsApi` trait.
//!
//! `start_server` connects the store (running migrations), builds the Stripe adapter and serves
//! the API; `main.rs` only turns command-line flags into a [`Config`]. Tests call the same function
//! on port 0.
//!
//! The layers, each calling only the ones below it:
//! - `edge`: what clients connect to; deadlines, caps and rate limits, then dropshot on a
//!   loopback port that answers only the edge;
//! - `http`: the trait's handlers (extract, call, map), `openapi` (the served document) and
//!   `docs` (the reference page of that document);
//! - the domain: `access` (who may call, with `credential_cache` keeping what tokens grant), `purchase` (buying credits: checkout, fulfilment,
//!   reconciliation, refunds and disputes), `credits` (reading the balance and the ledger),
//!   `purge` (deleting state past retention), `health` (whether to send this instance traffic);
//! - the adapters: `store` (the database, one file per table) and `stripe` (its requests sent
//!   by `stripe_transport`, a client that keeps its connections);
//! - shared leaves: `model` (the nouns), `error`, `config`, `hash`, `logging` (dropshot's log
//!   into `tracing`), `metrics` (what is counted, and the listener Prometheus scrapes).
//!
//! The product rules they implement are in the repository's `docs/`.

mod access;
pub mod config;
pub mod cors;
pub mod credential_cache;
mod credits;
mod docs;
pub mod edge;
pub mod error;
mod hash;
mod health;
mod http;
mod logging;
pub mod metrics;
pub mod model;
mod openapi;
mod purchase;
pub mod purge;
pub mod store;
pub mod stripe;
mod stripe_transport;

use std::sync::Arc;

use dropshot::{ConfigDropshot, ServerBuilder};

pub use config::{BundlePrice, Config, EdgeConfig, Retention, Secret, StripeConfig};
pub use http::api;
pub use model::Role;
pub use purchase::{Reconciliation, ReturnChecks, reconcile};
pub use store::Store;

/// What the handlers share.
pub struct ServerContext {
    /// The configuration the server started with.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The Stripe adapter.
    pub stripe: stripe::Stripe,
    /// When returning buyers' sessions were last checked at Stripe (this instance only).
    pub return_checks: ReturnChecks,
    /// What tokens grant, as read within the last few seconds (this instance only).
    pub credentials: credential_cache::CredentialCache,
}

/// A running server: the edge clients talk to, and dropshot behind it.
pub struct RunningServer {
    edge: edge::Edge,
    server: dropshot::HttpServer<Arc<ServerContext>>,
    purge: tokio::task::JoinHandle<()>,
    grace: std::time::Duration,
    metrics: Option<metrics::MetricsListener>,
}

impl RunningServer {
    /// Where clients connect.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.edge.local_addr()
    }

    /// Where dropshot listens (loopback): it refuses any request that did not come through the
    /// edge. Public so a test can prove it.
    pub fn inner_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// Where Prometheus scrapes `/metrics`, when `Config::metrics_bind` asked for it.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().map(metrics::MetricsListener::local_addr)
    }

    /// Shuts down gracefully: stops accepting connections, lets the requests in progress finish
    /// (for at most the configured grace, `Config::shutdown_grace`), then stops dropshot, which
    /// waits for any handler still running. The purge stops first (it holds no request).
    pub async fn close(self) -> Result<(), String> {
        self.purge.abort();
        self.edge.close(self.grace).await;
        if let Some(metrics) = self.metrics {
            metrics.close().await;
        }
        self.server.close().await
    }
}

/// Starts the server: storage first (migrations applied), then Stripe, then HTTP and the purge.
pub async fn start_server(config: Config) -> anyhow::Result<RunningServer> {
    let store = Store::connect(&config.database_url).await?;
    for notice in store.notices() {
        tracing::warn!("{notice}");
    }
    let recorder =
        if config.metrics_bind.is_some() { metrics::Metrics::enabled() } else { metrics::Metrics::disabled() };
    let stripe =
        stripe::Stripe::new(config.stripe.clone()).map_err(|e| anyhow::anyhow!("{e}"))?.with_metrics(recorder.clone());
    let routes = openapi::served_document(&api())
        .map_err(|e| anyhow::anyhow!("the served document: {e}"))?
        .get("paths")
        .and_then(|paths| paths.as_object())
        .map(|paths| edge::Routes::new(paths.keys().cloned()))
        .unwrap_or_default();
    let metrics_listener = match config.metrics_bind {
        Some(bind) => Some(
            metrics::serve(bind, recorder.clone(), store.clone())
                .await
                .map_err(|e| anyhow::anyhow!("metrics: listening on {bind}: {e}"))?,
        ),
        None => None,
    };
    let limits = edge::RateLimits::new(config.rate_limit_per_minute, config.edge.rate_limit_per_address_per_minute);
    let (bind, edge_config, grace) = (config.bind, config.edge.clone(), config.shutdown_grace);
    let log = logging::dropshot_logger(config.http_log_level.clone());
    let retention = config.retention.clone();
    let purge_store = store.clone();
    let cors = cors::Cors::new(&config.allowed_redirect_origins);
    let credentials = credential_cache::CredentialCache::new(config.credential_cache_ttl);
    let context =
        Arc::new(ServerContext { config, store, stripe, return_checks: ReturnChecks::default(), credentials });
    let inner_secret = hex::encode(rand::random::<[u8; 32]>());
    // dropshot listens on loopback only, and answers only requests carrying the edge's secret.
    let internal = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = ServerBuilder::new(api(), context, log)
        .config(ConfigDropshot {
            bind_address: internal,
            default_request_body_max_bytes: edge::BODY_LIMIT,
            log_headers: vec![edge::REQUEST_ID_HEADER.to_string()],
            // A handler runs to its end even when the edge stops waiting (its deadline passed):
            // a checkout is then recorded, and its idempotency claim settled, all the same.
            default_handler_task_mode: dropshot::HandlerTaskMode::Detached,
            ..Default::default()
        })
        .version_policy(dropshot::VersionPolicy::Dynamic(Box::new(edge::EdgeOnly::new(inner_secret.clone()))))
        .start()
        .map_err(|e| anyhow::anyhow!("starting the HTTP server: {e}"))?;
    let observed = edge::Observed { metrics: recorder, routes };
    let edge = match edge::start(bind, server.local_addr(), inner_secret, edge_config, limits, observed, cors).await {
        Ok(edge) => edge,
        Err(e) => {
            let _ = server.close().await;
            if let Some(listener) = metrics_listener {
                listener.close().await;
            }
            anyhow::bail!("listening on {bind}: {e}");
        }
    };
    let purge = purge::spawn(purge_store, retention);
    Ok(RunningServer { edge, server, purge, grace, metrics: metrics_listener })
}
