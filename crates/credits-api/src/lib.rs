//! The credits API as a dropshot API trait (`CreditsApi`) and the types it uses.
//!
//! `generated.rs` is written by `cargo xtask codegen` from `openapi/credits.json` and never edited
//! by hand; it re-exports the runtime crate `dropshot-codegen-runtime` as `support`. `envelope.rs`
//! beside it is the one hand-written part: how failures that dropshot and the generated
//! extractors detect (unparsable bodies, schema violations) are reported in the API's envelope.

mod envelope;
// Formatted by the generator (prettyplease), not by rustfmt; documented as the spec is.
#[rustfmt::skip]
#[allow(missing_docs)]
mod generated;

pub use envelope::{Envelope, error_type_for_status};
pub use generated::*;
