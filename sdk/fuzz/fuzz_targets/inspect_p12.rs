//! Fuzzes the P12 inspection entry point: any bytes and password must give a report, never a
//! panic. The first byte picks the password from a few the seed corpus uses, so the fuzzer
//! reaches past the MAC; the iteration cap is low so each input stays cheap (the cap itself is
//! what keeps hostile counts cheap in production).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtls_sdk::{inspect_p12, InspectOptions};

const PASSWORDS: [&str; 4] = ["fuzz", "", "wrong", "pässwörd"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, p12)) = data.split_first() else { return };
    let password = PASSWORDS[usize::from(selector) % PASSWORDS.len()];
    let options = InspectOptions::new(1_800_000_000, 4096);
    let report = inspect_p12(p12, password, &options);
    assert_eq!(report.usable, report.problems.is_empty());
});
