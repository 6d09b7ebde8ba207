//! The document `GET /openapi.json` serves: the one dropshot builds from this implementation, plus
//! what dropshot cannot express, taken from this server's own code (never from the spec file):
//! the token authentication `handlers` implements, on every operation but the two that need none.

use serde_json::{Map, Value, json};

/// Operations that take no token: Stripe signs the webhook, and the document is public.
const PUBLIC_OPERATIONS: &[&str] = &["receive_stripe_webhook", "get_openapi_document"];

pub fn served_document() -> Result<Map<String, Value>, String> {
    let version = dropshot::semver::Version::parse(credits_api::API_VERSION).map_err(|e| e.to_string())?;
    let mut document = crate::api().openapi(credits_api::API_TITLE, version).json().map_err(|e| e.to_string())?;
    add_security(&mut document);
    match document {
        Value::Object(map) => Ok(map),
        _ => Err("the document is not an object".into()),
    }
}

fn add_security(document: &mut Value) {
    let schemes = json!({
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API token: `Authorization: Bearer <token>`"},
        "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The same API token in an `X-API-Key` header, for clients that cannot set `Authorization`"}
    });
    document["components"]["securitySchemes"] = schemes;
    document["security"] = json!([{"bearerAuth": []}, {"apiKeyAuth": []}]);
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
            let public = op.get("operationId").and_then(Value::as_str).is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
            if public {
                op["security"] = json!([]);
            }
        }
    }
}
