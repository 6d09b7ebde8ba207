//! A JSON request body read like dropshot's `TypedBody` (same content type, size limit and
//! document), but checked against the spec's schema before it is turned into `T`, so every
//! problem is reported at once and every constraint the spec states is enforced. The schema
//! comes from `S`: `T` itself when it is a type of the spec, or a marker the generator writes.

use serde::de::DeserializeOwned;

use super::rejection::{check, rejection, serde_location};
use super::validator::Schema;
use super::violation::Violation;

/// A JSON request body `T`, checked against the schema of `S`.
#[derive(Debug)]
pub struct JsonBody<T, S = T>(pub T, std::marker::PhantomData<S>);

impl<T, S> JsonBody<T, S> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned, S: Schema> JsonBody<T, S> {
    /// Checks a JSON value against the schema, then reads it as `T`.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, dropshot::HttpError> {
        check(S::validator(), "body", value)?;
        // What the schema allows but the type cannot hold (a number too large for it).
        serde_path_to_error::deserialize::<_, T>(value)
            .map(|body| JsonBody(body, std::marker::PhantomData))
            .map_err(|e| rejection(&[Violation::from_serde(serde_location("body", e.path()), &e.inner().to_string())]))
    }
}

#[async_trait::async_trait]
impl<T, S> dropshot::ExclusiveExtractor for JsonBody<T, S>
where
    T: DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static,
    S: Schema + Send + Sync + 'static,
{
    async fn from_request<Context: dropshot::ServerContext>(
        rqctx: &dropshot::RequestContext<Context>,
        request: http::Request<dropshot::Body>,
    ) -> Result<Self, dropshot::HttpError> {
        // Read as dropshot reads any JSON body: what is not JSON at all fails here, as a 400.
        let value =
            <dropshot::TypedBody<serde_json::Value> as dropshot::ExclusiveExtractor>::from_request(rqctx, request)
                .await?
                .into_inner();
        Self::from_value(&value)
    }

    fn metadata(content_type: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
        <dropshot::TypedBody<T> as dropshot::ExclusiveExtractor>::metadata(content_type)
    }
}

#[cfg(test)]
mod tests {
    use super::super::rejection::violations_of;
    use super::super::validator::SchemaValidator;
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Order {
        quantity: u8,
    }

    impl Schema for Order {
        fn validator() -> &'static SchemaValidator {
            static VALIDATOR: std::sync::OnceLock<SchemaValidator> = std::sync::OnceLock::new();
            VALIDATOR.get_or_init(|| {
                SchemaValidator::new(
                    "{}",
                    r#"{"type": "object", "properties": {"quantity": {"type": "integer", "minimum": 1}},
                        "required": ["quantity"]}"#,
                )
            })
        }
    }

    fn kinds(value: serde_json::Value) -> Vec<String> {
        let error = JsonBody::<Order>::from_value(&value).expect_err("refused");
        violations_of(&error).expect("violations").into_iter().map(|v| v.kind).collect()
    }

    #[test]
    fn the_schema_is_checked_before_the_type() {
        assert_eq!(
            JsonBody::<Order>::from_value(&serde_json::json!({"quantity": 3})).unwrap().into_inner().quantity,
            3
        );
        assert_eq!(kinds(serde_json::json!({"quantity": 0})), ["range"]);
        assert_eq!(kinds(serde_json::json!({})), ["missing"]);
    }

    #[test]
    fn what_the_schema_allows_but_the_type_cannot_hold_is_still_refused() {
        assert_eq!(kinds(serde_json::json!({"quantity": 300})), ["value_error"]);
    }
}
