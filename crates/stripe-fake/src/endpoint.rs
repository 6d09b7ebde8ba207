//! What every `/v1` endpoint shares: the per-request context, the `expand[]` parameter and
//! Stripe's list pagination. A leaf module: it depends only on the parameter reader, the error
//! type and the object builders, so endpoint modules and the dispatcher in `api.rs` can all use
//! it without importing one another.

use serde_json::Value;

use crate::errors::ApiError;
use crate::form::Fields;
use crate::objects;

/// Per-request facts the endpoints record (the request id goes into events).
pub struct RequestCtx {
    pub request_id: String,
}

/// The `expand[]` parameter, checked against the paths an endpoint can expand.
pub struct Expand(Vec<String>);

impl Expand {
    pub fn read(params: &mut Fields, allowed: &[&str]) -> Result<Expand, ApiError> {
        let paths = params.string_array("expand")?.unwrap_or_default();
        if let Some(bad) = paths.iter().find(|p| !allowed.contains(&p.as_str())) {
            return Err(ApiError::InvalidParameter {
                param: "expand".into(),
                message: format!("This property cannot be expanded ({bad})."),
            });
        }
        Ok(Expand(paths))
    }

    pub fn has(&self, path: &str) -> bool {
        self.0.iter().any(|p| p == path)
    }
}

/// One page of a list, newest first: `limit` (1 to 100, default 10), `starting_after`,
/// `ending_before`. `items` are (id, object) pairs in list order; only the page's objects are
/// rendered to JSON, so paging through a long list costs one cheap pass per page.
pub fn list_page<T>(
    url: &str,
    items: Vec<(&str, T)>,
    render: impl FnMut(T) -> Value,
    params: &mut Fields,
) -> Result<Value, ApiError> {
    let limit = params.integer("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::InvalidParameter {
            param: "limit".into(),
            message: "This value must be between 1 and 100.".into(),
        });
    }
    let limit = limit as usize;
    let position = |param: &str, id: &str| {
        items.iter().position(|(item_id, _)| *item_id == id).ok_or_else(|| ApiError::InvalidParameter {
            param: param.into(),
            message: format!("No such object: '{id}'"),
        })
    };
    let starting_after = params.optional_string("starting_after")?;
    let ending_before = params.optional_string("ending_before")?;
    let (start, end, has_more) = match (starting_after, ending_before) {
        (Some(id), _) => {
            let start = position("starting_after", &id)? + 1;
            let end = (start + limit).min(items.len());
            (start, end, end < items.len())
        }
        (None, Some(id)) => {
            let end = position("ending_before", &id)?;
            let start = end.saturating_sub(limit);
            (start, end, start > 0)
        }
        (None, None) => {
            let end = limit.min(items.len());
            (0, end, end < items.len())
        }
    };
    let data = items.into_iter().skip(start).take(end - start).map(|(_, item)| item).map(render).collect();
    Ok(objects::list(url, data, has_more))
}
