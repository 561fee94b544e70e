use std::ops::Range;

use aes_gcm::aead::{Aead, Payload};
use serde_json::json;

use super::format::{HEADER_LEN, MAGIC, MAGIC_V1, NONCE_LEN};
use super::*;

const KEY: [u8; 32] = [42u8; 32];

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtls-embedded-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn open(dir: &Path) -> Result<EmbeddedStore, StoreError> {
    EmbeddedStore::open(dir, DataKey::Given(Zeroizing::new(KEY)))
}

/// The byte ranges of the records of a current-format log.
fn frames(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut frames = Vec::new();
    let mut offset = HEADER_LEN;
    while offset + 4 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
        frames.push(offset..offset + 4 + len);
        offset += 4 + len;
    }
    frames
}

fn log_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(LOG_FILE)).unwrap()
}

fn corrupt_message(result: Result<EmbeddedStore, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        Err(other) => panic!("expected a corruption error, got {other:?}"),
        Ok(_) => panic!("the store opened"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A store holding `a`, `b`, `c` (three records after the header).
async fn three_records(dir: &Path) {
    let store = open(dir).unwrap();
    for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
        store.write(key, &json!({ "n": i }), Expect::Absent).await.unwrap();
    }
}

#[tokio::test]
async fn torn_unacknowledged_append_is_cut_and_earlier_records_survive() {
    let dir = temp_dir();
    let head_before_c = {
        let store = open(&dir).unwrap();
        store.write("a", &json!({"n": 1}), Expect::Absent).await.unwrap();
        store.write("b", &json!({"n": 2}), Expect::Absent).await.unwrap();
        let head = std::fs::read(dir.join(HEAD_FILE)).unwrap();
        store.write("c", &json!({"n": 3}), Expect::Absent).await.unwrap();
        head
    };
    // A crash mid-append of `c`: part of its record reached the log, its head never did.
    std::fs::write(dir.join(HEAD_FILE), head_before_c).unwrap();
    let path = dir.join(LOG_FILE);
    let len = std::fs::metadata(&path).unwrap().len();
    OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();
    let store = open(&dir).unwrap();
    assert_eq!(store.read("a").await.unwrap().unwrap().version, 1);
    assert_eq!(store.read("b").await.unwrap().unwrap().value, json!({"n": 2}));
    assert!(store.read("c").await.unwrap().is_none());
    // The log is usable after the repair.
    store.write("d", &json!({}), Expect::Absent).await.unwrap();
    drop(store);
    let store = open(&dir).unwrap();
    assert!(store.read("d").await.unwrap().is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn torn_append_of_full_length_with_its_own_sequence_number_is_cut() {
    let dir = temp_dir();
    let head_before_c = {
        let store = open(&dir).unwrap();
        store.write("a", &json!({"n": 1}), Expect::Absent).await.unwrap();
        let head = std::fs::read(dir.join(HEAD_FILE)).unwrap();
        store.write("c", &json!({"n": 3}), Expect::Absent).await.unwrap();
        head
    };
    std::fs::write(dir.join(HEAD_FILE), head_before_c).unwrap();
    // Length and sequence number on disk, the ciphertext not (zeros).
    let mut bytes = log_bytes(&dir);
    let last = frames(&bytes).pop().unwrap();
    bytes[last.start + 12..last.end].fill(0);
    std::fs::write(dir.join(LOG_FILE), &bytes).unwrap();
    let store = open(&dir).unwrap();
    assert!(store.read("a").await.unwrap().is_some());
    assert!(store.read("c").await.unwrap().is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn dropping_the_last_acknowledged_record_is_detected() {
    let dir = temp_dir();
    three_records(&dir).await;
    let bytes = log_bytes(&dir);
    let last = frames(&bytes).pop().unwrap();
    std::fs::write(dir.join(LOG_FILE), &bytes[..last.start]).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("store.log ends after 2 whole records"), "{message}");
    assert!(message.contains("store.head counts 3 acknowledged"), "{message}");
    // Cutting into the last acknowledged record is no torn append either.
    std::fs::write(dir.join(LOG_FILE), &bytes[..last.end - 5]).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("records were cut off its end"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_record_appended_again_is_detected() {
    let dir = temp_dir();
    three_records(&dir).await;
    let mut bytes = log_bytes(&dir);
    let first = frames(&bytes)[0].clone();
    let copy = bytes[first].to_vec();
    bytes.extend_from_slice(&copy);
    std::fs::write(dir.join(LOG_FILE), &bytes).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("record 3 (byte"), "{message}");
    assert!(message.contains("store.log is a copy of record 0"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn two_swapped_records_are_detected() {
    let dir = temp_dir();
    three_records(&dir).await;
    let bytes = log_bytes(&dir);
    let frames = frames(&bytes);
    let mut swapped = bytes[..frames[0].start].to_vec();
    for i in [1, 0, 2] {
        swapped.extend_from_slice(&bytes[frames[i].clone()]);
    }
    std::fs::write(dir.join(LOG_FILE), &swapped).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("record 0 (byte") && message.contains("is a copy of record 1"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_deleted_record_replayed_from_before_the_delete_is_detected() {
    let dir = temp_dir();
    let put = {
        let store = open(&dir).unwrap();
        store.write("keep", &json!({}), Expect::Absent).await.unwrap();
        store.write("auth/app-keys/k1", &json!({"secret": "s"}), Expect::Absent).await.unwrap();
        let bytes = log_bytes(&dir);
        let put = bytes[frames(&bytes)[1].clone()].to_vec();
        store.delete("auth/app-keys/k1").await.unwrap();
        put
    };
    let mut bytes = log_bytes(&dir);
    bytes.extend_from_slice(&put);
    std::fs::write(dir.join(LOG_FILE), &bytes).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("is not a record of this log at this position"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_older_generation_of_the_log_is_refused_after_compaction() {
    let dir = temp_dir();
    let old_log = {
        let store = open(&dir).unwrap();
        store.write("app-key", &json!({"secret": "s"}), Expect::Absent).await.unwrap();
        let old = log_bytes(&dir);
        store.delete("app-key").await.unwrap(); // compacts (at the latest on close): a new generation
        old
    };
    std::fs::write(dir.join(LOG_FILE), old_log).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("store.head does not belong to"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn missing_head_or_missing_log_is_refused() {
    let dir = temp_dir();
    three_records(&dir).await;
    let head = std::fs::read(dir.join(HEAD_FILE)).unwrap();
    std::fs::remove_file(dir.join(HEAD_FILE)).unwrap();
    assert!(corrupt_message(open(&dir)).contains("store.head is missing"));
    std::fs::write(dir.join(HEAD_FILE), head).unwrap();
    std::fs::remove_file(dir.join(LOG_FILE)).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("store.log is missing but") && message.contains("counts 3 acknowledged"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn corruption_in_the_middle_refuses_to_open() {
    let dir = temp_dir();
    three_records(&dir).await;
    let path = dir.join(LOG_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let first_record = frames(&bytes)[0].start + 4 + 8 + NONCE_LEN + 2;
    bytes[first_record] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let message = corrupt_message(open(&dir));
    assert!(message.contains("record 0 (byte") && message.contains("does not decrypt"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_delete_compacts_the_deleted_value_off_the_disk() {
    let dir = temp_dir();
    let store = open(&dir).unwrap();
    store.write("keep", &json!({"n": 1}), Expect::Absent).await.unwrap();
    store.write("auth/app-keys/k1", &json!({"secret": "s3cr3t"}), Expect::Absent).await.unwrap();
    let bytes = log_bytes(&dir);
    let frame = frames(&bytes)[1].clone();
    let ciphertext = bytes[frame.start + 4 + 8 + NONCE_LEN..frame.end].to_vec();
    assert!(contains(&log_bytes(&dir), &ciphertext));
    store.delete("auth/app-keys/k1").await.unwrap();
    store.wait_for_scheduled_compaction();
    assert!(!contains(&log_bytes(&dir), &ciphertext), "the deleted value's ciphertext is still in the log");
    assert!(store.read("auth/app-keys/k1").await.unwrap().is_none());
    drop(store);
    let store = open(&dir).unwrap();
    assert!(store.read("auth/app-keys/k1").await.unwrap().is_none());
    // A delete right before the store closes is compacted on close.
    store.write("auth/app-keys/k2", &json!({"secret": "an0ther"}), Expect::Absent).await.unwrap();
    let bytes = log_bytes(&dir);
    let frame = frames(&bytes).pop().unwrap();
    let ciphertext = bytes[frame.start + 4 + 8 + NONCE_LEN..frame.end].to_vec();
    store.delete("auth/app-keys/k2").await.unwrap();
    drop(store);
    assert!(!contains(&log_bytes(&dir), &ciphertext), "the value deleted before close is still in the log");
    let store = open(&dir).unwrap();
    assert_eq!(store.read("keep").await.unwrap().unwrap().value, json!({"n": 1}));
    assert_eq!(store.write("auth/app-keys/k1", &json!({}), Expect::Absent).await.unwrap(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_delete_not_yet_compacted_by_a_crash_is_compacted_at_open() {
    let dir = temp_dir();
    let ciphertext = {
        let store = open(&dir).unwrap();
        store.write("auth/app-keys/k1", &json!({"secret": "s3cr3t"}), Expect::Absent).await.unwrap();
        let bytes = log_bytes(&dir);
        let frame = frames(&bytes)[0].clone();
        // The delete record is synced, then the process dies before the compaction.
        let mut state = store.state();
        let record = Record::Del { key: "auth/app-keys/k1".into(), version: 1 };
        state.append(&record).unwrap();
        bytes[frame.start + 4 + 8 + NONCE_LEN..frame.end].to_vec()
    };
    assert!(contains(&log_bytes(&dir), &ciphertext));
    let store = open(&dir).unwrap();
    assert!(store.read("auth/app-keys/k1").await.unwrap().is_none());
    assert!(!contains(&log_bytes(&dir), &ciphertext), "the deleted value's ciphertext is still in the log");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_log_of_the_previous_format_is_migrated() {
    let dir = temp_dir();
    let cipher = Aes256Gcm::new_from_slice(&KEY).unwrap();
    let block = |plain: &[u8]| {
        let nonce = [7u8; NONCE_LEN];
        let mut out = nonce.to_vec();
        out.extend(cipher.encrypt(&nonce.into(), Payload { msg: plain, aad: MAGIC_V1 }).unwrap());
        out
    };
    let mut v1 = MAGIC_V1.to_vec();
    v1.extend(block(&[0u8; 32]));
    for record in [
        json!({"put": {"key": "a", "version": 1, "value": {"n": 1}}}),
        json!({"put": {"key": "a", "version": 2, "value": {"n": 2}}}),
        json!({"put": {"key": "gone", "version": 1, "value": {}}}),
        json!({"del": {"key": "gone", "version": 1}}),
    ] {
        let sealed = block(record.to_string().as_bytes());
        v1.extend((sealed.len() as u32).to_be_bytes());
        v1.extend(sealed);
    }
    std::fs::write(dir.join(LOG_FILE), &v1).unwrap();
    {
        let store = open(&dir).unwrap();
        assert_eq!(store.read("a").await.unwrap().unwrap(), Versioned { value: json!({"n": 2}), version: 2 });
        assert!(store.read("gone").await.unwrap().is_none());
    }
    assert!(log_bytes(&dir).starts_with(MAGIC), "rewritten in the current format");
    let store = open(&dir).unwrap();
    assert_eq!(store.read("a").await.unwrap().unwrap().version, 2);
    assert_eq!(store.write("gone", &json!({}), Expect::Absent).await.unwrap(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn wrong_key_and_missing_key_file_are_named() {
    let dir = temp_dir();
    drop(EmbeddedStore::open(&dir, DataKey::File).unwrap());
    let other = Zeroizing::new([7u8; 32]);
    let Err(StoreError::Unavailable(message)) = EmbeddedStore::open(&dir, DataKey::Given(other)) else {
        panic!("wrong key accepted")
    };
    assert!(message.contains("data key does not match"), "{message}");
    std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
    let Err(StoreError::Unavailable(message)) = EmbeddedStore::open(&dir, DataKey::File) else {
        panic!("missing key file accepted")
    };
    assert!(message.contains("data.key is missing"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn files_are_owner_only_and_second_process_is_refused() {
    let dir = temp_dir();
    let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
    store.write("a", &json!({}), Expect::Absent).await.unwrap();
    store.delete("a").await.unwrap();
    store.wait_for_scheduled_compaction(); // compaction replaces the log
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for name in [KEY_FILE, LOG_FILE, HEAD_FILE, files::LOCK_FILE] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
    }
    assert!(EmbeddedStore::open(&dir, DataKey::File).is_err(), "second opener must be refused");
    drop(store);
    assert!(EmbeddedStore::open(&dir, DataKey::File).is_ok());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn compaction_keeps_values_versions_and_tombstones() {
    let dir = temp_dir();
    {
        let store = open(&dir).unwrap();
        let mut version = 0;
        for i in 0..(COMPACT_MIN_DEAD * 2 + 10) {
            version = store.write("hot", &json!({ "i": i }), Expect::Any).await.unwrap();
        }
        assert_eq!(version, COMPACT_MIN_DEAD * 2 + 10);
        let records = store.state().head.count;
        assert!(records < COMPACT_MIN_DEAD * 2, "compaction ran: {records} records");
        store.write("gone", &json!({}), Expect::Absent).await.unwrap();
        store.delete("gone").await.unwrap();
    }
    let store = open(&dir).unwrap();
    let hot = store.read("hot").await.unwrap().unwrap();
    assert_eq!(hot.version, COMPACT_MIN_DEAD * 2 + 10);
    assert_eq!(hot.value["i"], COMPACT_MIN_DEAD * 2 + 9);
    assert!(store.read("gone").await.unwrap().is_none());
    assert_eq!(store.write("gone", &json!({}), Expect::Absent).await.unwrap(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}
