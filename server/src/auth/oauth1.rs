//! OAuth 1.0 request signatures (RFC 5849): parsing the `Authorization: OAuth ...` header
//! (section 3.5.1), the signature base string (section 3.4.1) and HMAC-SHA1 (section 3.4.2),
//! plus HMAC-SHA256, which common libraries offer under the same construction.
//!
//! Everything here is pure: the caller supplies the request parts, the secrets and the clock.
//! Timestamp window and nonce replay are checked by [`super::AuthState`]. The base string,
//! the signature and the percent-encoding are the SDK's signer's own
//! ([`mtls_sdk::oauth1`]), so what clients sign and what the gateway verifies cannot drift.

pub(crate) use mtls_sdk::oauth1::OAuth1SignatureMethod as SignatureMethod;
use mtls_sdk::oauth1::signature_base_string;
use subtle::ConstantTimeEq as _;

/// Longest accepted `oauth_nonce`, in characters (SPEC section 4): a nonce is remembered for the
/// whole timestamp window, so its length is memory a caller chooses.
pub(crate) const MAX_NONCE_CHARS: usize = 64;

/// The `oauth_*` protocol parameters of a request.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OAuthParams {
    /// `oauth_consumer_key`.
    pub(crate) consumer_key: String,
    /// `oauth_token`, when the client uses one.
    pub(crate) token: Option<String>,
    /// `oauth_signature_method`.
    pub(crate) signature_method: SignatureMethod,
    /// `oauth_signature`, base64 (decoded from the header's percent-encoding).
    pub(crate) signature: String,
    /// `oauth_timestamp`, seconds since the Unix epoch; always positive.
    pub(crate) timestamp: i64,
    /// `oauth_nonce`, at most [`MAX_NONCE_CHARS`] characters.
    pub(crate) nonce: String,
    /// Every parameter of the header except `realm` and `oauth_signature`, decoded; they enter
    /// the base string (section 3.4.1.3.1).
    pub(crate) signed: Vec<(String, String)>,
}

impl std::fmt::Debug for OAuthParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthParams")
            .field("consumer_key", &self.consumer_key)
            .field("signature_method", &self.signature_method)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// Why an OAuth header was refused. Messages never quote a parameter value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OAuthError {
    /// The header does not follow section 3.5.1.
    #[error("the OAuth Authorization header is malformed: {0}")]
    Malformed(&'static str),
    /// A required protocol parameter is missing.
    #[error("the OAuth Authorization header lacks {0}")]
    Missing(&'static str),
    /// `oauth_signature_method` is neither HMAC-SHA1 nor HMAC-SHA256.
    #[error("oauth_signature_method must be HMAC-SHA1 or HMAC-SHA256")]
    UnsupportedMethod,
    /// `oauth_version` is present and not `1.0`.
    #[error("oauth_version must be 1.0")]
    UnsupportedVersion,
}

/// Parses the part of an `Authorization` header after `OAuth ` (section 3.5.1).
///
/// # Errors
/// [`OAuthError`] naming the first fault.
pub(crate) fn parse_header(params: &str) -> Result<OAuthParams, OAuthError> {
    let mut signed = Vec::new();
    let mut signature = None;
    for item in params.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, value) = item
            .split_once('=')
            .ok_or(OAuthError::Malformed("a parameter has no value"))?;
        let value = value
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(OAuthError::Malformed(
                "parameter values must be double-quoted",
            ))?;
        let name =
            percent_decode(name.trim()).ok_or(OAuthError::Malformed("bad percent-encoding"))?;
        let value = percent_decode(value).ok_or(OAuthError::Malformed("bad percent-encoding"))?;
        match name.as_str() {
            "realm" => {}
            "oauth_signature" => {
                if signature.replace(value).is_some() {
                    return Err(OAuthError::Malformed("oauth_signature given twice"));
                }
            }
            _ => {
                if name.starts_with("oauth_") && signed.iter().any(|(n, _)| *n == name) {
                    return Err(OAuthError::Malformed("a protocol parameter is given twice"));
                }
                signed.push((name, value));
            }
        }
    }
    let get = |name: &str| {
        signed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    if get("oauth_version").is_some_and(|v| v != "1.0") {
        return Err(OAuthError::UnsupportedVersion);
    }
    let signature_method = match get("oauth_signature_method") {
        Some(name) => SignatureMethod::from_name(&name).ok_or(OAuthError::UnsupportedMethod)?,
        None => return Err(OAuthError::Missing("oauth_signature_method")),
    };
    let timestamp =
        parse_timestamp(&get("oauth_timestamp").ok_or(OAuthError::Missing("oauth_timestamp"))?)
            .ok_or(OAuthError::Malformed(
                "oauth_timestamp must be a positive integer of seconds since 1970",
            ))?;
    let nonce = get("oauth_nonce")
        .filter(|n| !n.is_empty())
        .ok_or(OAuthError::Missing("oauth_nonce"))?;
    if nonce.chars().count() > MAX_NONCE_CHARS {
        return Err(OAuthError::Malformed(
            "oauth_nonce is longer than 64 characters",
        ));
    }
    Ok(OAuthParams {
        consumer_key: get("oauth_consumer_key")
            .filter(|k| !k.is_empty())
            .ok_or(OAuthError::Missing("oauth_consumer_key"))?,
        token: get("oauth_token").filter(|t| !t.is_empty()),
        signature_method,
        signature: signature.ok_or(OAuthError::Missing("oauth_signature"))?,
        timestamp,
        nonce,
        signed,
    })
}

