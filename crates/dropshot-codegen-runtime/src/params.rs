//! Parameters read like dropshot's `Path`, `Query` and `Header`, then checked against the spec's
//! schema for their location, so that every bound the spec states (a range, a length, a pattern,
//! a format) is enforced before the handler runs.
//!
//! Query parameters are read differently from dropshot's `Query`: a repeated key (`?t=a&t=b`)
//! fills an array, and a value that does not parse is reported with its parameter's name.
//! dropshot registers only scalar query parameters, so they are declared to it as `D`: `T`
//! itself, or `T` with each array given as its items.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::rejection::{rejection, serde_location, validate};
use super::validator::Schema;
use super::violation::Violation;

/// The page selector of a paginated operation's `PaginationParams`: the spec does not describe
/// what a page token holds, so the generated declaration leaves it open.
pub type PageSelector = serde_json::Value;

/// Path parameters `T`, checked against their schema.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

/// Query parameters `T` (declared to dropshot as `D`), checked against their schema.
#[derive(Debug)]
pub struct QueryParams<T, D = T>(pub T, std::marker::PhantomData<D>);

/// Header parameters `T`, checked against their schema.
#[derive(Debug)]
pub struct HeaderParams<T>(pub T);

impl<T> PathParams<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T, D> QueryParams<T, D> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> HeaderParams<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[async_trait::async_trait]
impl<T> dropshot::SharedExtractor for PathParams<T>
where
    T: DeserializeOwned + Serialize + schemars::JsonSchema + Schema + Send + Sync + 'static,
{
    async fn from_request<Context: dropshot::ServerContext>(
        rqctx: &dropshot::RequestContext<Context>,
    ) -> Result<Self, dropshot::HttpError> {
        let params = <dropshot::Path<T> as dropshot::SharedExtractor>::from_request(rqctx).await?.into_inner();
        validate("path", &params)?;
        Ok(PathParams(params))
    }

    fn metadata(content_type: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
        <dropshot::Path<T> as dropshot::SharedExtractor>::metadata(content_type)
    }
}

#[async_trait::async_trait]
impl<T> dropshot::SharedExtractor for HeaderParams<T>
where
    T: DeserializeOwned + Serialize + schemars::JsonSchema + Schema + Send + Sync + 'static,
{
    async fn from_request<Context: dropshot::ServerContext>(
        rqctx: &dropshot::RequestContext<Context>,
    ) -> Result<Self, dropshot::HttpError> {
        let params = <dropshot::Header<T> as dropshot::SharedExtractor>::from_request(rqctx).await?.into_inner();
        validate("header", &params)?;
        Ok(HeaderParams(params))
    }

    fn metadata(content_type: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
        <dropshot::Header<T> as dropshot::SharedExtractor>::metadata(content_type)
    }
}

impl<T: DeserializeOwned + Serialize + Schema, D> QueryParams<T, D> {
    /// Reads and checks the parameters of a query string (without the `?`).
    pub fn parse(query: &str) -> Result<Self, dropshot::HttpError> {
        let deserializer = serde_html_form::Deserializer::from_bytes(query.as_bytes());
        let params: T = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let loc = serde_location("query", e.path());
            rejection(&[Violation::from_serde(loc, &e.inner().to_string())])
        })?;
        validate("query", &params)?;
        Ok(QueryParams(params, std::marker::PhantomData))
    }
}

#[async_trait::async_trait]
impl<T, D> dropshot::SharedExtractor for QueryParams<T, D>
where
    T: DeserializeOwned + Serialize + Schema + Send + Sync + 'static,
    D: DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static,
{
    async fn from_request<Context: dropshot::ServerContext>(
        rqctx: &dropshot::RequestContext<Context>,
    ) -> Result<Self, dropshot::HttpError> {
        Self::parse(rqctx.request.uri().query().unwrap_or(""))
    }

    fn metadata(content_type: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
        <dropshot::Query<D> as dropshot::SharedExtractor>::metadata(content_type)
    }
}

