//! The round-trip comparison catches drift: each mutation of the spec, compared with the trait
//! generated from the unmutated spec, must be reported.

use serde_json::{Value, json};

use crate::helpers::credits_pair;

const CHECKOUT: &str = "/api/v1/org/{org}/credits/checkout";

fn schema<'a>(spec: &'a mut Value, name: &str) -> &'a mut Value {
    &mut spec["components"]["schemas"][name]
}

/// A named change to the spec.
type Mutation = (&'static str, fn(&mut Value));

fn mutations() -> Vec<Mutation> {
    vec![
        ("quantity maximum raised to 20", |s| {
            schema(s, "CreateCheckoutSessionRequest")["properties"]["quantity"]["maximum"] = json!(20);
        }),
        ("success_url no longer required", |s| {
            schema(s, "CreateCheckoutSessionRequest")["required"] = json!(["cancel_url"]);
        }),
        ("checkout_url renamed to url", |s| {
            let props = schema(s, "CheckoutSessionResponse")["properties"].as_object_mut().unwrap();
            let value = props.remove("checkout_url").unwrap();
            props.insert("url".into(), value);
            schema(s, "CheckoutSessionResponse")["required"] = json!(["url", "session_id"]);
        }),
        ("transaction amount becomes a string", |s| {
            schema(s, "CreditTransaction")["properties"]["amount"] =
                json!({"type": "string", "description": "Credits added (positive) or taken (negative)"});
        }),
        ("get_credit_balance removed", |s| {
            s["paths"].as_object_mut().unwrap().remove("/api/v1/org/{org}/credits");
        }),
        ("balance path moved to /api/v2", |s| {
            let paths = s["paths"].as_object_mut().unwrap();
            let item = paths.remove("/api/v1/org/{org}/credits").unwrap();
            paths.insert("/api/v2/org/{org}/credits".into(), item);
        }),
        ("404 of checkout given another schema", |s| {
            s["paths"][CHECKOUT]["post"]["responses"]["404"] =
                json!({"description": "Not found", "content": {"application/json": {"schema": {"type": "string"}}}});
        }),
        ("security removed", |s| {
            s.as_object_mut().unwrap().remove("security");
        }),
        ("quantity default changed", |s| {
            schema(s, "CreateCheckoutSessionRequest")["properties"]["quantity"]["default"] = json!(2);
        }),
        ("a transaction type added", |s| {
            schema(s, "CreditTransactionType")["enum"].as_array_mut().unwrap().push(json!("gift"));
        }),
        ("quantity description changed", |s| {
            schema(s, "CreateCheckoutSessionRequest")["properties"]["quantity"]["description"] = json!("How many");
        }),
        ("success description changed", |s| {
            s["paths"][CHECKOUT]["post"]["responses"]["200"]["description"] = json!("OK");
        }),
    ]
}

#[test]
fn every_mutation_of_the_spec_is_detected() {
    let (spec, emitted) = credits_pair();
    assert!(openapi_compare::diff(&spec, &emitted).is_none(), "the unmutated spec must match");
    let mut missed = Vec::new();
    for (name, mutate) in mutations() {
        let mut mutated = spec.clone();
        mutate(&mut mutated);
        assert_ne!(mutated, spec, "mutation {name:?} changed nothing");
        if openapi_compare::diff(&mutated, &emitted).is_none() {
            missed.push(name);
        }
    }
    assert!(missed.is_empty(), "drift not detected: {missed:?}");
}

/// The generator itself sees each mutation too: regenerating from the mutated spec changes the
/// generated code (or is refused), which `cargo xtask codegen --check` reports as stale.
#[test]
fn every_mutation_changes_the_generated_code() {
    let (spec, _) = credits_pair();
    let settings = dropshot_codegen::Settings::default();
    let original = dropshot_codegen::generate(&spec, &settings).expect("the spec generates").source;
    for (name, mutate) in mutations() {
        let mut mutated = spec.clone();
        mutate(&mut mutated);
        // Either the code changes, or the generator refuses the spec (one error type per operation).
        if let Ok(regenerated) = dropshot_codegen::generate(&mutated, &settings) {
            assert_ne!(regenerated.source, original, "mutation {name:?} left the generated code unchanged");
        }
    }
}
