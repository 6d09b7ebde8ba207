//! Turns OpenAPI 3.0 schema objects into the JSON Schema that typify reads.
//!
//! The two dialects differ where it matters for Rust types: OpenAPI's `nullable` becomes a `null`
//! alternative, and documentation-only keys typify does not know are dropped. Integer bounds are
//! removed before typify sees them, because typify picks `NonZeroU64` for `minimum: 1` (so 0 would
//! fail to parse instead of reaching the server's own validation) and drops `maximum`; the type
//! builder puts the bounds back on the fields as schemars attributes.

use serde_json::{Map, Value, json};

/// The JSON Schema for typify, from an OpenAPI schema (or reference).
pub(crate) fn to_json_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else { return schema.clone() };
    if object.contains_key("$ref") {
        return json!({ "$ref": object["$ref"] });
    }
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" => {}
            "properties" => {
                let props = value
                    .as_object()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), to_json_schema(v))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" | "not" => {
                out.insert(key.clone(), to_json_schema(value));
            }
            "additionalProperties" => {
                let converted = if value.is_object() { to_json_schema(value) } else { value.clone() };
                out.insert(key.clone(), converted);
            }
            "allOf" | "oneOf" | "anyOf" => {
                let list = value.as_array().map(|l| l.iter().map(to_json_schema).collect()).unwrap_or_default();
                out.insert(key.clone(), Value::Array(list));
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" if is_integer(object) => {}
            "exclusiveMinimum" | "exclusiveMaximum" => {
                // OpenAPI 3.0 writes these as booleans beside minimum/maximum; JSON Schema as numbers.
                let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
                if value.as_bool() == Some(true)
                    && let Some(b) = object.get(bound)
                {
                    out.insert(key.clone(), b.clone());
                }
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        return make_nullable(out);
    }
    Value::Object(out)
}

fn make_nullable(mut schema: Map<String, Value>) -> Value {
    let has_exclusive_bounds = schema.get("exclusiveMinimum").is_some() || schema.get("exclusiveMaximum").is_some();
    match schema.get("type").cloned() {
        Some(Value::String(t)) if !schema.contains_key("enum") && !has_exclusive_bounds => {
            schema.insert("type".into(), json!([t, "null"]));
            Value::Object(schema)
        }
        _ => json!({ "oneOf": [Value::Object(schema), { "type": "null" }] }),
    }
}

pub(crate) fn is_integer(schema: &Map<String, Value>) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("integer")
}

/// Follows a local `$ref` (`#/...`) to what it points at.
pub(crate) fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference.strip_prefix('#').and_then(|p| spec.pointer(p)) {
                Some(target) => current = target,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_a_null_alternative() {
        assert_eq!(to_json_schema(&json!({"type": "string", "nullable": true})), json!({"type": ["string", "null"]}));
        assert_eq!(
            to_json_schema(&json!({"type": "array", "nullable": true, "items": {"$ref": "#/components/schemas/A"}})),
            json!({"type": ["array", "null"], "items": {"$ref": "#/components/schemas/A"}})
        );
    }

    #[test]
    fn integer_bounds_are_left_to_the_type_builder() {
        assert_eq!(
            to_json_schema(&json!({"type": "integer", "minimum": 1, "maximum": 10, "default": 1})),
            json!({"type": "integer", "default": 1})
        );
    }
}
