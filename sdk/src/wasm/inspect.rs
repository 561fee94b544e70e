//! `inspectP12` (SPEC section 10) and the TypeScript types of its report (SPEC section 2).
//!
//! The binding reads the clock (`Date.now()`) when the caller gives no `now`, because the core
//! reads none; everything else is the core's inspection, built without curve or bigint
//! arithmetic (no cargo feature `key-arithmetic`): for an EC or Ed25519 key, `inspectP12`
//! returns a [`PendingInspection`] instead of the report, the package's entry (sdk/js/node,
//! sdk/js/web) has its crypto API (Node's `crypto`, WebCrypto) derive the key's public key and
//! calls [`PendingInspection::finish`] with it, which applies the rules and returns the report.
//! What was decrypted stays in the pending inspection, so finishing runs no KDF again.

use js_sys::{Date, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::error::BindingError;
use super::spki_public_key;
use crate::{
    CertificateInfo, DEFAULT_MAX_ITERATIONS, Finding, FinishInspectionError, InspectOptions,
    P12Inspection, P12Report, PublicKeyDerivation,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_REPORT: &'static str = r#"
// The report's types are generated from the SDK's Rust definitions (sdk/src/report.rs) into the
// package's client, which declares them once for the whole package.
import type { P12Report } from '../client/cjs/index.js';

/** Options of `inspectP12` (the binding's own: `now` is a JS `Date`). */
export interface InspectP12Options {
  /** The time at which validity is judged; defaults to the current time. */
  now?: Date;
  /** Cap on MAC and key-derivation iteration counts (default 1,000,000); larger counts are
   * refused before any key derivation runs. */
  maxIterations?: number;
}

/**
 * Decides whether a PKCS#12 file plus password is usable (SPEC section 2) and returns the
 * report; a file that is not usable is not an error, its report says why. For an EC or Ed25519
 * key it returns a `PendingInspection`: derive the public key of `privateKeyPkcs8()` and call
 * `finish` with it (the package's entries do).
 * @throws {MtlsError} code `invalid_argument` when an argument has the wrong type.
 */
export function inspectP12(p12: Uint8Array, password: string, options?: InspectP12Options): P12Report | PendingInspection;
"#;

/// Decides whether a PKCS#12 file plus password is usable and returns the report.
///
/// Throws an `MtlsError` with code `invalid_argument` when an argument has the wrong type;
/// a file that is not usable is not an error: its report says why. The TypeScript signature is
/// written above (`TS_REPORT`) because wasm-bindgen cannot mark `options` optional while giving it
/// an interface type.
#[wasm_bindgen(js_name = inspectP12, skip_typescript)]
#[allow(
    unreachable_pub,
    reason = "wasm-bindgen exports only `pub` functions; JS is the caller"
)]
pub fn inspect_p12(
    p12: JsValue,
    password: JsValue,
    options: Option<Object>,
) -> Result<JsValue, BindingError> {
    let p12 = p12
        .dyn_into::<Uint8Array>()
        .map_err(|_| BindingError::InvalidArgument {
            argument: "p12",
            expected: "a Uint8Array",
        })?
        .to_vec();
    let password = password.as_string().ok_or(BindingError::InvalidArgument {
        argument: "password",
        expected: "a string",
    })?;
    let options = inspect_options(options.as_ref())?;
    match crate::start_p12_inspection(&p12, &password, &options, PublicKeyDerivation::BUILT_IN) {
        P12Inspection::Done(report) => to_js(&report),
        P12Inspection::NeedsPublicKey(inner) => Ok(PendingInspection { inner }.into()),
    }
}

/// An inspection waiting for the public key of the file's private key (see the module
/// documentation). Free it (`free()`) when done: it holds the decrypted key.
#[wasm_bindgen]
#[allow(
    unreachable_pub,
    reason = "wasm-bindgen exports only `pub` items; JS is the caller"
)]
pub struct PendingInspection {
    inner: crate::PendingP12Inspection,
}

#[wasm_bindgen]
#[allow(
    unreachable_pub,
    reason = "wasm-bindgen exports only `pub` items; JS is the caller"
)]
impl PendingInspection {
    /// The private key to derive the public key of, PKCS#8 DER (an EC key with its named curve
    /// and no public key, or an Ed25519 key), for WebCrypto `importKey("pkcs8")` or Node's
    /// `crypto.createPublicKey`.
    #[wasm_bindgen(js_name = privateKeyPkcs8)]
    pub fn private_key_pkcs8(&self) -> Uint8Array {
        Uint8Array::from(self.inner.private_key_pkcs8())
    }

