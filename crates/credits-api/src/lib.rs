//! The credits API as a dropshot API trait (`CreditsApi`) and the types it uses.
//!
//! `generated.rs` is written by `cargo xtask codegen` from `openapi/credits.json` and never edited
//! by hand. `envelope.rs` beside it is the one hand-written part: how failures that dropshot itself
//! detects (unparsable bodies, bad parameters) are reported in the API's error envelope.

mod envelope;
// Formatted by the generator (prettyplease), not by rustfmt.
#[rustfmt::skip]
mod generated;

pub use envelope::error_type_for_status;
pub use generated::*;
