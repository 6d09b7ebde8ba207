//! Turns OpenAPI 3.0 schema objects into JSON Schema, twice over: the schema typify reads to
//! write Rust types ([`to_json_schema`]), and the JSON Schema 2020-12 that requests are validated
//! against at run time ([`to_validation_schema`]).
//!
//! For typify, OpenAPI's `nullable` becomes a `null` alternative, and documentation-only keys
//! typify does not know are dropped. Integer bounds and string lengths and patterns are removed
//! before typify sees them: typify picks `NonZeroU64` for `minimum: 1` and wraps a constrained
//! string in a newtype, so a request breaking them would fail inside serde (one problem at a time,
//! and the type's own schema would replace the spec's in the emitted document) instead of reaching
//! the validator, which enforces them all. The type builder puts them back on the fields as
//! schemars attributes, so the emitted document still states them.

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
            "minLength" | "maxLength" | "pattern" if is_string(object) => {}
            // typify names a variant after its value and cannot tell `add` from `Add`: such an
            // enum is read as a string (the validation schema still holds the values).
            "enum" if has_colliding_variants(value) => {}
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

/// Whether two string values of an enum would give one Rust variant name.
fn has_colliding_variants(values: &Value) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    values.as_array().into_iter().flatten().filter_map(Value::as_str).any(|v| !seen.insert(crate::names::type_name(v)))
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

pub(crate) fn is_string(schema: &Map<String, Value>) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("string")
}

/// Where the validation schemas keep the document's named schemas.
const DEFINITIONS: &str = "#/$defs/";

/// The JSON Schema 2020-12 a value must meet, from an OpenAPI 3.0 schema: references to
/// `#/components/schemas/X` point at `#/$defs/X` (see [`validation_definitions`]), `nullable`
/// admits `null`, boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers, and keys that
/// only OpenAPI knows are dropped. Everything that constrains a value is kept.
pub(crate) fn to_validation_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else { return schema.clone() };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        // In OpenAPI 3.0 a reference's siblings are ignored.
        let target = match reference.strip_prefix("#/components/schemas/") {
            Some(name) => format!("{DEFINITIONS}{name}"),
            None => reference.to_string(),
        };
        return json!({ "$ref": target });
    }
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "nullable" | "discriminator" | "xml" | "externalDocs" | "example" => {}
            "properties" => {
                let props = value
                    .as_object()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), to_validation_schema(v))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" | "not" | "additionalProperties" => {
                out.insert(key.clone(), to_validation_schema(value));
            }
            "allOf" | "oneOf" | "anyOf" => {
                let list = value.as_array().map(|l| l.iter().map(to_validation_schema).collect()).unwrap_or_default();
                out.insert(key.clone(), Value::Array(list));
            }
            "exclusiveMinimum" | "exclusiveMaximum" => {
                let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
                match (value, object.get(bound)) {
                    (Value::Bool(true), Some(limit)) => {
                        out.insert(key.clone(), limit.clone());
                    }
                    (Value::Bool(_), _) => {}
                    // Already a number (a document that mixes dialects): keep it.
                    (number, _) => {
                        out.insert(key.clone(), number.clone());
                    }
                }
            }
            "minimum" | "maximum" => {
                let exclusive = if key == "minimum" { "exclusiveMinimum" } else { "exclusiveMaximum" };
                // An exclusive bound replaces the inclusive one it sits beside.
                if object.get(exclusive) != Some(&Value::Bool(true)) {
                    out.insert(key.clone(), value.clone());
                }
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        return admit_null(out);
    }
    Value::Object(out)
}

/// A schema that also admits `null`.
fn admit_null(mut schema: Map<String, Value>) -> Value {
    let simple = !["allOf", "oneOf", "anyOf", "not", "const"].iter().any(|k| schema.contains_key(*k));
    match schema.get("type").cloned() {
        Some(Value::String(t)) if simple => {
            schema.insert("type".into(), json!([t, "null"]));
            if let Some(Value::Array(values)) = schema.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(schema)
        }
        _ => json!({ "anyOf": [Value::Object(schema), { "type": "null" }] }),
    }
}

/// The document's named schemas as the `$defs` of the validation schemas.
pub(crate) fn validation_definitions(spec: &Value) -> Value {
    let schemas = spec.pointer("/components/schemas").and_then(Value::as_object);
    Value::Object(schemas.into_iter().flatten().map(|(k, v)| (k.clone(), to_validation_schema(v))).collect())
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
    fn validation_schemas_keep_every_constraint_in_2020_12_terms() {
        let openapi = json!({
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 9},
                "s": {"type": "string", "nullable": true, "enum": ["a"], "pattern": "^a$", "example": "a"},
                "r": {"$ref": "#/components/schemas/Thing", "description": "ignored beside a reference"},
                "o": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Thing"}]}
            },
            "discriminator": {"propertyName": "n"}
        });
        assert_eq!(
            to_validation_schema(&openapi),
            json!({
                "type": "object",
                "properties": {
                    "n": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9},
                    "s": {"type": ["string", "null"], "enum": ["a", null], "pattern": "^a$"},
                    "r": {"$ref": "#/$defs/Thing"},
                    "o": {"anyOf": [{"allOf": [{"$ref": "#/$defs/Thing"}]}, {"type": "null"}]}
                }
            })
        );
    }

    #[test]
    fn enums_whose_values_differ_only_in_case_become_strings() {
        assert_eq!(
            to_json_schema(&json!({"type": "string", "enum": ["add", "Add", "remove"]})),
            json!({"type": "string"})
        );
        assert_eq!(
            to_json_schema(&json!({"type": "string", "enum": ["add", "remove"]})),
            json!({"type": "string", "enum": ["add", "remove"]})
        );
    }

    #[test]
    fn string_constraints_are_left_to_the_type_builder() {
        assert_eq!(
            to_json_schema(
                &json!({"type": "string", "maxLength": 5, "minLength": 1, "pattern": "^a", "format": "uuid"})
            ),
            json!({"type": "string", "format": "uuid"})
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
