//! Reading the document into the model: each operation once, the checks that refuse what dropshot
//! cannot express (with JSON pointers), and what dropshot cannot declare, recorded as it is.

use serde_json::{Map, Value, json};

use crate::model::{
    Body, BodyKind, Location, METHODS, Operation, PAGINATION_PARAMS, Pagination, Param, Recorded, Resolved,
    ResponseHeader, Scheme, SchemeKind, Success, SuccessBody, status_const,
};
use crate::names;
use crate::schema::resolve;
use crate::unsupported::{Unsupported, pointer_token};

pub(crate) struct Collected {
    pub(crate) operations: Vec<Operation>,
    pub(crate) unsupported: Vec<Unsupported>,
    pub(crate) recorded: Recorded,
}

/// Reads every operation; those with constructs dropshot cannot express are reported instead.
pub(crate) fn collect(spec: &Value) -> Collected {
    let mut operations = Vec::new();
    let mut unsupported = Vec::new();
    let empty = Map::new();
    let paths = spec.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    let mut recorder = Recorder::default();
    for (path, item) in paths {
        let item_pointer = format!("/paths/{}", pointer_token(path));
        let item = resolve(spec, item);
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap_or(&empty) {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let pointer = format!("{item_pointer}/{method}");
            recorder.operation(spec, op, &pointer);
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
    Collected { operations, unsupported, recorded: recorder.finish(spec) }
}

/// What dropshot cannot declare, gathered operation by operation, left out or not (see
/// [`Recorded`]).
#[derive(Default)]
struct Recorder {
    security: Map<String, Value>,
    error_headers: Map<String, Value>,
    links: Map<String, Value>,
}

impl Recorder {
    fn operation(&mut self, spec: &Value, op: &Value, pointer: &str) {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else { return };
        if let Some((requirements, _)) = security_in_force(spec, op, pointer) {
            self.security.insert(id.to_string(), requirements.clone());
        }
        let is_error = |code: &str| matches!(code.chars().next(), Some('4' | '5'));
        if let Some(statuses) = response_parts(spec, op, "headers", is_error) {
            self.error_headers.insert(id.to_string(), statuses);
        }
        if let Some(statuses) = response_parts(spec, op, "links", |_| true) {
            self.links.insert(id.to_string(), statuses);
        }
    }

    fn finish(self, spec: &Value) -> Recorded {
        let schemes = spec.pointer("/components/securitySchemes").cloned().unwrap_or(json!({}));
        Recorded {
            security: json!({ "securitySchemes": schemes, "operations": self.security }),
            error_headers: Value::Object(self.error_headers),
            links: Value::Object(self.links),
        }
    }
}

/// One part of an operation's responses (`headers`, `links`) for the statuses `wanted` accepts,
/// `{"<status>": {"<name>": <object>}}` with references resolved, if any response has it.
fn response_parts(spec: &Value, op: &Value, part: &str, wanted: impl Fn(&str) -> bool) -> Option<Value> {
    let mut statuses = Map::new();
    for (code, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
        let response = resolve(spec, response);
        if let Some(objects) = response.get(part).and_then(Value::as_object).filter(|o| !o.is_empty())
            && wanted(code)
        {
            let resolved: Map<String, Value> =
                objects.iter().map(|(k, v)| (k.clone(), resolve(spec, v).clone())).collect();
            statuses.insert(code.clone(), Value::Object(resolved));
        }
    }
    (!statuses.is_empty()).then_some(Value::Object(statuses))
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
    let mut locations: Vec<Location> = Vec::new();
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
        if let Some(desc) = param.get("description") {
            schema = with_description(schema, desc);
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
        let seen = match location {
            "path" => Some(Location::Path),
            "query" => Some(Location::Query),
            "header" => Some(Location::Header),
            _ => None,
        };
        if let Some(seen) = seen
            && !locations.contains(&seen)
        {
            locations.push(seen);
        }
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
    let pagination = read_pagination(op, &query_params, query_has_array, pointer, problems);
    let (mut success, error_schema) = read_responses(spec, op, pointer, problems)?;
    if op.get("x-dropshot-websocket").is_some() {
        success = read_channel(method, &success, &header_params, body.is_some(), pointer, problems)?;
    }

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
        locations,
        pagination,
        body,
        success,
        error_schema,
        query_has_array,
        security,
        resolved: Resolved::default(),
    })
}

/// `x-dropshot-pagination`: dropshot's `PaginationParams` declares `limit` and `page_token` and
/// flattens the scan parameters beside them, all optional, recording in the extension which scan
/// parameters the first page requires.
fn read_pagination(
    op: &Value,
    query: &[Param],
    query_has_array: bool,
    pointer: &str,
    problems: &mut Vec<Unsupported>,
) -> Option<Pagination> {
    let extension = op.get("x-dropshot-pagination")?;
    let here = format!("{pointer}/x-dropshot-pagination");
    let required: Vec<String> = extension
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    for name in PAGINATION_PARAMS {
        if !query.iter().any(|p| p.name == name) {
            problems.push(Unsupported::new(
                format!("a paginated operation without the query parameter {name:?} (dropshot's PaginationParams declares it)"),
                here.clone(),
            ));
        }
    }
    if let Some(p) = query.iter().find(|p| p.required) {
        problems.push(Unsupported::new(
            format!(
                "query parameter {:?} that is required in a paginated operation (dropshot's are all optional)",
                p.name
            ),
            here.clone(),
        ));
    }
    if query_has_array {
        problems.push(Unsupported::new("an array query parameter in a paginated operation", here.clone()));
    }
    for name in &required {
        if !query.iter().any(|p| &p.name == name) {
            problems.push(Unsupported::new(
                format!("required scan parameter {name:?} that is not a query parameter"),
                here.clone(),
            ));
        }
    }
    Some(Pagination { required })
}

/// `x-dropshot-websocket`: a `#[channel]`, which takes path and query parameters only and answers
/// 101 (dropshot 0.18) or anything (a `default` response, as older dropshot versions wrote it).
fn read_channel(
    method: &str,
    success: &Success,
    headers: &[Param],
    has_body: bool,
    pointer: &str,
    problems: &mut Vec<Unsupported>,
) -> Option<Success> {
    let upgrade = matches!(success, Success::Freeform)
        || matches!(success, Success::Coded { status: 101, body: SuccessBody::Empty, headers, .. } if headers.is_empty());
    if !upgrade {
        problems.push(Unsupported::new(
            "a WebSocket operation whose response is neither 101 nor `default`",
            format!("{pointer}/responses"),
        ));
    }
    if !headers.is_empty() || has_body {
        problems.push(Unsupported::new(
            "a WebSocket operation with header parameters or a body (a dropshot channel takes path and query parameters)",
            pointer,
        ));
    }
    if method != "get" {
        problems.push(Unsupported::new(
            format!("a WebSocket operation on {method} (dropshot's channels are GETs)"),
            pointer,
        ));
    }
    upgrade.then_some(Success::Channel)
}

/// The security requirements in force for an operation (its own `security`, or the document's)
/// and their JSON pointer.
fn security_in_force<'a>(spec: &'a Value, op: &'a Value, pointer: &str) -> Option<(&'a Value, String)> {
    match op.get("security") {
        Some(own) => Some((own, format!("{pointer}/security"))),
        None => spec.get("security").map(|global| (global, "/security".to_string())),
    }
}

