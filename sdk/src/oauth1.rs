//! OAuth 1.0 request signing (RFC 5849 section 3) for the SDK's API client: the `Authorization:
//! OAuth ...` header the gateway verifies on oAuth1 endpoints (SPEC section 4).
//!
//! The caller supplies the nonce and the timestamp (the SDK reads no clock and draws no random
//! numbers here), so a signature is a pure function of its inputs and testable against the
//! specification's example.
//!
//! The gateway verifies with the same [`signature_base_string`], [`signature()`] and
//! [`percent_encode`], so signer and verifier cannot drift apart.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 5849 section 3.6: every byte but ALPHA, DIGIT, `-`, `.`, `_`, `~` is escaped.
const OAUTH_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Consumer and optional token credentials of an app key (`POST /admin/app-keys`).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuth1Credentials {
    /// `oauth_consumer_key`.
    pub consumer_key: String,
    /// Secret half of the consumer credentials (never sent).
    pub consumer_secret: String,
    /// `oauth_token`, when the app key has one.
    pub token: Option<String>,
    /// Secret half of the token credentials (never sent).
    pub token_secret: Option<String>,
}

impl std::fmt::Debug for OAuth1Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth1Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("token", &self.token)
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `oauth_signature_method`s the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuth1SignatureMethod {
    /// `HMAC-SHA1` (RFC 5849 section 3.4.2), what existing clients send.
    HmacSha1,
    /// `HMAC-SHA256`, the same construction over SHA-256.
    HmacSha256,
}

impl OAuth1SignatureMethod {
    /// The `oauth_signature_method` value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC-SHA1",
            Self::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The method an `oauth_signature_method` value names, if it is one of these.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "HMAC-SHA1" => Some(Self::HmacSha1),
            "HMAC-SHA256" => Some(Self::HmacSha256),
            _ => None,
        }
    }
}

/// The value of the `Authorization` header for `method` on `url`.
///
/// `form_parameters` are the body's parameters when the body is
/// `application/x-www-form-urlencoded` (RFC 5849 section 3.4.1.3.1); pass none for JSON and
/// multipart bodies, which the signature does not cover. Query parameters are taken from `url`.
pub fn oauth1_authorization(
    method: &str,
    url: &url::Url,
    form_parameters: &[(String, String)],
    credentials: &OAuth1Credentials,
    signature_method: OAuth1SignatureMethod,
    nonce: &str,
    timestamp: u64,
) -> String {
    let timestamp = timestamp.to_string();
    let mut protocol: Vec<(&str, &str)> = vec![
        ("oauth_consumer_key", &credentials.consumer_key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", signature_method.name()),
        ("oauth_timestamp", &timestamp),
    ];
    if let Some(token) = &credentials.token {
        protocol.push(("oauth_token", token));
    }
    protocol.push(("oauth_version", "1.0"));

    // Section 3.4.1.3.1: the query's parameters, the form body's and the protocol's.
    let parameters = url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .chain(form_parameters.iter().cloned())
        .chain(
            protocol
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
    let base = signature_base_string(method, &base_string_uri(url), parameters);
    let signature = signature(
        signature_method,
        &base,
        &credentials.consumer_secret,
        credentials.token_secret.as_deref().unwrap_or(""),
    );

    let mut fields: Vec<String> = protocol
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", percent_encode(value)))
        .collect();
    fields.push(format!(
        "oauth_signature=\"{}\"",
        percent_encode(&signature)
    ));
    fields.sort();
    format!("OAuth {}", fields.join(", "))
}

/// RFC 5849 section 3.4.1.2: scheme and host in lower case (the `url` crate already lowercases
/// them), the port only when it is not the scheme's default, the path; no query or fragment.
#[must_use]
pub fn base_string_uri(url: &url::Url) -> String {
    let mut base_uri = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        base_uri.push_str(&format!(":{port}"));
    }
    base_uri.push_str(url.path());
    base_uri
}

/// RFC 5849 section 3.4.1.1: `METHOD&base-string-URI&normalized-parameters`, each part encoded.
///
/// `base_uri` is already normalised ([`base_string_uri`]); `parameters` are every decoded
/// parameter the signature covers (query, form body, protocol parameters except
/// `oauth_signature` and `realm`), in any order: section 3.4.1.3.2 encodes them, then sorts
/// by name and by value, both by byte order.
#[must_use]
pub fn signature_base_string(
    method: &str,
    base_uri: &str,
    parameters: impl IntoIterator<Item = (String, String)>,
) -> String {
    let mut encoded: Vec<(String, String)> = parameters
        .into_iter()
        .map(|(name, value)| (percent_encode(&name), percent_encode(&value)))
        .collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        percent_encode(&method.to_ascii_uppercase()),
        percent_encode(base_uri),
        percent_encode(&normalized)
    )
}

