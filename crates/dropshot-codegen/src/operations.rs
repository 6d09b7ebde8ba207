//! Operations: reading them from the document (and refusing what dropshot cannot express), and
//! writing the API trait, its parameter structs, response types and error type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value, json};

use crate::names;
use crate::schema::resolve;
use crate::types::TypeBuilder;
use crate::unsupported::{Error, Unsupported, pointer_token};

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation as read from the document.
pub(crate) struct Operation {
    method: String,
    path: String,
    operation_id: String,
    fn_name: String,
    summary: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    deprecated: bool,
    path_params: Vec<Param>,
    query_params: Vec<Param>,
    header_params: Vec<Param>,
    body: Option<Body>,
    success: Success,
    error_schema: Option<Value>,
    pub(crate) query_has_array: bool,
    /// The security schemes one of which the operation requires (none: no credentials).
    pub(crate) security: Vec<Scheme>,
    resolved: Resolved,
}

struct Param {
    name: String,
    schema: Value,
    required: bool,
}

struct Body {
    kind: BodyKind,
    schema: Value,
}

#[derive(Clone, Copy, PartialEq)]
enum BodyKind {
    Json,
    UrlEncoded,
    Bytes,
    Multipart,
}

enum Success {
    /// A known status, with a JSON body (`Some`) or none.
    Coded { status: u16, description: String, schema: Option<Value> },
    /// Any status and any body (a `default` response, or none at all).
    Freeform,
}

/// The Rust types an operation uses, filled in once typify knows them.
#[derive(Default)]
struct Resolved {
    /// The name of the success response type (`{Op}Response` unless the spec took it).
    response_name: String,
    path: Option<TokenStream>,
    query: Option<TokenStream>,
    /// For a query with arrays: the struct that declares them as scalars (see `QueryParams`).
    query_declared: Option<TokenStream>,
    header: Option<TokenStream>,
    body: Option<TokenStream>,
    success: Option<TokenStream>,
    error: Option<ErrorType>,
}

/// The error type of an operation.
#[derive(Clone)]
pub(crate) struct ErrorType {
    tokens: TokenStream,
    /// A schema of the spec (`ApiError<T>`), as opposed to dropshot's own `HttpError`.
    pub(crate) custom: bool,
    /// For a custom error: the body's Rust type and its schema (references resolved).
    pub(crate) payload: Option<(TokenStream, Value)>,
}

pub(crate) struct Collected {
    pub(crate) operations: Vec<Operation>,
    pub(crate) unsupported: Vec<Unsupported>,
}

/// Reads every operation; those with constructs dropshot cannot express are reported instead.
pub(crate) fn collect(spec: &Value) -> Collected {
    let mut operations = Vec::new();
    let mut unsupported = Vec::new();
    let empty = Map::new();
    let paths = spec.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    for (path, item) in paths {
        let item_pointer = format!("/paths/{}", pointer_token(path));
        let item = resolve(spec, item);
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap_or(&empty) {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let pointer = format!("{item_pointer}/{method}");
            let mut problems = Vec::new();
            if method == "trace" {
                problems.push(Unsupported::new("the TRACE method", pointer.clone()));
            }
            match read_operation(spec, path, method, op, &shared_params, &pointer, &mut problems) {
                Some(operation) if problems.is_empty() => operations.push(operation),
                _ => unsupported.append(&mut problems),
            }
        }
    }
    unsupported.extend(path_conflicts(paths.keys()));
    Collected { operations, unsupported }
}

