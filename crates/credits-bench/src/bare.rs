//! dropshot's ceiling: the checkout's route, path parameter and JSON body, answered at once.

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

pub async fn serve(bind: SocketAddr) -> anyhow::Result<()> {
    let mut api = ApiDescription::new();
    api.register(checkout).map_err(|e| anyhow::anyhow!("{e}"))?;
    let log = dropshot::ConfigLogging::StderrTerminal { level: dropshot::ConfigLoggingLevel::Error }
        .to_logger("bare")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = dropshot::ServerBuilder::new(api, (), log)
        .config(dropshot::ConfigDropshot { bind_address: bind, ..Default::default() })
        .start()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("listening on {}", server.local_addr());
    server.await.map_err(|e| anyhow::anyhow!("{e}"))
}
