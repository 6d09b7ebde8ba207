//! Compares the meaning of two OpenAPI documents: a spec written by hand and one dropshot emits.
//!
//! Both are first brought to what dropshot can express, by the rules below, and then compared as
//! JSON; a mismatch is shown as a unified diff of the two normalized documents. The rules are the
//! whole list of differences this project accepts between its spec and the served document:
//!
//! 1. References are replaced by what they point at, so names chosen for schemas do not matter and
//!    `components` is dropped once inlined.
//! 2. `openapi` (dropshot writes 3.0.3 for any 3.0.x), `servers`, top-level `tags`, `externalDocs` and `info` other than `title` are dropped.
//!    Security is kept, as each operation's effective requirements (its own, or the document's)
//!    and the schemes; dropshot emits none, so the emitting side adds what the generator recorded
//!    (`dropshot_codegen_runtime::add_security`). Response links are kept too; the emitting side
//!    adds them the same way (`add_links`).
//! 3. Error responses: every 4xx status becomes `4XX` and every 5xx `5XX` (dropshot has one error
//!    type per operation, emitted as these two ranges). Their descriptions and headers are dropped;
//!    their bodies are kept, and if two statuses of one range have different bodies the range says
//!    so, which never matches.
//!    dropshot emits both ranges for every error type, so a range the spec (the expected side)
//!    does not use for an operation is dropped from the emitted side.
//! 4. A `default` response that allows anything (a hand-rolled response) is dropped.
//! 5. Media-type parameters are dropped (`application/json; charset=utf-8` is `application/json`).
//! 6. Schemas, each for what dropshot 0.18 with schemars 0.8 cannot say:
//!    - integer `format` is dropped: typify picks the Rust width (`i64` for an integer without a
//!      format), and schemars states the width it was given;
//!    - `example` is dropped: dropshot emits no example for a parameter (a schema's example it
//!      reads from an `example` extension, which schemars 0.8's derive cannot add, so the
//!      generator writes a schema with an example as the spec writes it);
//!    - the `title` of a request or response body schema is dropped: dropshot titles an inline
//!      body schema with its schemars name (`Array_of_CreditTransaction`); every other title is
//!      compared (the generator writes `schemars(title)`);
//!    - `enum: [null]` needs no `type` (schemars adds one to the unit value);
//!    - `additionalProperties: {}` is `true`;
//!    - `nullable`, `readOnly`, `writeOnly` and `deprecated` that are `false` are dropped;
//!    - a lone `allOf` of one schema is that schema: schemars wraps a described reference in an
//!      `allOf` (OpenAPI 3.0 ignores a description beside a `$ref`), which a spec may write as
//!      the reference alone;
//!
//!    `required` and parameter lists compare as sets. Descriptions and titles compare as written.
//! 7. Parameters: the schema's `default` is dropped (dropshot keeps only the description of a
//!    parameter's schema metadata); `style` and `explode` are dropped where they are the default for the location,
//!    as are `deprecated: false` and `required: false`.
//! 8. A query parameter that is an array of T is compared as a T: dropshot registers only scalar
//!    query parameters, so the generated `QueryParams` extractor declares the items and reads
//!    repeated keys (`?t=a&t=b`) into the array.
//! 9. An operation with a description but no summary is compared as if the description were the
//!    summary: dropshot reads the first doc line of a handler as its summary.
//! 10. A success response whose body is one media type other than JSON (a `text/html` page, a
//!     `*/*` file) is compared as `*/*` with any schema and no headers: dropshot serves such a
//!     body as a `FreeformBody` and declares neither its media type, nor its schema, nor (for a
//!     free-form body) the response's headers. The handler still sends them.
//!
//! Counted apart, a difference between dropshot versions (a document made by an older dropshot):
//! dropshot 0.18 writes a WebSocket upgrade (`x-dropshot-websocket`) as a 101 response beside
//! the `4XX` and `5XX` of dropshot's error, older versions as a free-form `default` alone; all
//! are dropped (the extension itself is compared). A generated channel cannot write the older
//! form: the `#[channel]` macro of dropshot 0.18 declares the 101. [`Report::version_differences`]
//! holds the raw differences this explains, apart from [`Report::raw_differences`].
//!
//! Operation extensions (`x-dropshot-pagination`, `x-dropshot-websocket`) are compared as they
//! are. [`compare`] reports each rule with the number of places it changed (on both sides, in
//! the inlined documents), and [`compare_without`] how many differences one rule hides.
//!
//! Measured on 2026-12-01 (`ROUND_TRIP_RULES=1 cargo test -p credits-tests --test spec --
//! --nocapture rules_the_credits dropshot_made`), the differences each rule hides in the credits
//! round trip / in the sixteen dropshot-made documents (`-`: the rule never applies there):
//! integer format 22 / 0; example 1 / 0 (the example of a parameter); body title 2 / 0; false
//! flags 4 / -; lone `allOf` - / 0; parameter default 1 / -; query array 4 / -; free-form
//! success body 6 / -; free-form `default` - / 0; WebSocket upgrade - / 4 (gateway's document,
//! made by an older dropshot); `enum: [null]` - / 0, needed by buildomat's document. The
//! dropshot-made documents need no rule but the version difference: each is emitted as it is
//! written (0 raw differences), the rules only fire on both sides alike.
//! Three rules were deleted once they hid nothing: whitespace collapsed in descriptions (the
//! generator now writes the descriptions typify dropped, with `schemars(description)` where
//! schemars would join the lines of a doc comment), titles dropped (`schemars(title)`), and
//! `x-rust-type` dropped (a schema with an extension is written as the spec writes it, a
//! field's extension through a schema function).

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The rules by name, as [`Report::rules`] counts them.
pub const RULES: &[&str] = &[
    "1 references inlined",
    "2 document metadata dropped",
    "3 error statuses merged into 4XX/5XX",
    "3 error ranges the spec lacks dropped",
    "4 free-form default response dropped",
    "5 media-type parameters dropped",
    "6 integer format dropped",
    "6 example dropped",
    "6 title of a body schema dropped",
    "6 type beside enum [null] dropped",
    "6 additionalProperties {} read as true",
    "6 false flags dropped",
    "6 lone allOf unwrapped",
    "7 parameter default dropped",
    "7 default style and explode dropped",
    "8 query array compared as its items",
    "9 description read as summary",
    "10 free-form success body compared as */*",
    UPGRADE_RULE,
];