fn read_operation(
    spec: &Value,
    path: &str,
    method: &str,
    op: &Value,
    shared_params: &[Value],
    pointer: &str,
    problems: &mut Vec<Unsupported>,
) -> Option<Operation> {
    let Some(operation_id) = op.get("operationId").and_then(Value::as_str) else {
        problems.push(Unsupported::new("an operation without operationId (dropshot names handlers by it)", pointer));
        return None;
    };
    for key in ["callbacks", "servers"] {
        if op.get(key).is_some() {
            problems.push(Unsupported::new(format!("operation {key}"), format!("{pointer}/{key}")));
        }
    }

    let mut path_params = Vec::new();
    let mut query_params = Vec::new();
    let mut header_params = Vec::new();
    let mut query_has_array = false;
    let own_params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut all: Vec<(Value, String)> = Vec::new();
    for (i, p) in shared_params.iter().enumerate() {
        all.push((p.clone(), format!("{}/parameters/{i}", pointer.rsplit_once('/').map(|x| x.0).unwrap_or(pointer))));
    }
    for (i, p) in own_params.iter().enumerate() {
        let resolved = resolve(spec, p);
        // An operation's parameter replaces a path-level one with the same name and location.
        all.retain(|(q, _)| {
            let q = resolve(spec, q);
            !(q.get("name") == resolved.get("name") && q.get("in") == resolved.get("in"))
        });
        all.push((p.clone(), format!("{pointer}/parameters/{i}")));
    }
    for (param, param_pointer) in &all {
        let param = resolve(spec, param);
        let name = param.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
        let Some(schema) = param.get("schema") else {
            problems.push(Unsupported::new(
                format!("parameter {name:?} described by `content` rather than `schema`"),
                param_pointer.clone(),
            ));
            continue;
        };
        let mut schema = schema.clone();
        if let (Some(desc), Some(obj)) = (param.get("description"), schema.as_object_mut()) {
            if obj.contains_key("$ref") {
                // A description cannot sit beside a reference; the parameter keeps the type.
                schema = json!({ "allOf": [schema], "description": desc });
            } else {
                obj.insert("description".into(), desc.clone());
            }
        }
        let required = param.get("required").and_then(Value::as_bool).unwrap_or(false);
        let style = param.get("style").and_then(Value::as_str);
        let explode = param.get("explode").and_then(Value::as_bool);
        let is_array = resolve(spec, &schema).get("type").and_then(Value::as_str) == Some("array");
        // Query arrays are read from repeated keys (see `QueryParams`); otherwise one scalar value.
        let expressible = if is_array && location == "query" {
            resolve(spec, &schema).get("items").is_some_and(|i| is_scalar(spec, i))
        } else {
            !is_array && is_scalar(spec, &schema)
        };
        if !expressible && location != "cookie" {
            let what = match (is_array, location) {
                (true, "query") => "an array of non-scalar items",
                (true, _) => "an array",
                _ => "not a scalar (boolean, number, integer or string)",
            };
            problems.push(Unsupported::new(
                format!("{location} parameter {name:?} whose schema is {what}"),
                format!("{param_pointer}/schema"),
            ));
        }
        let p = Param { name: name.clone(), schema, required };
        match location {
            "path" => {
                if style.is_some_and(|s| s != "simple") || explode == Some(true) {
                    problems.push(Unsupported::new(
                        format!("path parameter {name:?} with a style other than simple"),
                        param_pointer.clone(),
                    ));
                }
                if !path.contains(&format!("{{{name}}}")) {
                    problems.push(Unsupported::new(
                        format!("path parameter {name:?} that is not in the path template"),
                        param_pointer.clone(),
                    ));
                }
                path_params.push(p);
            }
            "query" => {
                if style.is_some_and(|s| s != "form") || explode == Some(false) {
                    problems.push(Unsupported::new(
                        format!("query parameter {name:?} with a style other than form, exploded"),
                        param_pointer.clone(),
                    ));
                }
                query_has_array |= is_array;
                query_params.push(p);
            }
            "header" => header_params.push(p),
            other => problems.push(Unsupported::new(format!("a parameter in {other:?}"), param_pointer.clone())),
        }
    }
    for segment in path.split('/') {
        if let Some(var) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if !path_params.iter().any(|p| p.name == var) {
                problems.push(Unsupported::new(
                    format!("path variable {{{var}}} without a parameter"),
                    pointer.to_string(),
                ));
            }
        } else if segment.contains('{') {
            problems.push(Unsupported::new(
                format!("path segment {segment:?} mixing text and a variable"),
                pointer.to_string(),
            ));
        }
    }

    let security = read_security(spec, op, pointer, problems);
    let body = op.get("requestBody").and_then(|b| read_body(spec, b, &format!("{pointer}/requestBody"), problems));
    let (success, error_schema) = read_responses(spec, op, pointer, problems)?;

    Some(Operation {
        method: method.to_uppercase(),
        path: path.to_string(),
        operation_id: operation_id.to_string(),
        fn_name: names::snake_name(operation_id),
        summary: op.get("summary").and_then(Value::as_str).map(str::to_string),
        description: op.get("description").and_then(Value::as_str).map(str::to_string),
        tags: op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        deprecated: op.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
        path_params,
        query_params,
        header_params,
        body,
        success,
        error_schema,
        query_has_array,
        security,
        resolved: Resolved::default(),
    })
}

