//! What every API crate made by `dropshot-codegen` needs at run time, written once as ordinary,
//! tested Rust rather than inside the generator's templates.
//!
//! - [`ApiError`] and [`FromHttpError`]: the spec's own error body as dropshot's error type.
//! - [`Credentials`]: the spec's security schemes, refused with 401 before a handler runs.
//! - [`PathParams`], [`QueryParams`], [`HeaderParams`], [`JsonBody`]: dropshot's extractors, plus
//!   validation of the values against the spec's schemas ([`Schema`]), every problem at once
//!   ([`Violation`], carried to the error body by [`rejection`] and [`violations_of`]).
//! - [`add_security`], [`add_links`]: what the generator recorded of the document that dropshot
//!   cannot express, put back into the document a server serves.
//!
//! Generated crates in this workspace depend on this crate. A standalone crate written by
//! `generate-api --out DIR` cannot, so it embeds the same source as a module: [`code`] returns it,
//! the way `progenitor_client::code()` does. Modules therefore refer to each other through
//! `super::`, never `crate::`.

#[cfg(feature = "server")]
mod body;
#[cfg(feature = "server")]
mod credentials;
mod document;
#[cfg(feature = "server")]
mod error;
#[cfg(feature = "server")]
mod params;
#[cfg(feature = "server")]
mod rejection;
mod validator;
mod violation;

#[cfg(feature = "server")]
pub use body::*;
#[cfg(feature = "server")]
pub use credentials::*;
pub use document::*;
#[cfg(feature = "server")]
pub use error::*;
#[cfg(feature = "server")]
pub use params::*;
#[cfg(feature = "server")]
pub use rejection::*;
pub use validator::*;
pub use violation::*;

/// Each module's name and source, in the order [`code`] writes them.
const MODULES: &[(&str, &str)] = &[
    ("body", include_str!("body.rs")),
    ("credentials", include_str!("credentials.rs")),
    ("document", include_str!("document.rs")),
    ("error", include_str!("error.rs")),
    ("params", include_str!("params.rs")),
    ("rejection", include_str!("rejection.rs")),
    ("validator", include_str!("validator.rs")),
    ("violation", include_str!("violation.rs")),
];

/// This crate's source as one module body, for a generated crate that cannot depend on it: write
/// it to `src/runtime.rs` and declare `mod runtime;`.
pub fn code() -> String {
    let mut out = String::from(
        "//! What the generated API needs at run time: the source of the `dropshot-codegen-runtime` crate,\n\
         //! embedded by `generate-api`. Do not edit: regenerate.\n\n",
    );
    for (name, _) in MODULES {
        out.push_str(&format!("pub use self::{name}::*;\n"));
    }
    for (name, source) in MODULES {
        out.push_str(&format!("\npub mod {name} {{\n{source}}}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_code_holds_every_module() {
        let code = super::code();
        for (name, _) in super::MODULES {
            assert!(code.contains(&format!("pub mod {name} {{")), "{name} missing");
        }
        assert!(!code.contains("crate::"), "embedded modules must refer to each other through super::");
    }
}
