//! CORS for browser clients: a web app served from one of the deployment's allowed origins (the
//! origins its checkout may redirect to, `--allowed-redirect-origins`) may call the API from the
//! browser. The edge answers the browser's preflight itself, and marks the answers to such an
//! origin as readable by it. Any other origin gets no CORS header, so the browser keeps the
//! answer from the page. Tokens travel in headers, never in cookies: no credentials mode.

use http::{HeaderMap, HeaderValue, Method, Response, header};

/// The origins allowed to call from a browser.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    origins: Vec<String>,
}

/// Request headers a browser may send: the spec's security schemes, the body's type, the
/// idempotency key and the client's version.
const ALLOWED_HEADERS: &str = "authorization, x-api-key, content-type, idempotency-key, api-version";
/// Response headers a page may read besides the simple ones.
const EXPOSED_HEADERS: &str = "retry-after, x-request-id";
/// How long a browser may reuse a preflight's answer (seconds).
const PREFLIGHT_MAX_AGE: &str = "600";

impl Cors {
    /// CORS for these origins (`scheme://host[:port]`, as `--allowed-redirect-origins` checks
    /// them); none: no browser origin may read the API's answers.
    pub fn new(origins: &[String]) -> Cors {
        Cors { origins: origins.iter().map(|o| o.trim_end_matches('/').to_ascii_lowercase()).collect() }
    }

    /// The request's `Origin`, when it is one of the allowed origins.
    pub fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&text).then(|| origin.clone())
    }

    /// The headers of the answer (a 204) to a browser's preflight (`OPTIONS` with
    /// `Access-Control-Request-Method`), or `None` when the request is not one. An origin not
    /// allowed gets no CORS header, which the browser reads as a refusal.
    pub fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<HeaderMap> {
        if method != Method::OPTIONS || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return None;
        }
        let mut answer = HeaderMap::new();
        answer.insert(header::VARY, HeaderValue::from_static("origin"));
        if let Some(origin) = self.allowed_origin(headers) {
            answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            answer.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            answer.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
            answer.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
        }
        Some(answer)
    }

    /// Marks an answer as readable by `origin` (from [`Cors::allowed_origin`]), when there is one.
    pub fn allow<B>(&self, response: &mut Response<B>, origin: Option<HeaderValue>) {
        let headers = response.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("origin"));
        if let Some(origin) = origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_listed_origins_are_allowed_whatever_their_case() {
        let cors = Cors::new(&["https://app.example".to_string()]);
        assert!(cors.allowed_origin(&headers(&[("origin", "https://APP.example")])).is_some());
        for other in ["https://evil.example", "http://app.example", "https://app.example:8443", "null"] {
            assert!(cors.allowed_origin(&headers(&[("origin", other)])).is_none(), "{other}");
        }
        assert!(cors.allowed_origin(&HeaderMap::new()).is_none());
        assert!(Cors::new(&[]).allowed_origin(&headers(&[("origin", "https://app.example")])).is_none());
    }

    #[test]
    fn a_preflight_is_answered_only_for_options_with_a_requested_method() {
        let cors = Cors::new(&["https://app.example".to_string()]);
        let asked = headers(&[("origin", "https://app.example"), ("access-control-request-method", "POST")]);
        let answer = cors.preflight(&Method::OPTIONS, &asked).expect("a preflight");
        assert_eq!(answer[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert!(answer[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().contains("idempotency-key"));
        assert!(cors.preflight(&Method::GET, &asked).is_none());
        assert!(cors.preflight(&Method::OPTIONS, &headers(&[("origin", "https://app.example")])).is_none());
        let foreign = headers(&[("origin", "https://evil.example"), ("access-control-request-method", "POST")]);
        let refused = cors.preflight(&Method::OPTIONS, &foreign).expect("answered");
        assert!(!refused.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }
}
