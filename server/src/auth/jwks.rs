//! The external issuer's keys, read once at start from the JSON Web Key Set file named by
//! `MTLS_JWKS_FILE` (RFC 7517 section 5). EC P-256 keys verify ES256 tokens (RFC 7518 section
//! 6.2), RSA keys of at least 2048 bits verify RS256 tokens (section 6.3). Keys of any other
//! type, and keys marked for encryption (`"use": "enc"`), are skipped; a file with no usable key
//! is a configuration error, so a typo cannot silently switch the external issuer off.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::jwt::JwtVerifyingKey;

/// One trusted external key.
#[derive(Clone)]
pub(crate) struct ExternalKey {
    /// `kid`, when the set names it.
    pub(crate) kid: Option<String>,
    /// The key.
    pub(crate) key: JwtVerifyingKey,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// Smallest RSA modulus accepted for RS256, in bits (RFC 7518 section 3.3 requires 2048).
const MIN_RSA_BITS: usize = 2048;

/// Reads and parses the key set at `path`.
///
/// # Errors
/// A message naming what is wrong with the file (never key material).
pub(crate) fn load(path: &Path) -> Result<Vec<ExternalKey>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a key set.
///
/// # Errors
/// A message naming what is wrong.
pub(crate) fn parse(text: &[u8]) -> Result<Vec<ExternalKey>, String> {
    let set: KeySet = serde_json::from_slice(text)
        .map_err(|e| format!("not a JSON Web Key Set ({{\"keys\": [...]}}): {e}"))?;
    let mut keys = Vec::new();
    for (index, jwk) in set.keys.iter().enumerate() {
        if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        let key = match jwk.kty.as_str() {
            "EC" => Some(ec_key(jwk).map_err(|e| format!("key {index}: {e}"))?),
            "RSA" => Some(rsa_key(jwk).map_err(|e| format!("key {index}: {e}"))?),
            _ => None,
        };
        if let Some(key) = key {
            keys.push(ExternalKey {
                kid: jwk.kid.clone(),
                key,
            });
        }
    }
    if keys.is_empty() {
        return Err("no EC P-256 or RSA signing key in the set".to_owned());
    }
    Ok(keys)
}

fn field(value: &Option<String>, name: &str) -> Result<Vec<u8>, String> {
    let value = value
        .as_deref()
        .ok_or_else(|| format!("missing {name:?}"))?;
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| format!("{name:?} is not base64url"))
}

fn ec_key(jwk: &Jwk) -> Result<JwtVerifyingKey, String> {
    if jwk.crv.as_deref() != Some("P-256") {
        return Err(format!(
            "EC curve {:?} is not supported; P-256 (ES256) is",
            jwk.crv
        ));
    }
    let (x, y) = (field(&jwk.x, "x")?, field(&jwk.y, "y")?);
    if x.len() != 32 || y.len() != 32 {
        return Err("P-256 coordinates must be 32 bytes each".to_owned());
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map(JwtVerifyingKey::Es256)
        .map_err(|_| "the EC point is not on P-256".to_owned())
}

fn rsa_key(jwk: &Jwk) -> Result<JwtVerifyingKey, String> {
    let (n, e) = (field(&jwk.n, "n")?, field(&jwk.e, "e")?);
    let n = strip_leading_zeros(&n);
    let bits = n.len() * 8;
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "RSA modulus of {bits} bits; at least {MIN_RSA_BITS} are needed"
        ));
    }
    let precision = u32::try_from(bits).map_err(|_| "RSA modulus too large".to_owned())?;
    let n =
        rsa::BoxedUint::from_be_slice(n, precision).map_err(|_| "bad RSA modulus".to_owned())?;
    let e = rsa::BoxedUint::from_be_slice(strip_leading_zeros(&e), 64)
        .map_err(|_| "bad RSA exponent".to_owned())?;
    let key = rsa::PublicKey::new(n, e).map_err(|e| format!("bad RSA key: {e}"))?;
    Ok(JwtVerifyingKey::Rs256(Box::new(
        rsa::pkcs1v15::VerifyingKey::new(key),
    )))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_ec_key_and_skips_unknown_types() {
        let key = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
        let point = key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        let set = serde_json::json!({ "keys": [
            { "kty": "oct", "k": "c2VjcmV0" },
            { "kty": "EC", "crv": "P-256", "kid": "ext-1",
              "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]), "y": URL_SAFE_NO_PAD.encode(&bytes[33..]) }
        ]});
        let keys = parse(set.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("ext-1"));
    }

    #[test]
    fn a_set_without_usable_keys_is_an_error() {
        assert!(parse(br#"{"keys":[{"kty":"oct"}]}"#).is_err());
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]}"#).is_err());
    }
}
