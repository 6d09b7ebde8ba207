//! Stripe's authentication: the secret key as a Bearer token, or as the username of HTTP Basic
//! auth with an empty password (what `curl -u sk_test_...:` sends). Only test-mode secret keys
//! (`sk_test_`) are accepted, or exactly the configured one.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::errors::ApiError;

/// The API key of the request, checked against `accepted` (any `sk_test_` key when `None`).
pub fn authenticate(headers: &HeaderMap, accepted: Option<&str>) -> Result<String, ApiError> {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(ApiError::MissingApiKey)?;
    let key = key_from_header(header).ok_or(ApiError::MissingApiKey)?;
    let valid = match accepted {
        Some(accepted) => key == accepted,
        None => key.starts_with("sk_test_") && key.len() > "sk_test_".len(),
    };
    if valid { Ok(key) } else { Err(ApiError::InvalidApiKey { key }) }
}

fn key_from_header(header: &str) -> Option<String> {
    let (scheme, credentials) = header.split_once(' ')?;
    let credentials = credentials.trim();
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        credentials.to_string()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64_decode(credentials)?;
        let decoded = String::from_utf8(decoded).ok()?;
        decoded.split_once(':').map_or(decoded.clone(), |(user, _)| user.to_string())
    } else {
        return None;
    };
    (!key.is_empty()).then_some(key)
}

/// Standard base64 (with or without padding); Basic auth is its only use here.
fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for byte in input.bytes().filter(|b| *b != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_and_basic() {
        assert_eq!(authenticate(&headers("Bearer sk_test_x"), None).unwrap(), "sk_test_x");
        // "sk_test_x:" in base64, as curl -u sk_test_x: sends it.
        assert_eq!(authenticate(&headers("Basic c2tfdGVzdF94Og=="), None).unwrap(), "sk_test_x");
    }

    #[test]
    fn refusals() {
        assert_eq!(authenticate(&HeaderMap::new(), None), Err(ApiError::MissingApiKey));
        assert_eq!(authenticate(&headers("Bearer "), None), Err(ApiError::MissingApiKey));
        assert!(matches!(authenticate(&headers("Bearer sk_live_x"), None), Err(ApiError::InvalidApiKey { .. })));
        assert!(matches!(
            authenticate(&headers("Bearer sk_test_other"), Some("sk_test_x")),
            Err(ApiError::InvalidApiKey { .. })
        ));
    }
}
