//! Rust names for things the spec names: the same rules typify uses, so that names computed here
//! match the types typify writes, plus field names that avoid keywords and each other.

use heck::{ToPascalCase, ToSnakeCase};
use serde_json::Value;

/// A type name, as typify derives it from a schema name.
pub(crate) fn type_name(input: &str) -> String {
    sanitize(&input.replace('\'', "").replace(|c: char| !is_ident_continue(c), "-").to_pascal_case(), "X")
}

/// A function or field name.
pub(crate) fn snake_name(input: &str) -> String {
    sanitize(&input.replace('\'', "").replace(|c: char| !is_ident_continue(c), "-").to_snake_case(), "x")
}

/// The name of the API trait: the document's title in Pascal case, ending in `Api`.
pub(crate) fn trait_name(spec: &Value) -> String {
    let title = spec.pointer("/info/title").and_then(Value::as_str).unwrap_or("Generated");
    let base = type_name(title);
    if base.ends_with("Api") { base } else { format!("{base}Api") }
}

fn sanitize(name: &str, prefix: &str) -> String {
    let name = match name.chars().next() {
        None => prefix.to_string(),
        Some(c) if c.is_alphabetic() || c == '_' => name.to_string(),
        Some(_) => format!("{prefix}{name}"),
    };
    if is_keyword(&name) { format!("{name}_") } else { name }
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "_" | "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

/// Words reserved by some edition that a tool written for an older one may use as identifiers
/// (and that can be raw identifiers).
pub(crate) fn is_reserved_later(s: &str) -> bool {
    matches!(
        s,
        "abstract"
            | "async"
            | "await"
            | "become"
            | "box"
            | "do"
            | "dyn"
            | "final"
            | "gen"
            | "macro"
            | "override"
            | "priv"
            | "try"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
    )
}

/// Names already given, and new ones that avoid them (`Name`, `Name2`... or `name`, `name_2`...).
pub(crate) struct Taken {
    names: std::collections::BTreeSet<String>,
    separator: &'static str,
}

impl Taken {
    /// For type names: `Name2`.
    pub(crate) fn types(taken: impl Iterator<Item = String>) -> Self {
        Taken { names: taken.collect(), separator: "" }
    }

    /// For function names: `name_2`.
    pub(crate) fn functions() -> Self {
        Taken { names: Default::default(), separator: "_" }
    }

    pub(crate) fn allocate(&mut self, base: &str) -> String {
        let mut candidate = base.to_string();
        let mut n = 2;
        while self.names.contains(&candidate) {
            candidate = format!("{base}{}{n}", self.separator);
            n += 1;
        }
        self.names.insert(candidate.clone());
        candidate
    }
}

/// Names for the handler's arguments: never `rqctx`, never two alike.
pub(crate) fn unique(base: &str, taken: &mut Vec<String>) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_typify() {
        assert_eq!(type_name("APIErrorPayload"), "ApiErrorPayload");
        assert_eq!(type_name("Array_of_Task"), "ArrayOfTask");
        assert_eq!(snake_name("key.get"), "key_get");
        assert_eq!(snake_name("header-arg"), "header_arg");
        assert_eq!(snake_name("type"), "type_");
        assert_eq!(snake_name("Idempotency-Key"), "idempotency_key");
    }
}
