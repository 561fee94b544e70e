//! wasm-bindgen bindings: convert between JS values and the core; decide nothing.
//!
//! Compiled only for `wasm32`. Each cargo feature (`wasm-inspector`, `wasm-csr`) selects the
//! bindings of one WebAssembly module of the package (scripts/build-pkg.sh). Each file binds one
//! part of the SDK API of SPEC section 10:
//! - `inspect`: `inspectP12` (and `PendingInspection`, finished with a host-derived public key);
//! - `csr`: `generateCsr` (keys and signatures from WebCrypto) and `buildP12`;
//! - `error`: the one conversion of binding errors into JS `Error`s with snake_case `code`s;
//! - `start`: the start hook.
//!
//! Every rule lives in the native core and is tested natively; these files only check argument
//! shapes, call the core, and convert its result. The values' TypeScript types are generated
//! from the core's Rust types (`crate::typescript`); the bindings read and write those shapes
//! field by field rather than through serde-wasm-bindgen, whose generic code would cost each
//! module more than the conversions themselves (17 KB gzip in the csr module).

#[cfg(feature = "wasm-csr")]
mod csr;
mod error;
#[cfg(feature = "wasm-inspector")]
mod inspect;
mod start;

/// The public key bits of a `SubjectPublicKeyInfo` given as bytes (a `Uint8Array`, or an
/// `ArrayBuffer` as WebCrypto exports it): what the host derived for a `Pending*` value's key.
/// `None` for `undefined` or anything else.
#[cfg(any(feature = "wasm-inspector", feature = "wasm-csr"))]
fn spki_public_key(spki: &wasm_bindgen::JsValue) -> Option<Vec<u8>> {
    use der::Decode;
    use js_sys::Uint8Array;
    use wasm_bindgen::JsCast;
    let bytes = if spki.is_instance_of::<Uint8Array>() {
        spki.unchecked_ref::<Uint8Array>().to_vec()
    } else if spki.is_instance_of::<js_sys::ArrayBuffer>() {
        Uint8Array::new(spki).to_vec()
    } else {
        return None;
    };
    let info = spki::SubjectPublicKeyInfoRef::from_der(&bytes).ok()?;
    info.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}
