//! Writing the API trait, the response types that carry the spec's statuses and descriptions,
//! and the constants that record what dropshot cannot say (title, version, security, error
//! response headers, what was left out).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::model::{BodyKind, ErrorType, Location, Operation, Recorded, Success, SuccessBody, status_const};
use crate::names;
use crate::support;
use crate::types::TypeBuilder;
use crate::unsupported::Unsupported;

/// Constants about the document: its title and version, what was left out, and what dropshot
/// cannot declare.
pub(crate) fn info_constants(spec: &Value, skipped: &[Unsupported], recorded: &Recorded) -> TokenStream {
    let title = spec.pointer("/info/title").and_then(Value::as_str).unwrap_or_default();
    let version = spec.pointer("/info/version").and_then(Value::as_str).unwrap_or_default();
    let skipped = skipped.iter().map(|u| {
        let (pointer, construct) = (&u.pointer, &u.construct);
        quote!((#pointer, #construct))
    });
    let security = recorded.security.to_string();
    let error_headers = recorded.error_headers.to_string();
    let links = recorded.links.to_string();
    let info = spec.get("info").map_or_else(|| "{}".to_string(), Value::to_string);
    quote! {
        /// The `info.title` of the OpenAPI document this module was generated from.
        pub const API_TITLE: &str = #title;
        /// The `info.version` of the OpenAPI document this module was generated from.
        pub const API_VERSION: &str = #version;
        /// The `info` of the OpenAPI document this module was generated from, as JSON: its
        /// description, contact, license and terms of service are the server's to declare
        /// (dropshot's `OpenApiDefinition` takes them), not the trait's.
        pub const API_INFO_JSON: &str = #info;
        /// Constructs of the document left out because dropshot cannot express them:
        /// (JSON pointer, what it is).
        pub const SKIPPED: &[(&str, &str)] = &[#(#skipped),*];
        /// The headers of error responses, which dropshot cannot declare, as JSON:
        /// `{"<operationId>": {"<status>": {"<header>": <header object>}}}`, for a served document
        /// to declare them again.
        pub const ERROR_RESPONSE_HEADERS_JSON: &str = #error_headers;
        /// The links of responses, which dropshot cannot declare, as JSON:
        /// `{"<operationId>": {"<status>": {"<link name>": <link object>}}}`, for a served
        /// document to declare them again.
        pub const RESPONSE_LINKS_JSON: &str = #links;
        /// The document's security, which dropshot cannot express, as JSON:
        /// `{"securitySchemes": {..}, "operations": {"<operationId>": [<requirement>..]}}`, each
        /// operation with the requirements in force for it (its own, or the document's).
        pub const SECURITY_JSON: &str = #security;
    }
}

/// The `support` module, the schemas' implementations, the response types and the trait.
pub(crate) fn emit(
    operations: &[Operation],
    types: &TypeBuilder,
    trait_name: &str,
    runtime: &TokenStream,
    schemas: (TokenStream, TokenStream),
) -> TokenStream {
    let trait_ident = format_ident!("{trait_name}");
    let responses = operations.iter().map(|op| emit_response(op, types));
    let methods = operations.iter().map(|op| emit_method(op, types));
    let credentials = support::emit_credentials(operations);
    let (definitions, schema_impls) = schemas;
    let trait_doc = format!(
        "The API of the document: implement it, then serve `{}_mod::api_description::<YourImpl>()`.",
        names::snake_name(trait_name)
    );
    quote! {
        /// What the generated trait needs beyond the spec's types: the runtime crate, and what
        /// is specific to this document. A module of its own, so that no schema name can
        /// collide with it.
        pub mod support {
            pub use #runtime::*;
            #credentials
            #definitions
        }
        #schema_impls
        #(#responses)*

        #[doc = #trait_doc]
        #[dropshot::api_description]
        pub trait #trait_ident {
            /// State shared by the handlers.
            type Context: Send + Sync + 'static;
            #(#methods)*
        }
    }
}

fn response_ident(op: &Operation) -> proc_macro2::Ident {
    format_ident!("{}", op.resolved.response_name)
}

fn emit_response(op: &Operation, types: &TypeBuilder) -> TokenStream {
    let Success::Coded { status, description, body, .. } = &op.success else { return quote!() };
    let ident = response_ident(op);
    let status_const = format_ident!("{}", status_const(*status).expect("checked when read"));
    let doc = format!("The {status} response of `{}`: {description}", op.fn_name);
    let body = match (body, &op.resolved.success) {
        (SuccessBody::Json(_), Some(ty)) => Some(types.typify_type(ty)),
        (SuccessBody::Freeform, _) => Some(quote!(dropshot::FreeformBody)),
        _ => None,
    };
    match body {
        Some(body) => quote! {
            #[doc = #doc]
            pub struct #ident(pub #body);

            impl dropshot::HttpCodedResponse for #ident {
                type Body = #body;
                const STATUS_CODE: http::StatusCode = http::StatusCode::#status_const;
                const DESCRIPTION: &'static str = #description;
            }

            impl From<#ident> for Result<http::Response<dropshot::Body>, dropshot::HttpError> {
                fn from(response: #ident) -> Self {
                    <#ident as dropshot::HttpCodedResponse>::for_object(response.0)
                }
            }
        },
        None => quote! {
            #[doc = #doc]
            pub struct #ident;

            impl dropshot::HttpCodedResponse for #ident {
                type Body = <dropshot::HttpResponseUpdatedNoContent as dropshot::HttpCodedResponse>::Body;
                const STATUS_CODE: http::StatusCode = http::StatusCode::#status_const;
                const DESCRIPTION: &'static str = #description;
            }

            impl From<#ident> for Result<http::Response<dropshot::Body>, dropshot::HttpError> {
                fn from(_: #ident) -> Self {
                    http::Response::builder()
                        .status(<#ident as dropshot::HttpCodedResponse>::STATUS_CODE)
                        .body(dropshot::Body::empty())
                        .map_err(|e| dropshot::HttpError::for_internal_error(e.to_string()))
                }
            }
        },
    }
}

