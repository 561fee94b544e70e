//! Replays the fuzz corpus (`sdk/fuzz/corpus/inspect_p12/`, seeded by `sdk/fuzz/seed-corpus.sh`,
//! grown by `cargo fuzz run inspect_p12`) and any crash artifacts through `inspect_p12`, plus
//! every truncation and a sweep of byte flips of each seed: no input may panic, and files over
//! the iteration cap are refused before any KDF runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tlv::{self, Node, Style};
use mtls_sdk::{inspect_p12, InspectOptions};

/// The fuzz target's passwords, chosen by the first byte of each input.
const PASSWORDS: [&str; 4] = ["fuzz", "", "wrong", "pässwörd"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn corpus_files() -> Vec<PathBuf> {
    let corpus = fuzz_dir().join("corpus/inspect_p12");
    // The tests of this file run in parallel threads: seed once, and let the others wait until
    // the seeds are complete (on a fresh clone a test could otherwise read a half-written seed).
    static SEEDED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    SEEDED.get_or_init(|| {
        if !corpus.join("default").exists() {
            let status = Command::new("bash").arg(fuzz_dir().join("seed-corpus.sh")).status().expect("bash");
            assert!(status.success(), "seed-corpus.sh failed");
        }
    });
    let mut files = Vec::new();
    for dir in [corpus, fuzz_dir().join("artifacts/inspect_p12")] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

/// Exactly what the fuzz target does with one input.
fn run_target(data: &[u8]) -> Option<mtls_sdk::P12Report> {
    let (&selector, p12) = data.split_first()?;
    let password = PASSWORDS[usize::from(selector) % PASSWORDS.len()];
    let options = InspectOptions::new(1_800_000_000, 4096);
    let report = common::inspect_both_ways(p12, password, &options);
    assert_eq!(report.usable, report.problems.is_empty());
    Some(report)
}

#[test]
fn every_corpus_file_gives_a_report() {
    let files = corpus_files();
    assert!(files.len() >= 10, "seed corpus missing: {files:?}");
    let mut usable = 0;
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if run_target(&data).is_some_and(|r| r.usable) {
            usable += 1;
        }
    }
    // The seeds include files that open (so the fuzzer starts past the MAC).
    assert!(usable >= 5, "only {usable} usable seeds");
}

#[test]
fn truncations_and_byte_flips_of_seeds_never_panic() {
    for file in corpus_files().iter().filter(|f| ["legacy", "nomac", "rc4"].iter().any(|n| f.ends_with(n))) {
        let data = std::fs::read(file).unwrap();
        for len in 0..data.len() {
            let report = run_target(&data[..len]);
            assert!(report.is_none_or(|r| !r.usable), "{}: a truncation to {len} bytes is usable", file.display());
        }
        for (i, flip) in (1..data.len()).step_by(7).zip([0x01u8, 0x80, 0xff].iter().cycle()) {
            let mut mutated = data.clone();
            mutated[i] ^= flip;
            run_target(&mutated);
        }
    }
}

#[test]
fn hostile_iteration_counts_are_refused_without_running_the_kdf() {
    // 2^62 iterations: if any KDF ran, this test would not finish.
    for file in corpus_files().iter().filter(|f| ["default", "legacy", "nomac", "rc4", "md5des"].iter().any(|n| f.ends_with(n))) {
        let data = std::fs::read(file).unwrap();
        let mut tree = tlv::parse(&data[1..]).unwrap();
        tlv::rewrite(&mut tree, Style::Der, &mut |node| {
            if tlv::is_integer(node, 16) || tlv::is_integer(node, 2048) {
                *node = Node::Primitive { tag: 0x02, value: tlv::integer_bytes(1 << 62) };
            }
        });
        let hostile = tlv::encode(&tree, Style::Der);
        let report = inspect_p12(&hostile, "fuzz", &InspectOptions::at(1_800_000_000));
        let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["too_many_iterations"], "{}: {report:?}", file.display());
        assert!(report.problems[0].message.contains("4611686018427387904"), "{}", report.problems[0].message);
    }
}

