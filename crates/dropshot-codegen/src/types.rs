//! The Rust types of the API: typify writes them, then a pass over its output makes the schemas
//! they derive say what the spec says.
//!
//! typify's doc comments embed the whole JSON schema, which schemars would turn into descriptions;
//! they are cut back to the spec's description. Integer bounds come back as `schemars(range)`,
//! string lengths and patterns as `schemars(length)` and `schemars(regex)`,
//! optional fields that are not nullable are described as their inner type, and types whose Rust
//! name differs from the spec's schema name keep the spec's name in the emitted document.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use serde_json::Value;
use typify::{TypeId, TypeSpace, TypeSpaceSettings};

use crate::model::QueryDeclared;
use crate::names;
use crate::schema::{self, resolve};
use crate::unsupported::Error;

/// Collects the types of one document.
pub(crate) struct TypeBuilder {
    space: TypeSpace,
    /// Object schemas as the spec writes them, by the Rust name of their struct.
    objects: BTreeMap<String, Described>,
    /// Structs that also get a twin declaring their arrays as scalars (see `QueryParams`), and
    /// the twin's name.
    scalar_twins: Vec<(String, String)>,
}

struct Described {
    /// The name the spec gives the schema, when it has one.
    spec_name: Option<String>,
    schema: Value,
}

impl TypeBuilder {
    pub(crate) fn new(spec: &Value) -> Result<Self, Error> {
        let mut settings = TypeSpaceSettings::default();
        settings.with_derive("schemars::JsonSchema".to_string()).with_struct_builder(false);
        let mut space = TypeSpace::new(&settings);
        let mut objects = BTreeMap::new();
        let components = spec.pointer("/components/schemas").and_then(Value::as_object);
        let mut definitions = Vec::new();
        for (name, schema) in components.into_iter().flatten() {
            definitions.push((name.clone(), to_schemars(&schema::to_json_schema(schema))?));
            register(&mut objects, spec, &names::type_name(name), Some(name.clone()), schema);
        }
        space.add_ref_types(definitions).map_err(|e| Error::Types(e.to_string()))?;
        Ok(Self { space, objects, scalar_twins: Vec::new() })
    }

    /// The Rust type for a schema used inline (or by reference) under a name of our choosing.
    pub(crate) fn add(&mut self, name: &str, schema: &Value, spec: &Value) -> Result<TypeId, Error> {
        self.add_local(name, schema, spec).map(|(id, _)| id)
    }

    /// Like [`Self::add`], and whether the type is one this module defines (a struct, enum or
    /// newtype), which may then implement traits of other crates.
    pub(crate) fn add_local(&mut self, name: &str, schema: &Value, spec: &Value) -> Result<(TypeId, bool), Error> {
        let converted = to_schemars(&schema::to_json_schema(schema))?;
        let id = if schema.get("$ref").is_some() {
            self.space.add_type(&converted)
        } else {
            register(&mut self.objects, spec, name, None, schema);
            self.space.add_type_with_name(&converted, Some(name.to_string()))
        }
        .map_err(|e| Error::Types(format!("{name}: {e}")))?;
        let ty = self.space.get_type(&id).map_err(|e| Error::Types(e.to_string()))?;
        let local = matches!(
            ty.details(),
            typify::TypeDetails::Struct(_) | typify::TypeDetails::Enum(_) | typify::TypeDetails::Newtype(_)
        );
        Ok((id, local))
    }

    /// Asks for a twin of struct `name` whose array fields are declared as one of their items;
    /// returns the twin.
    pub(crate) fn declare_arrays_as_items(&mut self, name: &str, twin: &str) -> QueryDeclared {
        self.scalar_twins.push((name.to_string(), twin.to_string()));
        QueryDeclared::Twin(twin.to_string())
    }

    /// The Rust type of a type of typify's type space.
    pub(crate) fn typify_type(&self, id: &TypeId) -> TokenStream {
        self.space.get_type(id).map(|ty| ty.ident()).expect("every TypeId of the model comes from this type space")
    }