/// The rule for a difference between dropshot versions, counted apart.
const UPGRADE_RULE: &str =
    "V WebSocket upgrade: 101 and error ranges (dropshot 0.18) and default (older dropshot) dropped";

thread_local! {
    static FIRED: RefCell<BTreeMap<&'static str, usize>> = const { RefCell::new(BTreeMap::new()) };
    static DISABLED: RefCell<Option<&'static str>> = const { RefCell::new(None) };
}

/// Records that a rule changed something.
fn fired(rule: &'static str) {
    debug_assert!(RULES.contains(&rule), "{rule}");
    FIRED.with(|f| *f.borrow_mut().entry(rule).or_default() += 1);
}

/// Whether a rule may change something here (it is not the one [`compare_without`] leaves out);
/// if so, records that it does.
fn applies(rule: &'static str) -> bool {
    if DISABLED.with(|d| *d.borrow() == Some(rule)) {
        return false;
    }
    fired(rule);
    true
}

/// The rules [`compare_without`] can leave out: all but the first four, which shape the
/// normalized document itself (references, metadata, error statuses).
pub const OPTIONAL_RULES: &[&str] = RULES.split_at(4).1;

/// [`compare`] with one rule of [`OPTIONAL_RULES`] left out: how many differences that rule
/// hides is what it is needed for.
pub fn compare_without(expected: &Value, actual: &Value, rule: &'static str) -> Report {
    DISABLED.with(|d| *d.borrow_mut() = Some(rule));
    let report = compare(expected, actual);
    DISABLED.with(|d| *d.borrow_mut() = None);
    report
}

