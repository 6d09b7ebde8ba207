//! Validation against the spec's own schemas. The generator turns each schema a request value
//! must meet (a body, the parameters of one location) into JSON Schema 2020-12 and implements
//! [`Schema`] with it; [`SchemaValidator`] checks a value with the `jsonschema` crate, formats
//! included, and reports every problem as a [`Violation`].
//!
//! Messages are written here from the kind of problem, never by echoing the value whole: a
//! request may carry megabytes.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value;

use super::violation::{LocSegment, Violation, quote_value};

/// A type whose values the spec constrains (generated for each body and parameter struct).
pub trait Schema {
    /// The validator for the type's schema, built once.
    fn validator() -> &'static SchemaValidator;
}

/// A compiled schema, or why it did not compile.
pub struct SchemaValidator {
    compiled: Result<jsonschema::Validator, String>,
}

impl SchemaValidator {
    /// Compiles `schema` (JSON Schema 2020-12, as JSON text) whose references point into
    /// `definitions` (a JSON object of named schemas, referred to as `#/$defs/<name>`).
    pub fn new(definitions: &str, schema: &str) -> Self {
        SchemaValidator { compiled: compile(definitions, schema) }
    }

    /// Why the schema cannot be used, if it cannot.
    pub fn error(&self) -> Option<&str> {
        self.compiled.as_ref().err().map(String::as_str)
    }

    /// Every way `value` breaks the schema, located under `location` (`body`, `query`...).
    pub fn violations(&self, location: &str, value: &Value) -> Result<Vec<Violation>, String> {
        let validator = self.compiled.as_ref().map_err(Clone::clone)?;
        Ok(validator.iter_errors(value).flat_map(|e| describe(location, &e)).collect())
    }
}

fn compile(definitions: &str, schema: &str) -> Result<jsonschema::Validator, String> {
    let definitions: Value = serde_json::from_str(definitions).map_err(|e| format!("definitions: {e}"))?;
    let schema: Value = serde_json::from_str(schema).map_err(|e| format!("schema: {e}"))?;
    let mut root = match schema {
        Value::Object(map) => map,
        other => serde_json::Map::from_iter([("allOf".to_string(), Value::Array(vec![other]))]),
    };
    root.insert("$defs".into(), definitions);
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .map_err(|e| format!("the schema does not compile: {e}"))
}