/// The schemes in force for an operation, each requirement naming one scheme that is read from a
/// header.
fn read_security(spec: &Value, op: &Value, pointer: &str, problems: &mut Vec<Unsupported>) -> Vec<Scheme> {
    let Some((requirements, requirements_pointer)) = security_in_force(spec, op, pointer) else { return Vec::new() };
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

/// A schema dropshot accepts for a path or query parameter: a value read from one string. That is
/// a boolean, number, integer or string, an enum of such values, or a composition of such
/// schemas, possibly behind references: a `oneOf` of any number (typify makes an untagged enum,
/// whose schema the emitter keeps a `oneOf`), an `allOf` (merged by typify), or an `anyOf` of one
/// schema or of enums only (merged into one enum). dropshot refuses any other `anyOf`.
fn is_scalar(spec: &Value, schema: &Value) -> bool {
    is_scalar_at(spec, schema, 0)
}

/// An enum of values, possibly behind references or one `allOf`.
fn is_enum(spec: &Value, schema: &Value) -> bool {
    let schema = resolve(spec, schema);
    match schema.get("allOf").and_then(Value::as_array) {
        Some(list) if list.len() == 1 => is_enum(spec, &list[0]),
        _ => schema.get("enum").is_some(),
    }
}

fn is_scalar_at(spec: &Value, schema: &Value, depth: usize) -> bool {
    let schema = resolve(spec, schema);
    if depth > 16 {
        return false;
    }
    let mut composed = false;
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            if list.is_empty() || !list.iter().all(|s| is_scalar_at(spec, s, depth + 1)) {
                return false;
            }
            if key == "anyOf" && list.len() > 1 && !list.iter().all(|s| is_enum(spec, s)) {
                return false;
            }
            composed = true;
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) => matches!(t.as_str(), "boolean" | "number" | "integer" | "string"),
        Some(_) => false,
        None if composed => true,
        None => schema.get("enum").and_then(Value::as_array).is_some_and(|values| {
            !values.is_empty() && values.iter().all(|v| v.is_string() || v.is_number() || v.is_boolean())
        }),
    }
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
        // Error responses' headers are recorded in `ERROR_RESPONSE_HEADERS_JSON` (dropshot cannot
        // declare them); a success response's become `HttpResponseHeaders`.
        match code.chars().next().unwrap_or('0') {
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
            let body = read_success_body(response, response_pointer, problems)?;
            let headers = read_response_headers(spec, response, response_pointer, problems);
            Success::Coded { status, description, body, headers }
        }
        several => {
            let codes: Vec<&str> = several.iter().map(|(c, _, _)| c.as_str()).collect();
            problems.push(Unsupported::new(
                format!("several success responses ({}): a dropshot endpoint has one success status", codes.join(", ")),
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

/// A success response's body: none, JSON, or any bytes (`*/*` or another single media type, which
/// dropshot's `FreeformBody` serves and declares as `*/*`).
fn read_success_body(response: &Value, pointer: &str, problems: &mut Vec<Unsupported>) -> Option<SuccessBody> {
    let Some(content) = response.get("content").and_then(Value::as_object).filter(|c| !c.is_empty()) else {
        return Some(SuccessBody::Empty);
    };
    if let Some(schema) = json_schema_of(response) {
        return Some(SuccessBody::Json(schema));
    }
    if content.len() > 1 {
        problems.push(Unsupported::new(
            format!("a success response with {} media types (dropshot serves one)", content.len()),
            format!("{pointer}/content"),
        ));
        return None;
    }
    Some(SuccessBody::Freeform)
}

/// The headers of a success response (`HttpResponseHeaders`): each with a schema read from one
/// string, like a parameter's.
fn read_response_headers(
    spec: &Value,
    response: &Value,
    pointer: &str,
    problems: &mut Vec<Unsupported>,
) -> Vec<ResponseHeader> {
    let mut out = Vec::new();
    for (name, header) in response.get("headers").and_then(Value::as_object).into_iter().flatten() {
        let here = format!("{pointer}/headers/{}", pointer_token(name));
        let header = resolve(spec, header);
        let Some(schema) = header.get("schema") else {
            problems.push(Unsupported::new(format!("response header {name:?} described by `content`"), here));
            continue;
        };
        if !is_scalar(spec, schema) {
            problems.push(Unsupported::new(
                format!("response header {name:?} whose schema is not a scalar"),
                format!("{here}/schema"),
            ));
            continue;
        }
        let mut schema = schema.clone();
        if let Some(desc) = header.get("description") {
            schema = with_description(schema, desc);
        }
        let required = header.get("required").and_then(Value::as_bool).unwrap_or(false);
        out.push(ResponseHeader { name: name.clone(), schema, required });
    }
    out
}

/// A schema with a description beside it; a reference is wrapped, since nothing may sit beside one.
fn with_description(mut schema: Value, description: &Value) -> Value {
    match schema.as_object_mut() {
        Some(obj) if obj.contains_key("$ref") => json!({ "allOf": [schema], "description": description }),
        Some(obj) => {
            obj.insert("description".into(), description.clone());
            schema
        }
        None => schema,
    }
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