/// How far two documents are from each other, before and after normalization.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Values that differ between the two documents as they are (JSON pointers), except those in
    /// `version_differences`.
    pub raw_differences: Vec<String>,
    /// Values that differ as they are because the expected document was made by an older
    /// dropshot (see [`is_version_difference`]), counted apart.
    pub version_differences: Vec<String>,
    /// Values that still differ once both are normalized (JSON pointers into the normalized forms).
    pub differences: Vec<String>,
    /// Each rule that changed something, with how many places it changed (both documents).
    pub rules: BTreeMap<&'static str, usize>,
}

/// Compares two documents: their raw differences, what differs after normalization, and which
/// normalization rules it took.
pub fn compare(expected: &Value, actual: &Value) -> Report {
    let mut raw = Vec::new();
    differences(expected, actual, String::new(), &mut raw);
    let (version_differences, raw_differences) = raw.into_iter().partition(|p| is_version_difference(expected, p));
    FIRED.with(|f| f.borrow_mut().clear());
    let expected = normalize(expected);
    let mut actual = normalize(actual);
    drop_ranges_unused_by(&expected, &mut actual);
    let rules = FIRED.with(|f| std::mem::take(&mut *f.borrow_mut()));
    let mut found = Vec::new();
    differences(&expected, &actual, String::new(), &mut found);
    Report { raw_differences, version_differences, differences: found, rules }
}

/// Whether a raw difference is in the responses of a WebSocket operation that the expected
/// document writes as an older dropshot did (a `default` response): dropshot 0.18 writes a
/// channel as a 101 response beside its `4XX` and `5XX`.
fn is_version_difference(expected: &Value, pointer: &str) -> bool {
    let Some((operation, _)) = pointer.split_once("/responses/") else { return false };
    expected
        .pointer(operation)
        .is_some_and(|op| op.get("x-dropshot-websocket").is_some() && op.pointer("/responses/default").is_some())
}

/// The JSON pointers where two values differ: a key on one side only, an array of another length,
/// or two different scalars.
pub fn differences(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match y.get(k) {
                    Some(w) => differences(v, w, here, out),
                    None => out.push(here),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, format!("{at}/{i}"), out);
            }
        }
        (x, y) if x == y => {}
        _ => out.push(at),
    }
}

/// The document reduced to what dropshot can express (see the crate's documentation).
pub fn normalize(document: &Value) -> Value {
    // Only what is compared is inlined: the paths (components are dropped once inlined).
    let mut inlined = document.clone();
    if let Some(paths) = document.get("paths") {
        inlined["paths"] = inline_refs(document, paths, 0);
    }
    for (key, value) in document.as_object().into_iter().flatten() {
        let dropped = match key.as_str() {
            "paths" | "components" | "security" => 0,
            "info" => value.as_object().map_or(0, |i| i.keys().filter(|k| *k != "title").count()),
            _ => 1,
        };
        for _ in 0..dropped {
            fired("2 document metadata dropped");
        }
    }
    let mut out = Map::new();
    if let Some(title) = inlined.pointer("/info/title") {
        out.insert("info".into(), json!({ "title": title }));
    }
    if let Some(schemes) = inlined.pointer("/components/securitySchemes")
        && schemes.as_object().is_some_and(|s| !s.is_empty())
    {
        out.insert("securitySchemes".into(), schemes.clone());
    }
    let global_security = inlined.get("security");
    let mut paths = Map::new();
    if let Some(items) = inlined.get("paths").and_then(Value::as_object) {
        for (path, item) in items {
            paths.insert(path.clone(), normalize_path_item(item, global_security));
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    sort_keys(&Value::Object(out))
}

/// A readable diff of the normalized documents, or `None` when they mean the same.
pub fn diff(expected: &Value, actual: &Value) -> Option<String> {
    let expected = normalize(expected);
    let mut actual = normalize(actual);
    drop_ranges_unused_by(&expected, &mut actual);
    if expected == actual {
        return None;
    }
    let left = serde_json::to_string_pretty(&expected).expect("JSON values serialize");
    let right = serde_json::to_string_pretty(&actual).expect("JSON values serialize");
    let text = similar::TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(4)
        .header("expected (spec, normalized)", "actual (dropshot, normalized)")
        .to_string();
    Some(text)
}

/// Removes from `actual` each operation's `4XX`/`5XX` that `expected` does not have.
fn drop_ranges_unused_by(expected: &Value, actual: &mut Value) {
    let Some(paths) = actual.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            let websocket = op.get("x-dropshot-websocket").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            for range in ["4XX", "5XX"] {
                let pointer =
                    format!("/paths/{}/{method}/responses/{range}", path.replace('~', "~0").replace('/', "~1"));
                if expected.pointer(&pointer).is_none() && responses.contains_key(range) {
                    // A channel's error ranges are dropshot 0.18's, which older versions did
                    // not write (see `is_version_difference`).
                    if !websocket {
                        fired("3 error ranges the spec lacks dropped");
                    } else if !applies(UPGRADE_RULE) {
                        continue;
                    }
                    responses.remove(range);
                }
            }
        }
    }
}