/// The schema of a type the spec writes as a `oneOf` and typify makes an untagged enum of
/// newtype variants, whose derived schema would be an `anyOf` (which dropshot refuses for a
/// parameter). `spec` is the spec's schema as JSON text (the generator's copy, so it parses);
/// `variants` are the schemas of the enum's variants, in the spec's order.
///
/// An alternative that names a type (`$ref`, or dropshot's `allOf` of one `$ref` beside a title)
/// gets its variant's schema in place of the reference: the type may not be a definition of its
/// own (typify makes a string newtype transparent, and schemars then describes its inner type).
/// An alternative without references stays as the spec writes it; any other becomes its
/// variant's schema with the spec's title and description.
pub fn one_of_schema(spec: &str, variants: Vec<schemars::schema::Schema>) -> schemars::schema::Schema {
    let mut spec: serde_json::Value = serde_json::from_str(spec).expect("the generator copies the spec's schema");
    if let Some(alternatives) = spec.get_mut("oneOf").and_then(serde_json::Value::as_array_mut) {
        for (alternative, variant) in alternatives.iter_mut().zip(variants) {
            let variant = serde_json::to_value(variant).expect("a schema is JSON");
            take_variant(alternative, variant);
        }
    }
    serde_json::from_value(spec).expect("a JSON schema")
}

/// A schema with a description beside it, as schemars' derive writes a described field: a
/// reference is wrapped in an `allOf` (a description beside a `$ref` would be ignored), any
/// other schema takes the description. For the content of an enum variant, which the derive
/// leaves undescribed.
pub fn described(schema: schemars::schema::Schema, description: &str) -> schemars::schema::Schema {
    let mut object = beside_a_reference(schema);
    object.metadata().description = Some(description.to_string());
    object.into()
}

/// A schema with extensions (`x-rust-type`) beside it, which schemars' derive cannot add; a
/// reference is wrapped in an `allOf` first, as dropshot ignores what sits beside a `$ref`.
pub fn extended(schema: schemars::schema::Schema, extensions: &str) -> schemars::schema::Schema {
    let extensions: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(extensions).expect("the generator writes the extensions as a JSON object");
    let mut object = beside_a_reference(schema);
    object.extensions.extend(extensions);
    object.into()
}

/// A schema that also allows `null`, as schemars writes an `Option` for OpenAPI 3.0 (`nullable:
/// true`, a reference wrapped in an `allOf`): for a schema the generator writes itself (a string
/// of a format no Rust type stands for).
pub fn nullable(schema: schemars::schema::Schema) -> schemars::schema::Schema {
    let mut object = beside_a_reference(schema);
    object.extensions.insert("nullable".to_string(), serde_json::Value::Bool(true));
    object.into()
}

