//! A small dropshot API, written by hand, that uses the constructs dropshot can emit but the
//! fifteen omicron documents of the corpus do not: a name-or-id path parameter (a `oneOf` of
//! strings), success response headers, the redirects, the fixed-status responses, a free-form
//! body each way, pagination and a WebSocket channel. The document dropshot emits for it is
//! committed as `tests/corpus/dropshot-made/constructs.json` (its test rewrites it with
//! `EXPECTORATE=overwrite`), and the generator must turn that document back into this API.
//!
//! The handlers only answer what their types need: the document is what matters here.

use dropshot::{
    ApiDescription, Body, EmptyScanParams, HttpError, HttpResponseAccepted, HttpResponseDeleted, HttpResponseFound,
    HttpResponseHeaders, HttpResponseOk, HttpResponseSeeOther, HttpResponseTemporaryRedirect,
    HttpResponseUpdatedNoContent, PaginationParams, Path, Query, RequestContext, ResultsPage, TypedBody, UntypedBody,
    WebsocketChannelResult, WebsocketConnection, channel, endpoint,
};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject, StringValidation, SubschemaValidation};
use serde::{Deserialize, Serialize};

/// A name: a lower-case letter, then letters, digits and dashes, never ending with a dash, and
/// never a UUID (so that a name-or-id is one or the other).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Name(pub String);

impl JsonSchema for Name {
    fn schema_name() -> String {
        "Name".to_string()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        Schema::Object(SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some("A lower-case letter, then letters, digits and dashes; never a UUID".to_string()),
                ..Default::default()
            })),
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(StringValidation {
                max_length: Some(63),
                min_length: Some(1),
                pattern: Some(
                    "^(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)^[a-z]([a-zA-Z0-9-]*[a-zA-Z0-9]+)?$"
                        .to_string(),
                ),
            })),
            ..Default::default()
        })
    }
}

/// A project's name or its id. Its schema is a `oneOf`, which dropshot accepts for a path
/// parameter (the derived schema of an untagged enum would be an `anyOf`, which it refuses).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum NameOrId {
    /// By id.
    Id(uuid::Uuid),
    /// By name.
    Name(Name),
}

impl JsonSchema for NameOrId {
    fn schema_name() -> String {
        "NameOrId".to_string()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let titled = |title: &str, schema: Schema| {
            Schema::Object(SchemaObject {
                metadata: Some(Box::new(Metadata { title: Some(title.to_string()), ..Default::default() })),
                subschemas: Some(Box::new(SubschemaValidation { all_of: Some(vec![schema]), ..Default::default() })),
                ..Default::default()
            })
        };
        Schema::Object(SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                one_of: Some(vec![
                    titled("id", generator.subschema_for::<uuid::Uuid>()),
                    titled("name", generator.subschema_for::<Name>()),
                ]),
                ..Default::default()
            })),
            ..Default::default()
        })
    }
}

/// A project.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
pub struct Project {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its name.
    pub name: Name,
}

/// Where a project is named.
#[derive(Deserialize, JsonSchema)]
pub struct ProjectPath {
    /// The project's name or id.
    pub project: NameOrId,
}

/// Where a blob is named.
#[derive(Deserialize, JsonSchema)]
pub struct BlobPath {
    /// The blob's name.
    pub name: String,
}

/// The headers of an export.
#[derive(Serialize, JsonSchema)]
pub struct ExportHeaders {
    /// The version of the project exported.
    pub etag: String,
}

/// A project's settings.
#[derive(Deserialize, JsonSchema)]
pub struct ProjectSettings {
    /// Whether the project is archived.
    pub archived: bool,
}

/// A job started in the background.
#[derive(Serialize, JsonSchema)]
pub struct Job {
    /// Its id.
    pub id: uuid::Uuid,
}

/// Where a page of projects resumes.
#[derive(Deserialize, Serialize, JsonSchema)]
pub struct ProjectPage {
    /// The last name seen.
    pub last_seen: String,
}

fn example_project() -> Project {
    Project { id: uuid::Uuid::nil(), name: Name("example".to_string()) }
}

/// View a project by name or id.
#[endpoint { method = GET, path = "/projects/{project}", tags = ["projects"] }]
async fn project_view(_: RequestContext<()>, _: Path<ProjectPath>) -> Result<HttpResponseOk<Project>, HttpError> {
    Ok(HttpResponseOk(example_project()))
}

/// List projects, a page at a time.
#[endpoint { method = GET, path = "/projects", tags = ["projects"] }]
async fn project_list(
    _: RequestContext<()>,
    _: Query<PaginationParams<EmptyScanParams, ProjectPage>>,
) -> Result<HttpResponseOk<ResultsPage<Project>>, HttpError> {
    Ok(HttpResponseOk(ResultsPage { items: vec![example_project()], next_page: None }))
}

