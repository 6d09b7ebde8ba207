//! dropshot's ceiling: the checkout's route, path parameter and JSON body, answered at once;
//! optionally behind the server's own edge, to measure what the edge adds to a request.

use std::net::SocketAddr;

use dropshot::{ApiDescription, HttpError, HttpResponseOk, Path, RequestContext, TypedBody, endpoint};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct OrgPath {
    #[allow(dead_code)]
    org: String,
}

/// The checkout's body, as the spec has it.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
pub struct CheckoutRequest {
    #[serde(default = "one")]
    pub quantity: u64,
    pub success_url: String,
    pub cancel_url: String,
}

fn one() -> u64 {
    1
}

/// The checkout's answer, as the spec has it.
#[derive(Serialize, JsonSchema)]
pub struct CheckoutResponse {
    pub checkout_url: String,
    pub session_id: String,
}

#[endpoint { method = POST, path = "/api/v1/org/{org}/credits/checkout" }]
async fn checkout(
    _rqctx: RequestContext<()>,
    _path: Path<OrgPath>,
    _body: TypedBody<CheckoutRequest>,
) -> Result<HttpResponseOk<CheckoutResponse>, HttpError> {
    Ok(HttpResponseOk(CheckoutResponse {
        checkout_url: "https://checkout.example/pay/cs_bare".into(),
        session_id: "cs_bare".into(),
    }))
}

/// Serves the endpoint on `bind`; with `behind_edge`, dropshot listens on a loopback port of its
/// own and the server's edge (`credits_server::edge`, its defaults with every limit lifted, as
/// the benchmark runs the server) listens on `bind` and forwards to it.
pub async fn serve(bind: SocketAddr, behind_edge: bool) -> anyhow::Result<()> {
    let dropshot_bind = if behind_edge { SocketAddr::from(([127, 0, 0, 1], 0)) } else { bind };
    let mut api = ApiDescription::new();
    api.register(checkout).map_err(|e| anyhow::anyhow!("{e}"))?;
    let log = dropshot::ConfigLogging::StderrTerminal { level: dropshot::ConfigLoggingLevel::Error }
        .to_logger("bare")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = dropshot::ServerBuilder::new(api, (), log)
        .config(dropshot::ConfigDropshot { bind_address: dropshot_bind, ..Default::default() })
        .start()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !behind_edge {
        println!("listening on {}", server.local_addr());
        return server.await.map_err(|e| anyhow::anyhow!("{e}"));
    }
    let edge = start_edge(bind, server.local_addr()).await?;
    println!("listening on {} (the edge, in front of dropshot on {})", edge.local_addr(), server.local_addr());
    server.await.map_err(|e| anyhow::anyhow!("{e}"))
}

async fn start_edge(bind: SocketAddr, upstream: SocketAddr) -> anyhow::Result<credits_server::edge::Edge> {
    use credits_server::edge::{self, Observed, RateLimits, Routes};
    let config = credits_server::EdgeConfig {
        max_connections: 100_000,
        max_in_flight: 100_000,
        rate_limit_per_address_per_minute: 1_000_000_000,
        ..credits_server::EdgeConfig::defaults(std::time::Duration::from_secs(10))
    };
    let limits = RateLimits::new(1_000_000_000, 1_000_000_000);
    let observed = Observed {
        metrics: credits_server::metrics::Metrics::disabled(),
        routes: Routes::new(["/api/v1/org/{org}/credits/checkout".to_string()]),
    };
    // The bare endpoint does not check the secret the edge proves itself with.
    let cors = credits_server::cors::Cors::new(&[]);
    Ok(edge::start(bind, upstream, "bench".into(), config, limits, observed, cors).await?)
}
