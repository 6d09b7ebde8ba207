//! Every snapshot of `snapshots.rs` compiles, as a module of this test, and its trait is a valid
//! dropshot API (the stub description builds).

#[rustfmt::skip]
#[path = "snapshots/output/any_of_schema.rs"]
mod any_of_schema;
#[rustfmt::skip]
#[path = "snapshots/output/fixed_statuses.rs"]
mod fixed_statuses;
#[rustfmt::skip]
#[path = "snapshots/output/keywords_and_patterns.rs"]
mod keywords_and_patterns;
#[rustfmt::skip]
#[path = "snapshots/output/name_or_id.rs"]
mod name_or_id;
#[rustfmt::skip]
#[path = "snapshots/output/nested_nullable_reference.rs"]
mod nested_nullable_reference;
#[rustfmt::skip]
#[path = "snapshots/output/nullable_format.rs"]
mod nullable_format;
#[rustfmt::skip]
#[path = "snapshots/output/one_value_tag.rs"]
mod one_value_tag;
#[rustfmt::skip]
#[path = "snapshots/output/open_objects.rs"]
mod open_objects;
#[rustfmt::skip]
#[path = "snapshots/output/operation_metadata.rs"]
mod operation_metadata;
#[rustfmt::skip]
#[path = "snapshots/output/pagination.rs"]
mod pagination;
#[rustfmt::skip]
#[path = "snapshots/output/parameter_schemas.rs"]
mod parameter_schemas;
#[rustfmt::skip]
#[path = "snapshots/output/response_headers.rs"]
mod response_headers;
#[rustfmt::skip]
#[path = "snapshots/output/schema_metadata.rs"]
mod schema_metadata;
#[rustfmt::skip]
#[path = "snapshots/output/untyped_bodies.rs"]
mod untyped_bodies;
#[rustfmt::skip]
#[path = "snapshots/output/websockets.rs"]
mod websockets;

#[test]
fn every_snapshot_builds_a_valid_api() {
    if let Err(e) = any_of_schema::any_of_schema_api_mod::stub_api_description() {
        panic!("any_of_schema: {e}");
    }
    if let Err(e) = nested_nullable_reference::nested_nullable_reference_api_mod::stub_api_description() {
        panic!("nested_nullable_reference: {e}");
    }
    if let Err(e) = nullable_format::nullable_format_api_mod::stub_api_description() {
        panic!("nullable_format: {e}");
    }
    if let Err(e) = one_value_tag::one_value_tag_api_mod::stub_api_description() {
        panic!("one_value_tag: {e}");
    }
    if let Err(e) = open_objects::open_objects_api_mod::stub_api_description() {
        panic!("open_objects: {e}");
    }
    if let Err(e) = fixed_statuses::fixed_statuses_api_mod::stub_api_description() {
        panic!("fixed_statuses: {e}");
    }
    if let Err(e) = keywords_and_patterns::keywords_and_patterns_api_mod::stub_api_description() {
        panic!("keywords_and_patterns: {e}");
    }
    if let Err(e) = name_or_id::name_or_id_parameters_api_mod::stub_api_description() {
        panic!("name_or_id: {e}");
    }
    if let Err(e) = operation_metadata::operation_metadata_api_mod::stub_api_description() {
        panic!("operation_metadata: {e}");
    }
    if let Err(e) = pagination::pagination_api_mod::stub_api_description() {
        panic!("pagination: {e}");
    }
    if let Err(e) = parameter_schemas::parameter_schemas_api_mod::stub_api_description() {
        panic!("parameter_schemas: {e}");
    }
    if let Err(e) = response_headers::response_headers_api_mod::stub_api_description() {
        panic!("response_headers: {e}");
    }
    if let Err(e) = schema_metadata::schema_metadata_api_mod::stub_api_description() {
        panic!("schema_metadata: {e}");
    }
    if let Err(e) = untyped_bodies::untyped_bodies_api_mod::stub_api_description() {
        panic!("untyped_bodies: {e}");
    }
    if let Err(e) = websockets::web_sockets_api_mod::stub_api_description() {
        panic!("websockets: {e}");
    }
}

