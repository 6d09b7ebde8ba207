//! How violations travel from an extractor to the API's error body. dropshot's extractors can
//! only fail with an `HttpError`, so the list rides in its message behind a fixed prefix, and
//! [`violations_of`] reads it back in the API's `FromHttpError`.

use serde::Serialize;

use super::validator::Schema;
use super::violation::{LocSegment, Violation};

/// The start of the message of an `HttpError` that carries violations (then a JSON list).
pub const VIOLATIONS_PREFIX: &str = "the request breaks the schema: ";

/// A 400 carrying `violations`; the API's `FromHttpError` turns it into its own answer (a 422).
pub fn rejection(violations: &[Violation]) -> dropshot::HttpError {
    let list = serde_json::to_string(violations).unwrap_or_else(|_| "[]".to_string());
    dropshot::HttpError::for_bad_request(None, format!("{VIOLATIONS_PREFIX}{list}"))
}

/// The violations an error carries, if it is a [`rejection`].
pub fn violations_of(error: &dropshot::HttpError) -> Option<Vec<Violation>> {
    let list = error.external_message.strip_prefix(VIOLATIONS_PREFIX)?;
    serde_json::from_str(list).ok()
}

/// Checks a value read from the request (a parameter struct, once parsed) against its schema.
/// Values are checked as they serialize, which for the generated types is as the spec names them.
pub fn validate<T: Schema + Serialize>(location: &str, value: &T) -> Result<(), dropshot::HttpError> {
    let json = serde_json::to_value(value)
        .map_err(|e| dropshot::HttpError::for_internal_error(format!("{location} does not serialize: {e}")))?;
    check(T::validator(), location, &json)
}

/// Checks a JSON value against a validator.
pub(super) fn check(
    validator: &super::validator::SchemaValidator,
    location: &str,
    value: &serde_json::Value,
) -> Result<(), dropshot::HttpError> {
    let violations = validator
        .violations(location, value)
        .map_err(|e| dropshot::HttpError::for_internal_error(format!("the {location} schema: {e}")))?;
    if violations.is_empty() { Ok(()) } else { Err(rejection(&violations)) }
}

/// The location of a serde error: the request part, then serde_path_to_error's path.
pub(super) fn serde_location(location: &str, path: &serde_path_to_error::Path) -> Vec<LocSegment> {
    let mut loc = vec![LocSegment::Name(location.to_string())];
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(LocSegment::Index(*index as u64)),
            serde_path_to_error::Segment::Map { key } => loc.push(LocSegment::Name(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => loc.push(LocSegment::Name(variant.clone())),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    loc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_survive_the_trip_through_an_http_error() {
        let sent = vec![Violation::new(vec![LocSegment::Name("query".into())], "range", "must be at most 100")];
        let error = rejection(&sent);
        assert_eq!(error.status_code.as_u16(), 400);
        assert_eq!(violations_of(&error), Some(sent));
        assert_eq!(violations_of(&dropshot::HttpError::for_bad_request(None, "other".into())), None);
    }
}
