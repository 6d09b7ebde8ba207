//! The spec's security schemes as an extractor: [`Credentials`] finds the credentials a request
//! presents in one of the schemes an operation accepts, and refuses a request without any with
//! 401 before its handler runs (and before its body is read). Whether they are valid is the
//! handler's to decide.

/// A security scheme of the document, as [`Credentials`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer <value>`.
    Bearer {
        /// The scheme's name in `components/securitySchemes`.
        name: &'static str,
    },
    /// `Authorization: Basic <value>` (the value still encoded).
    Basic {
        /// The scheme's name in `components/securitySchemes`.
        name: &'static str,
    },
    /// `<header>: <value>`.
    ApiKeyHeader {
        /// The scheme's name in `components/securitySchemes`.
        name: &'static str,
        /// The header that carries the key.
        header: &'static str,
    },
}

/// The schemes an operation accepts, in the order they are tried (generated per set of schemes).
pub trait AcceptedSchemes: Send + Sync + 'static {
    /// The schemes, in order.
    const SCHEMES: &'static [Scheme];
}

/// The credentials a request presents, in one of the schemes `S` accepts.
pub struct Credentials<S> {
    /// The name of the scheme they came in (as in `components/securitySchemes`).
    pub scheme: &'static str,
    /// The secret itself: never log it.
    pub value: String,
    accepted: std::marker::PhantomData<S>,
}

impl<S> std::fmt::Debug for Credentials<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ scheme: {:?}, value: <redacted> }}", self.scheme)
    }
}

impl<S: AcceptedSchemes> Credentials<S> {
    /// The credentials in `headers`, in the first of the accepted schemes they come in. Anything
    /// in front of the server that counts requests by credentials (a rate limiter) should find
    /// them with this, to count what the server will use.
    pub fn find(headers: &http::HeaderMap) -> Option<Self> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let authorization = |expected: &str| {
            let (kind, value) = text("authorization")?.split_once(' ')?;
            let value = value.trim();
            (kind.eq_ignore_ascii_case(expected) && !value.is_empty()).then(|| value.to_string())
        };
        S::SCHEMES.iter().find_map(|scheme| {
            let (name, value) = match *scheme {
                Scheme::Bearer { name } => (name, authorization("bearer")?),
                Scheme::Basic { name } => (name, authorization("basic")?),
                Scheme::ApiKeyHeader { name, header } => (name, text(header).filter(|v| !v.is_empty())?.to_string()),
            };
            Some(Credentials { scheme: name, value, accepted: std::marker::PhantomData })
        })
    }
}

#[async_trait::async_trait]
impl<S: AcceptedSchemes> dropshot::SharedExtractor for Credentials<S> {
    async fn from_request<Context: dropshot::ServerContext>(
        rqctx: &dropshot::RequestContext<Context>,
    ) -> Result<Self, dropshot::HttpError> {
        Self::find(rqctx.request.headers()).ok_or_else(|| {
            dropshot::HttpError::for_client_error(
                None,
                dropshot::ClientErrorStatusCode::UNAUTHORIZED,
                "missing or malformed credentials".to_string(),
            )
        })
    }

    fn metadata(_: dropshot::ApiEndpointBodyContentType) -> dropshot::ExtractorMetadata {
        // Security is not a parameter; dropshot cannot express it in the document.
        dropshot::ExtractorMetadata { extension_mode: dropshot::ExtensionMode::None, parameters: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct BearerOrKey;
    impl AcceptedSchemes for BearerOrKey {
        const SCHEMES: &'static [Scheme] =
            &[Scheme::Bearer { name: "bearer" }, Scheme::ApiKeyHeader { name: "key", header: "x-api-key" }];
    }

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn schemes_are_tried_in_order() {
        let found = Credentials::<BearerOrKey>::find(&headers(&[("x-api-key", "k1"), ("authorization", "Bearer t1")]));
        let found = found.unwrap();
        assert_eq!((found.scheme, found.value.as_str()), ("bearer", "t1"));
        let found = Credentials::<BearerOrKey>::find(&headers(&[("x-api-key", " k1 ")])).unwrap();
        assert_eq!((found.scheme, found.value.as_str()), ("key", "k1"));
    }

    #[test]
    fn malformed_or_missing_credentials_are_none() {
        for pairs in [vec![], vec![("authorization", "Bearer ")], vec![("authorization", "Basic abc")]] {
            assert!(Credentials::<BearerOrKey>::find(&headers(&pairs)).is_none(), "{pairs:?}");
        }
        assert!(Credentials::<BearerOrKey>::find(&headers(&[("authorization", "bearer x")])).is_some());
    }

    #[test]
    fn the_secret_is_not_printed() {
        let found = Credentials::<BearerOrKey>::find(&headers(&[("authorization", "Bearer secret")])).unwrap();
        let printed = format!("{found:?}");
        assert!(!printed.contains("secret"), "{printed}");
        // Still useful in a log: which scheme the credentials came in.
        assert!(printed.contains(found.scheme) && printed.contains("<redacted>"), "{printed}");
    }
}