    /// `EC` or `Ed25519`.
    #[wasm_bindgen(getter)]
    pub fn algorithm(&self) -> String {
        self.inner.key().map(|key| key.algorithm.clone()).unwrap_or_default()
    }

    /// The curve of an EC key (`P-256`, `P-384`, `P-521`, WebCrypto's `namedCurve`).
    #[wasm_bindgen(getter)]
    pub fn curve(&self) -> Option<String> {
        self.inner.key().and_then(|key| key.curve.clone())
    }

    /// Finishes the inspection with the public key as `SubjectPublicKeyInfo` DER (what Node's
    /// `KeyObject.export({ type: "spki", format: "der" })` and WebCrypto's `exportKey("spki")`
    /// give), or with `undefined` when the host could not derive it, and returns the report.
    ///
    /// Throws an `MtlsError` with code `public_key_unavailable` when `spki` is `undefined` or
    /// not the public key of an EC key on the key's curve or of an Ed25519 key.
    pub fn finish(&mut self, spki: JsValue) -> Result<JsValue, JsValue> {
        self.finish_with(&spki).map_err(JsValue::from)
    }
}

impl PendingInspection {
    fn finish_with(&mut self, spki: &JsValue) -> Result<JsValue, BindingError> {
        let key = match self.curve() {
            Some(curve) => format!("{} {curve}", self.algorithm()),
            None => self.algorithm(),
        };
        let unavailable = || BindingError::PublicKeyUnavailable { key: key.clone() };
        let public_key = spki_public_key(spki).ok_or_else(unavailable)?;
        match self.inner.finish(&public_key) {
            Ok(report) => to_js(&report),
            Err(FinishInspectionError::NotItsPublicKey) => Err(unavailable()),
            Err(FinishInspectionError::Finished) => {
                Err(BindingError::Conversion("the inspection is finished already".to_owned()))
            }
        }
    }
}

/// Reads `{ now?: Date, maxIterations?: number }`; `null` and `undefined` mean "default".
fn inspect_options(options: Option<&Object>) -> Result<InspectOptions, BindingError> {
    let (now, max_iterations) = match options {
        // `Option<Object>` is not type-checked by wasm-bindgen: refuse `5` or `"x"` here.
        Some(options) if !options.is_object() => {
            return Err(BindingError::InvalidArgument {
                argument: "options",
                expected: "an object like { now?: Date, maxIterations?: number }",
            });
        }
        Some(options) => (property(options, "now"), property(options, "maxIterations")),
        None => (JsValue::UNDEFINED, JsValue::UNDEFINED),
    };
    let now_millis = if now.is_undefined() || now.is_null() {
        Date::now()
    } else {
        const EXPECTED_DATE: &str = "a valid Date";
        let date = now
            .dyn_into::<Date>()
            .map_err(|_| BindingError::InvalidArgument {
                argument: "options.now",
                expected: EXPECTED_DATE,
            })?;
        let millis = date.get_time();
        if millis.is_nan() {
            return Err(BindingError::InvalidArgument {
                argument: "options.now",
                expected: EXPECTED_DATE,
            });
        }
        millis
    };
    let max_iterations = if max_iterations.is_undefined() || max_iterations.is_null() {
        DEFAULT_MAX_ITERATIONS
    } else {
        max_iterations
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= MAX_SAFE_INTEGER)
            .map(|n| n as u64)
            .ok_or(BindingError::InvalidArgument {
                argument: "options.maxIterations",
                expected: "a positive integer",
            })?
    };
    // JS time is milliseconds; the core takes whole seconds (floor, so times before 1970 stay
    // correct). `Date` values are at most 8.64e15 ms, far inside i64.
    let now_unix = (now_millis / 1000.0).floor() as i64;
    Ok(InspectOptions::new(now_unix, max_iterations))
}