#[test]
fn many_parts_each_under_the_cap_are_refused_before_any_kdf() {
    // 300 more key parts of 1,000,000 iterations each: every one is under the cap, together
    // they would cost minutes of KDF; the file's budget refuses them before the first KDF.
    let seed = std::fs::read(corpus_files().into_iter().find(|f| f.ends_with("nomac")).unwrap()).unwrap();
    let mut pfx = tlv::parse(&seed[1..]).unwrap();
    let Node::Constructed { children: pfx_children, .. } = &mut pfx else { panic!("PFX") };
    let Node::Constructed { children: content_info, .. } = &mut pfx_children[1] else { panic!("ContentInfo") };
    let Node::Constructed { children: explicit, .. } = &mut content_info[1] else { panic!("[0]") };
    let Node::Primitive { value: auth_safe_bytes, .. } = &mut explicit[0] else { panic!("OCTET STRING") };
    let mut auth_safe = tlv::parse(auth_safe_bytes).unwrap();
    let Node::Constructed { children: parts, .. } = &mut auth_safe else { panic!("AuthenticatedSafe") };
    let has_kdf = |part: &Node| {
        let mut found = false;
        let mut probe = part.clone();
        tlv::rewrite(&mut probe, Style::Der, &mut |node| found |= tlv::is_integer(node, 16));
        found
    };
    let mut template = parts.iter().find(|p| has_kdf(p)).expect("a part with a KDF").clone();
    tlv::rewrite(&mut template, Style::Der, &mut |node| {
        if tlv::is_integer(node, 16) {
            *node = Node::Primitive { tag: 0x02, value: tlv::integer_bytes(1_000_000) };
        }
    });
    parts.extend(std::iter::repeat_n(template, 300));
    *auth_safe_bytes = tlv::encode(&auth_safe, Style::Der);
    let hostile = tlv::encode(&pfx, Style::Der);
    let report = inspect_p12(&hostile, "fuzz", &InspectOptions::at(1_800_000_000));
    let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["too_many_iterations"], "{:?}", report.problems);
    assert!(report.problems[0].message.contains("in all"), "{}", report.problems[0].message);
}

/// Exactly what the `normalize_url` fuzz target checks for one input.
fn run_normalize_url_target(data: &[u8]) {
    let Some((&flags, text)) = data.split_first() else { return };
    let Ok(input) = std::str::from_utf8(text) else { return };
    let allow_http = flags & 1 == 1;
    let Ok(url) = mtls_sdk::parse_url(input, allow_http) else { return };
    assert_eq!(mtls_sdk::normalize_url(url.as_str(), allow_http).as_deref(), Ok(url.as_str()), "{input:?}: not idempotent");
    assert_eq!(format!("{}{}", url.base(), url.path_and_query()), url.as_str());
    assert!(url.path_and_query().starts_with('/'));
    let _ = (url.scheme(), url.host(), url.port(), url.authority(), url.origin());
}

/// The committed `normalize_url` corpus (`sdk/fuzz/corpus/normalize_url/`), any crash artifacts,
/// and every truncation of each seed.
#[test]
fn normalize_url_corpus_holds_the_target_checks() {
    let mut files = Vec::new();
    for dir in ["corpus/normalize_url", "artifacts/normalize_url"] {
        if let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir)) {
            files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    let seeds: Vec<&PathBuf> = files.iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("seed-")).collect();
    assert!(seeds.len() >= 5, "the committed normalize_url seeds are missing: {files:?}");
    for file in &files {
        run_normalize_url_target(&std::fs::read(file).unwrap());
    }
    for seed in seeds {
        let data = std::fs::read(seed).unwrap();
        for len in 0..data.len() {
            run_normalize_url_target(&data[..len]);
        }
    }
}