/// The schema as an object that can carry keywords of its own: a reference is wrapped in an
/// `allOf`, since what sits beside a `$ref` is ignored.
fn beside_a_reference(schema: schemars::schema::Schema) -> schemars::schema::SchemaObject {
    let object = schema.into_object();
    if !object.is_ref() {
        return object;
    }
    schemars::schema::SchemaObject {
        subschemas: Some(Box::new(schemars::schema::SubschemaValidation {
            all_of: Some(vec![object.into()]),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn take_variant(alternative: &mut serde_json::Value, variant: serde_json::Value) {
    let is_reference = |v: &serde_json::Value| v.get("$ref").is_some();
    if is_reference(alternative) {
        *alternative = variant;
        return;
    }
    if let Some(all_of) = alternative.get_mut("allOf").and_then(serde_json::Value::as_array_mut)
        && all_of.len() == 1
        && is_reference(&all_of[0])
    {
        all_of[0] = variant;
        return;
    }
    if !alternative.to_string().contains("\"$ref\"") {
        return;
    }
    let mut replaced = variant;
    if let Some(map) = replaced.as_object_mut() {
        for key in ["title", "description"] {
            if let Some(value) = alternative.get(key) {
                map.insert(key.to_string(), value.clone());
            }
        }
    }
    *alternative = replaced;
}

#[cfg(test)]
mod tests {
    #[test]
    fn extensions_sit_beside_the_schema() {
        let string: schemars::schema::Schema = serde_json::from_value(serde_json::json!({"type": "string"})).unwrap();
        let json = serde_json::to_value(super::extended(string, r#"{"x-rust-type": {"path": "a::B"}}"#)).unwrap();
        assert_eq!(json, serde_json::json!({"type": "string", "x-rust-type": {"path": "a::B"}}));
    }

    #[test]
    fn a_described_reference_is_wrapped_and_a_described_string_is_not() {
        let reference = schemars::schema::Schema::new_ref("#/components/schemas/Name".to_string());
        let json = serde_json::to_value(super::described(reference, "The name.")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"description": "The name.", "allOf": [{"$ref": "#/components/schemas/Name"}]})
        );
        let string: schemars::schema::Schema = serde_json::from_value(serde_json::json!({"type": "string"})).unwrap();
        let json = serde_json::to_value(super::described(string, "Text.")).unwrap();
        assert_eq!(json, serde_json::json!({"type": "string", "description": "Text."}));
    }

    #[test]
    fn a_nullable_string_is_marked_and_a_nullable_reference_wrapped() {
        let string: schemars::schema::Schema =
            serde_json::from_value(serde_json::json!({"type": "string", "format": "hex"})).unwrap();
        let json = serde_json::to_value(super::nullable(string)).unwrap();
        assert_eq!(json, serde_json::json!({"type": "string", "format": "hex", "nullable": true}));
        let reference = schemars::schema::Schema::new_ref("#/components/schemas/Name".to_string());
        let json = serde_json::to_value(super::nullable(reference)).unwrap();
        assert_eq!(json, serde_json::json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/Name"}]}));
    }

    use super::super::rejection::violations_of;
    use super::super::validator::SchemaValidator;
    use super::*;

    #[derive(Debug, serde::Deserialize, Serialize)]
    struct Query {
        #[serde(default = "fifty")]
        limit: i64,
        #[serde(default)]
        kind: Vec<String>,
    }

    fn fifty() -> i64 {
        50
    }

    impl Schema for Query {
        fn validator() -> &'static SchemaValidator {
            static VALIDATOR: std::sync::OnceLock<SchemaValidator> = std::sync::OnceLock::new();
            VALIDATOR.get_or_init(|| {
                SchemaValidator::new(
                    "{}",
                    r#"{"type": "object", "properties": {
                        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                        "kind": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
                    }}"#,
                )
            })
        }
    }

    fn problems(query: &str) -> Vec<(String, String)> {
        let error = QueryParams::<Query>::parse(query).expect_err("refused");
        let found = violations_of(&error).expect("violations");
        let mut found: Vec<(String, String)> = found
            .iter()
            .map(|v| (v.loc.iter().map(ToString::to_string).collect::<Vec<_>>().join("."), v.kind.clone()))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn repeated_keys_fill_arrays_and_defaults_apply() {
        let q = QueryParams::<Query>::parse("kind=a&kind=b").unwrap().into_inner();
        assert_eq!((q.limit, q.kind), (50, vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn bounds_and_enums_of_the_schema_are_enforced_all_at_once() {
        assert_eq!(
            problems("limit=101&kind=c"),
            [("query.kind.0".to_string(), "enum".to_string()), ("query.limit".to_string(), "range".to_string())]
        );
    }

    #[test]
    fn a_value_that_does_not_parse_is_named() {
        assert_eq!(problems("limit=ten"), [("query.limit".to_string(), "value_error".to_string())]);
    }

    #[test]
    fn a_one_of_keeps_the_specs_alternatives_with_each_reference_replaced_by_its_variant() {
        let spec = r##"{"description":"Name or id","oneOf":[
            {"title":"id","allOf":[{"type":"string","format":"uuid"}]},
            {"title":"name","allOf":[{"$ref":"#/components/schemas/Name"}]},
            {"$ref":"#/components/schemas/Other"},
            {"description":"nested","type":"object","properties":{"x":{"$ref":"#/components/schemas/X"}}}]}"##;
        let variant = |v: serde_json::Value| serde_json::from_value::<schemars::schema::Schema>(v).unwrap();
        let variants = vec![
            variant(serde_json::json!({"type": "string", "format": "uuid"})),
            variant(serde_json::json!({"type": "string", "maxLength": 63})),
            variant(serde_json::json!({"type": "integer"})),
            variant(serde_json::json!({"type": "object"})),
        ];
        let schema = serde_json::to_value(one_of_schema(spec, variants)).unwrap();
        assert_eq!(schema["description"], "Name or id");
        let alternatives = schema["oneOf"].as_array().unwrap();
        assert_eq!(
            alternatives[0],
            serde_json::json!({"title": "id", "allOf": [{"type": "string", "format": "uuid"}]})
        );
        assert_eq!(
            alternatives[1],
            serde_json::json!({"title": "name", "allOf": [{"type": "string", "maxLength": 63}]})
        );
        assert_eq!(alternatives[2], serde_json::json!({"type": "integer"}));
        assert_eq!(alternatives[3], serde_json::json!({"type": "object", "description": "nested"}));
    }
}
