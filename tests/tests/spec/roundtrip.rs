//! The trait generated from `openapi/credits.json` emits a document that means the same as the file.

use crate::helpers::{assert_same_meaning, credits_pair};

#[test]
fn credits_trait_round_trips_to_the_spec() {
    let (spec, emitted) = credits_pair();
    assert_same_meaning(&spec, &emitted, "openapi/credits.json");
}

/// What each normalization rule is needed for in the credits round trip: the differences it
/// hides, printed (`cargo test -p credits-tests --test spec rules_the_credits -- --nocapture`).
#[test]
fn rules_the_credits_round_trip_needs() {
    let (spec, emitted) = credits_pair();
    let report = openapi_compare::compare(&spec, &emitted);
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    for rule in openapi_compare::OPTIONAL_RULES.iter().filter(|r| report.rules.contains_key(*r)) {
        let hidden = openapi_compare::compare_without(&spec, &emitted, rule).differences.len();
        println!("  rule {rule}: {} (needed for {hidden} differences)", report.rules[rule]);
    }
}