/// A name-or-id parameter: dropshot registers it (a `oneOf` of scalars), serves it as the spec's
/// `oneOf`, and reads either alternative from a path segment.
#[test]
fn a_name_or_id_parameter_is_a_one_of_that_reads_either_alternative() {
    let api = name_or_id::name_or_id_parameters_api_mod::stub_api_description().expect("a valid API");
    let document = api.openapi("name or id", dropshot::semver::Version::new(1, 0, 0)).json().expect("a document");
    let parameter = &document["paths"]["/projects/{project}"]["get"]["parameters"][0];
    assert_eq!(parameter["schema"]["$ref"], "#/components/schemas/NameOrId", "{parameter}");
    let alternatives = document["components"]["schemas"]["NameOrId"]["oneOf"].as_array().expect("a oneOf");
    let titles: Vec<&str> = alternatives.iter().map(|a| a["title"].as_str().unwrap_or_default()).collect();
    assert_eq!(titles, ["id", "name"]);
    assert_eq!(alternatives[1]["allOf"][0]["$ref"], "#/components/schemas/Name", "{alternatives:?}");
    let name = &document["components"]["schemas"]["Name"];
    assert_eq!((name["type"].as_str(), name["maxLength"].as_u64()), (Some("string"), Some(63)), "{name}");
    assert!(name["pattern"].as_str().is_some_and(|p| p.starts_with("^(?!")), "{name}");

    let read = |segment: &str| -> name_or_id::NameOrId {
        serde_json::from_value(serde_json::Value::String(segment.to_string())).expect("either alternative")
    };
    assert!(matches!(read("0b6f0bc6-1c8f-4c9e-8d5c-0a3f9f6f2f11"), name_or_id::NameOrId::Id(_)));
    assert!(matches!(read("my-project"), name_or_id::NameOrId::Name(_)));
}

/// What typify drops from a dropshot-made document's schemas (descriptions of variants and of a
/// variant's content, titles, stated defaults, unique items, `format: uint`, a format no Rust type
/// stands for, array lengths, an extension) comes back: the schemas and the parameters dropshot
/// emits are the input's, as written.
#[test]
fn schema_metadata_round_trips_as_written() {
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("snapshots/specs/schema_metadata.json")).expect("the spec is JSON");
    let api = schema_metadata::schema_metadata_api_mod::stub_api_description().expect("a valid API");
    let document = api.openapi("Schema metadata", dropshot::semver::Version::new(1, 0, 0)).json().expect("a document");
    assert_eq!(
        serde_json::to_string_pretty(&document["components"]["schemas"]).unwrap(),
        serde_json::to_string_pretty(&spec["components"]["schemas"]).unwrap()
    );
    let parameters = "/paths/~1things~1{id}/get/parameters";
    assert_eq!(document.pointer(parameters), spec.pointer(parameters));
}

/// The schemas of a snapshot's document, as dropshot emits them for its trait and as its spec
/// writes them.
fn emitted_and_written_schemas(
    api: dropshot::ApiDescription<dropshot::StubContext>,
    spec: &str,
) -> (serde_json::Value, serde_json::Value) {
    let spec: serde_json::Value = serde_json::from_str(spec).expect("the spec is JSON");
    let document = api.openapi("snapshot", dropshot::semver::Version::new(1, 0, 0)).json().expect("a document");
    (document["components"]["schemas"].clone(), spec["components"]["schemas"].clone())
}

/// Schemas the derive cannot say (an `anyOf`, objects open to other properties, a one-value tag
/// typify reads as an external tag, a nested nullable reference, a nullable string of a format no
/// Rust type stands for): dropshot emits each as the spec writes it.
#[test]
fn schemas_the_derive_cannot_say_round_trip_as_written() {
    let cases = [
        (
            "any_of_schema",
            any_of_schema::any_of_schema_api_mod::stub_api_description(),
            include_str!("snapshots/specs/any_of_schema.json"),
        ),
        (
            "nested_nullable_reference",
            nested_nullable_reference::nested_nullable_reference_api_mod::stub_api_description(),
            include_str!("snapshots/specs/nested_nullable_reference.json"),
        ),
        (
            "nullable_format",
            nullable_format::nullable_format_api_mod::stub_api_description(),
            include_str!("snapshots/specs/nullable_format.json"),
        ),
        (
            "one_value_tag",
            one_value_tag::one_value_tag_api_mod::stub_api_description(),
            include_str!("snapshots/specs/one_value_tag.json"),
        ),
        (
            "open_objects",
            open_objects::open_objects_api_mod::stub_api_description(),
            include_str!("snapshots/specs/open_objects.json"),
        ),
    ];
    for (name, api, spec) in cases {
        let (emitted, written) = emitted_and_written_schemas(api.expect("a valid API"), spec);
        assert_eq!(emitted, written, "{name}: emitted {}", serde_json::to_string_pretty(&emitted).unwrap());
    }
}
