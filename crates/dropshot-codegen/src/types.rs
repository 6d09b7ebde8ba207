//! The Rust types of the API: typify writes them, then a pass over its output makes the schemas
//! they derive say what the spec says.
//!
//! typify's doc comments embed the whole JSON schema, which schemars would turn into descriptions;
//! they are cut back to the spec's description. Integer bounds come back as `schemars(range)`,
//! optional fields that are not nullable are described as their inner type, and types whose Rust
//! name differs from the spec's schema name keep the spec's name in the emitted document.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use serde_json::Value;
use typify::{TypeSpace, TypeSpaceSettings};

use crate::names;
use crate::schema::{self, resolve};
use crate::unsupported::Error;

/// Collects the types of one document.
pub(crate) struct TypeBuilder {
    space: TypeSpace,
    /// Object schemas as the spec writes them, by the Rust name of their struct.
    objects: BTreeMap<String, Described>,
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
        Ok(Self { space, objects })
    }

    /// The Rust type for a schema used inline (or by reference) under a name of our choosing.
    pub(crate) fn add(&mut self, name: &str, schema: &Value, spec: &Value) -> Result<TokenStream, Error> {
        let converted = to_schemars(&schema::to_json_schema(schema))?;
        let id = if schema.get("$ref").is_some() {
            self.space.add_type(&converted)
        } else {
            register(&mut self.objects, spec, name, None, schema);
            self.space.add_type_with_name(&converted, Some(name.to_string()))
        }
        .map_err(|e| Error::Types(format!("{name}: {e}")))?;
        let ty = self.space.get_type(&id).map_err(|e| Error::Types(e.to_string()))?;
        Ok(ty.ident())
    }

    pub(crate) fn uses_chrono(&self) -> bool {
        self.space.uses_chrono()
    }

    pub(crate) fn uses_uuid(&self) -> bool {
        self.space.uses_uuid()
    }

    /// All the types, with their schemas corrected.
    pub(crate) fn finish(&self) -> Result<TokenStream, Error> {
        let mut file: syn::File = syn::parse2(self.space.to_stream())
            .map_err(|e| Error::Internal(format!("typify output does not parse: {e}")))?;
        for item in &mut file.items {
            match item {
                syn::Item::Struct(item) => {
                    clean_type_docs(&mut item.attrs);
                    let name = item.ident.to_string();
                    if let Some(described) = self.objects.get(&name) {
                        rename(&mut item.attrs, &name, described);
                        if let syn::Fields::Named(fields) = &mut item.fields {
                            for field in &mut fields.named {
                                describe_field(field, &described.schema);
                            }
                        }
                    }
                }
                syn::Item::Enum(item) => {
                    clean_type_docs(&mut item.attrs);
                    let name = item.ident.to_string();
                    if let Some(described) = self.objects.get(&name) {
                        rename(&mut item.attrs, &name, described);
                    }
                }
                _ => {}
            }
        }
        Ok(file.into_token_stream())
    }
}

fn to_schemars(json: &Value) -> Result<schemars::schema::Schema, Error> {
    serde_json::from_value(json.clone()).map_err(|e| Error::Types(e.to_string()))
}

/// Remembers an object schema (and enums, which only need their name) under its Rust name, and the
/// inline objects nested in its properties under the names typify gives them.
fn register(objects: &mut BTreeMap<String, Described>, spec: &Value, rust_name: &str, spec_name: Option<String>, schema: &Value) {
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
        let keep = !in_details && !(trimmed.starts_with('`') && trimmed.ends_with('`') && !trimmed.contains(' '));
        if trimmed.starts_with("</details>") {
            in_details = false;
        }
        keep
    });
    // Blank doc lines left at the end would make no difference to rustdoc but would to schemars.
    while attrs.iter().rev().find(|a| doc_text(a).is_some()).is_some_and(|a| doc_text(a).is_some_and(|t| t.trim().is_empty())) {
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
    if let Some(spec_name) = &described.spec_name {
        if spec_name != rust_name {
            attrs.push(syn::parse_quote!(#[schemars(rename = #spec_name)]));
        }
    }
}

fn describe_field(field: &mut syn::Field, object: &Value) {
    let Some(json_name) = serde_name(field) else { return };
    let Some(property) = object.get("properties").and_then(|p| p.get(&json_name)) else { return };
    let Some(prop) = property.as_object() else { return };
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
            field.attrs.push(syn::parse_quote!(#[schemars(#range)]));
        }
    }
    let nullable = prop.get("nullable").and_then(Value::as_bool) == Some(true);
    if !nullable {
        if let Some(inner) = option_inner(&field.ty) {
            let inner = inner.to_token_stream().to_string();
            field.attrs.push(syn::parse_quote!(#[schemars(with = #inner)]));
        }
    }
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
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}