fn inline_refs(root: &Value, value: &Value, depth: usize) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str) {
                if depth > 64 {
                    return json!({ "$ref": target }); // a recursive schema: stop here
                }
                return match target.strip_prefix('#').and_then(|p| root.pointer(p)) {
                    Some(found) => {
                        fired("1 references inlined");
                        inline_refs(root, found, depth + 1)
                    }
                    None => json!({ "$ref": target, "unresolved": true }),
                };
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), inline_refs(root, v, depth))).collect())
        }
        Value::Array(list) => Value::Array(list.iter().map(|v| inline_refs(root, v, depth)).collect()),
        other => other.clone(),
    }
}

fn normalize_path_item(item: &Value, global_security: Option<&Value>) -> Value {
    let mut out = Map::new();
    let shared = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    for (method, op) in item.as_object().into_iter().flatten() {
        if matches!(method.as_str(), "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace") {
            let mut normalized = normalize_operation(op, &shared);
            if let Some(security) = op.get("security").or(global_security) {
                let mut requirements = security.as_array().cloned().unwrap_or_default();
                requirements.sort_by_key(|r| r.to_string());
                if !requirements.is_empty() {
                    normalized["security"] = Value::Array(requirements);
                }
            }
            out.insert(method.clone(), normalized);
        }
    }
    Value::Object(out)
}

fn normalize_operation(op: &Value, shared_params: &[Value]) -> Value {
    let mut out = Map::new();
    for key in ["operationId", "deprecated"] {
        if let Some(v) = op.get(key) {
            if key == "deprecated" && v == &json!(false) {
                continue;
            }
            out.insert(key.into(), v.clone());
        }
    }
    let summary = op.get("summary").and_then(Value::as_str);
    let description = op.get("description").and_then(Value::as_str);
    let (summary, description) = match (summary, description) {
        (None, Some(d)) if applies("9 description read as summary") => (Some(d), None),
        other => other,
    };
    if let Some(s) = summary {
        out.insert("summary".into(), text(s));
    }
    if let Some(d) = description {
        out.insert("description".into(), text(d));
    }
    if let Some(tags) = op.get("tags").and_then(Value::as_array) {
        let mut tags = tags.clone();
        tags.sort_by_key(|t| t.to_string());
        out.insert("tags".into(), Value::Array(tags));
    }

    let mut params: Vec<Value> = shared_params.to_vec();
    for p in op.get("parameters").and_then(Value::as_array).into_iter().flatten() {
        params.retain(|q| !(q.get("name") == p.get("name") && q.get("in") == p.get("in")));
        params.push(p.clone());
    }
    let mut params: Vec<Value> = params.iter().map(normalize_parameter).collect();
    for (key, value) in op.as_object().into_iter().flatten() {
        // Extensions are compared as they are (`x-dropshot-pagination`, `x-dropshot-websocket`).
        if key.starts_with("x-") {
            out.insert(key.clone(), value.clone());
        }
    }
    params.sort_by_key(|p| format!("{}:{}", p["in"], p["name"]));
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = op.get("requestBody") {
        let mut b = Map::new();
        if let Some(r) = body.get("required") {
            b.insert("required".into(), r.clone());
        }
        if let Some(content) = body.get("content") {
            b.insert("content".into(), normalize_content(content));
        }
        out.insert("requestBody".into(), Value::Object(b));
    }
    let websocket = op.get("x-dropshot-websocket").is_some();
    out.insert("responses".into(), normalize_responses(op.get("responses"), websocket));
    Value::Object(out)
}

