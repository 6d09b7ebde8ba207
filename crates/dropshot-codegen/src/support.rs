//! The generated `support` module: what is specific to one document beside the runtime crate it
//! re-exports (`dropshot-codegen-runtime`: the error type, `Credentials`, the validating
//! extractors). That is one marker type per set of accepted security schemes, the document's
//! schemas as JSON Schema for validation, and the `Schema` implementation of each body and
//! parameter struct; plus the starting point of a hand-written error conversion.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use crate::model::{ErrorType, Operation, Scheme, SchemeKind};
use crate::names;
use crate::schema::resolve;
use crate::types::TypeBuilder;

/// The name of the marker type for a set of accepted schemes: `BearerAuthOrApiKeyAuthSchemes`.
pub(crate) fn accepted_schemes_name(schemes: &[Scheme]) -> String {
    let names: Vec<String> = schemes.iter().map(|s| names::type_name(&s.name)).collect();
    format!("{}Schemes", names.join("Or"))
}

/// One marker type per set of schemes the operations accept, for the runtime's `Credentials`.
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
    Some(quote!(#(#markers)*))
}

/// A starting point for the hand-written `FromHttpError` implementation a spec with its own error
/// schema needs: it fills each required property of the body from dropshot's error (integers
/// with the status, strings with the message, enums with their first value). Written once, then
/// the crate's owner makes it say what their API means.
pub(crate) fn error_conversion_scaffold(error: &ErrorType, spec: &Value, types: &TypeBuilder) -> Option<String> {
    let ErrorType::Custom { payload, schema } = error else { return None };
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
    let payload = types.typify_type(payload).to_string().replace(' ', "");
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

/// A schema a request value must meet, ready to be emitted and checked.
pub(crate) struct ValidationSchema {
    /// The type that carries it (a parameter struct, a body type or a marker).
    pub(crate) ty: TokenStream,
    /// A marker type to declare first, for a body whose type is not this module's.
    pub(crate) marker: Option<(proc_macro2::Ident, String)>,
    /// The JSON Schema 2020-12, as JSON text.
    pub(crate) json: String,
    /// Where it comes from, for error messages: `<operationId> <location>`.
    pub(crate) label: String,
}

/// The validation schema of every parameter location and JSON body of the operations.
pub(crate) fn validation_schemas(operations: &[Operation], types: &TypeBuilder) -> Vec<ValidationSchema> {
    use crate::model::{BodyKind, params_schema};
    use crate::schema::to_validation_schema;
    let mut out: Vec<ValidationSchema> = Vec::new();
    for op in operations {
        let locations = [
            ("path", &op.resolved.path, &op.path_params),
            ("query", &op.resolved.query, &op.query_params),
            ("header", &op.resolved.header, &op.header_params),
        ];
        for (location, ty, params) in locations {
            if let Some(ty) = ty {
                out.push(ValidationSchema {
                    ty: types.typify_type(ty),
                    marker: None,
                    json: to_validation_schema(&params_schema(params)).to_string(),
                    label: format!("{} {location}", op.operation_id),
                });
            }
        }
        let (Some(body), Some(ty)) = (&op.body, &op.resolved.body) else { continue };
        if body.kind != BodyKind::Json {
            continue;
        }
        let ty = types.typify_type(ty);
        let json = to_validation_schema(&body.schema).to_string();
        let label = format!("{} body", op.operation_id);
        if op.resolved.body_is_local {
            // A type of the spec used as the body of several operations carries one schema.
            if !out.iter().any(|s| s.marker.is_none() && s.ty.to_string() == ty.to_string()) {
                out.push(ValidationSchema { ty, marker: None, json, label });
            }
        } else if let Some(marker) = &op.resolved.body_schema_marker {
            let ident = format_ident!("{marker}");
            let doc = format!("The schema of the body of `{}`, whose type is not one of this module's.", op.fn_name);
            out.push(ValidationSchema { ty: quote!(#ident), marker: Some((ident, doc)), json, label });
        }
    }
    out
}

/// The document's schemas for validation (for the `support` module), and each value's `Schema`
/// implementation (beside the types).
pub(crate) fn emit_schemas(spec: &Value, schemas: &[ValidationSchema]) -> (TokenStream, TokenStream) {
    let definitions = crate::schema::validation_definitions(spec).to_string();
    let impls = schemas.iter().map(|schema| {
        let ty = &schema.ty;
        let json = &schema.json;
        let marker = schema.marker.as_ref().map(|(ident, doc)| {
            quote! {
                #[doc = #doc]
                pub struct #ident;
            }
        });
        quote! {
            #marker
            impl support::Schema for #ty {
                fn validator() -> &'static support::SchemaValidator {
                    static VALIDATOR: std::sync::OnceLock<support::SchemaValidator> = std::sync::OnceLock::new();
                    VALIDATOR.get_or_init(|| support::SchemaValidator::new(support::SCHEMA_DEFINITIONS, #json))
                }
            }
        }
    });
    let definitions = quote! {
        /// The document's named schemas as JSON Schema 2020-12 (`#/$defs/<name>` in the schemas
        /// requests are validated against).
        pub const SCHEMA_DEFINITIONS: &str = #definitions;
    };
    (definitions, quote!(#(#impls)*))
}
