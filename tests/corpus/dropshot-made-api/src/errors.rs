//! Hand-written, as every crate whose spec has its own error body writes it: how dropshot's own
//! failures (a body that does not parse, a bad parameter) become those bodies.

use crate::gateway::SpComponentResetError;
use crate::gateway::support::{ApiError, FromHttpError};

impl FromHttpError for SpComponentResetError {
    fn from_http_error(error: dropshot::HttpError) -> ApiError<Self> {
        let body = SpComponentResetError::Other {
            error_code: error.error_code.clone(),
            message: error.external_message.clone(),
        };
        ApiError::new(error.status_code, body)
    }
}
