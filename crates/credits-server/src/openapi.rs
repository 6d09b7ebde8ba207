//! The document `GET /openapi.json` serves: the one dropshot builds from the implementation,
//! plus what dropshot cannot express. Security and the responses' links are copied from what the
//! generator recorded beside the trait from the spec (`SECURITY_JSON`, `RESPONSE_LINKS_JSON`;
//! the generated `Credentials` extractor enforces that security). Dropshot's `4XX`/`5XX` ranges
//! are replaced by one response per status each operation can answer with: that list
//! (`error_statuses`) follows this server's handlers and edge, and the descriptions are
//! `error::ERROR_STATUSES`. Their headers (the 429's `Retry-After`, which the edge sets) are the
//! spec's, as the generator recorded them (`ERROR_RESPONSE_HEADERS_JSON`).
//! The workspace's `tests/` crate checks the result against the spec file.

use serde_json::{Map, Value, json};

use crate::error::ERROR_STATUSES;

/// An OpenAPI document as JSON.
pub type Document = Map<String, Value>;

/// The document of `api`, as served.
pub fn served_document<C: dropshot::ServerContext>(api: &dropshot::ApiDescription<C>) -> Result<Document, String> {
    let version = dropshot::semver::Version::parse(credits_api::API_VERSION).map_err(|e| e.to_string())?;
    let mut document = api.openapi(credits_api::API_TITLE, version).json().map_err(|e| e.to_string())?;
    let security: Value = serde_json::from_str(credits_api::SECURITY_JSON).map_err(|e| e.to_string())?;
    let links: Value = serde_json::from_str(credits_api::RESPONSE_LINKS_JSON).map_err(|e| e.to_string())?;
    let error_headers: Value =
        serde_json::from_str(credits_api::ERROR_RESPONSE_HEADERS_JSON).map_err(|e| e.to_string())?;
    credits_api::support::add_security(&mut document, &security);
    credits_api::support::add_links(&mut document, &links);
    add_error_statuses(&mut document, &error_headers);
    match document {
        Value::Object(map) => Ok(map),
        _ => Err("the document is not an object".into()),
    }
}

/// The error statuses of each operation, following what its handler does: every operation can
/// fail unexpectedly (500); token-authenticated ones check the version, the token, the rate
/// limit and the membership; reads also validate parameters; buying also checks the role, the
/// idempotency key, and talks to Stripe.
fn error_statuses(operation_id: &str) -> Vec<u16> {
    const AUTHENTICATED: &[u16] = &[401, 404, 426, 429];
    const READ: &[u16] = &[400, 422, 500];
    const BUY: &[u16] = &[403, 409, 502, 504];
    let mut statuses: Vec<u16> = match operation_id {
        "create_checkout_session" => [AUTHENTICATED, READ, BUY].concat(),
        // Fulfilment reads the session's line items from Stripe.
        // The edge refuses a request head over its limits (400) before any operation runs, limits
        // what comes without a token per client address, and caps requests in flight for every
        // operation (429).
        "receive_stripe_webhook" => vec![400, 429, 500, 502, 504],
        "get_openapi_document" | "get_liveness" | "get_api_reference" => vec![400, 429, 500],
        // An asset name the page does not use is a 404.
        "get_api_reference_asset" => vec![400, 404, 429, 500],
        "get_readiness" => vec![400, 429, 500, 503],
        _ => [AUTHENTICATED, READ].concat(),
    };
    statuses.sort_unstable();
    statuses
}

fn response_name(description: &str) -> String {
    description.split_whitespace().map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

/// `error_headers`: `{"<operationId>": {"<status>": {"<header>": <header object>}}}`.
fn add_error_statuses(document: &mut Value, error_headers: &Value) {
    let mut error_content = None;
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or_default().to_string();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            responses.remove("4XX");
            if let Some(range) = responses.remove("5XX") {
                error_content.get_or_insert(range);
            }
            for status in error_statuses(&id) {
                let (_, description) =
                    ERROR_STATUSES.iter().find(|(s, _)| *s == status).expect("every status is described");
                responses.insert(
                    status.to_string(),
                    json!({ "$ref": format!("#/components/responses/{}", response_name(description)) }),
                );
            }
        }
    }
    // The ranges pointed at dropshot's one error response; each status gets its own, same body.
    let Some(range) = error_content else { return };
    let target = range.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).map(str::to_string);
    let content = target
        .and_then(|t| document.pointer(&t).cloned())
        .unwrap_or(range)
        .get("content")
        .cloned()
        .unwrap_or(json!({}));
    let responses = &mut document["components"]["responses"];
    if let Some(map) = responses.as_object_mut() {
        map.clear();
    }
    for (status, description) in ERROR_STATUSES {
        let mut response = json!({ "description": description, "content": content });
        // One response per status serves every operation: its headers are those any operation's
        // response of that status declares.
        let mut headers = Map::new();
        for by_status in error_headers.as_object().into_iter().flat_map(|ops| ops.values()) {
            if let Some(declared) = by_status.get(status.to_string()).and_then(Value::as_object) {
                headers.extend(declared.clone());
            }
        }
        if !headers.is_empty() {
            response["headers"] = Value::Object(headers);
        }
        responses[response_name(description)] = response;
    }
}
