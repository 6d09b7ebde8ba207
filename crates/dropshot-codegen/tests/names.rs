//! Names the generator makes up never collide with the spec's, nor with each other.

use std::collections::BTreeMap;

use serde_json::json;

fn generated_items(spec: &serde_json::Value) -> syn::File {
    let generated = dropshot_codegen::generate(spec, &dropshot_codegen::Settings::default()).expect("generates");
    syn::parse_file(&generated.source).expect("the output parses")
}

/// Root items and trait methods, by name, with how often each appears.
fn name_counts(file: &syn::File) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in &file.items {
        let name = match item {
            syn::Item::Struct(s) => s.ident.to_string(),
            syn::Item::Enum(e) => e.ident.to_string(),
            syn::Item::Trait(t) => {
                for method in &t.items {
                    if let syn::TraitItem::Fn(f) = method {
                        *counts.entry(format!("fn {}", f.sig.ident)).or_insert(0) += 1;
                    }
                }
                t.ident.to_string()
            }
            syn::Item::Type(t) => t.ident.to_string(),
            syn::Item::Mod(m) => format!("mod {}", m.ident),
            _ => continue,
        };
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

#[test]
fn schemas_named_like_generated_types_and_similar_operation_ids_do_not_collide() {
    let error = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}});
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "Things", "version": "1.0.0"},
        "paths": {
            "/things/{id}": {"get": {
                "operationId": "get_thing2",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                               {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GetThing2Response"}}}}, "404": error}
            }},
            "/other": {"get": {
                "operationId": "getThing2",
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingsApi"}}}}, "404": error}
            }}
        },
        "components": {"schemas": {
            "GetThing2Response": {"type": "object", "properties": {"name": {"type": "string"}}},
            "GetThing2Path": {"type": "string"},
            "ThingsApi": {"type": "string"},
            "ApiError": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
            "QueryParams": {"type": "integer"}
        }}
    });
    let counts = name_counts(&generated_items(&spec));
    let duplicates: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicate names: {duplicates:?}");
    assert!(counts.contains_key("fn get_thing2") && counts.contains_key("fn get_thing2_2"), "{counts:?}");
    assert!(counts.contains_key("ThingsApiTrait"), "{counts:?}");
}

/// Constructs the generator cannot turn into dropshot are reported, each with its JSON pointer,
/// rather than dropped.
#[test]
fn inexpressible_responses_and_parameters_are_reported() {
    let body = json!({"application/json": {"schema": {"type": "string"}}});
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {"/a": {"get": {
            "operationId": "a",
            "parameters": [{"name": "X-Tags", "in": "header", "schema": {"type": "array", "items": {"type": "string"}}}],
            "responses": {
                "200": {"description": "ok", "content": body, "headers": {"X-Rate": {"schema": {"type": "object"}}}},
                "default": {"description": "anything else", "content": body}
            }
        }}}
    });
    let error = dropshot_codegen::generate(&spec, &dropshot_codegen::Settings::default()).expect_err("not expressible");
    let dropshot_codegen::Error::Unsupported(found) = error else { panic!("{error}") };
    let pointers: Vec<&str> = found.iter().map(|u| u.pointer.as_str()).collect();
    for expected in [
        "/paths/~1a/get/parameters/0/schema",
        "/paths/~1a/get/responses/200/headers/X-Rate/schema",
        "/paths/~1a/get/responses/default",
    ] {
        assert!(pointers.contains(&expected), "{expected} not in {found:?}");
    }
}