fn normalize_parameter(param: &Value) -> Value {
    let mut out = Map::new();
    let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
    for (key, value) in param.as_object().into_iter().flatten() {
        match key.as_str() {
            "schema" => {
                let is_array = value.get("type").and_then(Value::as_str) == Some("array");
                let schema = match (location, value.get("items")) {
                    ("query", Some(items)) if is_array && applies("8 query array compared as its items") => {
                        let mut items = items.clone();
                        if let (Some(obj), Some(desc)) = (items.as_object_mut(), value.get("description")) {
                            obj.insert("description".into(), desc.clone());
                        }
                        items
                    }
                    _ => value.clone(),
                };
                let mut schema = normalize_schema(&schema);
                if let Some(obj) = schema.as_object_mut()
                    && obj.contains_key("default")
                    && applies("7 parameter default dropped")
                {
                    obj.remove("default");
                }
                out.insert(key.clone(), schema);
            }
            "description" => {
                out.insert(key.clone(), text(value.as_str().unwrap_or_default()));
            }
            "style" | "explode"
                if is_default_style(location, key, value) && applies("7 default style and explode dropped") => {}
            "deprecated" | "required" if value == &json!(false) && applies("6 false flags dropped") => {}
            "example" | "examples" if applies("6 example dropped") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

fn normalize_responses(responses: Option<&Value>, websocket: bool) -> Value {
    let mut out = Map::new();
    let mut ranges: Map<String, Value> = Map::new();
    for (code, response) in responses.and_then(Value::as_object).into_iter().flatten() {
        let class = code.chars().next().unwrap_or('0');
        if class == '4' || class == '5' {
            let range = format!("{class}XX");
            if code != &range || response.get("headers").is_some() {
                fired("3 error statuses merged into 4XX/5XX");
            }
            let body = response.get("content").map(normalize_content).unwrap_or(Value::Null);
            match ranges.get(&range) {
                None => {
                    ranges.insert(range, json!({ "content": body }));
                }
                Some(existing) if existing["content"] == body => {}
                Some(_) => {
                    ranges.insert(range, json!({ "content": "error statuses of this range have different bodies" }));
                }
            }
            continue;
        }
        if code == "101" && websocket && applies(UPGRADE_RULE) {
            continue;
        }
        if code == "default" && is_freeform(response) {
            let rule = if websocket { UPGRADE_RULE } else { "4 free-form default response dropped" };
            if applies(rule) {
                continue;
            }
        }
        let mut r = Map::new();
        if let Some(d) = response.get("description").and_then(Value::as_str) {
            r.insert("description".into(), text(d));
        }
        let plain = response.get("headers").is_none()
            && response.get("content").and_then(|c| c.get("*/*")).is_some_and(|m| m == &json!({"schema": {}}));
        if is_freeform_success(response) && (plain || applies("10 free-form success body compared as */*")) {
            r.insert("content".into(), json!({ "*/*": { "schema": {} } }));
            out.insert(code.clone(), Value::Object(r));
            continue;
        }
        if let Some(content) = response.get("content") {
            let content = normalize_content(content);
            if content.as_object().is_some_and(|c| !c.is_empty()) {
                r.insert("content".into(), content);
            }
        }
        if let Some(headers) = response.get("headers") {
            r.insert("headers".into(), headers.clone());
        }
        if let Some(links) = response.get("links").filter(|l| l.as_object().is_some_and(|m| !m.is_empty())) {
            r.insert("links".into(), links.clone());
        }
        out.insert(code.clone(), Value::Object(r));
    }
    out.extend(ranges);
    Value::Object(out)
}

/// A response that allows any body at all (or says nothing about it).
fn is_freeform(response: &Value) -> bool {
    match response.get("content").and_then(Value::as_object) {
        None => true,
        Some(content) => content.values().all(|media| match media.get("schema") {
            None => true,
            Some(s) => s.as_object().is_some_and(|o| o.is_empty()),
        }),
    }
}

/// A success body of one media type that is not JSON.
fn is_freeform_success(response: &Value) -> bool {
    let Some(content) = response.get("content").and_then(Value::as_object) else { return false };
    let mut media = content.keys().map(|m| m.split(';').next().unwrap_or(m).trim().to_lowercase());
    match (media.next(), media.next()) {
        (Some(only), None) => only != "application/json" && !only.ends_with("+json"),
        _ => false,
    }
}

fn normalize_content(content: &Value) -> Value {
    let mut out = Map::new();
    for (media, object) in content.as_object().into_iter().flatten() {
        let bare = media.split(';').next().unwrap_or(media).trim().to_lowercase();
        let media = if &bare != media && applies("5 media-type parameters dropped") { bare } else { media.clone() };
        let mut schema = object.get("schema").map(normalize_schema).unwrap_or(json!({}));
        if let Some(map) = schema.as_object_mut()
            && map.contains_key("title")
            && applies("6 title of a body schema dropped")
        {
            map.remove("title");
        }
        out.insert(media, json!({ "schema": schema }));
    }
    Value::Object(out)
}

fn normalize_schema(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else { return schema.clone() };
    let is_integer = map.get("type").and_then(Value::as_str) == Some("integer");
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "example" | "examples" if applies("6 example dropped") => {}
            "format" if is_integer && applies("6 integer format dropped") => {}
            "description" => {
                out.insert(key.clone(), text(value.as_str().unwrap_or_default()));
            }
            "required" => {
                let mut names = value.as_array().cloned().unwrap_or_default();
                names.sort_by_key(|n| n.to_string());
                if !names.is_empty() {
                    out.insert(key.clone(), Value::Array(names));
                }
            }
            "properties" => {
                let props =
                    value.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), normalize_schema(v))).collect();
                out.insert(key.clone(), Value::Object(props));
            }
            "additionalProperties" => {
                let v = match value {
                    Value::Object(o) if o.is_empty() && applies("6 additionalProperties {} read as true") => {
                        Value::Bool(true)
                    }
                    Value::Object(_) => normalize_schema(value),
                    other => other.clone(),
                };
                out.insert(key.clone(), v);
            }
            "items" | "not" => {
                out.insert(key.clone(), normalize_schema(value));
            }
            "allOf" | "oneOf" | "anyOf" => {
                let list: Vec<Value> = value.as_array().into_iter().flatten().map(normalize_schema).collect();
                out.insert(key.clone(), Value::Array(list));
            }
            "nullable" | "readOnly" | "writeOnly" | "deprecated"
                if value == &json!(false) && applies("6 false flags dropped") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }

    // `enum: [null]` is the unit value; schemars also gives it a `type`, which adds nothing.
    if out.get("enum") == Some(&json!([null]))
        && out.contains_key("type")
        && applies("6 type beside enum [null] dropped")
    {
        out.remove("type");
    }
    // A lone `allOf` around one schema (how a description sits beside a reference) is that schema.
    if let Some(Value::Array(list)) = out.get("allOf")
        && list.len() == 1
        && applies("6 lone allOf unwrapped")
    {
        let mut inner = list[0].as_object().cloned().unwrap_or_default();
        out.remove("allOf");
        for (k, v) in out {
            inner.entry(k).or_insert(v);
        }
        return Value::Object(inner);
    }
    Value::Object(out)
}

