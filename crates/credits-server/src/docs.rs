//! The API reference page, `GET /docs`: Swagger UI, reading the document this server serves at
//! `/openapi.json`, so "Try it out" sends its requests to this very server.
//!
//! Every file comes from the `swagger-ui-dist` crate, which embeds Swagger UI's published
//! distribution: the page works offline and loads nothing from elsewhere, and upgrading Swagger
//! UI is a version bump, never files copied by hand. The crate offers its files as an axum
//! router; this module calls that router in-process and hands its answer to dropshot, which
//! serves it like any operation of the spec (`get_api_reference`, `get_api_reference_asset`).

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http_body_util::BodyExt;
use swagger_ui_dist::{ApiDefinition, OpenApiSource};
use tower::ServiceExt;

use crate::error::Error;

/// Where the page lives; the spec's paths say the same.
const PREFIX: &str = "/docs";

/// A file of the reference page: its media type and bytes.
pub struct Asset {
    /// `text/html`, `text/css`, ...
    pub content_type: String,
    /// The file.
    pub body: Bytes,
}

/// The page itself.
pub async fn page() -> Result<Asset, Error> {
    fetch(PREFIX).await?.ok_or_else(|| Error::Internal("the reference page is missing".into()))
}

/// One of the page's files, by name; 404 for any name the page does not use.
pub async fn asset(file: &str) -> Result<Asset, Error> {
    // Only plain file names: anything else cannot be one of the page's files, and must not
    // reach the router as another path.
    let plain = !file.is_empty() && file.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let not_found = || Error::NotFound(format!("No asset {file:?} in the API reference page"));
    if !plain {
        return Err(not_found());
    }
    fetch(&format!("{PREFIX}/{file}")).await?.ok_or_else(not_found)
}

/// Asks the crate's router for `path`: `None` when it has nothing there.
async fn fetch(path: &str) -> Result<Option<Asset>, Error> {
    let routes = swagger_ui_dist::generate_routes(ApiDefinition {
        uri_prefix: PREFIX,
        api_definition: OpenApiSource::Uri("/openapi.json"),
        title: Some("Credits API reference"),
    });
    let request = http::Request::get(path)
        .body(String::new())
        .map_err(|e| Error::Internal(format!("a request for {path}: {e}")))?;
    let response = routes.oneshot(request).await.map_err(|e| Error::Internal(format!("serving {path}: {e}")))?;
    if !response.status().is_success() {
        return Ok(None);
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let body =
        response.into_body().collect().await.map_err(|e| Error::Internal(format!("reading {path}: {e}")))?.to_bytes();
    Ok(Some(Asset { content_type, body }))
}
