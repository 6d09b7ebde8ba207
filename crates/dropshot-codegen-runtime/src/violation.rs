//! One way a request breaks the spec: where (`loc`, starting with `body`, `query`, `path` or
//! `header`), what (`type`, a stable word), and a message for people. Every extractor reports
//! its problems as a list of these, so the API's error body can carry them all at once.

use serde::{Deserialize, Serialize};

/// A problem with a request, at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Where: the part of the request (`body`, `query`, `path`, `header`), then the names and
    /// indices that lead to the value.
    pub loc: Vec<LocSegment>,
    /// What is wrong, for people.
    pub msg: String,
    /// What is wrong, as a stable word: `missing`, `type_error`, `range`, `enum`, `pattern`...
    #[serde(rename = "type")]
    pub kind: String,
}

/// One step of a [`Violation`]'s location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LocSegment {
    /// An index in an array.
    Index(u64),
    /// A name: the request part, a property, a parameter.
    Name(String),
}

impl std::fmt::Display for LocSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocSegment::Index(i) => write!(f, "{i}"),
            LocSegment::Name(n) => f.write_str(n),
        }
    }
}

impl Violation {
    /// A problem at `loc`.
    pub fn new(loc: Vec<LocSegment>, kind: &str, msg: impl Into<String>) -> Self {
        Violation { loc, msg: msg.into(), kind: kind.to_string() }
    }

    /// A problem serde met while reading a value that the schema allowed (or that no schema
    /// describes), classified by serde's own words.
    pub fn from_serde(loc: Vec<LocSegment>, message: &str) -> Self {
        // serde_json appends " at line L column C", which says nothing the location does not.
        let message = message.split(" at line ").next().unwrap_or(message);
        let kind =
            SERDE_PROBLEMS.iter().find(|(prefix, _)| message.starts_with(prefix)).map_or("value_error", |(_, k)| k);
        let mut loc = loc;
        if kind == "missing"
            && let Some(field) = message.split('`').nth(1)
        {
            loc.push(LocSegment::Name(field.to_string()));
        }
        Violation::new(loc, kind, message)
    }
}

/// serde's messages for data that does not fit a type, and the `type` each becomes.
const SERDE_PROBLEMS: &[(&str, &str)] = &[
    ("missing field", "missing"),
    ("invalid type", "type_error"),
    ("invalid value", "value_error"),
    ("invalid length", "value_error"),
    ("unknown variant", "enum"),
    ("unknown field", "extra_forbidden"),
    ("duplicate field", "value_error"),
];

/// A value as quoted in a message: cut short, so that a large input is never echoed back whole.
pub fn quote_value(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> LocSegment {
        LocSegment::Name(s.to_string())
    }

    #[test]
    fn serde_problems_are_classified() {
        let v = Violation::from_serde(vec![name("body")], "missing field `success_url` at line 1 column 2");
        assert_eq!((v.kind.as_str(), v.loc), ("missing", vec![name("body"), name("success_url")]));
        assert_eq!(v.msg, "missing field `success_url`");
        let v = Violation::from_serde(vec![name("query"), name("limit")], "invalid digit found in string");
        assert_eq!(v.kind, "value_error");
        let v = Violation::from_serde(vec![name("query")], "unknown variant `gift`, expected `purchase`");
        assert_eq!(v.kind, "enum");
    }

    #[test]
    fn locations_serialize_as_names_and_indices() {
        let v = Violation::new(vec![name("body"), LocSegment::Index(2)], "range", "too big");
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json, serde_json::json!({"loc": ["body", 2], "msg": "too big", "type": "range"}));
        assert_eq!(serde_json::from_value::<Violation>(json).unwrap(), v);
    }

    #[test]
    fn quoted_values_are_short() {
        let long = serde_json::Value::String("x".repeat(10_000));
        assert!(quote_value(&long).len() < 70);
        assert_eq!(quote_value(&serde_json::json!(15)), "15");
    }
}
