//! The credits API server: the hand-written implementation of the generated `CreditsApi` trait.
//!
//! `start_server` connects the store (running migrations), builds the Stripe adapter and serves
//! the API; `main.rs` only turns command-line flags into a [`Config`]. Tests call the same function
//! on port 0.
//!
//! The layers, each calling only the ones below it:
//! - `edge`: what clients connect to; rate limiting, then dropshot on a loopback port;
//! - `http`: the trait's handlers (extract, call, map) and `openapi`, the served document;
//! - the domain: `access` (who may call), `purchase` (buying credits: checkout, fulfilment,
//!   reconciliation, refunds and disputes), `credits` (reading the balance and the ledger),
//!   `purge` (deleting state past retention);
//! - the adapters: `store` (the database, one file per table) and `stripe`;
//! - shared leaves: `model` (the nouns), `error`, `config`, `hash`.
//!
//! The product rules they implement are in the repository's `docs/`.

mod access;
pub mod config;
mod credits;
mod edge;
pub mod error;
mod hash;
mod http;
pub mod model;
mod openapi;
mod purchase;
pub mod purge;
pub mod store;
pub mod stripe;

use std::sync::Arc;

use dropshot::{ConfigDropshot, ServerBuilder};

pub use config::{BundlePrice, Config, Retention, Secret, StripeConfig};
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
}

/// A running server: the edge clients talk to, and dropshot behind it.
pub struct RunningServer {
    edge: edge::Edge,
    server: dropshot::HttpServer<Arc<ServerContext>>,
    purge: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Where clients connect.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.edge.local_addr()
    }

    /// Stops accepting requests and waits for the ones in progress.
    pub async fn close(self) -> Result<(), String> {
        self.purge.abort();
        self.edge.close().await;
        self.server.close().await
    }

    /// Waits until the server stops.
    pub async fn wait(self) -> Result<(), String> {
        let outcome = self.server.await;
        self.purge.abort();
        outcome
    }
}

/// Starts the server: storage first (migrations applied), then Stripe, then HTTP and the purge.
pub async fn start_server(config: Config) -> anyhow::Result<RunningServer> {
    let store = Store::connect(&config.database_url).await?;
    for notice in store.notices() {
        tracing::warn!("{notice}");
    }
    let stripe = stripe::Stripe::new(config.stripe.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let limiter = edge::RateLimiter::new(config.rate_limit_per_minute);
    let bind = config.bind;
    let log_level = config.http_log_level.clone();
    let retention = config.retention.clone();
    let purge_store = store.clone();
    let context = Arc::new(ServerContext { config, store, stripe, return_checks: ReturnChecks::default() });
    let log = dropshot::ConfigLogging::StderrTerminal { level: log_level }
        .to_logger("credits-server")
        .map_err(|e| anyhow::anyhow!("logger: {e}"))?;
    // dropshot listens on loopback only; clients reach it through the edge (see `edge`).
    let internal = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = ServerBuilder::new(api(), context, log)
        .config(ConfigDropshot {
            bind_address: internal,
            default_request_body_max_bytes: 64 * 1024,
            ..Default::default()
        })
        .start()
        .map_err(|e| anyhow::anyhow!("starting the HTTP server: {e}"))?;
    let edge = match edge::start(bind, server.local_addr(), limiter).await {
        Ok(edge) => edge,
        Err(e) => {
            let _ = server.close().await;
            anyhow::bail!("listening on {bind}: {e}");
        }
    };
    let purge = purge::spawn(purge_store, retention);
    Ok(RunningServer { edge, server, purge })
}
