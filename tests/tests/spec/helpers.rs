//! Reading spec files and building the document a generated trait emits.

use std::path::PathBuf;

use serde_json::Value;

/// A file of the workspace, by its path from the root.
pub fn workspace_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").join(relative)
}

pub fn read_json(relative: &str) -> Value {
    let path = workspace_file(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// What the generator recorded beside a trait that dropshot cannot express.
pub struct Recorded<'a> {
    pub info_json: &'a str,
    pub security_json: &'a str,
    pub links_json: &'a str,
}

/// The document dropshot builds from a generated trait's stub description, with the security and
/// links the generator recorded beside it.
pub fn emitted(
    description: dropshot::ApiDescription<dropshot::StubContext>,
    title: &str,
    version: &str,
    recorded: Recorded<'_>,
) -> Value {
    let version = dropshot::semver::Version::parse(version).unwrap_or(dropshot::semver::Version::new(0, 0, 0));
    let info: Value = serde_json::from_str(recorded.info_json).expect("generated info is JSON");
    let mut definition = description.openapi(title, version);
    // What a server declares of itself through dropshot, as the document says it.
    let text = |pointer: &str| info.pointer(pointer).and_then(Value::as_str);
    if let Some(description) = text("/description") {
        definition.description(description);
    }
    if let Some(terms) = text("/termsOfService") {
        definition.terms_of_service(terms);
    }
    if let Some(name) = text("/contact/name") {
        definition.contact_name(name);
    }
    if let Some(url) = text("/contact/url") {
        definition.contact_url(url);
    }
    if let Some(email) = text("/contact/email") {
        definition.contact_email(email);
    }
    match (text("/license/name"), text("/license/url")) {
        (Some(name), Some(url)) => {
            definition.license(name, url);
        }
        (Some(name), None) => {
            definition.license_name(name);
        }
        _ => {}
    }
    let mut document = definition.json().expect("dropshot emits a document");
    let security: Value = serde_json::from_str(recorded.security_json).expect("generated security is JSON");
    let links: Value = serde_json::from_str(recorded.links_json).expect("generated links are JSON");
    dropshot_codegen_runtime::add_security(&mut document, &security);
    dropshot_codegen_runtime::add_links(&mut document, &links);
    document
}

/// The credits spec file and the document its generated trait emits.
pub fn credits_pair() -> (Value, Value) {
    let spec = read_json("openapi/credits.json");
    let description = credits_api::credits_api_mod::stub_api_description().expect("the generated trait is a valid API");
    let recorded = Recorded {
        info_json: credits_api::API_INFO_JSON,
        security_json: credits_api::SECURITY_JSON,
        links_json: credits_api::RESPONSE_LINKS_JSON,
    };
    let emitted = emitted(description, credits_api::API_TITLE, credits_api::API_VERSION, recorded);
    (spec, emitted)
}

/// Fails with a readable diff when the two documents differ in meaning.
pub fn assert_same_meaning(spec: &Value, emitted: &Value, what: &str) {
    if let Some(diff) = openapi_compare::diff(spec, emitted) {
        panic!("{what}: the emitted document differs from the spec\n{diff}");
    }
}
