//! Fuzzes `mtls_server::fuzzing::oauth1_header` (its docs describe the input).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_server::fuzzing::oauth1_header(data));