    /// The Rust type a query is declared as to dropshot.
    pub(crate) fn declared_query(&self, declared: &QueryDeclared) -> TokenStream {
        match declared {
            QueryDeclared::Twin(name) => {
                let ident = quote::format_ident!("{name}");
                quote!(#ident)
            }
            QueryDeclared::Pagination { scan } => {
                let scan = scan.as_ref().map_or_else(|| quote!(dropshot::EmptyScanParams), |id| self.typify_type(id));
                quote!(dropshot::PaginationParams<#scan, support::PageSelector>)
            }
        }
    }

    pub(crate) fn uses_chrono(&self) -> bool {
        self.space.uses_chrono()
    }

    pub(crate) fn uses_uuid(&self) -> bool {
        self.space.uses_uuid()
    }

    /// Whether the types use `regress` (typify checks a pattern it keeps with it).
    pub(crate) fn uses_regress(&self) -> bool {
        self.space.to_stream().to_string().contains("regress ::")
    }

    /// The Rust types of the component schemas `names`, if each is a type of this module other
    /// than the one `described` (which would register itself while being described).
    fn rust_types_of(&self, names: &[String], described: &Described) -> Option<Vec<syn::Ident>> {
        let mut types = Vec::new();
        for name in names {
            if described.spec_name.as_deref() == Some(name.as_str()) {
                return None;
            }
            let (rust, _) = self.objects.iter().find(|(_, d)| d.spec_name.as_deref() == Some(name.as_str()))?;
            let ident = quote::format_ident!("{rust}");
            if !types.contains(&ident) {
                types.push(ident);
            }
        }
        Some(types)
    }

    /// For a type whose schema is written as the spec writes it (see [`literal_schema`]): that
    /// schema and the types of the schemas it refers to.
    fn literal_of(&self, rust_name: &str, unsaid: bool) -> Option<(schemars::schema::Schema, Vec<syn::Ident>)> {
        let described = self.objects.get(rust_name)?;
        let (schema, references) = literal_schema(&described.schema, unsaid)?;
        Some((schema, self.rust_types_of(&references, described)?))
    }

    /// All the types, with their schemas corrected.
    pub(crate) fn finish(&self) -> Result<TokenStream, Error> {
        let mut file: syn::File = syn::parse2(self.space.to_stream())
            .map_err(|e| Error::Internal(format!("typify output does not parse: {e}")))?;
        let mut twins = Vec::new();
        let mut defaults = Vec::new();
        let mut one_of_impls = Vec::new();
        let mut extras = Extras {
            components: self
                .objects
                .iter()
                .filter_map(|(rust, d)| d.spec_name.clone().map(|spec| (spec, rust.clone())))
                .collect(),
            ..Extras::default()
        };
        let mut literal_impls = Vec::new();
        let conversions = from_impls(&file);
        for item in &mut file.items {
            match item {
                syn::Item::Struct(item) => {
                    clean_type_docs(&mut item.attrs);
                    let name = item.ident.to_string();
                    let literal = self.literal_of(&name, false);
                    if let Some(described) = self.objects.get(&name)
                        && literal.is_none()
                    {
                        describe_struct(item, &name, described, &mut extras);
                    }
                    if let syn::Fields::Named(fields) = &mut item.fields {
                        for field in &mut fields.named {
                            defaults.extend(plain_default(&name, field));
                        }
                    }
                    converted_not_transparent(item, &conversions);
                    if let Some(described) = self.objects.get(&name)
                        && let Some((schema, registered)) = &literal
                    {
                        strip_schemars(&mut item.attrs);
                        for field in item.fields.iter_mut() {
                            field.attrs.retain(|a| !a.path().is_ident("schemars"));
                        }
                        literal_impls.push(literal_schema_impl(&item.ident, &name, described, schema, registered)?);
                    }
                    if let Some((_, twin)) = self.scalar_twins.iter().find(|(of, _)| *of == name) {
                        twins.push(syn::Item::Struct(scalar_twin(item, twin)));
                    }
                }
                syn::Item::Enum(item) => {
                    clean_type_docs(&mut item.attrs);
                    let name = item.ident.to_string();
                    if let Some(described) = self.objects.get(&name) {
                        if is_untagged(&item.attrs) && newtype_variants(item) && described.schema.get("oneOf").is_some()
                        {
                            one_of_impls.push(one_of_schema(item, &name, described)?);
                        } else {
                            let unsaid = names_inline_variant_content(item, &described.schema);
                            if let Some((schema, registered)) = self.literal_of(&name, unsaid) {
                                strip_schemars(&mut item.attrs);
                                for variant in &mut item.variants {
                                    variant.attrs.retain(|a| !a.path().is_ident("schemars"));
                                    for field in variant.fields.iter_mut() {
                                        field.attrs.retain(|a| !a.path().is_ident("schemars"));
                                    }
                                }
                                literal_impls.push(literal_schema_impl(
                                    &item.ident,
                                    &name,
                                    described,
                                    &schema,
                                    &registered,
                                )?);
                            } else {
                                rename(&mut item.attrs, &name, described);
                                describe_type(&mut item.attrs, &described.schema);
                                describe_variants(item, &described.schema, &mut extras);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        file.items.extend(twins);
        file.items.extend(one_of_impls);
        file.items.extend(literal_impls);
        syn::visit_mut::VisitMut::visit_file_mut(&mut RawKeywords, &mut file);
        if !extras.functions.is_empty() {
            let functions = &extras.functions;
            file.items.push(syn::parse_quote! {
                /// Schemas schemars' derive cannot write: the described contents of enum variants,
                /// fields with an extension.
                mod schema_contents {
                    use super::*;
                    #(#functions)*
                }
            });
        }
        if !extras.formats.is_empty() {
            let functions = extras.formats.iter().enumerate().map(|(index, (format, nullable))| {
                let name = quote::format_ident!("string_{index}");
                let mut schema = quote! {
                    schemars::schema::SchemaObject {
                        instance_type: Some(schemars::schema::InstanceType::String.into()),
                        format: Some(#format.to_string()),
                        ..Default::default()
                    }
                    .into()
                };
                if *nullable {
                    schema = quote!(super::support::nullable(#schema));
                }
                quote! {
                    pub(super) fn #name(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                        #schema
                    }
                }
            });
            file.items.push(syn::parse_quote! {
                /// Strings of formats no Rust type stands for, as schemas that keep the format.
                mod schema_formats {
                    #(#functions)*
                }
            });
        }
        if !defaults.is_empty() {
            file.items.push(syn::parse_quote! {
                /// Defaults of fields, as plain functions schemars can read.
                mod schema_defaults {
                    #(#defaults)*
                }
            });
        }
        Ok(file.into_token_stream())
    }
}

/// Puts back on a struct what typify dropped from its schema: its name and description, each
/// field's description and metadata, or a newtype's own bounds.
fn describe_struct(item: &mut syn::ItemStruct, name: &str, described: &Described, extras: &mut Extras) {
    rename(&mut item.attrs, name, described);
    describe_type(&mut item.attrs, &described.schema);
    match &mut item.fields {
        syn::Fields::Named(fields) => {
            for field in &mut fields.named {
                describe_field(field, &described.schema, extras);
            }
        }
        // A newtype of a bounded string or integer: the bounds are its own.
        syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
            let Some(schema) = described.schema.as_object() else { return };
            fields.unnamed[0].attrs.extend(constraint_attrs(schema));
            // An extension is the type's own (see `literal_schema`).
            let own: serde_json::Map<String, Value> =
                schema.iter().filter(|(k, _)| !k.starts_with("x-")).map(|(k, v)| (k.clone(), v.clone())).collect();
            declare_schema_type(&mut fields.unnamed[0], &own, extras, None, false);
        }
        _ => {}
    }
}

/// Whether every variant holds exactly one value (`Name(Name)`), as typify writes the
/// alternatives of a name-or-id.
fn newtype_variants(item: &syn::ItemEnum) -> bool {
    item.variants.iter().all(|v| matches!(&v.fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1))
}

/// Every `impl From<Source> for Target` of the file, as (target, source) type strings.
fn from_impls(file: &syn::File) -> std::collections::BTreeSet<(String, String)> {
    let mut found = std::collections::BTreeSet::new();
    for item in &file.items {
        let syn::Item::Impl(item) = item else { continue };
        let Some((path, _)) = &item.trait_ else { continue };
        let Some(last) = path.segments.last().filter(|s| s.ident == "From") else { continue };
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else { continue };
        if let Some(syn::GenericArgument::Type(source)) = args.args.first() {
            found.insert((type_key(&item.self_ty), type_key(source)));
        }
    }
    found
}

fn type_key(ty: &syn::Type) -> String {
    ty.to_token_stream().to_string().replace(' ', "").trim_start_matches("::").to_string()
}

/// typify makes a newtype `#[serde(transparent)]`, which schemars then describes as its inner
/// type: the newtype's name, description and bounds (a string's pattern and lengths) are lost
/// from the document dropshot emits. Converted through its inner type instead (typify writes
/// both conversions), it serializes the same and keeps its own schema.
fn converted_not_transparent(item: &mut syn::ItemStruct, conversions: &std::collections::BTreeSet<(String, String)>) {
    let syn::Fields::Unnamed(fields) = &item.fields else { return };
    if fields.unnamed.len() != 1 {
        return;
    }
    let is_transparent =
        |a: &syn::Attribute| a.path().is_ident("serde") && a.meta.to_token_stream().to_string().contains("transparent");
    let Some(index) = item.attrs.iter().position(is_transparent) else { return };
    let name = item.ident.to_string();
    let inner = type_key(&fields.unnamed[0].ty);
    if !conversions.contains(&(name.clone(), inner.clone())) || !conversions.contains(&(inner.clone(), name)) {
        return;
    }
    let inner = fields.unnamed[0].ty.to_token_stream().to_string().replace(' ', "");
    item.attrs[index] = syn::parse_quote!(#[serde(from = #inner, into = #inner)]);
}

fn is_untagged(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("serde") && a.meta.to_token_stream().to_string().contains("untagged"))
}

/// For an enum the spec writes as a `oneOf` and typify makes untagged: the derived schema would
/// be an `anyOf` (which dropshot refuses for a parameter, and which is not what the spec says), so
/// the derive is dropped and the schema is the spec's own `oneOf`, its references replaced by the
/// variants' schemas (`one_of_schema` in the runtime crate).
fn one_of_schema(item: &mut syn::ItemEnum, rust_name: &str, described: &Described) -> Result<syn::Item, Error> {
    for attr in &mut item.attrs {
        if attr.path().is_ident("derive") {
            let derived = attr
                .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                .map_err(|e| Error::Internal(format!("typify's derive: {e}")))?;
            let kept = derived.into_iter().filter(|p| p.segments.last().is_none_or(|s| s.ident != "JsonSchema"));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    item.attrs.retain(|a| !a.path().is_ident("schemars"));
    let mut alternatives = Vec::new();
    for variant in &mut item.variants {
        variant.attrs.retain(|a| !a.path().is_ident("schemars"));
        for field in &variant.fields {
            alternatives.push(field.ty.clone());
        }
    }
    let spec_alternatives = described.schema["oneOf"].as_array().map_or(0, Vec::len);
    if alternatives.len() != spec_alternatives {
        return Err(Error::Internal(format!(
            "{rust_name}: typify made {} variants of a oneOf of {spec_alternatives}",
            alternatives.len()
        )));
    }
    let ident = &item.ident;
    let name = described.spec_name.clone().unwrap_or_else(|| rust_name.to_string());
    let json = serde_json::to_string(&described.schema).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(syn::parse_quote! {
        impl schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::string::String {
                #name.to_string()
            }
            fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                let variants = ::std::vec::Vec::from([#( generator.subschema_for::<#alternatives>() ),*]);
                support::one_of_schema(#json, variants)
            }
        }
    })
}

/// The spec's schema of a type, when schemars' derive cannot say it of typify's type (see
/// [`derive_cannot_say`], or `unsaid` for what only typify's output shows) and it can stand as
/// written. The schemas it refers to are returned too, so that its `JsonSchema` registers their
/// types.
fn literal_schema(schema: &Value, unsaid: bool) -> Option<(schemars::schema::Schema, Vec<String>)> {
    if !unsaid && !derive_cannot_say(schema) {
        return None;
    }
    // Only a schema that reads back as itself: OpenAPI keys schemars would read otherwise are left
    // to the derive. schemars holds numbers as floats (`0.0` for `0`), which dropshot writes
    // back as the integers they are.
    as_written(schema)
}

/// Whether the schema says what schemars' derive cannot say of the type typify makes of it:
/// - an `example` or an `x-` extension: schemars 0.8's derive adds neither (dropshot keeps both
///   from a schema's extensions);
/// - an `anyOf`: typify merges the alternatives into one struct of optional flattened fields;
/// - `additionalProperties: true`: typify's struct ignores unknown properties, and schemars
///   states nothing for such a struct;
/// - an object without properties, which typify makes a map, and schemars states a map with
///   `additionalProperties: true`.
fn derive_cannot_say(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else { return false };
    let extended = object.keys().any(|k| k == "example" || k.starts_with("x-"));
    let open = object.get("additionalProperties") == Some(&Value::Bool(true));
    let bare_object = object.get("type").and_then(Value::as_str) == Some("object")
        && ["properties", "additionalProperties", "allOf", "oneOf", "anyOf"].iter().all(|k| !object.contains_key(*k));
    extended || object.contains_key("anyOf") || open || bare_object
}

/// Whether typify read a `oneOf` as an externally tagged enum whose newtype variant holds an
/// inline schema (an `enum`, a `oneOf` or an object): typify names a type of that content, which
/// schemars would make a definition of its own (a name the spec does not have, and
/// `additionalProperties: false` on the variant). A one-value tag of a `oneOf` of one
/// alternative reads that way: `{"type": {"enum": ["blockers"]}}`.
fn names_inline_variant_content(item: &syn::ItemEnum, schema: &Value) -> bool {
    let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) else { return false };
    if is_untagged(&item.attrs) || serde_value(&item.attrs, "tag").is_some() {
        return false;
    }
    item.variants.iter().any(|variant| {
        let newtype = matches!(&variant.fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1);
        let name = serde_value(&variant.attrs, "rename").unwrap_or_else(|| variant.ident.to_string());
        let content = alternatives.iter().find_map(|a| a.get("properties").and_then(|p| p.get(&name)));
        newtype
            && content.is_some_and(|c| {
                c.get("$ref").is_none() && ["enum", "oneOf", "properties"].iter().any(|k| c.get(*k).is_some())
            })
    })
}

/// Every `$ref` in a schema, extensions left aside (an `x-rust-type`'s parameters name schemas
/// only for progenitor).
fn collect_references(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref" {
                    out.extend(value.as_str().map(str::to_string));
                } else if !key.starts_with("x-") {
                    collect_references(value, out);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// Equal JSON values, numbers compared by value (`0.0` is `0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_json(v, w)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Removes the `JsonSchema` derive and the attributes of schemars that went with it.
fn strip_schemars(attrs: &mut Vec<syn::Attribute>) {
    for attr in attrs.iter_mut() {
        if attr.path().is_ident("derive")
            && let Ok(derived) =
                attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            let kept = derived.into_iter().filter(|p| p.segments.last().is_none_or(|s| s.ident != "JsonSchema"));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    attrs.retain(|a| !a.path().is_ident("schemars"));
}

/// `JsonSchema` for a type whose schema is the spec's as written (see [`literal_schema`]).
fn literal_schema_impl(
    ident: &syn::Ident,
    rust_name: &str,
    described: &Described,
    schema: &schemars::schema::Schema,
    registered: &[syn::Ident],
) -> Result<syn::Item, Error> {
    let name = described.spec_name.clone().unwrap_or_else(|| rust_name.to_string());
    let json = serde_json::to_string(schema).map_err(|e| Error::Internal(e.to_string()))?;
    let generator =
        if registered.is_empty() { quote::format_ident!("_generator") } else { quote::format_ident!("generator") };
    Ok(syn::parse_quote! {
        impl schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::string::String {
                #name.to_string()
            }
            fn json_schema(#generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                // The schemas it refers to are definitions of the document.
                #( let _ = #generator.subschema_for::<#registered>(); )*
                ::serde_json::from_str(#json).expect("the generator wrote the spec's schema as JSON")
            }
        }
    })
}

/// Makes raw identifiers of words that later editions reserve: typify writes `schemars::gen`, and
/// the crates generated are edition 2024, where `gen` is a keyword.
struct RawKeywords;

impl syn::visit_mut::VisitMut for RawKeywords {
    fn visit_ident_mut(&mut self, ident: &mut proc_macro2::Ident) {
        if crate::names::is_reserved_later(&ident.to_string()) {
            *ident = proc_macro2::Ident::new_raw(&ident.to_string(), ident.span());
        }
    }
}

/// The struct with each `Vec<X>` field declared as an optional `X`, for dropshot's parameter
/// metadata only: it is never filled.
fn scalar_twin(original: &syn::ItemStruct, name: &str) -> syn::ItemStruct {
    let mut twin = original.clone();
    twin.ident = quote::format_ident!("{name}");
    twin.attrs.retain(|a| !a.path().is_ident("doc"));
    let doc =
        format!(" How `{}` is declared to dropshot: arrays as their items, which a client repeats.", original.ident);
    twin.attrs.push(syn::parse_quote!(#[doc = #doc]));
    if let syn::Fields::Named(fields) = &mut twin.fields {
        for field in &mut fields.named {
            if let Some(item) = generic_inner(&field.ty, "Vec") {
                let item = item.clone();
                field.ty = syn::parse_quote!(::std::option::Option<#item>);
                let rename = serde_name(field);
                field.attrs.retain(|a| !a.path().is_ident("serde"));
                if let Some(rename) = rename {
                    field.attrs.push(syn::parse_quote!(#[serde(rename = #rename)]));
                }
            }
        }
    }
    twin
}

fn to_schemars(json: &Value) -> Result<schemars::schema::Schema, Error> {
    serde_json::from_value(json.clone()).map_err(|e| Error::Types(e.to_string()))
}

/// Remembers an object schema (and enums, which only need their name) under its Rust name, and the
/// inline objects nested in its properties under the names typify gives them.
fn register(
    objects: &mut BTreeMap<String, Described>,
    spec: &Value,
    rust_name: &str,
    spec_name: Option<String>,
    schema: &Value,
) {
    if schema.get("$ref").is_some() {
        return;
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (prop, prop_schema) in props {
            let nested = resolve(spec, prop_schema);
            if nested.get("properties").is_some() && prop_schema.get("$ref").is_none() {
                register(objects, spec, &format!("{rust_name}{}", names::type_name(prop)), None, nested);
            }
        }
    }
    objects.insert(rust_name.to_string(), Described { spec_name, schema: schema.clone() });
}

/// Keeps the spec's description of a type and drops what typify adds (its name, the JSON schema).
fn clean_type_docs(attrs: &mut Vec<syn::Attribute>) {
    let mut in_details = false;
    attrs.retain(|attr| {
        let Some(text) = doc_text(attr) else { return true };
        let trimmed = text.trim();
        if trimmed.starts_with("<details>") {
            in_details = true;
        }
        let is_type_name = trimmed.starts_with('`') && trimmed.ends_with('`') && !trimmed.contains(' ');
        let keep = !in_details && !is_type_name;
        if trimmed.starts_with("</details>") {
            in_details = false;
        }
        keep
    });
    // Blank doc lines left at the end would make no difference to rustdoc but would to schemars.
    while attrs
        .iter()
        .rev()
        .find(|a| doc_text(a).is_some())
        .is_some_and(|a| doc_text(a).is_some_and(|t| t.trim().is_empty()))
    {
        let index = attrs.iter().rposition(|a| doc_text(a).is_some()).expect("found above");
        attrs.remove(index);
    }
}

fn doc_text(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    match &attr.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

fn rename(attrs: &mut Vec<syn::Attribute>, rust_name: &str, described: &Described) {
    if let Some(spec_name) = &described.spec_name
        && spec_name != rust_name
    {
        attrs.push(syn::parse_quote!(#[schemars(rename = #spec_name)]));
    }
}

fn describe_field(field: &mut syn::Field, object: &Value, extras: &mut Extras) {
    let Some(json_name) = serde_name(field) else { return };
    let Some(property) = object.get("properties").and_then(|p| p.get(&json_name)) else { return };
    let Some(prop) = property.as_object() else { return };
    let required =
        object.get("required").and_then(Value::as_array).is_some_and(|r| r.contains(&Value::String(json_name)));
    if inline_as_written(field, property, extras, !required) {
        return;
    }
    field.attrs.extend(constraint_attrs(prop));
    // typify drops the description of some fields (an optional reference, for one).
    if let Some(description) = prop.get("description").and_then(Value::as_str)
        && !field.attrs.iter().any(|a| doc_text(a).is_some())
    {
        field.attrs.extend(description_attrs(description));
    }
    if let Some(title) = prop.get("title").and_then(Value::as_str) {
        field.attrs.push(syn::parse_quote!(#[schemars(title = #title)]));
    }
    if let Some(default) = prop.get("default") {
        state_default(field, default);
    }
    let nullable = prop.get("nullable").and_then(Value::as_bool) == Some(true);
    declare_schema_type(field, prop, extras, None, !required);
    if !nullable && option_inner(&field.ty).is_some() {
        // Described as its inner type, the field would look required without a default.
        if !has_serde_default(field) {
            field.attrs.push(syn::parse_quote!(#[serde(default)]));
        }
    }
}

/// A field whose schema the derive cannot say, so that its schema is the spec's, as written,
/// through a function of `schema_contents` that registers the types it refers to:
/// - a required field whose schema is an inline `oneOf` or `enum`: typify makes a type of it,
///   which schemars would make a definition of its own (a name the spec does not have, and
///   `additionalProperties: false`);
/// - a field whose schema wraps a composition (see [`wraps_a_composition`]).
fn inline_as_written(field: &mut syn::Field, property: &Value, extras: &mut Extras, optional: bool) -> bool {
    let inline = property.get("oneOf").is_some() || property.get("enum").is_some();
    let expressible = (inline && option_inner(&field.ty).is_none()) || wraps_a_composition(property);
    if !expressible || property.as_object().is_some_and(|p| p.contains_key("default")) {
        return false;
    }
    let Some((schema, references)) = as_written(property) else { return false };
    let mut registered = Vec::new();
    for name in &references {
        let Some(rust) = extras.components.get(name) else { return false };
        let ident = quote::format_ident!("{rust}");
        if !registered.contains(&ident) {
            registered.push(ident);
        }
    }
    let Ok(json) = serde_json::to_string(&schema) else { return false };
    let path = extras.function(
        !registered.is_empty(),
        quote! {
            #( let _ = generator.subschema_for::<#registered>(); )*
            ::serde_json::from_str(#json).expect("the generator wrote the spec's schema as JSON")
        },
    );
    field.attrs.push(syn::parse_quote!(#[schemars(schema_with = #path)]));
    default_if_optional(field, optional);
    // schemars describes the function's schema with the field's doc comment, lines joined.
    if let Some(description) = property.get("description").and_then(Value::as_str)
        && merged_as_schemars_does(description) != description
    {
        field.attrs.push(syn::parse_quote!(#[schemars(description = #description)]));
    }
    true
}

/// An `allOf` around one schema that is more than a reference, as a described optional reference
/// whose type states its own nullability reads: `{"description": .., "allOf": [{"nullable":
/// true, "allOf": [{"$ref": ..}]}]}`. The derive wraps a described schema once, never twice.
fn wraps_a_composition(property: &Value) -> bool {
    let Some([inner]) = property.get("allOf").and_then(Value::as_array).map(Vec::as_slice) else { return false };
    inner.as_object().is_some_and(|inner| inner.keys().any(|k| k != "$ref"))
}

/// The spec's schema as schemars holds it, if it reads back as itself, and the component schemas
/// it refers to.
fn as_written(schema: &Value) -> Option<(schemars::schema::Schema, Vec<String>)> {
    let mut references = Vec::new();
    collect_references(schema, &mut references);
    let mut named = Vec::new();
    for reference in references {
        named.push(reference.strip_prefix("#/components/schemas/")?.to_string());
    }
    let literal: schemars::schema::Schema = serde_json::from_value(schema.clone()).ok()?;
    same_json(&serde_json::to_value(&literal).ok()?, schema).then_some((literal, named))
}

/// The spec's title of a type, which typify drops.
fn describe_type(attrs: &mut Vec<syn::Attribute>, schema: &Value) {
    if let Some(title) = schema.get("title").and_then(Value::as_str) {
        attrs.push(syn::parse_quote!(#[schemars(title = #title)]));
    }
}

/// A description as doc lines, and as schemars' own attribute when schemars would not read the
/// doc lines back as the same text (it joins lines and trims them).
fn description_attrs(description: &str) -> Vec<syn::Attribute> {
    let mut attrs: Vec<syn::Attribute> = vec![syn::parse_quote!(#[doc = #description])];
    if merged_as_schemars_does(description) != description {
        attrs.push(syn::parse_quote!(#[schemars(description = #description)]));
    }
    attrs
}

/// What schemars makes of a doc comment: paragraphs trimmed, the lines of each joined by spaces.
fn merged_as_schemars_does(doc: &str) -> String {
    doc.trim()
        .split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// schemars states a field's default unless the field's `skip_serializing_if` says to leave the
/// default out, which typify writes for every optional, list and map field: where the spec states
/// that default (`null`, `[]`, `{}`), the field is always serialized, as the type that made the
/// document was.
fn state_default(field: &mut syn::Field, default: &Value) {
    let is_skipped_default = match default {
        Value::Null => option_inner(&field.ty).is_some(),
        Value::Array(a) => a.is_empty() && generic_inner(&field.ty, "Vec").is_some(),
        Value::Object(o) => o.is_empty() && generic_inner(&field.ty, "HashMap").is_some(),
        _ => false,
    };
    if !is_skipped_default {
        return;
    }
    for attr in &mut field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let Ok(metas) =
            attr.parse_args_with(syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        else {
            continue;
        };
        let kept: Vec<&syn::Meta> = metas.iter().filter(|m| !m.path().is_ident("skip_serializing_if")).collect();
        if kept.len() != metas.len() {
            *attr = syn::parse_quote!(#[serde(#(#kept),*)]);
        }
    }
    field.attrs.retain(|a| !(a.path().is_ident("serde") && a.meta.require_list().is_ok_and(|l| l.tokens.is_empty())));
    if !has_serde_default(field) {
        field.attrs.push(syn::parse_quote!(#[serde(default)]));
    }
}

/// Declares the field to schemars as the type whose schema is the spec's, where typify's type
/// has another: an optional field that is not nullable as its inner type, a list of unique items
/// as a set, `format: uint` as `usize` (typify reads it as `u32`, which schemars calls `uint32`).
/// What the pass over typify's output adds beside the types: the functions fields name in
/// `schemars(schema_with)`.
#[derive(Default)]
struct Extras {
    /// The string formats of `schema_formats` and whether each is nullable, by index.
    formats: Vec<(String, bool)>,
    /// The functions of `schema_contents`.
    functions: Vec<TokenStream>,
    /// The Rust type of each component schema, by its name in the spec.
    components: BTreeMap<String, String>,
}

impl Extras {
    /// A function of `schema_contents` with this body (given `generator`, if it uses it), and
    /// its path.
    fn function(&mut self, uses_generator: bool, body: TokenStream) -> String {
        let name = quote::format_ident!("content_{}", self.functions.len());
        let generator =
            if uses_generator { quote::format_ident!("generator") } else { quote::format_ident!("_generator") };
        self.functions.push(quote! {
            pub(super) fn #name(#generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                #body
            }
        });
        format!("schema_contents::{name}")
    }
}

/// With a `description` (for a newtype variant's content, which schemars leaves undescribed), the
/// schema is described too. `optional`: the field is a property the object does not require,
/// which a schema function must say with a default (schemars cannot tell that the function's
/// schema is of an optional value).
fn declare_schema_type(
    field: &mut syn::Field,
    prop: &serde_json::Map<String, Value>,
    extras: &mut Extras,
    description: Option<&str>,
    optional: bool,
) {
    let formats = &mut extras.formats;
    // A string of a format schemars knows no type for (`hex string`...) keeps it through a
    // function of `schema_formats`, nullable or not.
    let nullable = prop.get("nullable").and_then(Value::as_bool) == Some(true);
    if let Some(format) = prop.get("format").and_then(Value::as_str)
        && is_type(option_inner(&field.ty).unwrap_or(&field.ty), "String")
    {
        let wanted = (format.to_string(), nullable);
        let index = formats.iter().position(|f| *f == wanted).unwrap_or_else(|| {
            formats.push(wanted);
            formats.len() - 1
        });
        let function = format!("schema_formats::string_{index}");
        field.attrs.push(syn::parse_quote!(#[schemars(schema_with = #function)]));
        default_if_optional(field, optional);
        return;
    }
    let declared = schema_type(&field.ty, prop);
    // An extension (`x-rust-type`) goes through a function of `schema_contents`, which adds it
    // (and the description) to the schema of the declared type.
    let extensions: serde_json::Map<String, Value> =
        prop.iter().filter(|(k, _)| k.starts_with("x-")).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !extensions.is_empty() || description.is_some() {
        let ty = declared.unwrap_or_else(|| field.ty.clone());
        let mut schema = quote!(generator.subschema_for::<#ty>());
        if !extensions.is_empty() {
            let json = Value::Object(extensions).to_string();
            schema = quote!(support::extended(#schema, #json));
        }
        if let Some(description) = description {
            schema = quote!(support::described(#schema, #description));
        }
        let path = extras.function(true, schema);
        field.attrs.push(syn::parse_quote!(#[schemars(schema_with = #path)]));
        default_if_optional(field, optional);
        return;
    }
    if let Some(ty) = declared {
        let ty = ty.to_token_stream().to_string();
        field.attrs.push(syn::parse_quote!(#[schemars(with = #ty)]));
    }
}

/// A field whose schema is a function's is required for schemars unless it has a default.
fn default_if_optional(field: &mut syn::Field, optional: bool) {
    if optional && !has_serde_default(field) {
        field.attrs.push(syn::parse_quote!(#[serde(default)]));
    }
}

/// The type schemars should describe for a value of type `ty` whose schema is `prop`, when it is
/// not `ty` itself.
fn schema_type(ty: &syn::Type, prop: &serde_json::Map<String, Value>) -> Option<syn::Type> {
    let flag = |key: &str| prop.get(key).and_then(Value::as_bool) == Some(true);
    if let Some(inner) = option_inner(ty) {
        let declared = schema_type(inner, prop);
        return match (flag("nullable"), declared) {
            (true, Some(inner)) => Some(syn::parse_quote!(::std::option::Option<#inner>)),
            (true, None) => None,
            (false, declared) => Some(declared.unwrap_or_else(|| inner.clone())),
        };
    }
    if let Some(item) = generic_inner(ty, "Vec") {
        let items = prop.get("items").and_then(Value::as_object);
        let declared = items.and_then(|items| schema_type(item, items));
        let item_ty = declared.clone().unwrap_or_else(|| item.clone());
        return if flag("uniqueItems") {
            Some(syn::parse_quote!(::std::collections::BTreeSet<#item_ty>))
        } else {
            declared.map(|item| syn::parse_quote!(::std::vec::Vec<#item>))
        };
    }
    let format = prop.get("format").and_then(Value::as_str);
    let syn::Type::Path(path) = ty else { return None };
    let ident = path.path.get_ident()?;
    match (ident.to_string().as_str(), format) {
        ("u32", Some("uint")) => Some(syn::parse_quote!(usize)),
        ("i32", Some("int")) => Some(syn::parse_quote!(isize)),
        _ => None,
    }
}

/// For the variants of an enum the spec writes as a `oneOf`: each variant's description (typify
/// drops those of unit variants) and its fields' schemas, as for a struct's.
fn describe_variants(item: &mut syn::ItemEnum, schema: &Value, extras: &mut Extras) {
    let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) else { return };
    let tag = serde_value(&item.attrs, "tag");
    let content = serde_value(&item.attrs, "content");
    let untagged = is_untagged(&item.attrs);
    for (index, variant) in item.variants.iter_mut().enumerate() {
        let name = serde_value(&variant.attrs, "rename").unwrap_or_else(|| variant.ident.to_string());
        let alternative = if untagged {
            alternatives.get(index)
        } else {
            alternatives.iter().find(|a| names_variant(a, &name, tag.as_deref()))
        };
        let Some(alternative) = alternative else { continue };
        if let Some(description) = alternative.get("description").and_then(Value::as_str)
            && !variant.attrs.iter().any(|a| doc_text(a).is_some())
        {
            variant.attrs.extend(description_attrs(description));
        }
        let body = match (&tag, &content) {
            _ if untagged => Some(alternative),
            (Some(_), Some(content)) => alternative.pointer(&format!("/properties/{content}")),
            (Some(_), None) => Some(alternative),
            (None, _) => alternative.get("properties").and_then(|p| p.get(&name)),
        };
        let Some(body) = body else { continue };
        match &mut variant.fields {
            syn::Fields::Named(fields) => {
                for field in &mut fields.named {
                    describe_field(field, body, extras);
                }
            }
            syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                let Some(body) = body.as_object() else { continue };
                let field = &mut fields.unnamed[0];
                // schemars applies a newtype variant's bounds but none of its metadata: the
                // description goes through a function of `schema_contents`.
                field.attrs.extend(constraint_attrs(body));
                let description = body.get("description").and_then(Value::as_str);
                declare_schema_type(field, body, extras, description, false);
            }
            _ => {}
        }
    }
}

/// Whether an alternative of a `oneOf` is the variant named `name`: its tag property's one value,
/// or (externally tagged) its one string value or its one property.
fn names_variant(alternative: &Value, name: &str, tag: Option<&str>) -> bool {
    let one =
        |v: Option<&Value>| v.and_then(Value::as_array).is_some_and(|values| values.len() == 1 && values[0] == name);
    match tag {
        Some(tag) => one(alternative.pointer(&format!("/properties/{tag}/enum"))),
        None => {
            one(alternative.get("enum"))
                || alternative
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.len() == 1 && p.contains_key(name))
        }
    }
}

/// The string value of `key` in a `#[serde(...)]` attribute (`tag`, `content`, `rename`).
fn serde_value(attrs: &[syn::Attribute], key: &str) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.input.peek(syn::Token![=]) {
                let value: syn::Expr = meta.value()?.parse()?;
                if meta.path.is_ident(key)
                    && let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = value
                {
                    found = Some(s.value());
                }
            }
            Ok(())
        });
    }
    found
}

/// The bounds typify does not carry into its types, as schemars attributes: an integer's range,
/// a string's lengths and pattern, an array's size.
fn constraint_attrs(prop: &serde_json::Map<String, Value>) -> Vec<syn::Attribute> {
    let mut attrs = Vec::new();
    if schema::is_integer(prop) {
        let min = prop.get("minimum").and_then(Value::as_i64);
        let max = prop.get("maximum").and_then(Value::as_i64);
        let range = match (min, max) {
            (Some(min), Some(max)) => Some(quote!(range(min = #min, max = #max))),
            (Some(min), None) => Some(quote!(range(min = #min))),
            (None, Some(max)) => Some(quote!(range(max = #max))),
            (None, None) => None,
        };
        if let Some(range) = range {
            attrs.push(syn::parse_quote!(#[schemars(#range)]));
        }
    }
    if prop.get("type").and_then(Value::as_str) == Some("array") {
        attrs.extend(length_attribute(prop, "minItems", "maxItems"));
    }
    if schema::is_string(prop) {
        attrs.extend(length_attribute(prop, "minLength", "maxLength"));
        if let Some(pattern) = prop.get("pattern").and_then(Value::as_str) {
            attrs.push(syn::parse_quote!(#[schemars(regex(pattern = #pattern))]));
        }
    }
    attrs
}

/// `#[schemars(length(..))]` from a schema's `min_key`/`max_key` bounds (string lengths or array
/// sizes), when it has either.
fn length_attribute(prop: &serde_json::Map<String, Value>, min_key: &str, max_key: &str) -> Option<syn::Attribute> {
    let min = prop.get(min_key).and_then(Value::as_u64).map(|n| n as usize);
    let max = prop.get(max_key).and_then(Value::as_u64).map(|n| n as usize);
    let length = match (min, max) {
        (Some(min), Some(max)) => quote!(length(min = #min, max = #max)),
        (Some(min), None) => quote!(length(min = #min)),
        (None, Some(max)) => quote!(length(max = #max)),
        (None, None) => return None,
    };
    Some(syn::parse_quote!(#[schemars(#length)]))
}

fn has_serde_default(field: &syn::Field) -> bool {
    field.attrs.iter().filter(|a| a.path().is_ident("serde")).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                found = true;
            }
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        found
    })
}

/// schemars ignores a `serde(default = "path")` whose path has generic arguments (as typify
/// writes them), so the default would be missing from the schema: such defaults go through a
/// plain function in `schema_defaults`.
fn plain_default(struct_name: &str, field: &mut syn::Field) -> Option<TokenStream> {
    let index = field
        .attrs
        .iter()
        .position(|a| a.path().is_ident("serde") && default_path(a).is_some_and(|p| p.contains('<')))?;
    let path: syn::ExprPath = syn::parse_str(&default_path(&field.attrs[index])?).ok()?;
    let ident = field.ident.as_ref()?;
    let fn_name = quote::format_ident!(
        "{}_{}",
        crate::names::snake_name(struct_name),
        ident.to_string().trim_start_matches("r#")
    );
    let ty = &field.ty;
    let target = format!("schema_defaults::{fn_name}");
    field.attrs[index] = syn::parse_quote!(#[serde(default = #target)]);
    Some(quote! {
        pub(super) fn #fn_name() -> #ty {
            super::#path()
        }
    })
}

fn default_path(attr: &syn::Attribute) -> Option<String> {
    let mut path = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("default") && meta.input.peek(syn::Token![=]) {
            let value: syn::LitStr = meta.value()?.parse()?;
            path = Some(value.value());
        } else if meta.input.peek(syn::Token![=]) {
            let _: syn::Expr = meta.value()?.parse()?;
        }
        Ok(())
    });
    path
}

/// The JSON name of a field: its `serde(rename)`, or its identifier.
fn serde_name(field: &syn::Field) -> Option<String> {
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let mut renamed = None;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                renamed = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        if renamed.is_some() {
            return renamed;
        }
    }
    field.ident.as_ref().map(|i| i.to_string().trim_start_matches("r#").to_string())
}

fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    generic_inner(ty, "Option")
}

/// Whether a type is the named one (its path's last segment, without arguments).
fn is_type(ty: &syn::Type, name: &str) -> bool {
    let syn::Type::Path(path) = ty else { return false };
    path.path.segments.last().is_some_and(|s| s.ident == name && s.arguments.is_none())
}

/// `T` of `Wrapper<T>`.
fn generic_inner<'a>(ty: &'a syn::Type, wrapper: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}
