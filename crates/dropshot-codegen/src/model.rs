//! The document as the emitters see it: operations read once from the JSON (by `read`), with
//! references to the Rust types typify gave them (by `resolve`), which the emitters turn into
//! code. Every emitter depends on this module; it depends on none of them.

use serde_json::Value;
use typify::TypeId;

/// What the document says that dropshot cannot declare, recorded as JSON for a served document to
/// declare again, for every operation with an operationId (left out or not).
pub(crate) struct Recorded {
    /// `{"securitySchemes": {..}, "operations": {"<operationId>": [<requirement>..]}}`, each
    /// operation with the requirements in force for it (its own, or the document's).
    pub(crate) security: Value,
    /// `{"<operationId>": {"<status>": {"<header>": <header object>}}}` for error responses.
    pub(crate) error_headers: Value,
    /// `{"<operationId>": {"<status>": {"<link name>": <link object>}}}`.
    pub(crate) links: Value,
}

/// The HTTP methods an OpenAPI path item can hold.
pub(crate) const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation as read from the document.
pub(crate) struct Operation {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) operation_id: String,
    pub(crate) fn_name: String,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) deprecated: bool,
    pub(crate) path_params: Vec<Param>,
    pub(crate) query_params: Vec<Param>,
    pub(crate) header_params: Vec<Param>,
    /// The parameter locations in the order the document first lists them: dropshot lists the
    /// parameters extractor by extractor, so the extractors follow this order.
    pub(crate) locations: Vec<Location>,
    /// `x-dropshot-pagination`: the query is dropshot's `PaginationParams`.
    pub(crate) pagination: Option<Pagination>,
    pub(crate) body: Option<Body>,
    pub(crate) success: Success,
    pub(crate) error_schema: Option<Value>,
    pub(crate) query_has_array: bool,
    /// The security schemes one of which the operation requires (none: no credentials).
    pub(crate) security: Vec<Scheme>,
    pub(crate) resolved: Resolved,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
}

pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) schema: Value,
    pub(crate) required: bool,
}

/// A paginated list: `limit` and `page_token` are dropshot's, the other query parameters are the
/// scan parameters, of which `required` are required on the first page.
pub(crate) struct Pagination {
    pub(crate) required: Vec<String>,
}

/// The query parameters dropshot's `PaginationParams` declares itself.
pub(crate) const PAGINATION_PARAMS: [&str; 2] = ["limit", "page_token"];

pub(crate) struct Body {
    pub(crate) kind: BodyKind,
    pub(crate) schema: Value,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum BodyKind {
    Json,
    UrlEncoded,
    Bytes,
    Multipart,
}

impl BodyKind {
    /// The `content_type` of the endpoint attribute, where it is not dropshot's default.
    pub(crate) fn content_type(self) -> Option<&'static str> {
        match self {
            BodyKind::UrlEncoded => Some("application/x-www-form-urlencoded"),
            BodyKind::Multipart => Some("multipart/form-data"),
            BodyKind::Json | BodyKind::Bytes => None,
        }
    }
}

pub(crate) enum Success {
    /// A known status with its description, body and headers.
    Coded { status: u16, description: String, body: SuccessBody, headers: Vec<ResponseHeader> },
    /// Any status and any body (a `default` response, or none at all): `Response<Body>`.
    Freeform,
    /// A WebSocket upgrade (`x-dropshot-websocket`): a `#[channel]`.
    Channel,
}

pub(crate) enum SuccessBody {
    /// No content.
    Empty,
    /// A JSON body of this schema.
    Json(Value),
    /// Any bytes (`*/*`): dropshot's `FreeformBody`.
    Freeform,
}

/// A header of the success response.
pub(crate) struct ResponseHeader {
    pub(crate) name: String,
    pub(crate) schema: Value,
    pub(crate) required: bool,
}

/// How a query whose struct dropshot cannot read as declared is declared to dropshot instead.
pub(crate) enum QueryDeclared {
    /// A twin of the query's struct, by name, that declares its arrays as their items (see
    /// `QueryParams`), which the generator declares beside typify's types.
    Twin(String),
    /// dropshot's `PaginationParams` of the scan parameters' type (`EmptyScanParams` when there
    /// are none) and the runtime's page selector.
    Pagination { scan: Option<TypeId> },
}

/// The Rust types an operation uses, filled in once typify knows them.
#[derive(Default)]
pub(crate) struct Resolved {
    /// The name of the success response type (`{Op}Response` unless the spec took it).
    pub(crate) response_name: String,
    pub(crate) path: Option<TypeId>,
    pub(crate) query: Option<TypeId>,
    /// For a query with arrays or a paginated one, how it is declared instead of as its struct.
    pub(crate) query_declared: Option<QueryDeclared>,
    pub(crate) header: Option<TypeId>,
    pub(crate) body: Option<TypeId>,
    /// Whether the body's type is defined by this module (so it can carry its own schema).
    pub(crate) body_is_local: bool,
    /// Otherwise, the name of the marker type that carries the body's schema.
    pub(crate) body_schema_marker: Option<String>,
    pub(crate) success: Option<TypeId>,
    /// The struct of the success response's headers.
    pub(crate) success_headers: Option<TypeId>,
    pub(crate) error: Option<ErrorType>,
}

/// The error type of an operation.
#[derive(Clone)]
pub(crate) enum ErrorType {
    /// dropshot's own `HttpError`, whose body the spec's error schema is.
    Dropshot,
    /// A schema of the spec, as the runtime's `ApiError<T>` of the body's Rust type; with the
    /// schema (references resolved).
    Custom { payload: TypeId, schema: Value },
}

/// A security scheme an operation accepts, as the generated `Credentials` extractor reads it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Scheme {
    /// The scheme's name in `components/securitySchemes`.
    pub(crate) name: String,
    pub(crate) kind: SchemeKind,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SchemeKind {
    /// `Authorization: Bearer <value>`.
    Bearer,
    /// `Authorization: Basic <value>`.
    Basic,
    /// A header of the given name.
    ApiKeyHeader(String),
}

/// The parameters of one location as the properties of one object, as their struct reads them.
pub(crate) fn params_schema<'a>(params: impl IntoIterator<Item = &'a Param>) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for p in params {
        properties.insert(p.name.clone(), p.schema.clone());
        if p.required {
            required.push(Value::String(p.name.clone()));
        }
    }
    serde_json::json!({ "type": "object", "properties": properties, "required": required })
}

/// The name of `http::StatusCode`'s constant for a success, redirect or upgrade status.
pub(crate) fn status_const(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "CONTINUE",
        101 => "SWITCHING_PROTOCOLS",
        200 => "OK",
        201 => "CREATED",
        202 => "ACCEPTED",
        203 => "NON_AUTHORITATIVE_INFORMATION",
        204 => "NO_CONTENT",
        205 => "RESET_CONTENT",
        206 => "PARTIAL_CONTENT",
        207 => "MULTI_STATUS",
        208 => "ALREADY_REPORTED",
        226 => "IM_USED",
        300 => "MULTIPLE_CHOICES",
        301 => "MOVED_PERMANENTLY",
        302 => "FOUND",
        303 => "SEE_OTHER",
        304 => "NOT_MODIFIED",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        _ => return None,
    })
}
