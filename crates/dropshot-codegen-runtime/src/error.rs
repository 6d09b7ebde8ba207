//! The spec's error body as dropshot's error type: [`ApiError`] carries a status, the body the
//! client gets, and a cause for the server's log only; [`FromHttpError`] is how failures that
//! dropshot itself detects become that body (each API writes it by hand).

/// How a failure that dropshot itself detects (a body that does not parse, a bad parameter, a
/// schema violation) becomes the spec's error body. Implement it beside the generated module.
pub trait FromHttpError: Sized {
    /// The error, in this API's body.
    fn from_http_error(error: dropshot::HttpError) -> ApiError<Self>;
}

/// An error of the API: an HTTP status and the spec's error body, and for the server's log only,
/// what caused it (never sent: dropshot logs an error's `Display`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError<T> {
    /// The response's status.
    pub status: dropshot::ErrorStatusCode,
    /// What the client gets.
    pub body: T,
    /// Why, for the log.
    pub internal_message: Option<String>,
}

impl<T> ApiError<T> {
    /// An error with this status and body.
    pub fn new(status: dropshot::ErrorStatusCode, body: T) -> Self {
        Self { status, body, internal_message: None }
    }

    /// The same error, with its cause for the log.
    pub fn with_internal_message(mut self, message: impl Into<String>) -> Self {
        self.internal_message = Some(message.into());
        self
    }
}

impl<T: FromHttpError> From<dropshot::HttpError> for ApiError<T> {
    fn from(error: dropshot::HttpError) -> Self {
        T::from_http_error(error)
    }
}

impl<T: std::fmt::Debug> std::fmt::Display for ApiError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.internal_message {
            Some(message) => write!(f, "{}: {message}", self.status),
            None => write!(f, "{}: {:?}", self.status, self.body),
        }
    }
}

// The body alone goes on the wire, and the schema is the body's.
impl<T: serde::Serialize> serde::Serialize for ApiError<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for ApiError<T> {
    fn schema_name() -> String {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        T::json_schema(generator)
    }

    fn is_referenceable() -> bool {
        T::is_referenceable()
    }
}

impl<T> dropshot::HttpResponseError for ApiError<T>
where
    T: FromHttpError + serde::Serialize + schemars::JsonSchema + std::fmt::Debug + Send + Sync + 'static,
{
    fn status_code(&self) -> dropshot::ErrorStatusCode {
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Serialize, schemars::JsonSchema)]
    struct Body {
        detail: String,
    }

    #[test]
    fn the_cause_stays_in_the_log() {
        let error = ApiError::new(dropshot::ErrorStatusCode::INTERNAL_SERVER_ERROR, Body { detail: "oops".into() })
            .with_internal_message("database gone");
        assert_eq!(serde_json::to_value(&error).unwrap(), serde_json::json!({"detail": "oops"}));
        assert!(error.to_string().contains("database gone"));
    }

    /// The document describes an error by its body's schema, under the body's own name: a
    /// named body is referred to, an unnamed one (a plain string) is written in place.
    #[test]
    fn the_schema_is_the_bodys() {
        let mut generator = schemars::r#gen::SchemaGenerator::default();
        let named = serde_json::to_value(generator.subschema_for::<ApiError<Body>>()).unwrap();
        assert_eq!(named, serde_json::json!({"$ref": "#/definitions/Body"}));
        let definitions = serde_json::to_value(generator.definitions()).unwrap();
        assert_eq!(definitions["Body"]["properties"]["detail"]["type"], "string");
        let inline = serde_json::to_value(generator.subschema_for::<ApiError<String>>()).unwrap();
        assert_eq!(inline, serde_json::json!({"type": "string"}));
        assert!(generator.definitions().get("String").is_none());
    }
}