fn is_default_style(location: &str, key: &str, value: &Value) -> bool {
    let form = matches!(location, "query" | "cookie");
    match key {
        "style" => value == if form { "form" } else { "simple" },
        _ => value == &Value::Bool(form),
    }
}

/// A description, compared as it is written.
fn text(text: &str) -> Value {
    Value::String(text.to_string())
}

/// Sorted keys make the pretty-printed diff stable and readable.
fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sort_keys(&map[k]))).collect())
        }
        Value::Array(list) => Value::Array(list.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_status_errors_collapse_into_ranges() {
        let body = json!({"application/json": {"schema": {"type": "object"}}});
        let spec = json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok"},
            "400": {"description": "Invalid request", "content": body},
            "404": {"description": "Not found", "content": body},
            "500": {"description": "Internal", "content": body}
        }}}}});
        let emitted = json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok"},
            "4XX": {"description": "Error", "content": body},
            "5XX": {"description": "Error", "content": body}
        }}}}});
        assert_eq!(diff(&spec, &emitted), None);
    }

    #[test]
    fn a_page_matches_a_free_form_body_but_json_bodies_keep_their_schema() {
        let page = json!({"paths": {"/a": {"get": {"responses": {"200": {
            "description": "ok",
            "headers": {"Cache-Control": {"schema": {"type": "string"}}},
            "content": {"text/html": {"schema": {"type": "string"}}}
        }}}}}});
        let free_form = json!({"paths": {"/a": {"get": {"responses": {"200": {
            "description": "ok", "content": {"*/*": {"schema": {}}}
        }}}}}});
        assert_eq!(diff(&page, &free_form), None);
        let json_body = json!({"paths": {"/a": {"get": {"responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}
        }}}}}});
        assert!(diff(&json_body, &free_form).is_some(), "a JSON body is not free-form");
        let other_description = json!({"paths": {"/a": {"get": {"responses": {"200": {
            "description": "another", "content": {"*/*": {"schema": {}}}
        }}}}}});
        assert!(diff(&page, &other_description).is_some(), "the description is still compared");
    }

    #[test]
    fn one_error_with_another_body_is_a_difference() {
        let a = json!({"application/json": {"schema": {"type": "object"}}});
        let b = json!({"application/json": {"schema": {"type": "string"}}});
        let spec = json!({"paths": {"/a": {"get": {"responses": {"400": {"content": a}, "404": {"content": b}}}}}});
        let emitted = json!({"paths": {"/a": {"get": {"responses": {"4XX": {"content": a}}}}}});
        assert!(diff(&spec, &emitted).is_some());
    }

    #[test]
    fn a_rule_left_out_shows_what_it_hides() {
        let spec = json!({"paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
            "content": {"application/json": {"schema": {"type": "integer", "format": "int32"}}}}}}}}});
        let emitted = json!({"paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
            "content": {"application/json": {"schema": {"type": "integer", "format": "int64"}}}}}}}}});
        assert!(compare(&spec, &emitted).differences.is_empty());
        let without = compare_without(&spec, &emitted, "6 integer format dropped");
        assert_eq!(without.differences.len(), 1, "{:?}", without.differences);
        assert!(!without.rules.contains_key("6 integer format dropped"));
        // The rule is back for the next comparison.
        assert!(compare(&spec, &emitted).differences.is_empty());
    }

    #[test]
    fn an_older_dropshots_websocket_is_counted_apart() {
        let older = json!({"paths": {"/a": {"get": {"operationId": "attach", "x-dropshot-websocket": {},
            "responses": {"default": {"description": "", "content": {"*/*": {"schema": {}}}}}}}}});
        let error = json!({"description": "Error"});
        let current = json!({"paths": {"/a": {"get": {"operationId": "attach", "x-dropshot-websocket": {},
            "responses": {"101": {"description": "upgrade"}, "4XX": error, "5XX": error}}}}});
        let report = compare(&older, &current);
        assert!(report.raw_differences.is_empty(), "{:?}", report.raw_differences);
        assert_eq!(report.version_differences.len(), 4, "{:?}", report.version_differences);
        assert!(report.differences.is_empty(), "{:?}", report.differences);
        let without = compare_without(&older, &current, UPGRADE_RULE);
        assert_eq!(without.differences.len(), 4, "{:?}", without.differences);
        // The same responses on an operation that is not a channel are differences.
        let plain = |doc: &Value| {
            let mut doc = doc.clone();
            doc["paths"]["/a"]["get"].as_object_mut().unwrap().remove("x-dropshot-websocket");
            doc
        };
        assert_eq!(compare(&plain(&older), &plain(&current)).raw_differences.len(), 4);
    }

    #[test]
    fn references_are_inlined() {
        let spec = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {"A": {"type": "integer", "format": "int32"}}}
        });
        let emitted = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "integer", "format": "int64"}}}}}}}}
        });
        assert_eq!(diff(&spec, &emitted), None);
    }
}
