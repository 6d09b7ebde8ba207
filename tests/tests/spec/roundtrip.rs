//! The trait generated from `openapi/credits.json` emits a document that means the same as the file.

use crate::helpers::{assert_same_meaning, credits_pair};

#[test]
fn credits_trait_round_trips_to_the_spec() {
    let (spec, emitted) = credits_pair();
    assert_same_meaning(&spec, &emitted, "openapi/credits.json");
}
