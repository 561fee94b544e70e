//! Fuzzes URL normalisation (the mapping key and the forward target): any text must give a
//! normalised URL or an error, never a panic. The first byte allows plain HTTP when odd.
//! Normalising is idempotent (a stored key looked up again finds itself), and the parts of a
//! parsed URL make up its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtls_sdk::{normalize_url, parse_url};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, text)) = data.split_first() else { return };
    let Ok(input) = std::str::from_utf8(text) else { return };
    let allow_http = flags & 1 == 1;
    let Ok(url) = parse_url(input, allow_http) else { return };
    assert_eq!(normalize_url(url.as_str(), allow_http).as_deref(), Ok(url.as_str()), "not idempotent");
    assert_eq!(format!("{}{}", url.base(), url.path_and_query()), url.as_str());
    assert!(url.path_and_query().starts_with('/'));
    let _ = (url.scheme(), url.host(), url.port(), url.authority(), url.origin());
});
