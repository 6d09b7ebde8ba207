//! The generator's errors: above all, the constructs dropshot cannot express, each named with the
//! JSON pointer where it occurs so the spec's author can find it.

use std::fmt;

/// A construct of the document that dropshot cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// What it is, in words.
    pub construct: String,
    /// Where it is: a JSON pointer into the document (RFC 6901).
    pub pointer: String,
}

impl Unsupported {
    pub(crate) fn new(construct: impl Into<String>, pointer: impl Into<String>) -> Self {
        Self { construct: construct.into(), pointer: pointer.into() }
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.construct, self.pointer)
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not an OpenAPI 3.0 document (openapiv3's own message).
    #[error("not an OpenAPI 3.0 document: {0}")]
    InvalidDocument(String),
    /// Constructs dropshot cannot express, each with its JSON pointer.
    #[error("dropshot cannot express:\n{}", list(.0))]
    Unsupported(Vec<Unsupported>),
    /// typify could not turn a schema into Rust types.
    #[error("schema conversion failed: {0}")]
    Types(String),
    /// The generator's own output did not hold together (a bug to report).
    #[error("internal generator error: {0}")]
    Internal(String),
}

fn list(items: &[Unsupported]) -> String {
    items.iter().map(|u| format!("  - {u}")).collect::<Vec<_>>().join("\n")
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub(crate) fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
