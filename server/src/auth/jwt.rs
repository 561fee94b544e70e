//! JSON Web Tokens (RFC 7519) in compact JWS form (RFC 7515), as far as the gateway needs them:
//! ES256 (RFC 7518 section 3.4) to sign and verify our own tokens, and RS256 (section 3.3) to
//! verify an external issuer's. Every other `alg`, `none` included, is refused before any key is
//! looked at, so a token cannot choose a weaker check (RFC 8725 section 3.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};

/// A key that can check a token's signature.
#[derive(Clone)]
pub(crate) enum JwtVerifyingKey {
    /// ECDSA P-256 with SHA-256.
    Es256(p256::ecdsa::VerifyingKey),
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256(Box<rsa::pkcs1v15::VerifyingKey<sha2::Sha256>>),
}

/// The JOSE header fields we read.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Header {
    /// Signature algorithm.
    pub(crate) alg: String,
    /// Key id, when the issuer names its key.
    #[serde(default)]
    pub(crate) kid: Option<String>,
    /// Extensions the issuer says must be understood (RFC 7515 section 4.1.11); we understand
    /// none, so a token that has any is refused.
    #[serde(default)]
    pub(crate) crit: Option<serde_json::Value>,
}

/// The claims of a gateway token (SPEC section 4).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// Who the token was issued to.
    pub(crate) sub: String,
    /// Account ids, or `["*"]`.
    pub(crate) accounts: Vec<String>,
    /// Expiry, seconds since the Unix epoch (required).
    pub(crate) exp: i64,
    /// Not valid before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nbf: Option<i64>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iat: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iss: Option<String>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) jti: Option<String>,
}

/// Why a token was refused. Messages name the fault, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwtError {
    /// Not three base64url parts with JSON header and claims.
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    /// `alg` is not ES256 or RS256.
    #[error("the bearer token's algorithm {0:?} is not accepted; ES256 or RS256 is required")]
    UnsupportedAlgorithm(String),
    /// No configured key matches and verifies.
    #[error("the bearer token's signature does not verify with any trusted key")]
    BadSignature,
    /// `exp` is in the past.
    #[error("the bearer token has expired; request a new one")]
    Expired,
    /// `nbf` is in the future.
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    /// A required claim is absent or has the wrong type.
    #[error("the bearer token lacks a valid {0:?} claim")]
    MissingClaim(&'static str),
    /// The header has `crit` (RFC 7515 section 4.1.11: recipients must refuse extensions they
    /// do not understand).
    #[error("the bearer token has critical header extensions (\"crit\") this server does not understand")]
    UnsupportedCritical,
}

/// Clock skew tolerated on `exp` and `nbf`, in seconds (RFC 7519 section 4.1.4 allows "some
/// small leeway").
const LEEWAY_SECONDS: i64 = 30;

/// Signs `claims` with ES256 under key id `kid`.
pub(crate) fn sign_es256(key: &p256::ecdsa::SigningKey, kid: &str, claims: &Claims) -> String {
    let header = serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": kid });
    // Serialising a struct of strings and integers cannot fail.
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// A token split into its parts; the signature is not checked yet.
pub(crate) struct Parsed<'a> {
    /// The decoded header.
    pub(crate) header: Header,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Splits and decodes `token`, refusing any algorithm but ES256 and RS256.
///
/// # Errors
/// [`JwtError::Malformed`], [`JwtError::UnsupportedAlgorithm`], [`JwtError::UnsupportedCritical`].
pub(crate) fn parse(token: &str) -> Result<Parsed<'_>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed)
    };
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    if header.alg != "ES256" && header.alg != "RS256" {
        let mut alg = header.alg;
        alg.truncate(16);
        return Err(JwtError::UnsupportedAlgorithm(alg));
    }
    if header.crit.is_some() {
        return Err(JwtError::UnsupportedCritical);
    }
    let signing_input = &token[..token.len() - signature.len() - 1];
    Ok(Parsed {
        header,
        signing_input,
        payload: decode(payload)?,
        signature: decode(signature)?,
    })
}