/// A security scheme an operation accepts, as the generated `Credentials` extractor reads it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Scheme {
    /// The scheme's name in `components/securitySchemes`.
    name: String,
    kind: SchemeKind,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SchemeKind {
    /// `Authorization: Bearer <value>`.
    Bearer,
    /// `Authorization: Basic <value>`.
    Basic,
    /// A header of the given name.
    ApiKeyHeader(String),
}

/// The schemes in force for an operation (its own `security`, or the document's), each
/// requirement naming one scheme that is read from a header.
fn read_security(spec: &Value, op: &Value, pointer: &str, problems: &mut Vec<Unsupported>) -> Vec<Scheme> {
    let (requirements, requirements_pointer) = match op.get("security") {
        Some(own) => (own, format!("{pointer}/security")),
        None => match spec.get("security") {
            Some(global) => (global, "/security".to_string()),
            None => return Vec::new(),
        },
    };
    let mut schemes = Vec::new();
    for (i, requirement) in requirements.as_array().into_iter().flatten().enumerate() {
        let here = format!("{requirements_pointer}/{i}");
        let names: Vec<&String> = requirement.as_object().map(|r| r.keys().collect()).unwrap_or_default();
        // An empty requirement makes credentials optional, which the extractor does not model.
        let [name] = names.as_slice() else {
            problems.push(Unsupported::new(
                format!("a security requirement with {} schemes (one is supported)", names.len()),
                here,
            ));
            continue;
        };
        let scheme_pointer = format!("/components/securitySchemes/{}", pointer_token(name));
        let scheme = spec.pointer(&scheme_pointer).map(|s| resolve(spec, s));
        let kind = match scheme {
            Some(s)
                if s["type"] == "http" && s["scheme"].as_str().is_some_and(|v| v.eq_ignore_ascii_case("bearer")) =>
            {
                SchemeKind::Bearer
            }
            Some(s) if s["type"] == "http" && s["scheme"].as_str().is_some_and(|v| v.eq_ignore_ascii_case("basic")) => {
                SchemeKind::Basic
            }
            Some(s) if s["type"] == "apiKey" && s["in"] == "header" => {
                SchemeKind::ApiKeyHeader(s["name"].as_str().unwrap_or_default().to_string())
            }
            Some(_) => {
                problems.push(Unsupported::new(
                    format!("security scheme {name:?} (supported: http bearer, http basic, apiKey in a header)"),
                    scheme_pointer,
                ));
                continue;
            }
            None => {
                problems.push(Unsupported::new(format!("security scheme {name:?} that is not defined"), here));
                continue;
            }
        };
        schemes.push(Scheme { name: name.to_string(), kind });
    }
    schemes
}

/// A schema dropshot accepts for a path or query parameter: one boolean, number, integer or string.
fn is_scalar(spec: &Value, schema: &Value) -> bool {
    let schema = resolve(spec, schema);
    if let Some(all_of) = schema.get("allOf").and_then(Value::as_array) {
        return all_of.len() == 1 && is_scalar(spec, &all_of[0]);
    }
    matches!(schema.get("type").and_then(Value::as_str), Some("boolean" | "number" | "integer" | "string"))
}

fn read_body(spec: &Value, body: &Value, pointer: &str, problems: &mut Vec<Unsupported>) -> Option<Body> {
    let body = resolve(spec, body);
    if body.get("required").and_then(Value::as_bool) != Some(true) {
        problems.push(Unsupported::new("an optional request body (dropshot bodies are always required)", pointer));
    }
    let content = body.get("content").and_then(Value::as_object)?;
    if content.len() != 1 {
        problems.push(Unsupported::new(
            format!("a request body with {} media types (dropshot takes one)", content.len()),
            format!("{pointer}/content"),
        ));
        return None;
    }
    let (media, media_object) = content.iter().next()?;
    let media_pointer = format!("{pointer}/content/{}", pointer_token(media));
    let kind = match base_media_type(media).as_str() {
        m if is_json(m) => BodyKind::Json,
        "application/x-www-form-urlencoded" => BodyKind::UrlEncoded,
        "application/octet-stream" => BodyKind::Bytes,
        "multipart/form-data" => BodyKind::Multipart,
        other => {
            problems.push(Unsupported::new(format!("a request body of media type {other:?}"), media_pointer));
            return None;
        }
    };
    let schema = media_object.get("schema").cloned().unwrap_or(json!({}));
    Some(Body { kind, schema })
}

