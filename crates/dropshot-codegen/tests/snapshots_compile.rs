//! Every snapshot of `snapshots.rs` compiles, as a module of this test, and its trait is a valid
//! dropshot API (the stub description builds).

#[rustfmt::skip]
#[path = "snapshots/output/fixed_statuses.rs"]
mod fixed_statuses;
#[rustfmt::skip]
#[path = "snapshots/output/keywords_and_patterns.rs"]
mod keywords_and_patterns;
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
#[path = "snapshots/output/untyped_bodies.rs"]
mod untyped_bodies;
#[rustfmt::skip]
#[path = "snapshots/output/websockets.rs"]
mod websockets;

#[test]
fn every_snapshot_builds_a_valid_api() {
    if let Err(e) = fixed_statuses::fixed_statuses_api_mod::stub_api_description() {
        panic!("fixed_statuses: {e}");
    }
    if let Err(e) = keywords_and_patterns::keywords_and_patterns_api_mod::stub_api_description() {
        panic!("keywords_and_patterns: {e}");
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
    if let Err(e) = untyped_bodies::untyped_bodies_api_mod::stub_api_description() {
        panic!("untyped_bodies: {e}");
    }
    if let Err(e) = websockets::web_sockets_api_mod::stub_api_description() {
        panic!("websockets: {e}");
    }
}