/// 2^53 - 1: the largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `object[name]`, or `undefined` when reading it throws (a getter that throws).
fn property(object: &Object, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The report as the JS object `JSON.parse` makes of the server's JSON (serde_json's output):
/// the same keys in the same order (camelCase, `curve` omitted when absent), `null` for missing
/// parts, numbers for counts. Written out rather than through serde-wasm-bindgen, whose generic
/// serializer (and its key cache's hash table) would be most of the conversion's weight.
fn to_js(report: &P12Report) -> Result<JsValue, BindingError> {
    let object = Object::new();
    set(&object, "usable", report.usable.into());
    set(&object, "problems", findings(&report.problems));
    set(&object, "warnings", findings(&report.warnings));
    set(&object, "certificate", report.certificate.as_ref().map_or(JsValue::NULL, certificate));
    set(&object, "chain", array(report.chain.iter().map(certificate)));
    let key = report.key.as_ref().map_or(JsValue::NULL, |key| {
        let object = Object::new();
        set(&object, "algorithm", key.algorithm.as_str().into());
        set(&object, "bits", key.bits.map_or(JsValue::NULL, JsValue::from));
        if let Some(curve) = &key.curve {
            set(&object, "curve", curve.as_str().into());
        }
        object.into()
    });
    set(&object, "key", key);
    let container = match &report.container {
        None => JsValue::NULL,
        Some(container) => {
            let object = Object::new();
            set(&object, "macAlgorithm", container.mac_algorithm.as_str().into());
            set(&object, "macIterations", number(container.mac_iterations)?);
            let mut parts = Vec::with_capacity(container.encryption.len());
            for part in &container.encryption {
                let entry = Object::new();
                set(&entry, "bag", part.bag.as_str().into());
                set(&entry, "algorithm", part.algorithm.as_str().into());
                set(&entry, "iterations", number(part.iterations)?);
                parts.push(JsValue::from(entry));
            }
            set(&object, "encryption", array(parts.into_iter()));
            object.into()
        }
    };
    set(&object, "container", container);
    Ok(object.into())
}

/// `object[name] = value` (cannot fail on a fresh plain object).
fn set(object: &Object, name: &str, value: JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), &value);
}

fn array(values: impl Iterator<Item = JsValue>) -> JsValue {
    values.collect::<js_sys::Array>().into()
}

fn findings(findings: &[Finding]) -> JsValue {
    array(findings.iter().map(|finding| {
        let object = Object::new();
        set(&object, "code", finding.code.as_str().into());
        set(&object, "message", finding.message.as_str().into());
        object.into()
    }))
}

fn strings(values: &[String]) -> JsValue {
    array(values.iter().map(|value| value.as_str().into()))
}

fn certificate(info: &CertificateInfo) -> JsValue {
    let object = Object::new();
    set(&object, "subject", info.subject.as_str().into());
    set(&object, "issuer", info.issuer.as_str().into());
    set(&object, "serialNumber", info.serial_number.as_str().into());
    set(&object, "notBefore", info.not_before.as_str().into());
    set(&object, "notAfter", info.not_after.as_str().into());
    set(&object, "fingerprintSha256", info.fingerprint_sha256.as_str().into());
    set(&object, "keyUsage", strings(&info.key_usage));
    set(&object, "extendedKeyUsage", strings(&info.extended_key_usage));
    set(&object, "subjectAltNames", strings(&info.subject_alt_names));
    object.into()
}

/// A count as a JS number; past 2^53 - 1 an error (a number would not hold it exactly), as
/// serde-wasm-bindgen's JSON-compatible serializer does.
fn number(count: u64) -> Result<JsValue, BindingError> {
    if count as f64 <= MAX_SAFE_INTEGER {
        Ok(JsValue::from_f64(count as f64))
    } else {
        Err(BindingError::Conversion(format!("{count} can't be represented as a JavaScript number")))
    }
}

