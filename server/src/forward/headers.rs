//! Header rules of SPEC section 6: what the caller sent that may reach the target, and what the
//! target answered that may reach the caller.
//!
//! Never forwarded to the target: the caller's own `Authorization` (a gateway credential), every
//! `LP-*` header (instructions to the gateway), and hop-by-hop headers, which describe one
//! connection and not the message (RFC 9110 section 7.6.1: `Connection` and every header it
//! names, plus `Proxy-Connection`, `Keep-Alive`, `TE`, `Transfer-Encoding`, `Upgrade`,
//! `Proxy-Authenticate`, `Proxy-Authorization`, `Trailer`). `Host` is set from the target URL,
//! and `Expect` is answered by this hop. The same hop-by-hop rule applies to the response.
//!
//! Never relayed to the caller: the target's own `LP-*` headers. Only the gateway sets them
//! (`LP-certificate-id`, the transport-error headers); a target sending them could otherwise
//! claim a certificate was presented or fake a transport failure.

use actix_web::http::header::HeaderMap as ActixHeaders;
use http::header::{HeaderMap as TargetHeaders, HeaderName, HeaderValue};

/// Prefix of the gateway's own headers.
pub(crate) use mtls_sdk::wire::LP_PREFIX;

/// RFC 9110 section 7.6.1 and the de-facto `Proxy-Connection`/`Keep-Alive`.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "trailer",
];

/// Headers of the request to send to the target. `authorization` and `content_type` are the
/// override values (`LP-authorization-override`, `LP-content-type-override`).
pub(crate) fn request_headers(
    incoming: &ActixHeaders,
    authorization: Option<&HeaderValue>,
    content_type: Option<&HeaderValue>,
) -> TargetHeaders {
    let named = || incoming.get_all(actix_web::http::header::CONNECTION).filter_map(|v| v.to_str().ok());
    let mut out = TargetHeaders::with_capacity(incoming.len());
    for (name, value) in incoming.iter() {
        let key = name.as_str();
        if key.starts_with(LP_PREFIX)
            || key == "authorization"
            || key == "host"
            || key == "expect"
            || is_hop_by_hop(key, named())
        {
            continue;
        }
        // actix-web 4 and hyper 1 use different majors of the `http` crate: convert by
        // bytes (both sides already validated them, so the conversion cannot fail in practice).
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(key.as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        {
            out.append(name, value);
        }
    }
    if let Some(value) = authorization {
        out.insert(http::header::AUTHORIZATION, value.clone());
    }
    if let Some(value) = content_type {
        out.insert(http::header::CONTENT_TYPE, value.clone());
    }
    out
}

/// The target's response headers that go back to the caller: hop-by-hop ones removed (the
/// framing headers are set again by this server for its own connection), and every `LP-*` one.
pub(crate) fn response_headers(target: &TargetHeaders) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
    let named = || target.get_all(http::header::CONNECTION).into_iter().filter_map(|v| v.to_str().ok());
    target.iter().filter(move |(name, _)| {
        let key = name.as_str();
        key != "content-length" && !key.starts_with(LP_PREFIX) && !is_hop_by_hop(key, named())
    })
}

/// `name` (lower case, as `HeaderName`s are) is hop-by-hop, or one of the comma-separated
/// tokens of the `Connection` values `connection` names it. Compared in place, without
/// collecting the tokens: most targets answer `Connection: keep-alive` on every response.
fn is_hop_by_hop<'a>(name: &str, mut connection: impl Iterator<Item = &'a str>) -> bool {
    HOP_BY_HOP.contains(&name)
        || connection.any(|value| value.split(',').any(|token| token.trim().eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName as N, HeaderValue as V};

    fn incoming(pairs: &[(&str, &str)]) -> ActixHeaders {
        let mut map = ActixHeaders::new();
        for (name, value) in pairs {
            map.append(N::from_bytes(name.as_bytes()).unwrap(), V::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn strips_credentials_lp_and_hop_by_hop_headers() {
        let map = incoming(&[
            ("authorization", "Bearer gateway-token"),
            ("lp-forward-url", "https://t.example/"),
            ("lp-authorization-override", "Basic dGFyZ2V0"),
            ("connection", "keep-alive, X-Secret-Hop"),
            ("x-secret-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic cHJveHk="),
            ("proxy-connection", "keep-alive"),
            ("trailer", "x-t"),
            ("host", "gateway.example"),
            ("expect", "100-continue"),
            ("x-custom", "kept"),
            ("x-custom", "twice"),
            ("content-type", "text/plain"),
            ("content-length", "5"),
        ]);
        let out = request_headers(&map, None, None);
        let mut names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-length", "content-type", "x-custom"], "{out:?}");
        assert_eq!(out.get_all("x-custom").iter().count(), 2);
    }

    #[test]
    fn overrides_replace_authorization_and_content_type() {
        let map = incoming(&[("authorization", "OAuth x"), ("content-type", "text/plain")]);
        let auth = HeaderValue::from_static("Basic dGFyZ2V0");
        let ct = HeaderValue::from_static("application/json");
        let out = request_headers(&map, Some(&auth), Some(&ct));
        assert_eq!(out.get("authorization").unwrap(), "Basic dGFyZ2V0");
        assert_eq!(out.get("content-type").unwrap(), "application/json");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn response_drops_hop_by_hop_and_length() {
        let mut map = TargetHeaders::new();
        map.insert("connection", HeaderValue::from_static("close, x-hop"));
        map.insert("x-hop", HeaderValue::from_static("1"));
        map.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        map.insert("content-length", HeaderValue::from_static("3"));
        map.insert("set-cookie", HeaderValue::from_static("a=b"));
        let kept: Vec<&str> = response_headers(&map).map(|(n, _)| n.as_str()).collect();
        assert_eq!(kept, ["set-cookie"]);
    }

    #[test]
    fn response_drops_the_targets_lp_headers() {
        let mut map = TargetHeaders::new();
        for name in ["lp-certificate-id", "lp-error-from-transport", "lp-message-from-transport", "lp-other"] {
            map.insert(HeaderName::from_static(name), HeaderValue::from_static("spoofed"));
        }
        map.insert("x-lp-like", HeaderValue::from_static("kept"));
        let kept: Vec<&str> = response_headers(&map).map(|(n, _)| n.as_str()).collect();
        assert_eq!(kept, ["x-lp-like"]);
    }
}
