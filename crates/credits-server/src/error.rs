//! The server's domain error, converted in one place into the API's error envelope.
//!
//! Each variant documents the status it becomes. Internal causes are logged where the error is
//! converted, and never sent: a 500 says only that something went wrong.

use credits_api::support::ApiError;
use credits_api::{ApiErrorPayload, Envelope, ValidationErrorItem};
use dropshot::ErrorStatusCode;

use crate::store::StoreError;

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
    /// 502: Stripe could not be reached (the connection failed or dropped): whether it acted
    /// is unknown.
    #[error("stripe unreachable: {0}")]
    StripeUnreachable(String),
    /// 504: Stripe did not answer in time.
    #[error("Stripe did not answer in time")]
    StripeTimeout,
    /// 500.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// 500.
    #[error("{0}")]
    Internal(String),
}

/// The API's error type.
pub type HttpError = ApiError<ApiErrorPayload>;

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
    (504, "Gateway timeout"),
];

impl Error {
    /// Whether a failed Stripe call may still have done its work (then a retry must reuse the
    /// Stripe idempotency key to find it).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::StripeTimeout | Error::StripeUnreachable(_))
    }
}

impl From<Error> for HttpError {
    fn from(error: Error) -> HttpError {
        use ErrorStatusCode as S;
        match error {
            Error::BadRequest(m) => HttpError::from_status(S::BAD_REQUEST, m),
            Error::Unauthenticated => HttpError::from_status(S::UNAUTHORIZED, "Authentication failed"),
            Error::Forbidden(m) => HttpError::from_status(S::FORBIDDEN, m),
            Error::NotFound(m) => HttpError::from_status(S::NOT_FOUND, m),
            Error::Conflict(m) => HttpError::from_status(S::CONFLICT, m),
            Error::Invalid(items) => HttpError::validation(items),
            Error::UpgradeRequired(m) => HttpError::from_status(S::UPGRADE_REQUIRED, m),
            // The causes of 5xx go to the request log (dropshot logs the error's `Display`, which
            // shows `internal_message`), on the same line as the request id; never to the client.
            Error::Stripe(cause) => {
                HttpError::from_status(S::BAD_GATEWAY, "The payment provider answered with an error")
                    .with_internal_message(format!("stripe: {cause}"))
            }
            Error::StripeUnreachable(cause) => {
                HttpError::from_status(S::BAD_GATEWAY, "The payment provider could not be reached")
                    .with_internal_message(format!("stripe unreachable: {cause}"))
            }
            Error::StripeTimeout => {
                HttpError::from_status(S::GATEWAY_TIMEOUT, "The payment provider did not answer in time")
                    .with_internal_message("stripe did not answer within the deadline")
            }
            Error::Store(cause) => HttpError::from_status(S::INTERNAL_SERVER_ERROR, "Internal server error")
                .with_internal_message(cause.to_string()),
            Error::Internal(cause) => {
                HttpError::from_status(S::INTERNAL_SERVER_ERROR, "Internal server error").with_internal_message(cause)
            }
        }
    }
}