/// The violations one error of the validator stands for (one per unexpected property).
fn describe(location: &str, error: &jsonschema::ValidationError<'_>) -> Vec<Violation> {
    let mut loc = vec![LocSegment::Name(location.to_string())];
    loc.extend(error.instance_path().iter().map(|segment| match segment {
        LocationSegment::Property(name) => LocSegment::Name(name.to_string()),
        LocationSegment::Index(i) => LocSegment::Index(i as u64),
    }));
    let value = error.instance();
    let at = |extra: &str| {
        let mut loc = loc.clone();
        loc.push(LocSegment::Name(extra.to_string()));
        loc
    };
    let one = |kind: &str, msg: String| vec![Violation::new(loc.clone(), kind, msg)];
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            vec![Violation::new(at(&name), "missing", format!("missing field `{name}`"))]
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| Violation::new(at(name), "extra_forbidden", format!("unknown field `{name}`")))
            .collect(),
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or "),
            };
            one("type_error", format!("expected {expected}, got {}", quote_value(value)))
        }
        ValidationErrorKind::Enum { options } => {
            one("enum", format!("{} is not one of {}", quote_value(value), quote_value(options)))
        }
        ValidationErrorKind::Constant { expected_value } => {
            one("enum", format!("{} is not {}", quote_value(value), quote_value(expected_value)))
        }
        ValidationErrorKind::Minimum { limit } => one("range", format!("must be at least {limit}, not {value}")),
        ValidationErrorKind::Maximum { limit } => one("range", format!("must be at most {limit}, not {value}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            one("range", format!("must be greater than {limit}, not {value}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            one("range", format!("must be less than {limit}, not {value}"))
        }
        ValidationErrorKind::MultipleOf { multiple_of, .. } => {
            one("multiple_of", format!("must be a multiple of {multiple_of}, not {value}"))
        }
        ValidationErrorKind::MinLength { limit } => {
            one("string_too_short", format!("must be at least {limit} characters long"))
        }
        ValidationErrorKind::MaxLength { limit } => {
            one("string_too_long", format!("must be at most {limit} characters long"))
        }
        ValidationErrorKind::Pattern { pattern } => {
            one("pattern", format!("{} does not match the pattern {pattern}", quote_value(value)))
        }
        ValidationErrorKind::Format { format } => {
            one("format", format!("{} is not a valid {format}", quote_value(value)))
        }
        ValidationErrorKind::MinItems { limit } => one("too_short", format!("must have at least {limit} items")),
        ValidationErrorKind::MaxItems { limit } => one("too_long", format!("must have at most {limit} items")),
        ValidationErrorKind::UniqueItems => one("unique_items", "items must be unique".to_string()),
        ValidationErrorKind::MinProperties { limit } => {
            one("too_short", format!("must have at least {limit} properties"))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            one("too_long", format!("must have at most {limit} properties"))
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            one("value_error", format!("{} fits none of the allowed forms", quote_value(value)))
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            one("value_error", format!("{} fits more than one of the allowed forms", quote_value(value)))
        }
        // `not`, a `false` schema, and whatever kinds a later jsonschema adds.
        _ => one("value_error", format!("{} is not allowed here", quote_value(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEFINITIONS: &str = r##"{
        "Kind": {"type": "string", "enum": ["a", "b"]},
        "Thing": {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 20},
                "url": {"type": "string", "maxLength": 12, "pattern": "^https://"},
                "kind": {"$ref": "#/$defs/Kind"},
                "when": {"type": "string", "format": "date-time"},
                "id": {"type": "string", "format": "uuid"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "uniqueItems": true}
            },
            "required": ["n"],
            "additionalProperties": false
        }
    }"##;

    fn check(value: Value) -> Vec<Violation> {
        let validator = SchemaValidator::new(DEFINITIONS, r##"{"$ref": "#/$defs/Thing"}"##);
        validator.violations("body", &value).unwrap()
    }

    fn summary(violations: &[Violation]) -> Vec<(String, String)> {
        let loc = |v: &Violation| v.loc.iter().map(ToString::to_string).collect::<Vec<_>>().join(".");
        violations.iter().map(|v| (loc(v), v.kind.clone())).collect()
    }

    #[test]
    fn a_valid_value_has_no_violations() {
        assert!(check(json!({"n": 20, "url": "https://a.b", "kind": "a", "tags": ["x"]})).is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once_at_its_location() {
        let found = check(json!({
            "n": 21, "url": "http://example.com/long", "kind": "c", "extra": 1,
            "when": "yesterday", "id": "not-a-uuid", "tags": ["x", "x", "y"]
        }));
        let mut got = summary(&found);
        got.sort();
        let mut want: Vec<(String, String)> = [
            ("body.extra", "extra_forbidden"),
            ("body.id", "format"),
            ("body.kind", "enum"),
            ("body.n", "range"),
            ("body.tags", "too_long"),
            ("body.tags", "unique_items"),
            ("body.url", "pattern"),
            ("body.url", "string_too_long"),
            ("body.when", "format"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        want.sort();
        assert_eq!(got, want);
        let range = found.iter().find(|v| v.kind == "range").unwrap();
        assert_eq!(range.msg, "must be at most 20, not 21");
    }

    #[test]
    fn a_missing_field_is_located_at_the_field() {
        assert_eq!(summary(&check(json!({}))), [("body.n".to_string(), "missing".to_string())]);
        assert_eq!(summary(&check(json!("x"))), [("body".to_string(), "type_error".to_string())]);
    }

    /// Each kind of problem the validator can report, with the kind and message a client gets.
    #[test]
    fn each_kind_of_problem_has_its_own_kind_and_message() {
        let cases = [
            (json!({"const": "a"}), json!("b"), "enum", r#""b" is not "a""#),
            (json!({"minimum": 1}), json!(0), "range", "must be at least 1, not 0"),
            (json!({"maximum": 1}), json!(2), "range", "must be at most 1, not 2"),
            (json!({"exclusiveMinimum": 1}), json!(1), "range", "must be greater than 1, not 1"),
            (json!({"exclusiveMaximum": 1}), json!(1), "range", "must be less than 1, not 1"),
            (json!({"multipleOf": 5}), json!(7), "multiple_of", "must be a multiple of 5, not 7"),
            (json!({"minLength": 3}), json!("ab"), "string_too_short", "must be at least 3 characters long"),
            (json!({"maxLength": 1}), json!("ab"), "string_too_long", "must be at most 1 characters long"),
            (json!({"minItems": 2}), json!([1]), "too_short", "must have at least 2 items"),
            (json!({"maxItems": 1}), json!([1, 2]), "too_long", "must have at most 1 items"),
            (json!({"uniqueItems": true}), json!([1, 1]), "unique_items", "items must be unique"),
            (json!({"minProperties": 1}), json!({}), "too_short", "must have at least 1 properties"),
            (json!({"maxProperties": 1}), json!({"a": 1, "b": 2}), "too_long", "must have at most 1 properties"),
            (json!({"pattern": "^x"}), json!("y"), "pattern", r#""y" does not match the pattern ^x"#),
            (json!({"format": "uuid"}), json!("u"), "format", r#""u" is not a valid uuid"#),
            (json!({"enum": [1, 2]}), json!(3), "enum", "3 is not one of [1,2]"),
            (json!({"type": ["string", "null"]}), json!(1), "type_error", "expected null or string, got 1"),
            (
                json!({"anyOf": [{"type": "string"}, {"type": "boolean"}]}),
                json!(1),
                "value_error",
                "1 fits none of the allowed forms",
            ),
            (
                json!({"oneOf": [{"type": "string"}, {"type": "boolean"}]}),
                json!(1),
                "value_error",
                "1 fits none of the allowed forms",
            ),
            (
                json!({"oneOf": [{"type": "integer"}, {"minimum": 0}]}),
                json!(1),
                "value_error",
                "1 fits more than one of the allowed forms",
            ),
            (json!({"not": {"type": "integer"}}), json!(1), "value_error", "1 is not allowed here"),
            (json!(false), json!(1), "value_error", "1 is not allowed here"),
        ];
        for (schema, value, kind, msg) in cases {
            let validator = SchemaValidator::new("{}", &schema.to_string());
            let found = validator.violations("query", &value).unwrap();
            let got: Vec<(&str, &str)> = found.iter().map(|v| (v.kind.as_str(), v.msg.as_str())).collect();
            assert_eq!(got, [(kind, msg)], "{schema} with {value}");
            assert_eq!(found[0].loc, [LocSegment::Name("query".into())], "{schema}");
        }
        let unexpected = SchemaValidator::new("{}", r#"{"properties": {"x": {}}, "additionalProperties": false}"#)
            .violations("body", &json!({"a": 1, "b": 2}))
            .unwrap();
        assert_eq!(
            summary(&unexpected),
            [("body.a".into(), "extra_forbidden".into()), ("body.b".into(), "extra_forbidden".into())]
        );
        let unevaluated = SchemaValidator::new("{}", r#"{"properties": {"x": {}}, "unevaluatedProperties": false}"#)
            .violations("body", &json!({"c": [1]}))
            .unwrap();
        assert_eq!(unevaluated[0].msg, "unknown field `c`");
    }

    #[test]
    fn a_huge_value_is_not_echoed() {
        let found = check(json!({"n": 1, "url": "h".repeat(100_000)}));
        assert!(found.iter().all(|v| v.msg.len() < 200), "{found:?}");
    }

    #[test]
    fn a_broken_schema_is_an_error_not_a_panic() {
        let validator = SchemaValidator::new("{}", r#"{"type": 12}"#);
        assert!(
            validator.error().is_some_and(|e| e.starts_with("the schema does not compile")),
            "{:?}",
            validator.error()
        );
        assert!(validator.violations("body", &json!(1)).is_err());
        assert!(SchemaValidator::new("not json", "{}").error().is_some_and(|e| e.starts_with("definitions: ")));
        assert_eq!(SchemaValidator::new("{}", r#"{"type": "integer"}"#).error(), None);
    }
}