/// Export a project, with its version in a header.
#[endpoint { method = GET, path = "/projects/{project}/export", tags = ["projects"] }]
async fn project_export(
    _: RequestContext<()>,
    _: Path<ProjectPath>,
) -> Result<HttpResponseHeaders<HttpResponseOk<Project>, ExportHeaders>, HttpError> {
    Ok(HttpResponseHeaders::new(HttpResponseOk(example_project()), ExportHeaders { etag: "1".to_string() }))
}

/// Change a project's settings.
#[endpoint { method = PUT, path = "/projects/{project}/settings", tags = ["projects"] }]
async fn project_settings_update(
    _: RequestContext<()>,
    _: Path<ProjectPath>,
    _: TypedBody<ProjectSettings>,
) -> Result<HttpResponseUpdatedNoContent, HttpError> {
    Ok(HttpResponseUpdatedNoContent())
}

/// Delete a project.
#[endpoint { method = DELETE, path = "/projects/{project}", tags = ["projects"] }]
async fn project_delete(_: RequestContext<()>, _: Path<ProjectPath>) -> Result<HttpResponseDeleted, HttpError> {
    Ok(HttpResponseDeleted())
}

/// A project's log, as it is written (not JSON).
#[endpoint { method = GET, path = "/projects/{project}/log", tags = ["projects"] }]
async fn project_log(_: RequestContext<()>, _: Path<ProjectPath>) -> Result<http::Response<Body>, HttpError> {
    http::Response::builder()
        .header(http::header::CONTENT_TYPE, "text/plain")
        .body(Body::from("started\n"))
        .map_err(|e| HttpError::for_internal_error(e.to_string()))
}

/// Store a blob of bytes.
#[endpoint { method = PUT, path = "/blobs/{name}", tags = ["blobs"] }]
async fn blob_put(
    _: RequestContext<()>,
    _: Path<BlobPath>,
    _: UntypedBody,
) -> Result<HttpResponseUpdatedNoContent, HttpError> {
    Ok(HttpResponseUpdatedNoContent())
}

/// Start a job; it runs after the answer.
#[endpoint { method = POST, path = "/jobs", tags = ["jobs"] }]
async fn job_start(_: RequestContext<()>) -> Result<HttpResponseAccepted<Job>, HttpError> {
    Ok(HttpResponseAccepted(Job { id: uuid::Uuid::nil() }))
}

/// Log in: the answer sends the client on (303).
#[endpoint { method = POST, path = "/login", tags = ["session"] }]
async fn login(_: RequestContext<()>) -> Result<HttpResponseSeeOther, HttpError> {
    dropshot::http_response_see_other("/projects".to_string())
}

/// The old home page (302).
#[endpoint { method = GET, path = "/home", tags = ["session"] }]
async fn home(_: RequestContext<()>) -> Result<HttpResponseFound, HttpError> {
    dropshot::http_response_found("/projects".to_string())
}

/// A page being moved for a while (307).
#[endpoint { method = GET, path = "/moved", tags = ["session"] }]
async fn moved(_: RequestContext<()>) -> Result<HttpResponseTemporaryRedirect, HttpError> {
    dropshot::http_response_temporary_redirect("/projects".to_string())
}

/// Events as they happen, over a WebSocket.
#[channel { protocol = WEBSOCKETS, path = "/events", tags = ["jobs"] }]
async fn events(_: RequestContext<()>, _: WebsocketConnection) -> WebsocketChannelResult {
    Ok(())
}

/// The API, every endpoint registered.
pub fn api() -> ApiDescription<()> {
    let mut api = ApiDescription::new();
    api.register(project_view).expect("project_view");
    api.register(project_list).expect("project_list");
    api.register(project_export).expect("project_export");
    api.register(project_settings_update).expect("project_settings_update");
    api.register(project_delete).expect("project_delete");
    api.register(project_log).expect("project_log");
    api.register(blob_put).expect("blob_put");
    api.register(job_start).expect("job_start");
    api.register(login).expect("login");
    api.register(home).expect("home");
    api.register(moved).expect("moved");
    api.register(events).expect("events");
    api
}

/// The document dropshot emits for [`api`].
pub fn document() -> serde_json::Value {
    api()
        .openapi("Constructs", dropshot::semver::Version::new(1, 0, 0))
        .description("The constructs of a dropshot API that the omicron corpus lacks.")
        .json()
        .expect("dropshot emits JSON")
}
