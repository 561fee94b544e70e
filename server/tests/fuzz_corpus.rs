//! Replays the fuzz corpora of `server/fuzz/` (committed seeds, grown by `cargo fuzz run` and
//! minimised by `cargo fuzz cmin`) and any crash artifacts through the same entry points the
//! fuzz targets call (`mtls_server::fuzzing`), plus every truncation of each seed: no input may
//! panic. Runs without the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: failing loudly is right")]

use std::path::{Path, PathBuf};

use mtls_server::fuzzing;

/// A fuzz entry point: raw bytes in, a panic the only failure.
type Entry = fn(&[u8]);

/// Targets of `server/fuzz/` and their entry points.
const TARGETS: [(&str, Entry); 4] = [
    ("oauth1_header", fuzzing::oauth1_header),
    ("forward_headers", fuzzing::forward_headers),
    ("multipart_form", fuzzing::multipart_form),
    ("json_body", fuzzing::json_body),
];

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in [fuzz.join("corpus").join(target), fuzz.join("artifacts").join(target)] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

fn replay(target: &str, run: Entry) {
    let files = inputs(target);
    let seeds = files.iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("seed-")).count();
    assert!(seeds >= 4, "{target}: the committed seeds are missing ({files:?})");
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} panics", file.display());
    }
}

#[test]
fn oauth1_header_corpus_never_panics() {
    replay(TARGETS[0].0, TARGETS[0].1);
}

#[test]
fn forward_headers_corpus_never_panics() {
    replay(TARGETS[1].0, TARGETS[1].1);
}

#[test]
fn multipart_form_corpus_never_panics() {
    replay(TARGETS[2].0, TARGETS[2].1);
}

#[test]
fn json_body_corpus_never_panics() {
    replay(TARGETS[3].0, TARGETS[3].1);
}

#[test]
fn every_truncation_of_every_seed_never_panics() {
    for (target, run) in TARGETS {
        for file in inputs(target).iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("seed-")) {
            let data = std::fs::read(file).unwrap();
            for len in 0..data.len() {
                let outcome = std::panic::catch_unwind(|| run(&data[..len]));
                assert!(outcome.is_ok(), "{target}: {} cut to {len} bytes panics", file.display());
            }
        }
    }
}