impl Parsed<'_> {
    /// Checks the signature with `key` (whose algorithm must equal the header's) and the time
    /// claims against `now`, and returns the claims.
    ///
    /// # Errors
    /// [`JwtError::BadSignature`], [`JwtError::Expired`], [`JwtError::NotYetValid`],
    /// [`JwtError::MissingClaim`].
    pub(crate) fn verify(&self, key: &JwtVerifyingKey, now: i64) -> Result<Claims, JwtError> {
        let verified = match (key, self.header.alg.as_str()) {
            (JwtVerifyingKey::Es256(key), "ES256") => {
                p256::ecdsa::Signature::from_slice(&self.signature)
                    .map(|signature| {
                        key.verify(self.signing_input.as_bytes(), &signature)
                            .is_ok()
                    })
                    .unwrap_or(false)
            }
            (JwtVerifyingKey::Rs256(key), "RS256") => {
                rsa::pkcs1v15::Signature::try_from(self.signature.as_slice())
                    .map(|signature| {
                        key.verify(self.signing_input.as_bytes(), &signature)
                            .is_ok()
                    })
                    .unwrap_or(false)
            }
            _ => false,
        };
        if !verified {
            return Err(JwtError::BadSignature);
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&self.payload).map_err(|_| JwtError::Malformed)?;
        let exp = claims.get("exp").and_then(serde_json::Value::as_i64);
        let exp = exp.ok_or(JwtError::MissingClaim("exp"))?;
        if claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(JwtError::MissingClaim("sub"));
        }
        let accounts_ok = claims
            .get("accounts")
            .and_then(serde_json::Value::as_array)
            // An empty list is valid: the credential names no account, so every account is
            // 403 (SPEC section 4), like any account a token does not name.
            .is_some_and(|a| a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty())));
        if !accounts_ok {
            return Err(JwtError::MissingClaim("accounts"));
        }
        let claims: Claims = serde_json::from_value(claims).map_err(|_| JwtError::Malformed)?;
        if now > exp.saturating_add(LEEWAY_SECONDS) {
            return Err(JwtError::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| now.saturating_add(LEEWAY_SECONDS) < nbf)
        {
            return Err(JwtError::NotYetValid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "alice".into(),
            accounts: vec!["le1".into()],
            exp,
            nbf: None,
            iat: None,
            iss: None,
            jti: None,
        }
    }

    #[test]
    fn signed_token_verifies_and_round_trips_claims() {
        let token = sign_es256(&key(), "k1", &claims(2000));
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.header.kid.as_deref(), Some("k1"));
        let got = parsed
            .verify(&JwtVerifyingKey::Es256(*key().verifying_key()), 1000)
            .unwrap();
        assert_eq!(got.sub, "alice");
        assert_eq!(got.accounts, vec!["le1".to_owned()]);
    }

    #[test]
    fn expired_token_is_refused() {
        let token = sign_es256(&key(), "k1", &claims(1000));
        let err = parse(&token)
            .unwrap()
            .verify(&JwtVerifyingKey::Es256(*key().verifying_key()), 2000);
        assert_eq!(err.unwrap_err(), JwtError::Expired);
    }

    #[test]
    fn tampered_claims_fail_the_signature() {
        let token = sign_es256(&key(), "k1", &claims(2000));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                accounts: vec!["*".into()],
                ..claims(2000)
            })
            .unwrap(),
        );
        parts[1] = &forged;
        let forged = parts.join(".");
        let err = parse(&forged)
            .unwrap()
            .verify(&JwtVerifyingKey::Es256(*key().verifying_key()), 1000);
        assert_eq!(err.unwrap_err(), JwtError::BadSignature);
    }

    #[test]
    fn alg_none_and_hs256_are_refused_before_any_key() {
        for alg in ["none", "HS256", "ES384"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
            let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(2000)).unwrap());
            let token = format!("{header}.{body}.");
            assert!(
                matches!(parse(&token), Err(JwtError::UnsupportedAlgorithm(_))),
                "{alg}"
            );
        }
    }

    #[test]
    fn missing_exp_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#);
        let body = URL_SAFE_NO_PAD.encode(r#"{"sub":"a","accounts":["x"]}"#);
        let input = format!("{header}.{body}");
        let signature: p256::ecdsa::Signature = key().sign(input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        let err = parse(&token)
            .unwrap()
            .verify(&JwtVerifyingKey::Es256(*key().verifying_key()), 1);
        assert_eq!(err.unwrap_err(), JwtError::MissingClaim("exp"));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for token in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!!.??.**",
            "e30.e30.e30",
            "é.é.é",
        ] {
            assert_eq!(parse(token).err(), Some(JwtError::Malformed), "{token}");
        }
    }
}
