//! Test data: the dropshot API trait generated from `tests/corpus/keeper.json` (see the README there).

// Formatted by the generator (prettyplease), not by rustfmt.
#[rustfmt::skip]
mod generated;

pub use generated::*;
