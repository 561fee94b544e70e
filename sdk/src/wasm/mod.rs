//! wasm-bindgen bindings: convert between JS values and the core; decide nothing.
