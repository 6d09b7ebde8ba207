//! The API's error envelope (`APIErrorPayload`) for failures dropshot detects before a handler
//! runs, and the one table from HTTP status to the envelope's stable `type`.
//!
//! dropshot reports an unreadable request as a 400 with a message. product.md draws the line
//! differently: JSON that cannot be read at all is a 400, but well-formed JSON that breaks the
//! schema (a missing field, a wrong type, a value out of range) is a 422 with the location of the
//! problem. dropshot's body messages carry serde's path to the problem, which becomes `loc`.

use dropshot::{ErrorStatusCode, HttpError};

use crate::generated::support::{ApiError, FromHttpError, SCHEMA_VIOLATIONS};
use crate::generated::{ApiErrorPayload, ApiErrorPayloadType, ValidationErrorItem, ValidationErrorItemLocItem};

/// The envelope `type` for each status the API uses.
pub fn error_type_for_status(status: u16) -> ApiErrorPayloadType {
    match status {
        401 => ApiErrorPayloadType::AuthenticationError,
        403 => ApiErrorPayloadType::PermissionError,
        404 => ApiErrorPayloadType::NotFoundError,
        409 => ApiErrorPayloadType::ConflictError,
        422 => ApiErrorPayloadType::ValidationError,
        426 => ApiErrorPayloadType::UpgradeRequiredError,
        429 => ApiErrorPayloadType::RateLimitError,
        502 => ApiErrorPayloadType::BadGatewayError,
        504 => ApiErrorPayloadType::GatewayTimeoutError,
        s if s >= 500 => ApiErrorPayloadType::InternalServerError,
        _ => ApiErrorPayloadType::InvalidRequestError,
    }
}

impl ApiError<ApiErrorPayload> {
    /// An error with the envelope's `code` and `type` taken from the status.
    pub fn from_status(status: ErrorStatusCode, detail: impl Into<String>) -> Self {
        let code = status.as_u16();
        let body = ApiErrorPayload {
            code: i64::from(code),
            detail: detail.into(),
            errors: None,
            type_: error_type_for_status(code),
        };
        ApiError::new(status, body)
    }

    /// A 422 listing every problem found.
    pub fn validation(errors: Vec<ValidationErrorItem>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one.msg.clone(),
            many => format!("{} validation errors", many.len()),
        };
        let mut error = Self::from_status(ErrorStatusCode::UNPROCESSABLE_ENTITY, detail);
        error.body.errors = Some(errors);
        error
    }
}

impl ValidationErrorItem {
    /// A problem at `loc` (e.g. `["body", "quantity"]`).
    pub fn at(loc: &[&str], kind: &str, msg: impl Into<String>) -> Self {
        ValidationErrorItem {
            loc: loc.iter().map(|s| ValidationErrorItemLocItem::String((*s).to_string())).collect(),
            msg: msg.into(),
            type_: kind.to_string(),
        }
    }
}

impl FromHttpError for ApiErrorPayload {
    fn from_http_error(error: HttpError) -> ApiError<Self> {
        let message = error.external_message.as_str();
        if error.status_code.as_u16() == 400 {
            if let Some(list) = message.strip_prefix(SCHEMA_VIOLATIONS)
                && let Some(items) = body_schema_violations(list)
            {
                return ApiError::validation(items);
            }
            if let Some(problem) = message.strip_prefix("unable to parse JSON body: ") {
                if let Some(item) = schema_violation("body", problem) {
                    return ApiError::validation(vec![item]);
                }
                return ApiError::from_status(error.status_code, format!("Malformed JSON body: {problem}"));
            }
            if let Some(problem) = message.strip_prefix("unable to parse query string: ") {
                // Every value of a query string is text: what does not parse breaks the schema.
                let item = schema_violation("query", problem).unwrap_or_else(|| {
                    let detail = problem.split_once(": ").map_or(problem, |(_, d)| d);
                    let mut item = ValidationErrorItem::at(&["query"], "value_error", detail);
                    item.loc.extend(problem.split_once(": ").map(|(path, _)| path_segments(path)).unwrap_or_default());
                    item
                });
                return ApiError::validation(vec![item]);
            }
            if let Some(problem) = message.strip_prefix("bad parameter in URL path: ") {
                return ApiError::validation(vec![ValidationErrorItem::at(&["path"], "invalid", problem)]);
            }
        }
        if error.status_code.as_u16() == 401 {
            // One answer for every authentication failure, as the envelope's example shows.
            return ApiError::from_status(error.status_code, "Authentication failed").with_internal_message(message);
        }
        if error.status_code.is_server_error() {
            // The client gets no detail; the cause goes to the request log.
            return ApiError::from_status(error.status_code, "Internal server error")
                .with_internal_message(error.internal_message);
        }
        ApiError::from_status(error.status_code, message)
    }
}

/// The problems `JsonBody` lists (JSON `[{"loc", "msg", "type"}]`), located in the body.
fn body_schema_violations(list: &str) -> Option<Vec<ValidationErrorItem>> {
    let mut items: Vec<ValidationErrorItem> = serde_json::from_str(list).ok()?;
    for item in &mut items {
        item.loc.insert(0, ValidationErrorItemLocItem::String("body".to_string()));
    }
    (!items.is_empty()).then_some(items)
}