/// The base64 signature of `base` (section 3.4.2) keyed by `consumer_secret&token_secret`
/// (the token secret is empty when the request has no token).
#[must_use]
pub fn signature(
    method: OAuth1SignatureMethod,
    base: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let key = format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    );
    match method {
        OAuth1SignatureMethod::HmacSha1 => hmac_base64::<Hmac<sha1::Sha1>>(&key, base),
        OAuth1SignatureMethod::HmacSha256 => hmac_base64::<Hmac<sha2::Sha256>>(&key, base),
    }
}

fn hmac_base64<M: Mac + KeyInit>(key: &str, message: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key.as_bytes()) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// RFC 5849 section 3.6: every byte but ALPHA, DIGIT, `-`, `.`, `_`, `~` as `%XX` (upper hex).
/// The same set is RFC 3986's unreserved characters, so it also makes a safe path segment.
#[must_use]
pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, OAUTH_ESCAPED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photos_credentials() -> OAuth1Credentials {
        OAuth1Credentials {
            consumer_key: "dpf43f3p2l4k3l03".into(),
            consumer_secret: "kd94hf93k423kf44".into(),
            token: Some("nnch734d00sl2jdk".into()),
            token_secret: Some("pfkkdhi9sl3r4s00".into()),
        }
    }

    /// OAuth Core 1.0 Revision A, Appendix A.5 (the "photos" example, with oauth_version).
    #[test]
    fn signs_the_oauth_core_appendix_example() {
        let url =
            url::Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
                .expect("example URL");
        let header = oauth1_authorization(
            "GET",
            &url,
            &[],
            &photos_credentials(),
            OAuth1SignatureMethod::HmacSha1,
            "kllo9940pd9333jh",
            1_191_242_096,
        );
        assert!(
            header.contains(r#"oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D""#),
            "{header}"
        );
        assert!(header.starts_with("OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_nonce="));
    }

    #[test]
    fn base_string_follows_rfc_5849_section_3_4_1() {
        let url =
            url::Url::parse("HTTPS://Example.COM:443/a%20b/c?b=2&a=1&a=0&c=x%2By").expect("URL");
        let parameters = url
            .query_pairs()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .chain([("z".into(), "last one".into()), ("oauth_nonce".into(), "n".into())]);
        let base = signature_base_string("post", &base_string_uri(&url), parameters);
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fexample.com%2Fa%2520b%2Fc&\
             a%3D0%26a%3D1%26b%3D2%26c%3Dx%252By%26oauth_nonce%3Dn%26z%3Dlast%2520one"
        );
        let with_port = url::Url::parse("https://example.com:8443/").expect("URL");
        assert_eq!(base_string_uri(&with_port), "https://example.com:8443/");
    }

    #[test]
    fn percent_encoding_follows_section_3_6() {
        assert_eq!(
            percent_encode("Ladies + Gentlemen"),
            "Ladies%20%2B%20Gentlemen"
        );
        assert_eq!(
            percent_encode("An encoded string!"),
            "An%20encoded%20string%21"
        );
        assert_eq!(
            percent_encode("Dogs, Cats & Mice"),
            "Dogs%2C%20Cats%20%26%20Mice"
        );
        assert_eq!(percent_encode("☃"), "%E2%98%83");
        assert_eq!(percent_encode("a-b.c_d~e"), "a-b.c_d~e");
    }

    #[test]
    fn token_is_optional_and_secrets_never_appear() {
        let credentials = OAuth1Credentials {
            token: None,
            token_secret: None,
            ..photos_credentials()
        };
        let url = url::Url::parse("https://gw.example/mtls/mapping?v=2").expect("URL");
        let header = oauth1_authorization(
            "POST",
            &url,
            &[],
            &credentials,
            OAuth1SignatureMethod::HmacSha256,
            "abc",
            1,
        );
        assert!(!header.contains("oauth_token="));
        assert!(header.contains(r#"oauth_signature_method="HMAC-SHA256""#));
        assert!(!header.contains("kd94hf93k423kf44"));
        let debug = format!("{:?}", photos_credentials());
        assert!(!debug.contains("kd94hf93k423kf44") && !debug.contains("pfkkdhi9sl3r4s00"));
    }
}
