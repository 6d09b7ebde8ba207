//! What a served document needs beyond what dropshot emits: the generator records the document's
//! security and its responses' links (which dropshot cannot express) as JSON constants beside the
//! trait (`SECURITY_JSON`, `RESPONSE_LINKS_JSON`), and these functions put them back into the
//! document dropshot builds.

use serde_json::{Value, json};

/// Adds the security the generator recorded (`{"securitySchemes": {..}, "operations":
/// {"<operationId>": [<requirement>..]}}`): the schemes, and each operation's requirements.
pub fn add_security(document: &mut Value, security: &Value) {
    if let Some(schemes) = security.get("securitySchemes").filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
        && let Some(map) = document.as_object_mut()
    {
        let components = map.entry("components").or_insert(json!({}));
        components["securitySchemes"] = schemes.clone();
    }
    let Some(operations) = security.get("operations").and_then(Value::as_object) else { return };
    for op in operations_mut(document) {
        let id = op.get("operationId").and_then(Value::as_str).map(str::to_string);
        if let Some(requirements) = id.and_then(|id| operations.get(&id)) {
            op["security"] = requirements.clone();
        }
    }
}

/// Adds the links the generator recorded (`{"<operationId>": {"<status>": {"<name>": <link>}}}`)
/// to the responses that have them.
pub fn add_links(document: &mut Value, links: &Value) {
    let Some(by_operation) = links.as_object() else { return };
    for op in operations_mut(document) {
        let id = op.get("operationId").and_then(Value::as_str).unwrap_or_default().to_string();
        let Some(statuses) = by_operation.get(&id).and_then(Value::as_object) else { continue };
        for (status, links) in statuses {
            if let Some(response) = op.pointer_mut(&format!("/responses/{status}")).and_then(Value::as_object_mut) {
                response.insert("links".into(), links.clone());
            }
        }
    }
}

fn operations_mut(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    document
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| {
            matches!(method.as_str(), "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace")
        })
        .map(|(_, op)| op)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({"paths": {"/a": {
            "parameters": [],
            "post": {"operationId": "make", "responses": {"200": {"description": "made"}}},
            "get": {"operationId": "read", "responses": {"200": {"description": "read"}}}
        }}})
    }

    #[test]
    fn security_goes_on_each_operation_and_the_schemes_in_components() {
        let mut doc = document();
        let security = json!({"securitySchemes": {"t": {"type": "http", "scheme": "bearer"}},
                              "operations": {"make": [{"t": []}], "read": []}});
        add_security(&mut doc, &security);
        assert_eq!(doc["paths"]["/a"]["post"]["security"], json!([{"t": []}]));
        assert_eq!(doc["paths"]["/a"]["get"]["security"], json!([]));
        assert_eq!(doc["components"]["securitySchemes"]["t"]["scheme"], "bearer");
    }

    #[test]
    fn links_go_on_their_responses() {
        let mut doc = document();
        add_links(&mut doc, &json!({"make": {"200": {"Read": {"operationId": "read"}}}, "gone": {"200": {}}}));
        assert_eq!(doc["paths"]["/a"]["post"]["responses"]["200"]["links"]["Read"]["operationId"], "read");
        assert!(doc["paths"]["/a"]["get"]["responses"]["200"].get("links").is_none());
    }
}