/// serde's messages for JSON that parsed but does not fit the type (as opposed to syntax errors).
const DATA_ERRORS: &[(&str, &str)] = &[
    ("missing field", "missing"),
    ("invalid type", "type_error"),
    ("invalid value", "value_error"),
    ("invalid length", "value_error"),
    ("unknown variant", "enum"),
    ("unknown field", "extra_forbidden"),
    ("duplicate field", "value_error"),
];

/// A schema violation reported as `path: message` (serde_path_to_error), as a validation item at
/// `location` (`body`, `query`).
fn schema_violation(location: &str, problem: &str) -> Option<ValidationErrorItem> {
    let (path, detail) = match problem.split_once(": ") {
        Some((path, detail)) if DATA_ERRORS.iter().any(|(p, _)| detail.starts_with(p)) => (path, detail),
        _ if DATA_ERRORS.iter().any(|(p, _)| problem.starts_with(p)) => (".", problem),
        _ => return None,
    };
    let kind = DATA_ERRORS.iter().find(|(p, _)| detail.starts_with(p)).map(|(_, k)| *k)?;
    // serde_json appends " at line L column C", which says nothing the location does not.
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    let mut loc = vec![ValidationErrorItemLocItem::String(location.to_string())];
    loc.extend(path_segments(path));
    if kind == "missing"
        && let Some(field) = detail.split('`').nth(1)
    {
        loc.push(ValidationErrorItemLocItem::String(field.to_string()));
    }
    Some(ValidationErrorItem { loc, msg: detail.to_string(), type_: kind.to_string() })
}

/// `a.b[0].c` → `a`, `b`, `0`, `c`; `.` is the root.
fn path_segments(path: &str) -> Vec<ValidationErrorItemLocItem> {
    if path == "." {
        return Vec::new();
    }
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(name, rest)| (name, rest));
        if !name.is_empty() {
            segments.push(ValidationErrorItemLocItem::String(name.to_string()));
        }
        // `rest` is what followed the first `[`: `0]`, or `0][1]`.
        while let Some((index, after)) = rest.split_once(']') {
            match index.parse::<i64>() {
                Ok(i) => segments.push(ValidationErrorItemLocItem::Integer(i)),
                Err(_) => segments.push(ValidationErrorItemLocItem::String(index.to_string())),
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
        if !rest.is_empty() {
            segments.push(ValidationErrorItemLocItem::String(rest.to_string()));
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc_of(error: &ApiError<ApiErrorPayload>) -> Vec<String> {
        error.body.errors.as_ref().expect("errors")[0].loc.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_missing_field_is_a_422_at_its_location() {
        let e = ApiErrorPayload::from_http_error(HttpError::for_bad_request(
            None,
            "unable to parse JSON body: .: missing field `success_url` at line 1 column 2".into(),
        ));
        assert_eq!(e.status.as_u16(), 422);
        assert_eq!(e.body.type_, ApiErrorPayloadType::ValidationError);
        assert_eq!(loc_of(&e), ["body", "success_url"]);
    }

    #[test]
    fn a_wrong_type_is_a_422_at_its_location() {
        let e = ApiErrorPayloadType::ValidationError;
        let got = ApiErrorPayload::from_http_error(HttpError::for_bad_request(
            None,
            "unable to parse JSON body: quantity: invalid type: string \"x\", expected i64 at line 1 column 14".into(),
        ));
        assert_eq!(got.body.type_, e);
        assert_eq!(loc_of(&got), ["body", "quantity"]);
    }

    #[test]
    fn broken_json_is_a_400() {
        let e = ApiErrorPayload::from_http_error(HttpError::for_bad_request(
            None,
            "unable to parse JSON body: EOF while parsing an object at line 1 column 1".into(),
        ));
        assert_eq!(e.status.as_u16(), 400);
        assert_eq!(e.body.type_, ApiErrorPayloadType::InvalidRequestError);
    }

    #[test]
    fn a_query_value_that_does_not_parse_is_a_422_at_its_parameter() {
        let e = ApiErrorPayload::from_http_error(HttpError::for_bad_request(
            None,
            "unable to parse query string: limit: invalid digit found in string".into(),
        ));
        assert_eq!(e.status.as_u16(), 422);
        assert_eq!(loc_of(&e), ["query", "limit"]);
        let e = ApiErrorPayload::from_http_error(HttpError::for_bad_request(
            None,
            "unable to parse query string: transaction_type[0]: unknown variant `gift`, expected one of `purchase`"
                .into(),
        ));
        assert_eq!(loc_of(&e), ["query", "transaction_type", "0"]);
    }

    #[test]
    fn keys_chosen_by_the_client_cannot_break_the_path() {
        let segments: Vec<String> = path_segments("m.k[0]é]x").iter().map(ToString::to_string).collect();
        assert_eq!(segments, ["m", "k", "0", "é", "x"]);
    }

    #[test]
    fn nested_paths_keep_indices() {
        assert_eq!(
            path_segments("items[2].name").iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["items", "2", "name"]
        );
    }
}
