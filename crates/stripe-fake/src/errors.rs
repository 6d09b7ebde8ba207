//! Every way a Stripe API request can fail, as one domain enum, and the single place where it
//! becomes Stripe's error body `{"error": {"type", "code", "message", "param"}}` with Stripe's
//! HTTP status. Handlers return `ApiError`; nothing else writes error bodies for `/v1`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A failed Stripe API request. The doc of each variant names the status it maps to.
// The variants' fields are what their names say; each variant documents the answer.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: no `Authorization` header, or one without a key.
    MissingApiKey,
    /// 401: a key that is not a test secret key, or not the configured one.
    InvalidApiKey { key: String },
    /// 400 `parameter_unknown`.
    UnknownParameter { param: String },
    /// 400 `parameter_missing`.
    MissingParameter { param: String },
    /// 400 `parameter_invalid_integer`.
    InvalidInteger { param: String, value: String },
    /// 400 `parameter_invalid_empty`: an empty string for a parameter that cannot be unset.
    EmptyParameter { param: String },
    /// 400 without a code: a value of the right type that Stripe refuses (enum, range, ...).
    InvalidParameter { param: String, message: String },
    /// 400 without a param: a request that is inconsistent as a whole (wrong state, ...).
    InvalidRequest { message: String },
    /// 400 with a code: a request Stripe understood and refused for what the objects are now
    /// (`charge_already_refunded`, `amount_too_large`, `charge_disputed`).
    Refused { code: &'static str, param: Option<String>, message: String },
    /// 404 `resource_missing`: the object named in the URL does not exist.
    NotFound { kind: &'static str, id: String },
    /// 400 `resource_missing`: an object named by a parameter does not exist.
    MissingReference { kind: &'static str, id: String, param: String },
    /// 404: no such route.
    UnrecognizedUrl { method: String, path: String },
    /// 400 `idempotency_error`: a key reused with other parameters or on another endpoint.
    IdempotencyMismatch { key: String },
    /// 409 `idempotency_key_in_use`: a key used while its first request is still running.
    IdempotencyInUse { key: String },
    /// Any status: an error injected by a fault, exactly as configured.
    Injected { status: u16, error_type: String, code: Option<String>, message: String },
    /// 500 `api_error`.
    Internal { message: String },
}

impl ApiError {
    /// The HTTP status Stripe answers this error with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingApiKey | ApiError::InvalidApiKey { .. } => StatusCode::UNAUTHORIZED,
            ApiError::NotFound { .. } | ApiError::UnrecognizedUrl { .. } => StatusCode::NOT_FOUND,
            ApiError::IdempotencyInUse { .. } => StatusCode::CONFLICT,
            ApiError::Injected { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the request was refused before execution began. Stripe saves no idempotent
    /// result for such requests, so the key can be retried with corrected parameters.
    pub fn is_validation(&self) -> bool {
        matches!(
            self,
            ApiError::UnknownParameter { .. }
                | ApiError::MissingParameter { .. }
                | ApiError::InvalidInteger { .. }
                | ApiError::EmptyParameter { .. }
                | ApiError::InvalidParameter { .. }
                | ApiError::MissingReference { .. }
        )
    }

    /// Whether Stripe refused the request before running the endpoint (a concurrent request
    /// conflicting with it, or rate limiting): Stripe keeps no answer under the idempotency key
    /// then, so the same key can be retried.
    pub fn is_refusal_before_running(&self) -> bool {
        matches!(self, ApiError::Injected { status: 400 | 409 | 429, .. })
    }

    /// The `error` object of Stripe's body.
    pub fn to_json(&self) -> Value {
        let (error_type, code, message, param): (&str, Option<&str>, String, Option<&str>) = match self {
            ApiError::MissingApiKey => (
                "invalid_request_error",
                None,
                "You did not provide an API key. Provide it in the Authorization header, \
                     using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                    .to_string(),
                None,
            ),
            ApiError::InvalidApiKey { key } => (
                "invalid_request_error",
                Some("api_key_invalid"),
                format!("Invalid API Key provided: {}", mask_key(key)),
                None,
            ),
            ApiError::UnknownParameter { param } => (
                "invalid_request_error",
                Some("parameter_unknown"),
                format!("Received unknown parameter: {param}"),
                Some(param),
            ),
            ApiError::MissingParameter { param } => (
                "invalid_request_error",
                Some("parameter_missing"),
                format!("Missing required param: {param}."),
                Some(param),
            ),
            ApiError::InvalidInteger { param, value } => (
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                format!("Invalid integer: {value}"),
                Some(param),
            ),
            ApiError::EmptyParameter { param } => (
                "invalid_request_error",
                Some("parameter_invalid_empty"),
                format!(
                    "You passed an empty string for '{param}'. Empty values unset a \
                         parameter, but '{param}' cannot be unset."
                ),
                Some(param),
            ),
            ApiError::InvalidParameter { param, message } => {
                ("invalid_request_error", None, message.clone(), Some(param))
            }
            ApiError::InvalidRequest { message } => ("invalid_request_error", None, message.clone(), None),
            ApiError::Refused { code, param, message } => {
                ("invalid_request_error", Some(*code), message.clone(), param.as_deref())
            }
            ApiError::NotFound { kind, id } => {
                ("invalid_request_error", Some("resource_missing"), format!("No such {kind}: '{id}'"), Some("id"))
            }
            ApiError::MissingReference { kind, id, param } => {
                ("invalid_request_error", Some("resource_missing"), format!("No such {kind}: '{id}'"), Some(param))
            }
            ApiError::UnrecognizedUrl { method, path } => {
                ("invalid_request_error", None, format!("Unrecognized request URL ({method}: {path})."), None)
            }
            ApiError::IdempotencyMismatch { key } => (
                "idempotency_error",
                None,
                format!(
                    "Keys for idempotent requests can only be used with the same parameters \
                         they were first used with. Try using a key other than '{key}' if you \
                         meant to execute a different request."
                ),
                None,
            ),
            ApiError::IdempotencyInUse { key } => (
                "invalid_request_error",
                Some("idempotency_key_in_use"),
                format!(
                    "There is currently another in-progress request using this idempotency \
                         key (probably the same request submitted twice, still running): {key}. \
                         Please try again later."
                ),
                None,
            ),
            ApiError::Injected { error_type, code, message, .. } => {
                (error_type.as_str(), code.as_deref(), message.clone(), None)
            }
            ApiError::Internal { message } => ("api_error", None, message.clone(), None),
        };
        let mut error = Map::new();
        if let Some(code) = code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-"))),
            );
        }
        error.insert("message".into(), json!(message));
        if let Some(param) = param {
            error.insert("param".into(), json!(param));
        }
        error.insert("type".into(), json!(error_type));
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = self.to_json();
        write!(f, "{} {}", self.status().as_u16(), body["error"]["message"].as_str().unwrap_or(""))
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string_pretty(&self.to_json()).expect("json");
        (self.status(), [("content-type", "application/json")], body).into_response()
    }
}

/// Stripe shows only the start and the last four characters of a rejected key.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameter_body_names_the_bracketed_param() {
        let err = ApiError::UnknownParameter { param: "line_items[0][foo]".into() };
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let body = err.to_json();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], "parameter_unknown");
        assert_eq!(body["error"]["param"], "line_items[0][foo]");
    }

    #[test]
    fn keys_are_masked() {
        assert_eq!(mask_key("sk_live_1234567890abcd"), "sk_live_**********abcd");
        assert_eq!(mask_key("short"), "*****");
    }
}
