//! The server's domain error, converted in one place (`From<Error> for ErrorResponse`) into the
//! API's error envelope.
//!
//! Each variant documents the status it becomes; `docs/errors.md` says what each status means to
//! a client. Internal causes go to the request log where the error is converted, and never to the
//! client: a 500 says only that something went wrong.

use credits_api::support::ApiError;
use credits_api::{ApiErrorPayload, Envelope, ValidationErrorItem};
use dropshot::ErrorStatusCode;

use crate::store::StoreError;

/// What can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing, malformed, unknown or revoked token.
    #[error("Authentication failed")]
    Unauthenticated,
    /// 403: a member whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown, or not the caller's (the two are not told apart).
    #[error("{0}")]
    NotFound(String),
    /// 409: an idempotency key reused with another body, or still in flight.
    #[error("{0}")]
    Conflict(String),
    /// 422: one item per problem.
    #[error("validation failed")]
    Invalid(Vec<ValidationErrorItem>),
    /// 426: the client's API version is older than the server supports.
    #[error("{0}")]
    UpgradeRequired(String),
    /// 502: Stripe answered with an error, or with something unreadable.
    #[error("stripe error: {0}")]
    Stripe(String),
    /// 502: Stripe has no such object (404): asked about an id an event named, it means the
    /// event is not about this account's objects, which callers may then ignore.
    #[error("stripe has no such object: {0}")]
    StripeNoSuchObject(String),
    /// 502: Stripe could not be reached (the connection failed or dropped): whether it acted
    /// is unknown.
    #[error("stripe unreachable: {0}")]
    StripeUnreachable(String),
    /// 503: this instance cannot serve now (its database is unreachable or not migrated); the
    /// cause is logged, not returned.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 504: Stripe did not answer in time.
    #[error("Stripe did not answer in time")]
    StripeTimeout,
    /// 500: the database failed (the only conversion from the store's error).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// 500: anything else unexpected.
    #[error("{0}")]
    Internal(String),
}

/// An error answer in the API's envelope: what every handler returns on failure (dropshot's own
/// `HttpError` is not used; the generated trait asks for this type).
pub type ErrorResponse = ApiError<ApiErrorPayload>;

/// Every error status the server answers with, and what it means: the descriptions of the
/// per-status error responses in the document the server serves.
pub const ERROR_STATUSES: &[(u16, &str)] = &[
    (400, "Invalid request"),
    (401, "Authentication failed"),
    (403, "Access forbidden"),
    (404, "Not found"),
    (409, "Already exists"),
    (422, "Validation error"),
    (426, "Upgrade required"),
    (429, "Rate limited"),
    (500, "Internal server error"),
    (502, "Bad gateway"),
    (503, "Service unavailable"),
    (504, "Gateway timeout"),
];

impl Error {
    /// Whether a failed Stripe call may still have done its work (then a retry must reuse the
    /// Stripe idempotency key to find it).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::StripeTimeout | Error::StripeUnreachable(_))
    }
}

impl From<Error> for ErrorResponse {
    fn from(error: Error) -> ErrorResponse {
        use ErrorStatusCode as S;
        match error {
            Error::BadRequest(m) => ErrorResponse::from_status(S::BAD_REQUEST, m),
            Error::Unauthenticated => ErrorResponse::from_status(S::UNAUTHORIZED, "Authentication failed"),
            Error::Forbidden(m) => ErrorResponse::from_status(S::FORBIDDEN, m),
            Error::NotFound(m) => ErrorResponse::from_status(S::NOT_FOUND, m),
            Error::Conflict(m) => ErrorResponse::from_status(S::CONFLICT, m),
            Error::Invalid(items) => ErrorResponse::validation(items),
            Error::UpgradeRequired(m) => ErrorResponse::from_status(S::UPGRADE_REQUIRED, m),
            // The causes of 5xx go to the request log (dropshot logs the error's `Display`, which
            // shows `internal_message`), on the same line as the request id; never to the client.
            Error::Stripe(cause) | Error::StripeNoSuchObject(cause) => {
                ErrorResponse::from_status(S::BAD_GATEWAY, "The payment provider answered with an error")
                    .with_internal_message(format!("stripe: {cause}"))
            }
            Error::StripeUnreachable(cause) => {
                ErrorResponse::from_status(S::BAD_GATEWAY, "The payment provider could not be reached")
                    .with_internal_message(format!("stripe unreachable: {cause}"))
            }
            Error::Unavailable(cause) => ErrorResponse::from_status(S::SERVICE_UNAVAILABLE, "The service is not ready")
                .with_internal_message(cause),
            Error::StripeTimeout => {
                ErrorResponse::from_status(S::GATEWAY_TIMEOUT, "The payment provider did not answer in time")
                    .with_internal_message("stripe did not answer within the deadline")
            }
            Error::Store(cause) => ErrorResponse::from_status(S::INTERNAL_SERVER_ERROR, "Internal server error")
                .with_internal_message(cause.to_string()),
            Error::Internal(cause) => ErrorResponse::from_status(S::INTERNAL_SERVER_ERROR, "Internal server error")
                .with_internal_message(cause),
        }
    }
}
