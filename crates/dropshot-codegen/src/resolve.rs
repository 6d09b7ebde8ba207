//! The Rust types each operation uses: typify's for the schemas the operation reads and answers
//! (parameter structs, bodies, success headers, errors), under names made up so that they never
//! take a name of the spec or of each other; recorded in the model as references the emitters
//! resolve.

use serde_json::Value;
use typify::TypeId;

use crate::model::{
    BodyKind, ErrorType, Operation, PAGINATION_PARAMS, Param, QueryDeclared, Success, SuccessBody, params_schema,
};
use crate::names;
use crate::schema::resolve;
use crate::types::TypeBuilder;
use crate::unsupported::Error;

/// Asks typify for every type the operations use.
pub(crate) fn resolve_types(
    spec: &Value,
    mut operations: Vec<Operation>,
    types: &mut TypeBuilder,
) -> Result<Vec<Operation>, Error> {
    // Names this generator makes up must not take a name the spec's schemas have, nor each
    // other's (operationIds `getThing` and `get_thing` make the same Rust names).
    let schema_names = spec.pointer("/components/schemas").and_then(Value::as_object).into_iter().flatten();
    let mut type_names = names::Taken::types(schema_names.map(|(k, _)| names::type_name(k)));
    let mut fn_names = names::Taken::functions();
    for op in &mut operations {
        op.fn_name = fn_names.allocate(&op.fn_name);
        let base = names::type_name(&op.operation_id);
        let path_name = type_names.allocate(&format!("{base}Path"));
        op.resolved.path = params_type(spec, types, &path_name, &op.path_params)?;
        let query_name = type_names.allocate(&format!("{base}Query"));
        op.resolved.query = params_type(spec, types, &query_name, &op.query_params)?;
        if op.query_has_array {
            let declared_name = type_names.allocate(&format!("{query_name}Declared"));
            op.resolved.query_declared = Some(types.declare_arrays_as_items(&query_name, &declared_name));
        }
        if let Some(pagination) = &op.pagination {
            // Declared as dropshot's own `PaginationParams`, which writes `limit`, `page_token`
            // and the extension; the scan parameters are the rest.
            let scan: Vec<Param> = op
                .query_params
                .iter()
                .filter(|p| !PAGINATION_PARAMS.contains(&p.name.as_str()))
                .map(|p| Param {
                    name: p.name.clone(),
                    schema: p.schema.clone(),
                    required: pagination.required.contains(&p.name),
                })
                .collect();
            let scan = if scan.is_empty() {
                None
            } else {
                let scan_name = type_names.allocate(&format!("{base}ScanParams"));
                Some(types.add(&scan_name, &params_schema(&scan), spec)?)
            };
            op.resolved.query_declared = Some(QueryDeclared::Pagination { scan });
        }
        let header_name = type_names.allocate(&format!("{base}Header"));
        op.resolved.header = params_type(spec, types, &header_name, &op.header_params)?;
        if let Some(body) = &op.body
            && matches!(body.kind, BodyKind::Json | BodyKind::UrlEncoded)
        {
            let name = type_names.allocate(&format!("{base}Body"));
            let (ty, local) = types.add_local(&name, &body.schema, spec)?;
            op.resolved.body = Some(ty);
            op.resolved.body_is_local = local;
            if !local && body.kind == BodyKind::Json {
                op.resolved.body_schema_marker = Some(type_names.allocate(&format!("{base}BodySchema")));
            }
        }
        op.resolved.response_name = type_names.allocate(&format!("{base}Response"));
        if let Success::Coded { body, headers, .. } = &op.success {
            if let SuccessBody::Json(schema) = body {
                let name = type_names.allocate(&format!("{base}ResponseBody"));
                op.resolved.success = Some(types.add(&name, schema, spec)?);
            }
            if !headers.is_empty() {
                let name = type_names.allocate(&format!("{base}ResponseHeaders"));
                let params: Vec<Param> = headers
                    .iter()
                    .map(|h| Param { name: h.name.clone(), schema: h.schema.clone(), required: h.required })
                    .collect();
                op.resolved.success_headers = Some(types.add(&name, &params_schema(&params), spec)?);
            }
        }
        op.resolved.error = match &op.error_schema {
            None => None,
            Some(schema) if is_dropshot_error(spec, schema) => Some(ErrorType::Dropshot),
            Some(schema) => {
                let name = type_names.allocate(&format!("{base}Error"));
                let payload = types.add(&name, schema, spec)?;
                Some(ErrorType::Custom { payload, schema: resolve(spec, schema).clone() })
            }
        };
    }
    Ok(operations)
}

/// dropshot's own error body (`request_id`, `error_code`, `message`): served by `HttpError` itself.
fn is_dropshot_error(spec: &Value, schema: &Value) -> bool {
    let schema = resolve(spec, schema);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return false };
    let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys == ["error_code", "message", "request_id"]
}

fn params_type(spec: &Value, types: &mut TypeBuilder, name: &str, params: &[Param]) -> Result<Option<TypeId>, Error> {
    if params.is_empty() {
        return Ok(None);
    }
    types.add(name, &params_schema(params), spec).map(Some)
}

/// The error type shared by the operations, if any has one of the spec's own.
pub(crate) fn error_type(operations: &[Operation]) -> Option<ErrorType> {
    operations.iter().filter_map(|op| op.resolved.error.clone()).find(|e| matches!(e, ErrorType::Custom { .. }))
}
