//! The start hook: runs once when the module is instantiated.

use wasm_bindgen::prelude::*;

/// Routes Rust panic messages to `console.error` so a bug shows its message instead of a bare
/// `RuntimeError: unreachable`. No input is expected to panic (SPEC section 11); this is for
/// diagnosing the case where one does.
#[wasm_bindgen(start, private)]
fn start() {
    #[cfg(feature = "console_error_panic_hook")]
    console_error_panic_hook::set_once();
}