// Run with `scripts/test.sh` (or `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
// cargo test --target wasm32-unknown-unknown -p mtls-sdk --lib`): they execute in Node.
#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::{CertificateInfo, ContainerInfo, EncryptionInfo, Finding, KeyInfo, P12Report};

    fn options(json: &str) -> Result<InspectOptions, BindingError> {
        let value = js_sys::JSON::parse(json).expect("test JSON");
        inspect_options(Some(value.unchecked_ref::<Object>()))
    }

    fn with_now(millis: f64) -> Object {
        let object = Object::new();
        Reflect::set(&object, &"now".into(), &Date::new(&millis.into())).expect("set now");
        object
    }

    #[wasm_bindgen_test]
    fn now_is_floored_to_whole_seconds_on_both_sides_of_1970() {
        for (millis, seconds) in [
            (1_500.0, 1),
            (-1_500.0, -2),
            (0.0, 0),
            (1.7e12 + 999.0, 1_700_000_000),
        ] {
            let parsed = inspect_options(Some(&with_now(millis))).expect("valid Date");
            assert_eq!(parsed.now_unix, seconds, "{millis} ms");
        }
    }

    #[wasm_bindgen_test]
    fn max_iterations_defaults_and_must_be_a_positive_safe_integer() {
        assert_eq!(
            options("{}").expect("empty").max_iterations,
            DEFAULT_MAX_ITERATIONS
        );
        assert_eq!(
            options(r#"{"maxIterations": null}"#)
                .expect("null")
                .max_iterations,
            DEFAULT_MAX_ITERATIONS
        );
        assert_eq!(
            options(r#"{"maxIterations": 2048}"#)
                .expect("2048")
                .max_iterations,
            2048
        );
        assert_eq!(
            options(r#"{"maxIterations": 9007199254740991}"#)
                .expect("2^53-1")
                .max_iterations,
            9_007_199_254_740_991
        );
        for bad in [
            "0",
            "-1",
            "1.5",
            "9007199254740992",
            "\"100\"",
            "true",
            "[]",
        ] {
            let error = options(&format!(r#"{{"maxIterations": {bad}}}"#)).expect_err(bad);
            assert_eq!(error.code(), "invalid_argument", "{bad}");
        }
    }

    #[wasm_bindgen_test]
    fn now_must_be_a_valid_date() {
        for bad in [
            r#"{"now": "2026-01-01"}"#,
            r#"{"now": 1700000000000}"#,
            r#"{"now": {}}"#,
        ] {
            assert_eq!(
                options(bad).expect_err(bad).code(),
                "invalid_argument",
                "{bad}"
            );
        }
        let invalid = inspect_options(Some(&with_now(f64::NAN)));
        assert_eq!(invalid.expect_err("NaN date").code(), "invalid_argument");
    }

    #[wasm_bindgen_test]
    fn errors_become_js_errors_with_name_and_code() {
        let error: JsValue = BindingError::InvalidArgument {
            argument: "p12",
            expected: "a Uint8Array",
        }
        .into();
        let error = error.dyn_into::<js_sys::Error>().expect("a JS Error");
        assert_eq!(String::from(error.name()), "MtlsError");
        assert_eq!(
            String::from(error.message()),
            "invalid argument `p12`: expected a Uint8Array"
        );
        let code = Reflect::get(&error, &"code".into()).expect("code property");
        assert_eq!(code.as_string().as_deref(), Some("invalid_argument"));
    }

    /// The JS object must be the server's JSON: same keys (camelCase, `curve` omitted when
    /// absent), `null` for missing parts, numbers for counts.
    #[wasm_bindgen_test]
    fn report_serialises_exactly_as_serde_json_does() {
        let certificate = CertificateInfo {
            subject: "CN=client,O=Brand".into(),
            issuer: "CN=CA".into(),
            serial_number: "0a".into(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            fingerprint_sha256: "ab".repeat(32),
            key_usage: vec!["digitalSignature".into()],
            extended_key_usage: vec!["clientAuth".into()],
            subject_alt_names: vec![],
        };
        let full = P12Report {
            usable: true,
            problems: vec![],
            warnings: vec![Finding::new(
                "expires_soon",
                "the certificate expires in 3 days",
            )],
            certificate: Some(certificate.clone()),
            chain: vec![certificate],
            key: Some(KeyInfo {
                algorithm: "RSA".into(),
                bits: Some(2048),
                curve: None,
            }),
            container: Some(ContainerInfo {
                mac_algorithm: "SHA-256".into(),
                mac_iterations: 2048,
                encryption: vec![EncryptionInfo {
                    bag: "key".into(),
                    algorithm: "PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC".into(),
                    iterations: 2048,
                }],
            }),
        };
        let empty = P12Report {
            usable: false,
            problems: vec![Finding::new("not_pkcs12", "not a PKCS#12 file")],
            warnings: vec![],
            certificate: None,
            chain: vec![],
            key: None,
            container: None,
        };
        let mut too_large = full.clone();
        if let Some(container) = too_large.container.as_mut() {
            container.mac_iterations = 1 << 53;
        }
        let error = to_js(&too_large).expect_err("2^53 is not exact in a JS number");
        assert_eq!(error.code(), "internal_error");
        for report in [full, empty] {
            let js = to_js(&report).expect("serialisable");
            let via_js = String::from(js_sys::JSON::stringify(&js).expect("stringify"));
            assert_eq!(via_js, serde_json::to_string(&report).expect("serde_json"));
        }
    }

    #[wasm_bindgen_test]
    fn inspect_takes_bytes_and_returns_the_core_report() {
        let bytes = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let js =
            inspect_p12(Uint8Array::from(&bytes[..]).into(), "pw".into(), None).expect("report");
        let report: P12Report = serde_wasm_bindgen::from_value(js).expect("a P12Report");
        let options = InspectOptions::at(report_time());
        let crate::P12Inspection::Done(native) =
            crate::start_p12_inspection(bytes, "pw", &options, PublicKeyDerivation::BUILT_IN)
        else {
            panic!("a PEM file is refused before any key");
        };
        assert_eq!(report, native);
        assert!(!report.usable);
    }

    fn report_time() -> i64 {
        (Date::now() / 1000.0).floor() as i64
    }
}
