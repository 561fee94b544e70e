//! `inspectP12` (SPEC section 10) and the TypeScript types of its report (SPEC section 2).
//!
//! The binding reads the clock (`Date.now()`) when the caller gives no `now`, because the core
//! reads none; everything else is the core's [`crate::inspect_p12`].

use js_sys::{Date, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::error::BindingError;
use crate::{DEFAULT_MAX_ITERATIONS, InspectOptions};

#[wasm_bindgen(typescript_custom_section)]
const TS_REPORT: &'static str = r#"
/** Options of `inspectP12`. */
export interface InspectP12Options {
  /** The time at which validity is judged; defaults to the current time. */
  now?: Date;
  /** Cap on MAC and key-derivation iteration counts (default 1,000,000); larger counts are
   * refused before any key derivation runs. */
  maxIterations?: number;
}

/** One problem or warning: a stable snake_case code and a human message. */
export interface Finding {
  code: string;
  message: string;
}

/** Facts about one certificate. */
export interface CertificateInfo {
  /** RFC 4514 string, for example `CN=client,O=Brand`. */
  subject: string;
  issuer: string;
  /** Lower-case hex. */
  serialNumber: string;
  /** RFC 3339 UTC. */
  notBefore: string;
  /** RFC 3339 UTC. */
  notAfter: string;
  /** SHA-256 of the DER certificate, lower-case hex. */
  fingerprintSha256: string;
  keyUsage: string[];
  extendedKeyUsage: string[];
  /** `DNS:x`, `IP:x`, `email:x`, `URI:x`. */
  subjectAltNames: string[];
}

/** Type and size of the private key. */
export interface KeyInfo {
  /** `RSA`, `EC`, `Ed25519`, `DSA`, or a dotted OID. */
  algorithm: string;
  bits: number | null;
  /** `P-256`, `P-384`, `P-521` or a curve OID; present for EC keys only. */
  curve?: string;
}

/** One encrypted part of the PFX. */
export interface EncryptionInfo {
  /** `key` or `certificates`. */
  bag: string;
  algorithm: string;
  iterations: number;
}

/** How the PFX is protected. */
export interface ContainerInfo {
  macAlgorithm: string;
  macIterations: number;
  encryption: EncryptionInfo[];
}

/** Whether a P12 plus password is usable (SPEC section 2): the same JSON the server returns. */
export interface P12Report {
  usable: boolean;
  problems: Finding[];
  warnings: Finding[];
  certificate: CertificateInfo | null;
  chain: CertificateInfo[];
  key: KeyInfo | null;
  container: ContainerInfo | null;
}

/**
 * Decides whether a PKCS#12 file plus password is usable (SPEC section 2) and returns the
 * report; a file that is not usable is not an error, its report says why.
 * @throws {MtlsSdkError} code `invalid_argument` when an argument has the wrong type.
 */
export function inspectP12(p12: Uint8Array, password: string, options?: InspectP12Options): P12Report;
"#;

/// Decides whether a PKCS#12 file plus password is usable and returns the report.
///
/// Throws an `MtlsSdkError` with code `invalid_argument` when an argument has the wrong type;
/// a file that is not usable is not an error: its report says why. The TypeScript signature is
/// written above (`TS_REPORT`) because wasm-bindgen cannot mark `options` optional while giving it
/// an interface type.
#[wasm_bindgen(js_name = inspectP12, skip_typescript)]
#[allow(unreachable_pub, reason = "wasm-bindgen exports only `pub` functions; JS is the caller")]
pub fn inspect_p12(
    p12: JsValue,
    password: JsValue,
    options: Option<Object>,
) -> Result<JsValue, BindingError> {
    let p12 = p12
        .dyn_into::<Uint8Array>()
        .map_err(|_| BindingError::InvalidArgument { argument: "p12", expected: "a Uint8Array" })?
        .to_vec();
    let password = password
        .as_string()
        .ok_or(BindingError::InvalidArgument { argument: "password", expected: "a string" })?;
    let options = inspect_options(options.as_ref())?;
    let report = crate::inspect_p12(&p12, &password, &options);
    to_js(&report)
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
        let date = now.dyn_into::<Date>().map_err(|_| BindingError::InvalidArgument {
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
    Ok(InspectOptions { now_unix, max_iterations })
}

/// 2^53 - 1: the largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `object[name]`, or `undefined` when reading it throws (a getter that throws).
fn property(object: &Object, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Serialises like `serde_json` does, so the JS object deep-equals the server's JSON: `None` is
/// `null`, maps are plain objects, integers are numbers.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, BindingError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| BindingError::Conversion(error.to_string()))
}