fn read_responses(
    spec: &Value,
    op: &Value,
    pointer: &str,
    problems: &mut Vec<Unsupported>,
) -> Option<(Success, Option<Value>)> {
    let empty = Map::new();
    let responses = op.get("responses").and_then(Value::as_object).unwrap_or(&empty);
    let mut success = Vec::new();
    let mut errors: Vec<(String, Value)> = Vec::new();
    let mut defaults = Vec::new();
    for (code, response) in responses {
        let response_pointer = format!("{pointer}/responses/{}", pointer_token(code));
        let response = resolve(spec, response);
        let first = code.chars().next().unwrap_or('0');
        // Error responses' headers are recorded in `ERROR_RESPONSE_HEADERS_JSON` (dropshot cannot
        // declare them); a success response's would need typed headers the generator does not write.
        let is_error = matches!(first, '4' | '5');
        if !is_error && response.get("headers").and_then(Value::as_object).is_some_and(|h| !h.is_empty()) {
            problems.push(Unsupported::new(
                format!("headers of response {code} (the generator declares no success response headers)"),
                format!("{response_pointer}/headers"),
            ));
        }
        match first {
            '1' | '2' | '3' => success.push((code.clone(), response.clone(), response_pointer)),
            '4' | '5' => match json_schema_of(response) {
                Some(schema) => errors.push((code.clone(), schema)),
                None => problems
                    .push(Unsupported::new(format!("error response {code} without a JSON body"), response_pointer)),
            },
            _ => defaults.push(response_pointer),
        }
    }
    // A `default` response alone is a hand-rolled one (any status, any body); beside others,
    // it would mean "every other status", which dropshot cannot say.
    if responses.len() > 1 {
        for pointer in defaults {
            problems.push(Unsupported::new("a `default` response beside other responses", pointer));
        }
    }
    let success = match success.as_slice() {
        [] => Success::Freeform,
        [(code, response, response_pointer)] => {
            let Ok(status) = code.parse::<u16>() else {
                problems.push(Unsupported::new(format!("success response range {code}"), response_pointer.clone()));
                return None;
            };
            if status_const(status).is_none() {
                problems.push(Unsupported::new(format!("success status {status}"), response_pointer.clone()));
                return None;
            }
            let description = response.get("description").and_then(Value::as_str).unwrap_or_default().to_string();
            let content = response.get("content").and_then(Value::as_object);
            let schema = match content {
                None => None,
                Some(c) if c.is_empty() => None,
                Some(_) => match json_schema_of(response) {
                    Some(s) => Some(s),
                    None => {
                        problems.push(Unsupported::new(
                            "a success response whose body is not JSON",
                            format!("{response_pointer}/content"),
                        ));
                        return None;
                    }
                },
            };
            Success::Coded { status, description, schema }
        }
        several => {
            let codes: Vec<&str> = several.iter().map(|(c, _, _)| c.as_str()).collect();
            problems.push(Unsupported::new(
                format!("several success responses ({})", codes.join(", ")),
                format!("{pointer}/responses"),
            ));
            return None;
        }
    };
    let mut error_schema: Option<Value> = None;
    for (code, schema) in &errors {
        match &error_schema {
            None => error_schema = Some(schema.clone()),
            Some(first) if first != schema => {
                problems.push(Unsupported::new(
                    format!("error response {code} with a schema unlike the operation's other errors (dropshot has one error type per operation)"),
                    format!("{pointer}/responses/{code}"),
                ));
            }
            Some(_) => {}
        }
    }
    Some((success, error_schema))
}

/// The schema of a response's single JSON media type.
fn json_schema_of(response: &Value) -> Option<Value> {
    let content = response.get("content")?.as_object()?;
    if content.len() != 1 {
        return None;
    }
    let (media, object) = content.iter().next()?;
    is_json(&base_media_type(media)).then(|| object.get("schema").cloned().unwrap_or(json!({})))
}

fn base_media_type(media: &str) -> String {
    media.split(';').next().unwrap_or(media).trim().to_lowercase()
}

fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// dropshot's router needs, at each level under the same prefix, either one variable name or
/// literals only.
fn path_conflicts<'a>(paths: impl Iterator<Item = &'a String>) -> Vec<Unsupported> {
    let paths: Vec<&String> = paths.collect();
    let mut found = Vec::new();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            for (sa, sb) in a.split('/').zip(b.split('/')) {
                let var_a = sa.starts_with('{');
                let var_b = sb.starts_with('{');
                if sa == sb {
                    continue;
                }
                if var_a || var_b {
                    found.push(Unsupported::new(
                        format!("paths {a:?} and {b:?}, which put {sa:?} and {sb:?} at the same level"),
                        format!("/paths/{}", pointer_token(b)),
                    ));
                }
                break;
            }
        }
    }
    found
}

/// Asks typify for every type the operations use.
pub(crate) fn resolve_types(
    spec: &Value,
    mut operations: Vec<Operation>,
    types: &mut TypeBuilder,
) -> Result<Vec<Operation>, Error> {
    // Names this generator makes up must not take a name the spec's schemas have, nor each
    // other's (operationIds `getThing` and `get_thing` make the same Rust names).
    let schema_names = spec.pointer("/components/schemas").and_then(Value::as_object).into_iter().flatten();
    let mut type_names = names::Taken::types(schema_names.map(|(k, _)| names::type_name(k)));
    let mut fn_names = names::Taken::functions();
    for op in &mut operations {
        op.fn_name = fn_names.allocate(&op.fn_name);
        let base = names::type_name(&op.operation_id);
        let path_name = type_names.allocate(&format!("{base}Path"));
        op.resolved.path = params_type(spec, types, &path_name, &op.path_params)?;
        let query_name = type_names.allocate(&format!("{base}Query"));
        op.resolved.query = params_type(spec, types, &query_name, &op.query_params)?;
        if op.query_has_array {
            let declared_name = type_names.allocate(&format!("{query_name}Declared"));
            let declared = types.declare_arrays_as_items(&query_name, &declared_name);
            op.resolved.query_declared = Some(quote!(#declared));
        }
        let header_name = type_names.allocate(&format!("{base}Header"));
        op.resolved.header = params_type(spec, types, &header_name, &op.header_params)?;
        if let Some(body) = &op.body
            && matches!(body.kind, BodyKind::Json | BodyKind::UrlEncoded)
        {
            let name = type_names.allocate(&format!("{base}Body"));
            op.resolved.body = Some(types.add(&name, &body.schema, spec)?);
        }
        op.resolved.response_name = type_names.allocate(&format!("{base}Response"));
        if let Success::Coded { schema: Some(schema), .. } = &op.success {
            let name = type_names.allocate(&format!("{base}ResponseBody"));
            op.resolved.success = Some(types.add(&name, schema, spec)?);
        }
        op.resolved.error = match &op.error_schema {
            None => None,
            Some(schema) if is_dropshot_error(spec, schema) => {
                Some(ErrorType { tokens: quote!(dropshot::HttpError), custom: false, payload: None })
            }
            Some(schema) => {
                let name = type_names.allocate(&format!("{base}Error"));
                let payload = types.add(&name, schema, spec)?;
                let resolved = resolve(spec, schema).clone();
                Some(ErrorType {
                    tokens: quote!(support::ApiError<#payload>),
                    custom: true,
                    payload: Some((payload, resolved)),
                })
            }
        };
    }
    Ok(operations)
}

/// dropshot's own error body (`request_id`, `error_code`, `message`): served by `HttpError` itself.
fn is_dropshot_error(spec: &Value, schema: &Value) -> bool {
    let schema = resolve(spec, schema);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return false };
    let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys == ["error_code", "message", "request_id"]
}

fn params_type(
    spec: &Value,
    types: &mut TypeBuilder,
    name: &str,
    params: &[Param],
) -> Result<Option<TokenStream>, Error> {
    if params.is_empty() {
        return Ok(None);
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in params {
        properties.insert(p.name.clone(), p.schema.clone());
        if p.required {
            required.push(Value::String(p.name.clone()));
        }
    }
    let schema = json!({ "type": "object", "properties": properties, "required": required });
    types.add(name, &schema, spec).map(Some)
}

/// The error type shared by the operations, if any has one of the spec's own.
pub(crate) fn error_type(operations: &[Operation]) -> Option<ErrorType> {
    operations.iter().filter_map(|op| op.resolved.error.clone()).find(|e| e.custom)
}

/// Constants about the document: its title and version, and what was left out.
pub(crate) fn info_constants(spec: &Value, skipped: &[Unsupported]) -> TokenStream {
    let title = spec.pointer("/info/title").and_then(Value::as_str).unwrap_or_default();
    let version = spec.pointer("/info/version").and_then(Value::as_str).unwrap_or_default();
    let skipped = skipped.iter().map(|u| {
        let (pointer, construct) = (&u.pointer, &u.construct);
        quote!((#pointer, #construct))
    });
    let security = security_json(spec);
    let error_headers = error_headers_json(spec);
    quote! {
        /// The `info.title` of the OpenAPI document this module was generated from.
        pub const API_TITLE: &str = #title;
        /// The `info.version` of the OpenAPI document this module was generated from.
        pub const API_VERSION: &str = #version;
        /// Constructs of the document left out because dropshot cannot express them:
        /// (JSON pointer, what it is).
        pub const SKIPPED: &[(&str, &str)] = &[#(#skipped),*];
        /// The headers of error responses, which dropshot cannot declare, as JSON:
        /// `{"<operationId>": {"<status>": {"<header>": <header object>}}}`; the server sets them.
        pub const ERROR_RESPONSE_HEADERS_JSON: &str = #error_headers;
        /// The document's security, which dropshot cannot express, as JSON:
        /// `{"securitySchemes": {..}, "operations": {"<operationId>": [<requirement>..]}}`, each
        /// operation with the requirements in force for it (its own, or the document's).
        pub const SECURITY_JSON: &str = #security;
    }
}

fn error_headers_json(spec: &Value) -> String {
    let mut operations = Map::new();
    for item in spec.get("paths").and_then(Value::as_object).into_iter().flatten().map(|(_, i)| resolve(spec, i)) {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let mut statuses = Map::new();
            for (code, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                let response = resolve(spec, response);
                if let Some(headers) = response.get("headers").and_then(Value::as_object).filter(|h| !h.is_empty())
                    && matches!(code.chars().next(), Some('4' | '5'))
                {
                    let resolved: Map<String, Value> =
                        headers.iter().map(|(k, v)| (k.clone(), resolve(spec, v).clone())).collect();
                    statuses.insert(code.clone(), Value::Object(resolved));
                }
            }
            if !statuses.is_empty() {
                operations.insert(id.to_string(), Value::Object(statuses));
            }
        }
    }
    Value::Object(operations).to_string()
}

fn security_json(spec: &Value) -> String {
    let schemes = spec.pointer("/components/securitySchemes").cloned().unwrap_or(json!({}));
    let global = spec.get("security").cloned();
    let mut operations = Map::new();
    for item in spec.get("paths").and_then(Value::as_object).into_iter().flatten().map(|(_, i)| i) {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            if let Some(security) = op.get("security").cloned().or_else(|| global.clone()) {
                operations.insert(id.to_string(), security);
            }
        }
    }
    json!({ "securitySchemes": schemes, "operations": operations }).to_string()
}

/// The trait, the response types, and (when the spec has its own error schema) the error type.
pub(crate) fn emit(operations: &[Operation], trait_name: &str, error: Option<&ErrorType>) -> TokenStream {
    let trait_ident = format_ident!("{trait_name}");
    let responses = operations.iter().map(emit_response);
    let methods = operations.iter().map(emit_method);
    let error_support = error.map(|_| emit_error_support());
    let multi_query = operations.iter().any(|op| op.resolved.query.is_some()).then(emit_query_params);
    let json_body = operations
        .iter()
        .any(|op| op.body.as_ref().is_some_and(|b| b.kind == BodyKind::Json) && op.resolved.body.is_some())
        .then(emit_json_body);
    let credentials = emit_credentials(operations);
    let any_support = error_support.is_some() || multi_query.is_some() || credentials.is_some() || json_body.is_some();
    let support = any_support.then(|| {
        quote! {
            /// What the generated trait needs beyond the spec's types: kept in a module of its own
            /// so that no schema name can collide with it.
            pub mod support {
                #error_support
                #multi_query
                #credentials
                #json_body
            }
        }
    });
    let trait_doc = format!(
        "The API of the document: implement it, then serve `{}_mod::api_description::<YourImpl>()`.",
        names::snake_name(trait_name)
    );
    quote! {
        #support
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

fn emit_response(op: &Operation) -> TokenStream {
    let Success::Coded { status, description, schema } = &op.success else { return quote!() };
    let ident = response_ident(op);
    let status_const = format_ident!("{}", status_const(*status).expect("checked when read"));
    let doc = format!("The {status} response of `{}`: {description}", op.fn_name);
    match (schema, &op.resolved.success) {
        (Some(_), Some(body)) => quote! {
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
        _ => quote! {
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

fn emit_method(op: &Operation) -> TokenStream {
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
    match op.body.as_ref().map(|b| b.kind) {
        Some(BodyKind::UrlEncoded) => meta.push(quote!(content_type = "application/x-www-form-urlencoded")),
        Some(BodyKind::Multipart) => meta.push(quote!(content_type = "multipart/form-data")),
        _ => {}
    }

    let mut taken = vec!["rqctx".to_string()];
    let mut args = Vec::new();
    let mut push = |base: &str, ty: TokenStream| {
        let name = format_ident!("{}", names::unique(base, &mut taken));
        args.push(quote!(#name: #ty));
    };
    // First, so that a request without credentials is refused before its body is read.
    if !op.security.is_empty() {
        let accepted = format_ident!("{}", accepted_schemes_name(&op.security));
        push("credentials", quote!(support::Credentials<support::#accepted>));
    }
    if let Some(ty) = &op.resolved.path {
        push("path", quote!(dropshot::Path<#ty>));
    }
    if let Some(ty) = &op.resolved.query {
        let declared = op.resolved.query_declared.clone().unwrap_or_else(|| ty.clone());
        push("query", quote!(support::QueryParams<#ty, #declared>));
    }
    if let Some(ty) = &op.resolved.header {
        push("headers", quote!(dropshot::Header<#ty>));
    }
    if let Some(body) = &op.body {
        match (body.kind, &op.resolved.body) {
            (BodyKind::Bytes, _) => push("body", quote!(dropshot::UntypedBody)),
            (BodyKind::Multipart, _) => push("body", quote!(dropshot::MultipartBody)),
            (BodyKind::Json, Some(ty)) => push("body", quote!(support::JsonBody<#ty>)),
            (_, Some(ty)) => push("body", quote!(dropshot::TypedBody<#ty>)),
            (_, None) => {}
        }
    }
    let ok = match &op.success {
        Success::Coded { .. } => {
            let ident = response_ident(op);
            quote!(#ident)
        }
        Success::Freeform => quote!(http::Response<dropshot::Body>),
    };
    let err = op.resolved.error.as_ref().map(|e| e.tokens.clone()).unwrap_or(quote!(dropshot::HttpError));
    let docs = operation_docs(op);
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

fn emit_error_support() -> TokenStream {
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

impl Operation {
    /// Whether the operation reads query parameters (through the generated `QueryParams`).
    pub(crate) fn resolved_query(&self) -> bool {
        self.resolved.query.is_some()
    }

    /// Whether the operation reads a JSON body (through the generated `JsonBody`).
    pub(crate) fn json_body(&self) -> bool {
        self.body.as_ref().is_some_and(|b| b.kind == BodyKind::Json) && self.resolved.body.is_some()
    }
}

/// The name of the marker type for a set of accepted schemes: `BearerAuthOrApiKeyAuthSchemes`.
fn accepted_schemes_name(schemes: &[Scheme]) -> String {
    let names: Vec<String> = schemes.iter().map(|s| names::type_name(&s.name)).collect();
    format!("{}Schemes", names.join("Or"))
}

/// The `Credentials` extractor, and one marker type per set of schemes the operations accept.
fn emit_credentials(operations: &[Operation]) -> Option<TokenStream> {
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
fn emit_json_body() -> TokenStream {
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

fn emit_query_params() -> TokenStream {
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

/// The name of `http::StatusCode`'s constant for a success or redirect status.
fn status_const(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "CONTINUE",
        200 => "OK",
        201 => "CREATED",
        202 => "ACCEPTED",
        203 => "NON_AUTHORITATIVE_INFORMATION",
        204 => "NO_CONTENT",
        205 => "RESET_CONTENT",
        206 => "PARTIAL_CONTENT",
        207 => "MULTI_STATUS",
        208 => "ALREADY_REPORTED",
        226 => "IM_USED",
        300 => "MULTIPLE_CHOICES",
        301 => "MOVED_PERMANENTLY",
        302 => "FOUND",
        303 => "SEE_OTHER",
        304 => "NOT_MODIFIED",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        _ => return None,
    })
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