fn emit_method(op: &Operation, types: &TypeBuilder) -> TokenStream {
    let fn_ident = format_ident!("{}", op.fn_name);
    let method = format_ident!("{}", op.method);
    let path = &op.path;
    let mut meta = vec![quote!(method = #method), quote!(path = #path)];
    if op.operation_id != op.fn_name {
        let id = &op.operation_id;
        meta.push(quote!(operation_id = #id));
    }
    if !op.tags.is_empty() {
        let tags = &op.tags;
        meta.push(quote!(tags = [#(#tags),*]));
    }
    if op.deprecated {
        meta.push(quote!(deprecated = true));
    }
    if let Some(content_type) = op.body.as_ref().and_then(|b| b.kind.content_type()) {
        meta.push(quote!(content_type = #content_type));
    }
    let channel = matches!(op.success, Success::Channel);
    if channel {
        // A channel is always a GET.
        meta[0] = quote!(protocol = WEBSOCKETS);
    }

    let mut taken = vec!["rqctx".to_string()];
    let mut args = Vec::new();
    let mut push = |base: &str, ty: TokenStream| {
        let name = format_ident!("{}", names::unique(base, &mut taken));
        args.push(quote!(#name: #ty));
    };
    // First, so that a request without credentials is refused before its body is read.
    if !op.security.is_empty() {
        let accepted = format_ident!("{}", support::accepted_schemes_name(&op.security));
        push("credentials", quote!(support::Credentials<support::#accepted>));
    }
    // Every location with a parameter struct, in the document's order (see `Operation::locations`).
    let mut locations = op.locations.clone();
    for location in [Location::Path, Location::Query, Location::Header] {
        if !locations.contains(&location) {
            locations.push(location);
        }
    }
    for location in locations {
        match location {
            Location::Path => {
                if let Some(ty) = &op.resolved.path {
                    let ty = types.typify_type(ty);
                    push("path", quote!(support::PathParams<#ty>));
                }
            }
            Location::Query => {
                if let Some(ty) = &op.resolved.query {
                    let ty = types.typify_type(ty);
                    let declared =
                        op.resolved.query_declared.as_ref().map_or_else(|| ty.clone(), |d| types.declared_query(d));
                    push("query", quote!(support::QueryParams<#ty, #declared>));
                }
            }
            Location::Header => {
                if let Some(ty) = &op.resolved.header {
                    let ty = types.typify_type(ty);
                    push("headers", quote!(support::HeaderParams<#ty>));
                }
            }
        }
    }
    if let Some(body) = &op.body {
        match (body.kind, op.resolved.body.as_ref().map(|ty| types.typify_type(ty))) {
            (BodyKind::Bytes, _) => push("body", quote!(dropshot::UntypedBody)),
            (BodyKind::Multipart, _) => push("body", quote!(dropshot::MultipartBody)),
            (BodyKind::Json, Some(ty)) => match &op.resolved.body_schema_marker {
                Some(marker) => {
                    let marker = format_ident!("{marker}");
                    push("body", quote!(support::JsonBody<#ty, #marker>))
                }
                None => push("body", quote!(support::JsonBody<#ty>)),
            },
            (_, Some(ty)) => push("body", quote!(dropshot::TypedBody<#ty>)),
            (_, None) => {}
        }
    }
    let docs = operation_docs(op);
    if channel {
        push("connection", quote!(dropshot::WebsocketConnection));
        return quote! {
            #(#[doc = #docs])*
            #[channel { #(#meta),* }]
            async fn #fn_ident(
                rqctx: dropshot::RequestContext<Self::Context>,
                #(#args),*
            ) -> dropshot::WebsocketChannelResult;
        };
    }
    let ok = match &op.success {
        Success::Coded { .. } => {
            let ident = response_ident(op);
            match &op.resolved.success_headers {
                Some(headers) => {
                    let headers = types.typify_type(headers);
                    quote!(dropshot::HttpResponseHeaders<#ident, #headers>)
                }
                None => quote!(#ident),
            }
        }
        Success::Freeform | Success::Channel => quote!(http::Response<dropshot::Body>),
    };
    let err = match &op.resolved.error {
        Some(ErrorType::Custom { payload, .. }) => {
            let payload = types.typify_type(payload);
            quote!(support::ApiError<#payload>)
        }
        Some(ErrorType::Dropshot) | None => quote!(dropshot::HttpError),
    };
    quote! {
        #(#[doc = #docs])*
        #[endpoint { #(#meta),* }]
        async fn #fn_ident(
            rqctx: dropshot::RequestContext<Self::Context>,
            #(#args),*
        ) -> Result<#ok, #err>;
    }
}

/// dropshot reads an endpoint's first doc line as its summary and the rest as its description.
fn operation_docs(op: &Operation) -> Vec<String> {
    let mut lines = Vec::new();
    match (&op.summary, &op.description) {
        (Some(summary), description) => {
            lines.push(summary.clone());
            if let Some(description) = description {
                lines.push(String::new());
                lines.extend(description.lines().map(str::to_string));
            }
        }
        (None, Some(description)) => lines.extend(description.lines().map(str::to_string)),
        (None, None) => {}
    }
    lines.into_iter().map(|l| format!(" {l}")).collect()
}
