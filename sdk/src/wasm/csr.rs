//! `generateCsr` and `buildP12` (SPEC section 10).
//!
//! `generateCsr` leaves all key arithmetic to WebCrypto (`globalThis.crypto.subtle`, in browsers
//! and Node ≥ 19; the package needs Node ≥ 20): it generates the key pair there, the core
//! encodes the CSR for the exported public key ([`crate::unsigned_csr`]), WebCrypto signs it
//! (`subtle.sign`: RSASSA-PKCS1-v1_5 with SHA-256, ECDSA with the curve's hash) and the core
//! adds the signature, turning ECDSA's r || s into DER. The module thus carries no bigint or
//! curve code. Where `crypto.subtle` is missing (a browser page that is not a secure context),
//! `generateCsr` rejects with `webcrypto_unavailable`. The subject and subjectAltNames are
//! checked before any key is generated.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::error::BindingError;
use super::spki_public_key;
use crate::{
    CsrRequest, CsrSubject, KeyType, P12Build, P12BuildRequest, P12Profile, PublicKeyDerivation,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_CSR: &'static str = r#"
// The requests and answers are generated from the SDK's Rust definitions (CsrRequest,
// P12BuildRequest, ... in sdk/src) into the package's client, which declares them once.
import type { BuildP12Request, GenerateCsrRequest, GeneratedCsr } from '../client/cjs/index.js';
"#;

/// The message of a request that is not the object its TypeScript type describes.
const GENERATE_CSR_REQUEST: &str = "an object { subject: { commonName, ... }, subjectAltNames?: \
                                    string[], keyType?: string, privateKeyPassphrase?: string }";
const BUILD_P12_REQUEST: &str = "an object { privateKeyPem, certificatePem, password, profile?, \
                                 friendlyName?, privateKeyPassphrase? } of strings";

/// Generates a key pair (WebCrypto) and a CSR for it; resolves to `{ csrPem, privateKeyPem }`.
///
/// Rejects with an `MtlsError`: `invalid_argument` for a malformed request,
/// `invalid_subject`, `invalid_subject_alt_name`, `unsupported_key_type`,
/// `webcrypto_unavailable` without `crypto.subtle`, or `webcrypto_failed`.
#[allow(unreachable_pub, reason = "wasm-bindgen exports only `pub` functions; JS is the caller")]
#[wasm_bindgen(js_name = generateCsr, unchecked_return_type = "GeneratedCsr")]
pub async fn generate_csr(
    #[wasm_bindgen(unchecked_param_type = "GenerateCsrRequest")] request: JsValue,
) -> Result<JsValue, BindingError> {
    let request = csr_request(request)?;
    crate::validate_csr_request(&request)?;
    let subtle = subtle_crypto().ok_or(BindingError::WebCryptoUnavailable)?;
    let pair = webcrypto_key_pair(&subtle, request.key_type).await?;
    let unsigned = crate::unsigned_csr(&request, &pair.public_key_spki)?;
    let signature = webcrypto_sign(&subtle, &pair.private_key, &unsigned).await?;
    let csr_pem = unsigned.into_pem(&signature)?;
    let private_key_pem =
        crate::private_key_pem(&pair.private_key_pkcs8, request.private_key_passphrase.as_deref())?;
    let generated = Object::new();
    let set = |key: &str, value: &str| Reflect::set(&generated, &key.into(), &value.into());
    set("csrPem", &csr_pem)
        .and_then(|_| set("privateKeyPem", &private_key_pem))
        .map_err(|_| BindingError::Conversion("the generated CSR".to_owned()))?;
    Ok(generated.into())
}

/// Packs a private key and its certificate chain into a PKCS#12 file; for an EC or Ed25519 key
/// it returns a [`PendingP12Build`] instead: the module has no curve arithmetic, so the package's
/// entry derives the key's public key (Node's `crypto`, WebCrypto) and calls `finish` with it.
///
/// Throws an `MtlsError`: `invalid_argument`, `invalid_private_key`, `passphrase_required`,
/// `wrong_passphrase`, `no_certificate`, `invalid_certificate`, `key_certificate_mismatch`,
/// `invalid_password`, `unsupported_profile`, ...
#[allow(unreachable_pub, reason = "wasm-bindgen exports only `pub` functions; JS is the caller")]
#[wasm_bindgen(js_name = buildP12, unchecked_return_type = "Uint8Array | PendingP12Build")]
pub fn build_p12(
    #[wasm_bindgen(unchecked_param_type = "BuildP12Request")] request: JsValue,
) -> Result<JsValue, BindingError> {
    let invalid = |_| BindingError::InvalidArgument {
        argument: "request",
        expected: BUILD_P12_REQUEST,
    };
    let request = JsObject::new(&request).map_err(invalid)?;
    let string = |key| request.optional_string(key).map_err(invalid);
    let private_key_pem = Zeroizing::new(string("privateKeyPem")?.unwrap_or_default());
    let passphrase = string("privateKeyPassphrase")?.map(Zeroizing::new);
    let password = Zeroizing::new(string("password")?.ok_or(BindingError::InvalidArgument {
        argument: "request.password",
        expected: "a string",
    })?);
    let profile = match string("profile")?.as_deref() {
        None => P12Profile::default(),
        Some(name) => name.parse::<P12Profile>().map_err(crate::Error::from)?,
    };
    let friendly_name = string("friendlyName")?;
    let certificate_pem = string("certificatePem")?.unwrap_or_default();
    let request = P12BuildRequest {
        private_key_pem: &private_key_pem,
        private_key_passphrase: passphrase.as_deref().map(String::as_str),
        certificate_pem: &certificate_pem,
        password: &password,
        profile,
        friendly_name: friendly_name.as_deref(),
    };
    match crate::start_p12_build(&request, PublicKeyDerivation::BUILT_IN)? {
        P12Build::Done(p12) => Ok(Uint8Array::from(p12.as_slice()).into()),
        P12Build::NeedsPublicKey(inner) => Ok(PendingP12Build { inner }.into()),
    }
}

/// A `buildP12` waiting for the public key of its private key. Free it (`free()`) when done: it
/// holds the key and the password.
#[wasm_bindgen]
#[allow(unreachable_pub, reason = "wasm-bindgen exports only `pub` items; JS is the caller")]
pub struct PendingP12Build {
    inner: crate::PendingP12Build,
}

#[wasm_bindgen]
#[allow(unreachable_pub, reason = "wasm-bindgen exports only `pub` items; JS is the caller")]
impl PendingP12Build {
    /// The private key to derive the public key of, PKCS#8 DER, for WebCrypto
    /// `importKey("pkcs8")` or Node's `crypto.createPublicKey`.
    #[wasm_bindgen(js_name = privateKeyPkcs8)]
    pub fn private_key_pkcs8(&self) -> Uint8Array {
        Uint8Array::from(self.inner.private_key_pkcs8())
    }

    /// `EC` or `Ed25519`.
    #[wasm_bindgen(getter)]
    pub fn algorithm(&self) -> String {
        self.inner.key().algorithm.clone()
    }

    /// The curve of an EC key (`P-256`, `P-384`, `P-521`, WebCrypto's `namedCurve`).
    #[wasm_bindgen(getter)]
    pub fn curve(&self) -> Option<String> {
        self.inner.key().curve.clone()
    }

    /// Finishes the build with the public key as `SubjectPublicKeyInfo` DER (Node's
    /// `KeyObject.export({ type: "spki", format: "der" })`, WebCrypto's `exportKey("spki")`), or
    /// `undefined` when the host could not derive it, and returns the PKCS#12 file.
    ///
    /// Throws an `MtlsError`: `public_key_unavailable` when `spki` is missing or not a
    /// `SubjectPublicKeyInfo`, else as `buildP12`.
    pub fn finish(&mut self, spki: JsValue) -> Result<Uint8Array, JsValue> {
        let key = match self.curve() {
            Some(curve) => format!("{} {curve}", self.algorithm()),
            None => self.algorithm(),
        };
        let public_key = spki_public_key(&spki)
            .ok_or(BindingError::PublicKeyUnavailable { key })?;
        let p12 = self.inner.finish(&public_key).map_err(BindingError::from)?;
        Ok(Uint8Array::from(p12.as_slice()))
    }
}

/// The request as the core's type; `keyType` names are those of [`KeyType::name`].
fn csr_request(request: JsValue) -> Result<CsrRequest, BindingError> {
    let invalid = |_| BindingError::InvalidArgument {
        argument: "request",
        expected: GENERATE_CSR_REQUEST,
    };
    let request = JsObject::new(&request).map_err(invalid)?;
    let key_type = match request.optional_string("keyType").map_err(invalid)?.as_deref() {
        None => KeyType::default(),
        Some(name) => name.parse::<KeyType>().map_err(crate::Error::from)?,
    };
    let subject = request.optional_object("subject").map_err(invalid)?;
    let field = |key| match &subject {
        Some(subject) => subject.optional_string(key).map_err(invalid),
        None => Ok(None),
    };
    Ok(CsrRequest {
        subject: CsrSubject {
            common_name: field("commonName")?.unwrap_or_default(),
            organization: field("organization")?,
            organizational_unit: field("organizationalUnit")?,
            country: field("country")?,
            state: field("state")?,
            locality: field("locality")?,
            email: field("email")?,
        },
        subject_alt_names: request
            .optional_strings("subjectAltNames")
            .map_err(invalid)?
            .unwrap_or_default(),
        key_type,
        private_key_passphrase: request.optional_string("privateKeyPassphrase").map_err(invalid)?,
    })
}

/// A JS object whose properties are read as the request types declare them: absent (`undefined`
/// or `null`) or of the declared type. Read by hand rather than through serde, whose
/// deserializer and its error texts are a large part of a small module.
struct JsObject(JsValue);

/// A value that is not of the type its request declares.
struct WrongType;

impl JsObject {
    fn new(value: &JsValue) -> Result<Self, WrongType> {
        if value.is_object() { Ok(Self(value.clone())) } else { Err(WrongType) }
    }

    fn property(&self, key: &str) -> Result<Option<JsValue>, WrongType> {
        let value = Reflect::get(&self.0, &key.into()).map_err(|_| WrongType)?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    fn optional_string(&self, key: &str) -> Result<Option<String>, WrongType> {
        self.property(key)?
            .map(|value| value.as_string().ok_or(WrongType))
            .transpose()
    }

    fn optional_strings(&self, key: &str) -> Result<Option<Vec<String>>, WrongType> {
        let Some(value) = self.property(key)? else {
            return Ok(None);
        };
        let array = value.dyn_into::<Array>().map_err(|_| WrongType)?;
        array
            .iter()
            .map(|item| item.as_string().ok_or(WrongType))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn optional_object(&self, key: &str) -> Result<Option<JsObject>, WrongType> {
        self.property(key)?.as_ref().map(JsObject::new).transpose()
    }
}

/// `globalThis.crypto.subtle`, present in browsers (secure contexts) and Node ≥ 19.
fn subtle_crypto() -> Option<web_sys::SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    subtle.dyn_into::<web_sys::SubtleCrypto>().ok()
}

/// A key pair WebCrypto generated: the private key to sign with, and both keys exported.
struct WebCryptoKeyPair {
    private_key: web_sys::CryptoKey,
    private_key_pkcs8: Zeroizing<Vec<u8>>,
    public_key_spki: Vec<u8>,
}

/// Generates an extractable key pair of `key_type` and exports the private key as PKCS#8 DER
/// and the public key as SubjectPublicKeyInfo DER.
async fn webcrypto_key_pair(
    subtle: &web_sys::SubtleCrypto,
    key_type: KeyType,
) -> Result<WebCryptoKeyPair, BindingError> {
    let algorithm = key_algorithm(key_type).map_err(failed("building the algorithm"))?;
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let pair = JsFuture::from(
        subtle
            .generate_key_with_object(&algorithm, true, &usages)
            .map_err(failed("generateKey"))?,
    )
    .await
    .map_err(failed("generateKey"))?;
    let key = |name: &str| {
        Reflect::get(&pair, &name.into())
            .ok()
            .and_then(|key| key.dyn_into::<web_sys::CryptoKey>().ok())
            .ok_or(BindingError::WebCrypto { operation: "generateKey" })
    };
    let private_key = key("privateKey")?;
    let public_key = key("publicKey")?;
    let private_key_pkcs8 = Zeroizing::new(export_key(subtle, "pkcs8", &private_key).await?);
    let public_key_spki = export_key(subtle, "spki", &public_key).await?;
    Ok(WebCryptoKeyPair {
        private_key,
        private_key_pkcs8,
        public_key_spki,
    })
}

async fn export_key(
    subtle: &web_sys::SubtleCrypto,
    format: &str,
    key: &web_sys::CryptoKey,
) -> Result<Vec<u8>, BindingError> {
    let exported = JsFuture::from(subtle.export_key(format, key).map_err(failed("exportKey"))?)
        .await
        .map_err(failed("exportKey"))?;
    Ok(Uint8Array::new(&exported).to_vec())
}

/// Signs the CSR's to-be-signed bytes with WebCrypto: `RSASSA-PKCS1-v1_5` (the hash is the
/// key's, SHA-256) or `ECDSA` with the scheme's hash, which returns r || s.
async fn webcrypto_sign(
    subtle: &web_sys::SubtleCrypto,
    private_key: &web_sys::CryptoKey,
    unsigned: &crate::UnsignedCsr,
) -> Result<Vec<u8>, BindingError> {
    let scheme = unsigned.scheme();
    let algorithm = Object::new();
    let set = |name: &str, value: &str| {
        Reflect::set(&algorithm, &name.into(), &value.into()).map_err(failed("sign"))
    };
    match (scheme.ecdsa_scalar_len(), scheme.hash_name()) {
        (Some(_), Some(hash)) => {
            set("name", "ECDSA")?;
            set("hash", hash)?;
        }
        _ => {
            set("name", "RSASSA-PKCS1-v1_5")?;
        }
    }
    // WebCrypto copies `data` before `sign` returns (WebCrypto spec, "get a copy of the bytes").
    let signed = JsFuture::from(
        subtle
            .sign_with_object_and_u8_array(&algorithm, private_key, unsigned.to_be_signed())
            .map_err(failed("sign"))?,
    )
    .await
    .map_err(failed("sign"))?;
    Ok(Uint8Array::new(&signed).to_vec())
}

/// A WebCrypto rejection as [`BindingError::WebCrypto`]; its text may name the algorithm but is
/// not passed on (the message stays ours).
fn failed(operation: &'static str) -> impl Fn(JsValue) -> BindingError {
    move |_| BindingError::WebCrypto { operation }
}

/// The WebCrypto `generateKey` algorithm: ECDSA on the curve, or RSASSA-PKCS1-v1_5 with
/// SHA-256 and exponent 65537. (web-sys has no `RsaHashedKeyGenParams`; a plain object does.)
fn key_algorithm(key_type: KeyType) -> Result<Object, JsValue> {
    let algorithm = Object::new();
    match key_type.rsa_bits() {
        None => {
            Reflect::set(&algorithm, &"name".into(), &"ECDSA".into())?;
            Reflect::set(&algorithm, &"namedCurve".into(), &key_type.name().into())?;
        }
        Some(bits) => {
            Reflect::set(&algorithm, &"name".into(), &"RSASSA-PKCS1-v1_5".into())?;
            Reflect::set(&algorithm, &"modulusLength".into(), &(bits as u32).into())?;
            let exponent = Uint8Array::from([1u8, 0, 1].as_slice());
            Reflect::set(&algorithm, &"publicExponent".into(), &exponent)?;
            Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into())?;
        }
    }
    Ok(algorithm)
}