/// Section 3.3: "The timestamp value MUST be a positive integer": ASCII digits only (no sign,
/// space or fraction), greater than zero and within `i64`.
fn parse_timestamp(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().filter(|t| *t > 0)
}

/// The signature base string (section 3.4.1.1) of a received request.
///
/// `base_uri` is already normalised (section 3.4.1.2: lower-case scheme and host, default port
/// omitted, no query). `query` is the raw query string, `form_body` the raw body when the request
/// is `application/x-www-form-urlencoded` (section 3.4.1.3.1); both are decoded the way the W3C
/// form algorithm does (malformed escapes kept as they are), as client libraries do.
pub(crate) fn base_string(
    method: &str,
    base_uri: &str,
    query: &str,
    form_body: Option<&[u8]>,
    oauth: &[(String, String)],
) -> String {
    let form = form_body.unwrap_or_default();
    let parameters = form_urlencoded::parse(query.as_bytes())
        .chain(form_urlencoded::parse(form))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .chain(oauth.iter().cloned());
    signature_base_string(method, base_uri, parameters)
}

/// The base64 signature of `base` with key `consumer_secret&token_secret` (section 3.4.2).
pub(crate) fn sign(
    method: SignatureMethod,
    base: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    mtls_sdk::oauth1::signature(method, base, consumer_secret, token_secret)
}

/// Compares two signatures in constant time.
pub(crate) fn signatures_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Decodes the `%XX` escapes of a header parameter (section 3.5.1: values are percent-encoded);
/// `None` when a `%` is not followed by two hex digits or the result is not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escapes_are_whole = bytes.iter().enumerate().all(|(i, byte)| {
        *byte != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_are_whole {
        return None;
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 section 3.4.1.1's example request, whose base string the RFC prints in full.
    #[test]
    fn base_string_matches_rfc_5849_example() {
        let header = r#"realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D""#;
        let params = parse_header(header).unwrap();
        assert_eq!(params.signature, "bYT5CMsGcbgUdFHObYMEfcx6bsw=");
        let base = base_string(
            "post",
            "http://example.com/request",
            "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            Some(b"c2&a3=2+q"),
            &params.signed,
        );
        assert_eq!(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
    }

    /// The RFC 5849 section 1.2 example (GET photos with consumer and token secrets): the RFC
    /// prints the signature `MdpQcU8iPSUjWoN/UDMsK2sui9I=`.
    #[test]
    fn hmac_sha1_matches_rfc_5849_section_1_2() {
        let header = r#"OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_nonce="chapoH", oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D""#;
        let params = parse_header(header.trim_start_matches("OAuth ")).unwrap();
        let base = base_string(
            "GET",
            "http://photos.example.net/photos",
            "file=vacation.jpg&size=original",
            None,
            &params.signed,
        );
        let signature = sign(
            SignatureMethod::HmacSha1,
            &base,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00",
        );
        assert_eq!(signature, "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
        assert!(signatures_match(&signature, &params.signature));
    }

    #[test]
    fn header_values_with_broken_escapes_are_refused() {
        assert_eq!(percent_decode("a%2Bb%e2%98%83").as_deref(), Some("a+b☃"));
        for broken in ["%+F", "%-1", "% 1", "%1", "%", "abc%G0", "%E2%98"] {
            assert_eq!(percent_decode(broken), None, "{broken}");
        }
    }

    #[test]
    fn header_faults_are_named_not_panics() {
        assert_eq!(
            parse_header("oauth_consumer_key").unwrap_err(),
            OAuthError::Malformed("a parameter has no value")
        );
        assert_eq!(
            parse_header(r#"oauth_consumer_key="k", oauth_signature_method="PLAINTEXT""#)
                .unwrap_err(),
            OAuthError::UnsupportedMethod
        );
        assert_eq!(
            parse_header(r#"oauth_consumer_key="k", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1", oauth_nonce="n""#)
                .unwrap_err(),
            OAuthError::Missing("oauth_signature")
        );
        assert!(parse_header(r#"oauth_consumer_key="%zz""#).is_err());
        assert!(parse_header("").is_err());
    }

    #[test]
    fn hmac_sha256_differs_from_sha1_and_compares_exactly() {
        let a = sign(SignatureMethod::HmacSha1, "base", "cs", "ts");
        let b = sign(SignatureMethod::HmacSha256, "base", "cs", "ts");
        assert_ne!(a, b);
        assert!(signatures_match(
            &b,
            &sign(SignatureMethod::HmacSha256, "base", "cs", "ts")
        ));
        assert!(!signatures_match(
            &b,
            &sign(SignatureMethod::HmacSha256, "base", "cs", "")
        ));
    }
}
