//! Fuzzes `mtls_server::fuzzing::multipart_form` (its docs describe the input).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_server::fuzzing::multipart_form(data));
