//! The generated `support` module: what the trait needs that dropshot does not provide. The
//! spec's error body as dropshot's error type, the security schemes as a credentials extractor,
//! query parameters with arrays and named errors, and JSON bodies whose every schema violation is
//! reported; plus the starting point of a hand-written error conversion.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use crate::names;
use crate::operations::{ErrorType, Operation, Scheme, SchemeKind};
use crate::schema::resolve;

pub(crate) fn emit_error_support() -> TokenStream {
    quote! {
        /// How a failure that dropshot itself detects (a body that does not parse, a bad parameter)
        /// becomes the spec's error body. Implement it beside this generated module.
        pub trait FromHttpError: Sized {
            fn from_http_error(error: dropshot::HttpError) -> ApiError<Self>;
        }

        /// An error of the API: an HTTP status and the spec's error body, and for the server's
        /// log only, what caused it (never sent: dropshot logs an error's `Display`).
        #[derive(Debug, Clone, PartialEq)]
        pub struct ApiError<T> {
            pub status: dropshot::ErrorStatusCode,
            pub body: T,
            pub internal_message: Option<String>,
        }

        impl<T> ApiError<T> {
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
    }
}

/// The name of the marker type for a set of accepted schemes: `BearerAuthOrApiKeyAuthSchemes`.
pub(crate) fn accepted_schemes_name(schemes: &[Scheme]) -> String {
    let names: Vec<String> = schemes.iter().map(|s| names::type_name(&s.name)).collect();
    format!("{}Schemes", names.join("Or"))
}

/// The `Credentials` extractor, and one marker type per set of schemes the operations accept.
pub(crate) fn emit_credentials(operations: &[Operation]) -> Option<TokenStream> {
    let mut sets: Vec<&Vec<Scheme>> = operations.iter().map(|op| &op.security).filter(|s| !s.is_empty()).collect();
    sets.sort();
    sets.dedup();
    if sets.is_empty() {
        return None;
    }
    let markers = sets.iter().map(|set| {
        let ident = format_ident!("{}", accepted_schemes_name(set));
        let doc = format!(
            "Credentials from one of the schemes {}.",
            set.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
        );
        let schemes = set.iter().map(|s| {
            let name = &s.name;
            match &s.kind {
                SchemeKind::Bearer => quote!(Scheme::Bearer { name: #name }),
                SchemeKind::Basic => quote!(Scheme::Basic { name: #name }),
                SchemeKind::ApiKeyHeader(header) => quote!(Scheme::ApiKeyHeader { name: #name, header: #header }),
            }
        });
        quote! {
            #[doc = #doc]
            pub struct #ident;

            impl AcceptedSchemes for #ident {
                const SCHEMES: &'static [Scheme] = &[#(#schemes),*];
            }
        }
    });
    Some(quote! {
        /// A security scheme of the document, as the `Credentials` extractor reads it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Scheme {
            /// `Authorization: Bearer <value>`.
            Bearer { name: &'static str },
            /// `Authorization: Basic <value>` (the value still encoded).
            Basic { name: &'static str },
            /// `<header>: <value>`.
            ApiKeyHeader { name: &'static str, header: &'static str },
        }

        /// The schemes an operation accepts, in the order they are tried.
        pub trait AcceptedSchemes: Send + Sync + 'static {
            const SCHEMES: &'static [Scheme];
        }

        /// The credentials a request presents, in one of the schemes `S` accepts. Requests without
        /// any, or with a malformed one, are refused with 401 before the handler runs (and before
        /// the body is read); whether the credentials are valid is the handler's to decide.
        pub struct Credentials<S> {
            /// The name of the scheme they came in (as in `components/securitySchemes`).
            pub scheme: &'static str,
            /// The secret itself: never log it.
            pub value: String,
            accepted: std::marker::PhantomData<S>,
        }

        impl<S> std::fmt::Debug for Credentials<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "Credentials {{ scheme: {:?}, value: <redacted> }}", self.scheme)
            }
        }

        impl<S: AcceptedSchemes> Credentials<S> {
            /// The credentials in `headers`, in the first of the accepted schemes they come in.
            /// Anything in front of the server that counts requests by credentials (a rate
            /// limiter) should find them with this, to count what the server will use.
            pub fn find(headers: &http::HeaderMap) -> Option<Self> {
                let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
                let authorization = |expected: &str| {
                    let (kind, value) = text("authorization")?.split_once(' ')?;
                    let value = value.trim();
                    (kind.eq_ignore_ascii_case(expected) && !value.is_empty()).then(|| value.to_string())
                };
                S::SCHEMES.iter().find_map(|scheme| {
                    let (name, value) = match *scheme {
                        Scheme::Bearer { name } => (name, authorization("bearer")?),
                        Scheme::Basic { name } => (name, authorization("basic")?),
                        Scheme::ApiKeyHeader { name, header } => {
                            (name, text(header).filter(|v| !v.is_empty())?.to_string())
                        }
                    };
                    Some(Credentials { scheme: name, value, accepted: std::marker::PhantomData })
                })
            }
        }

        #[async_trait::async_trait]
        impl<S: AcceptedSchemes> dropshot::SharedExtractor for Credentials<S> {
            async fn from_request<Context: dropshot::ServerContext>(
                rqctx: &dropshot::RequestContext<Context>,
            ) -> Result<Self, dropshot::HttpError> {
                Self::find(rqctx.request.headers()).ok_or_else(|| {
                    dropshot::HttpError::for_client_error(
                        None,
                        dropshot::ClientErrorStatusCode::UNAUTHORIZED,
                        "missing or malformed credentials".to_string(),
                    )
                })
            }

            fn metadata(_: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
                // Security is not a parameter; dropshot cannot express it in the document.
                dropshot::ExtractorMetadata { extension_mode: dropshot::ExtensionMode::None, parameters: Vec::new() }
            }
        }

        #(#markers)*
    })
}

/// The `JsonBody` extractor: a JSON body like `dropshot::TypedBody`, but one that breaks the
/// schema is reported with every problem at once.
pub(crate) fn emit_json_body() -> TokenStream {
    quote! {
        /// A JSON request body `T`, read like `dropshot::TypedBody` (same content type, size
        /// limit, and description in the document). When the JSON is well formed but does not fit
        /// `T`, every problem is reported at once rather than the first serde meets: the error's
        /// message is `request body breaks the schema: ` followed by a JSON list of
        /// `{"loc": [...], "msg": "...", "type": "..."}`.
        #[derive(Debug)]
        pub struct JsonBody<T>(pub T);

        impl<T> JsonBody<T> {
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        /// The prefix of the message of a `JsonBody` that breaks its schema.
        pub const SCHEMA_VIOLATIONS: &str = "request body breaks the schema: ";

        #[async_trait::async_trait]
        impl<T> dropshot::ExclusiveExtractor for JsonBody<T>
        where
            T: serde::de::DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static,
        {
            async fn from_request<Context: dropshot::ServerContext>(
                rqctx: &dropshot::RequestContext<Context>,
                request: http::Request<dropshot::Body>,
            ) -> Result<Self, dropshot::HttpError> {
                let value = <dropshot::TypedBody<serde_json::Value> as dropshot::ExclusiveExtractor>::from_request(
                    rqctx, request,
                )
                .await?
                .into_inner();
                let first = match serde_path_to_error::deserialize::<_, T>(&value) {
                    Ok(body) => return Ok(JsonBody(body)),
                    Err(e) => e,
                };
                let root = schemars::r#gen::SchemaGenerator::new(schemars::r#gen::SchemaSettings::openapi3())
                    .into_root_schema_for::<T>();
                let mut problems = Vec::new();
                check(&root.schema, &root.definitions, &value, &mut Vec::new(), &mut problems);
                if problems.is_empty() {
                    // What the schema allows but the type does not (a number too large for it).
                    let loc: Vec<serde_json::Value> =
                        first.path().iter().map(|s| serde_json::Value::String(s.to_string())).collect();
                    problems.push(serde_json::json!({"loc": loc, "msg": first.inner().to_string(), "type": "value_error"}));
                }
                Err(dropshot::HttpError::for_bad_request(
                    None,
                    format!("{SCHEMA_VIOLATIONS}{}", serde_json::Value::Array(problems)),
                ))
            }

            fn metadata(content_type: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
                <dropshot::TypedBody<T> as dropshot::ExclusiveExtractor>::metadata(content_type)
            }
        }

        fn push_problem(problems: &mut Vec<serde_json::Value>, loc: &[serde_json::Value], kind: &str, msg: String) {
            problems.push(serde_json::json!({"loc": loc, "msg": msg, "type": kind}));
        }

        /// A value as quoted in a message: cut short, so that a large body is not echoed back.
        fn quote(value: &serde_json::Value) -> String {
            let text = value.to_string();
            match text.char_indices().nth(60) {
                Some((end, _)) => format!("{}...", &text[..end]),
                None => text,
            }
        }

        /// Appends to `problems` every way `value` (at `loc`) breaks `schema`.
        fn check(
            schema: &schemars::schema::SchemaObject,
            definitions: &schemars::Map<String, schemars::schema::Schema>,
            value: &serde_json::Value,
            loc: &mut Vec<serde_json::Value>,
            problems: &mut Vec<serde_json::Value>,
        ) {
            use schemars::schema::{InstanceType, Schema, SingleOrVec};
            use serde_json::Value;
            if let Some(reference) = &schema.reference {
                let name = reference.rsplit('/').next().unwrap_or_default();
                if let Some(Schema::Object(target)) = definitions.get(name) {
                    check(target, definitions, value, loc, problems);
                }
                return;
            }
            let nullable = schema.extensions.get("nullable") == Some(&Value::Bool(true));
            if value.is_null() && nullable {
                return;
            }
            if let Some(types) = &schema.instance_type {
                let allowed: Vec<&InstanceType> = match types {
                    SingleOrVec::Single(t) => vec![t.as_ref()],
                    SingleOrVec::Vec(ts) => ts.iter().collect(),
                };
                let fits = |t: &InstanceType| match t {
                    InstanceType::Null => value.is_null(),
                    InstanceType::Boolean => value.is_boolean(),
                    InstanceType::Object => value.is_object(),
                    InstanceType::Array => value.is_array(),
                    InstanceType::Number => value.is_number(),
                    InstanceType::String => value.is_string(),
                    InstanceType::Integer => value.is_i64() || value.is_u64(),
                };
                if !allowed.iter().any(|t| fits(t)) {
                    let expected: Vec<String> = allowed.iter().map(|t| format!("{t:?}").to_lowercase()).collect();
                    push_problem(problems, loc, "type_error", format!("expected {}, got {}", expected.join(" or "), quote(value)));
                    return;
                }
            }
            if let Some(values) = &schema.enum_values {
                if !values.contains(value) {
                    push_problem(problems, loc, "enum", format!("{} is not one of {}", quote(value), Value::Array(values.clone())));
                }
            }
            if let (Some(number), Some(n)) = (&schema.number, value.as_f64()) {
                if number.minimum.is_some_and(|min| n < min) || number.maximum.is_some_and(|max| n > max) {
                    let bounds = match (number.minimum, number.maximum) {
                        (Some(min), Some(max)) => format!("between {min} and {max}"),
                        (Some(min), None) => format!("at least {min}"),
                        (None, Some(max)) => format!("at most {max}"),
                        (None, None) => String::new(),
                    };
                    push_problem(problems, loc, "range", format!("must be {bounds}, not {n}"));
                }
            }
            if let (Some(object), Some(map)) = (&schema.object, value.as_object()) {
                for name in &object.required {
                    if !map.contains_key(name) {
                        loc.push(Value::String(name.clone()));
                        push_problem(problems, loc, "missing", format!("missing field `{name}`"));
                        loc.pop();
                    }
                }
                for (name, field) in map {
                    loc.push(Value::String(name.clone()));
                    match (object.properties.get(name), object.additional_properties.as_deref()) {
                        (Some(Schema::Object(property)), _) => check(property, definitions, field, loc, problems),
                        (None, Some(Schema::Bool(false))) => push_problem(problems, loc, "extra_forbidden", format!("unknown field `{name}`")),
                        (None, Some(Schema::Object(extra))) => check(extra, definitions, field, loc, problems),
                        _ => {}
                    }
                    loc.pop();
                }
            }
            if let (Some(array), Some(items)) = (&schema.array, value.as_array()) {
                if let Some(SingleOrVec::Single(item_schema)) = &array.items {
                    if let Schema::Object(item_schema) = item_schema.as_ref() {
                        for (index, item) in items.iter().enumerate() {
                            loc.push(Value::from(index));
                            check(item_schema, definitions, item, loc, problems);
                            loc.pop();
                        }
                    }
                }
            }
            if let Some(subschemas) = &schema.subschemas {
                for part in subschemas.all_of.iter().flatten() {
                    if let Schema::Object(part) = part {
                        check(part, definitions, value, loc, problems);
                    }
                }
                let alternatives = subschemas.any_of.iter().chain(subschemas.one_of.iter()).flatten();
                let mut any = false;
                let mut fits_one = false;
                for alternative in alternatives {
                    any = true;
                    if let Schema::Object(alternative) = alternative {
                        let mut found = Vec::new();
                        check(alternative, definitions, value, &mut loc.clone(), &mut found);
                        fits_one |= found.is_empty();
                    }
                }
                if any && !fits_one {
                    push_problem(problems, loc, "value_error", format!("{} fits none of the allowed forms", quote(value)));
                }
            }
        }
    }
}

pub(crate) fn emit_query_params() -> TokenStream {
    quote! {
        /// Query parameters `T`, read where `dropshot::Query` falls short: a repeated key
        /// (`?t=a&t=b`) fills an array, and a value that does not parse is reported with the
        /// parameter's name. dropshot registers only scalar query parameters, so the parameters
        /// are declared as `D`: `T` itself, or `T` with each array given as its items.
        #[derive(Debug)]
        pub struct QueryParams<T, D>(pub T, std::marker::PhantomData<D>);

        impl<T, D> QueryParams<T, D> {
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        #[async_trait::async_trait]
        impl<T, D> dropshot::SharedExtractor for QueryParams<T, D>
        where
            T: serde::de::DeserializeOwned + Send + Sync + 'static,
            D: serde::de::DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static,
        {
            async fn from_request<Context: dropshot::ServerContext>(
                rqctx: &dropshot::RequestContext<Context>,
            ) -> Result<Self, dropshot::HttpError> {
                let query = rqctx.request.uri().query().unwrap_or("");
                let deserializer = serde_html_form::Deserializer::from_bytes(query.as_bytes());
                // With the parameter's name: "unable to parse query string: limit: invalid digit".
                serde_path_to_error::deserialize(deserializer).map(|q| QueryParams(q, std::marker::PhantomData)).map_err(
                    |e| dropshot::HttpError::for_bad_request(None, format!("unable to parse query string: {e}")),
                )
            }

            fn metadata(content_type: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
                <dropshot::Query<D> as dropshot::SharedExtractor>::metadata(content_type)
            }
        }
    }
}

/// A starting point for the hand-written `FromHttpError` implementation a spec with its own error
/// schema needs: it fills each required property of the body from dropshot's error (integers
/// with the status, strings with the message, enums with their first value). Written once, then
/// the crate's owner makes it say what their API means.
pub(crate) fn error_conversion_scaffold(error: &ErrorType, spec: &Value) -> Option<String> {
    let (payload, schema) = error.payload.as_ref()?;
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut fields = Vec::new();
    for name in required {
        let property =
            schema.get("properties").and_then(|p| p.get(name)).map(|p| resolve(spec, p)).cloned().unwrap_or(json!({}));
        let value = match (property.get("type").and_then(Value::as_str), property.get("enum").and_then(Value::as_array))
        {
            (_, Some(values)) if !values.is_empty() => values[0].to_string(),
            (Some("integer" | "number"), _) => "status".to_string(),
            (Some("string"), _) => "message".to_string(),
            (Some("boolean"), _) => "false".to_string(),
            (Some("array"), _) => "[]".to_string(),
            _ => "{}".to_string(),
        };
        fields.push(format!("            {name:?}: {value},"));
    }
    let payload = payload.to_string().replace(' ', "");
    Some(format!(
        "//! How dropshot's own failures (a body that does not parse, a bad parameter) become this API's
//! error body. Written once by `cargo xtask generate-api` as a starting point: make it say what
//! your API means.

use crate::generated::support::{{ApiError, FromHttpError}};
use crate::generated::{payload};

impl FromHttpError for {payload} {{
    fn from_http_error(error: dropshot::HttpError) -> ApiError<Self> {{
        let status = error.status_code.as_u16();
        let message = error.external_message.clone();
        let body = serde_json::json!({{
{fields}
        }});
        let body = serde_json::from_value(body).expect(\"every required property is filled\");
        ApiError::new(error.status_code, body)
    }}
}}
",
        fields = fields.join("\n")
    ))
}
