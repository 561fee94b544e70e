//! wasm-bindgen bindings: convert between JS values and the core; decide nothing.
//!
//! Compiled only for `wasm32`. Each cargo feature (`wasm-inspector`, `wasm-csr`) selects the
//! bindings of one WebAssembly module of the package (scripts/build-pkg.sh). Each file binds one part of the SDK API of SPEC section 10 and
//! owns the TypeScript interfaces of the values it passes as `JsValue`:
//! - `inspect`: `inspectP12` and the `P12Report` family of types;
//! - `csr`: `generateCsr` (keys from WebCrypto) and `buildP12`, with their request types;
//! - `error`: the one conversion of binding errors into JS `Error`s with snake_case `code`s;
//! - `start`: the start hook (panic messages to the console).
//!
//! Every rule lives in the native core and is tested natively; these files only check argument
//! shapes, call the core, and serialise its result with serde-wasm-bindgen's JSON-compatible
//! serializer so a JS report deep-equals the server's JSON report.

#[cfg(feature = "wasm-csr")]
mod csr;
mod error;
#[cfg(feature = "wasm-inspector")]
mod inspect;
mod start;
