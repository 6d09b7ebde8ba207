//! The API's error envelope (`APIErrorPayload`) for failures dropshot and the generated
//! extractors detect before a handler runs, and the one table from HTTP status to the envelope's
//! stable `type`.
//!
//! JSON that cannot be read at all is a 400; well-formed input that breaks the spec's schemas (a
//! missing field, a wrong type, a value out of range, a string that does not match its pattern)
//! is a 422 listing every problem with its location, as the runtime's extractors report them
//!.

use dropshot::{ErrorStatusCode, HttpError};

use crate::generated::support::{ApiError, FromHttpError, LocSegment, Violation, violations_of};
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
        503 => ApiErrorPayloadType::ServiceUnavailableError,
        504 => ApiErrorPayloadType::GatewayTimeoutError,
        s if s >= 500 => ApiErrorPayloadType::InternalServerError,
        _ => ApiErrorPayloadType::InvalidRequestError,
    }
}

/// Errors in the envelope, built from a status.
pub trait Envelope: Sized {
    /// An error with the envelope's `code` and `type` taken from the status.
    fn from_status(status: ErrorStatusCode, detail: impl Into<String>) -> Self;
    /// A 422 listing every problem found.
    fn validation(errors: Vec<ValidationErrorItem>) -> Self;
}

impl Envelope for ApiError<ApiErrorPayload> {
    fn from_status(status: ErrorStatusCode, detail: impl Into<String>) -> Self {
        let code = status.as_u16();
        let body = ApiErrorPayload {
            code: i64::from(code),
            detail: detail.into(),
            errors: None,
            type_: error_type_for_status(code),
        };
        ApiError::new(status, body)
    }

    fn validation(errors: Vec<ValidationErrorItem>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.loc.iter().map(ToString::to_string).collect::<Vec<_>>().join("."), one.msg),
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

impl From<Violation> for ValidationErrorItem {
    fn from(violation: Violation) -> Self {
        let loc = violation
            .loc
            .into_iter()
            .map(|segment| match segment {
                LocSegment::Index(i) => ValidationErrorItemLocItem::Integer(i64::try_from(i).unwrap_or(i64::MAX)),
                LocSegment::Name(name) => ValidationErrorItemLocItem::String(name),
            })
            .collect();
        ValidationErrorItem { loc, msg: violation.msg, type_: violation.kind }
    }
}

impl FromHttpError for ApiErrorPayload {
    fn from_http_error(error: HttpError) -> ApiError<Self> {
        if let Some(violations) = violations_of(&error) {
            return ApiError::validation(violations.into_iter().map(ValidationErrorItem::from).collect());
        }
        let message = error.external_message.as_str();
        if error.status_code.as_u16() == 400 {
            if let Some(problem) = message.strip_prefix("unable to parse JSON body: ") {
                return ApiError::from_status(error.status_code, format!("Malformed JSON body: {problem}"));
            }
            if let Some(problem) = message.strip_prefix("bad parameter in URL path: ") {
                return ApiError::validation(vec![ValidationErrorItem::at(&["path"], "value_error", problem)]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::support::rejection;

    #[test]
    fn violations_become_one_422_item_each() {
        let violations = vec![
            Violation::new(
                vec![LocSegment::Name("body".into()), LocSegment::Name("quantity".into())],
                "range",
                "too big",
            ),
            Violation::new(vec![LocSegment::Name("body".into()), LocSegment::Index(0)], "missing", "gone"),
        ];
        let e = ApiErrorPayload::from_http_error(rejection(&violations));
        assert_eq!(e.status.as_u16(), 422);
        assert_eq!(e.body.type_, ApiErrorPayloadType::ValidationError);
        let items = e.body.errors.expect("errors");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].loc.iter().map(ToString::to_string).collect::<Vec<_>>(), ["body", "quantity"]);
        assert!(matches!(items[1].loc[1], ValidationErrorItemLocItem::Integer(0)));
        assert_eq!(e.body.detail, "2 validation errors");
    }

    #[test]
    fn one_violation_is_named_in_the_detail() {
        let v = Violation::new(
            vec![LocSegment::Name("query".into()), LocSegment::Name("limit".into())],
            "range",
            "must be at most 100, not 101",
        );
        let e = ApiErrorPayload::from_http_error(rejection(&[v]));
        assert_eq!(e.body.detail, "query.limit: must be at most 100, not 101");
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
    fn server_errors_keep_their_cause_out_of_the_body() {
        let e = ApiErrorPayload::from_http_error(HttpError::for_internal_error("disk on fire".into()));
        assert_eq!(e.body.detail, "Internal server error");
        assert_eq!(e.internal_message.as_deref(), Some("disk on fire"));
    }
}
