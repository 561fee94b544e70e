//! The embedded [`Store`] (`MTLS_STORE=embedded`, the default): one process, everything under
//! `MTLS_DATA_DIR`, every record encrypted at rest (SPEC section 8).
//!
//! # On disk
//! - `store.log`: an append-only log. Header: magic `MTLSKV01` then a key-check block (a
//!   12-byte nonce and the AES-256-GCM encryption of 32 zero bytes), so a wrong key is named at
//!   start instead of looking like corruption. Then records, each `u32` big-endian length `L`,
//!   12-byte random nonce, and `L - 12` bytes of AES-256-GCM ciphertext with its tag. The
//!   plaintext is a JSON [`Record`] (a put with key, version and value, or a delete with the key
//!   and its last version). Keys *and* values are encrypted; the GCM tag is the checksum.
//! - `data.key` (only when `MTLS_DATA_KEY` is unset): base64 of 32 random bytes, created with
//!   mode 0600 on first start. Back it up with the data: without it nothing can be read.
//!
//! # Durability
//! A write appends one record with a single `write` and `fdatasync`s before it returns, and only
//! then becomes visible, so an acknowledged write survives a crash (SPEC section 11). On open the
//! log is replayed; a torn last record (a crash mid-append, never acknowledged) is cut off.
//! A record that fails to decrypt *before* the end is corruption: the store refuses to open
//! rather than drop data silently. When dead records outnumber live ones the log is compacted:
//! a new log is written to `store.log.tmp`, fsynced, renamed over `store.log`, and the directory
//! fsynced, so a crash leaves either the old or the new log, both whole.
//!
//! # Versions and check-and-set
//! Identical to Vault ([`Expect`]), except that deleting a key keeps a tombstone with its last
//! version, so a re-created key continues from there and a version number is never reused for a
//! different value (stronger than KV v2, where delete resets versions to 1).
//!
//! Everything lives in memory too (reads never touch the disk); the store suits the data of one
//! gateway (certificates and mappings, kilobytes each), not bulk data. One process only: a
//! second process on the same data dir is refused by a lock file.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use super::{Expect, Store, StoreError, Versioned};

/// File name of the log inside the data dir.
pub const LOG_FILE: &str = "store.log";
/// File name of the generated key inside the data dir.
pub const KEY_FILE: &str = "data.key";
const LOCK_FILE: &str = "store.lock";
const MAGIC: &[u8; 8] = b"MTLSKV01";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const CHECK_LEN: usize = NONCE_LEN + 32 + TAG_LEN;
/// Compaction starts only past this many dead records (small logs are cheap to replay).
const COMPACT_MIN_DEAD: u64 = 1000;
/// A record larger than this is corruption (values are kilobytes; P12 files are capped well
/// below by the body limit).
const MAX_RECORD: usize = 256 * 1024 * 1024;

/// The embedded store.
pub struct EmbeddedStore {
    inner: Arc<Mutex<State>>,
}

/// Where the key comes from.
pub enum DataKey {
    /// `MTLS_DATA_KEY`, already decoded.
    Given(Zeroizing<[u8; 32]>),
    /// `data.key` in the data dir, generated when absent.
    File,
}

struct State {
    dir: PathBuf,
    cipher: Aes256Gcm,
    file: File,
    /// Length of the log up to the last complete record.
    len: u64,
    entries: BTreeMap<String, Versioned>,
    /// Last version of each deleted key.
    tombstones: BTreeMap<String, u64>,
    /// Records in the log (live or dead).
    records: u64,
    /// Set when a failed append could not be rolled back; writes refuse from then on.
    broken: bool,
    _lock: File,
}

/// One log record (the plaintext of one encrypted block).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Record {
    Put { key: String, version: u64, value: Value },
    Del { key: String, version: u64 },
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the directory or key file cannot be used, another
    /// process holds the store, or the key does not match; [`StoreError::Corrupt`] when a record
    /// in the middle of the log does not decrypt.
    pub fn open(dir: &Path, key: DataKey) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create the data dir", dir, &e))?;
        let lock = acquire_lock(dir)?;
        let key = match key {
            DataKey::Given(key) => key,
            DataKey::File => load_or_create_key(dir)?,
        };
        let cipher = Aes256Gcm::new_from_slice(key.as_slice())
            .map_err(|_| StoreError::Unavailable("invalid data key length".to_owned()))?;
        let path = dir.join(LOG_FILE);
        let mut state = if path.exists() {
            replay(dir, &path, cipher, lock)?
        } else {
            create_log(dir, cipher, lock)?
        };
        if state.should_compact() {
            state.compact()?;
        }
        Ok(Self { inner: Arc::new(Mutex::new(state)) })
    }

    /// Runs `op` on the state in a blocking thread (appends `fsync`).
    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut State) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut state = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            op(&mut state)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.state().entries.get(key).cloned())
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        let (key, value) = (key.to_owned(), value.clone());
        self.blocking(move |state| {
            let current = state.entries.get(&key).map(|v| v.version);
            match (expect, current) {
                (Expect::Absent, Some(_)) => return Err(StoreError::Conflict),
                (Expect::Version(want), got) if got != Some(want) => return Err(StoreError::Conflict),
                _ => {}
            }
            let last = current.or_else(|| state.tombstones.get(&key).copied()).unwrap_or(0);
            let version = last + 1;
            state.append(&Record::Put { key: key.clone(), version, value: value.clone() })?;
            state.tombstones.remove(&key);
            state.entries.insert(key, Versioned { value, version });
            state.maybe_compact();
            Ok(version)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.blocking(move |state| {
            let Some(current) = state.entries.get(&key).map(|v| v.version) else { return Ok(()) };
            state.append(&Record::Del { key: key.clone(), version: current })?;
            state.entries.remove(&key);
            state.tombstones.insert(key, current);
            state.maybe_compact();
            Ok(())
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let folder = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        let state = self.state();
        let mut names: Vec<String> = state
            .entries
            .range(folder.clone()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(&folder))
            .filter_map(|k| k.strip_prefix(&folder))
            .map(|rest| match rest.split_once('/') {
                Some((dir, _)) => format!("{dir}/"),
                None => rest.to_owned(),
            })
            .collect();
        names.dedup();
        Ok(names)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.state().broken {
            return Err(StoreError::Unavailable("the store log could not be repaired after a failed write".into()));
        }
        Ok(())
    }

    fn is_exclusive(&self) -> bool {
        true // the lock file keeps every other process out
    }
}

// === impl State ===

impl State {
    /// Appends one record and syncs it; on failure rolls the file back to its last good length.
    fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        if self.broken {
            return Err(StoreError::Unavailable("the store log could not be repaired after a failed write".into()));
        }
        let block = seal(&self.cipher, record)?;
        let result = self.file.write_all(&block).and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            // A partial record at the tail would make every later record unreadable.
            if self.file.set_len(self.len).and_then(|()| self.file.sync_data()).is_err() {
                self.broken = true;
            }
            return Err(io_error("cannot write the store log", &self.dir, &e));
        }
        self.len += block.len() as u64;
        self.records += 1;
        Ok(())
    }

    fn dead(&self) -> u64 {
        self.records.saturating_sub(self.entries.len() as u64 + self.tombstones.len() as u64)
    }

    fn should_compact(&self) -> bool {
        let dead = self.dead();
        dead >= COMPACT_MIN_DEAD && dead > self.records / 2
    }

    fn maybe_compact(&mut self) {
        if self.should_compact()
            && let Err(error) = self.compact()
        {
            // The old log is intact and still used; compaction is retried on a later write.
            tracing::warn!(%error, "store log compaction failed");
        }
    }

    /// Rewrites the log with live entries and tombstones only: temp file, fsync, rename,
    /// fsync dir.
    fn compact(&mut self) -> Result<(), StoreError> {
        let tmp = self.dir.join(format!("{LOG_FILE}.tmp"));
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key_check(&self.cipher)?);
        let mut records = 0;
        for (key, v) in &self.entries {
            out.extend_from_slice(&seal(&self.cipher, &Record::Put { key: key.clone(), version: v.version, value: v.value.clone() })?);
            records += 1;
        }
        for (key, version) in &self.tombstones {
            out.extend_from_slice(&seal(&self.cipher, &Record::Del { key: key.clone(), version: *version })?);
            records += 1;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&tmp)
            .map_err(|e| io_error("cannot create", &tmp, &e))?;
        file.write_all(&out).and_then(|()| file.sync_all()).map_err(|e| io_error("cannot write", &tmp, &e))?;
        let path = self.dir.join(LOG_FILE);
        std::fs::rename(&tmp, &path).map_err(|e| io_error("cannot replace", &path, &e))?;
        sync_dir(&self.dir)?;
        let file = OpenOptions::new().append(true).open(&path).map_err(|e| io_error("cannot open", &path, &e))?;
        self.file = file;
        self.len = out.len() as u64;
        self.records = records;
        Ok(())
    }
}

// === log files ===

fn create_log(dir: &Path, cipher: Aes256Gcm, lock: File) -> Result<State, StoreError> {
    let path = dir.join(LOG_FILE);
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&key_check(&cipher)?);
    let mut file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)
        .map_err(|e| io_error("cannot create", &path, &e))?;
    set_owner_only(&path);
    file.write_all(&header).and_then(|()| file.sync_all()).map_err(|e| io_error("cannot write", &path, &e))?;
    sync_dir(dir)?;
    Ok(State {
        dir: dir.to_owned(),
        cipher,
        file,
        len: header.len() as u64,
        entries: BTreeMap::new(),
        tombstones: BTreeMap::new(),
        records: 0,
        broken: false,
        _lock: lock,
    })
}

fn replay(dir: &Path, path: &Path, cipher: Aes256Gcm, lock: File) -> Result<State, StoreError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| io_error("cannot read", path, &e))?;
    let header_len = MAGIC.len() + CHECK_LEN;
    if bytes.len() < header_len || &bytes[..MAGIC.len()] != MAGIC {
        return Err(StoreError::Corrupt(format!("{} is not an mtls store log", path.display())));
    }
    let check = &bytes[MAGIC.len()..header_len];
    if open_block(&cipher, check).is_none() {
        return Err(StoreError::Unavailable(
            "the data key does not match the key this store was written with (MTLS_DATA_KEY or data.key)".to_owned(),
        ));
    }
    let mut entries = BTreeMap::new();
    let mut tombstones = BTreeMap::new();
    let mut records = 0u64;
    let mut offset = header_len;
    while offset < bytes.len() {
        let Some(len_bytes) = bytes.get(offset..offset + 4) else { break };
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
        let end = offset + 4 + len;
        if end > bytes.len() {
            break; // torn tail: the record was never acknowledged
        }
        let plain = match (len <= MAX_RECORD).then(|| open_block(&cipher, &bytes[offset + 4..end])).flatten() {
            Some(plain) => plain,
            None if end == bytes.len() => break, // torn tail
            None => {
                return Err(StoreError::Corrupt(format!(
                    "record at byte {offset} of {} does not decrypt; refusing to drop the records after it",
                    path.display()
                )));
            }
        };
        let record: Record = serde_json::from_slice(&plain)
            .map_err(|_| StoreError::Corrupt(format!("record at byte {offset} of {} is not a record", path.display())))?;
        match record {
            Record::Put { key, version, value } => {
                tombstones.remove(&key);
                entries.insert(key, Versioned { value, version });
            }
            Record::Del { key, version } => {
                entries.remove(&key);
                tombstones.insert(key, version);
            }
        }
        records += 1;
        offset = end;
    }
    let file = OpenOptions::new().append(true).open(path).map_err(|e| io_error("cannot open", path, &e))?;
    if offset < bytes.len() {
        tracing::warn!(bytes = bytes.len() - offset, "cutting a torn record off the end of the store log");
        file.set_len(offset as u64)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("cannot repair", path, &e))?;
    }
    Ok(State {
        dir: dir.to_owned(),
        cipher,
        file,
        len: offset as u64,
        entries,
        tombstones,
        records,
        broken: false,
        _lock: lock,
    })
}

/// Encrypts a record into `length | nonce | ciphertext+tag`.
fn seal(cipher: &Aes256Gcm, record: &Record) -> Result<Vec<u8>, StoreError> {
    let plain = Zeroizing::new(
        serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(format!("cannot encode a record: {e}")))?,
    );
    let block = encrypt(cipher, &plain)?;
    let len = u32::try_from(block.len()).map_err(|_| StoreError::Corrupt("record too large".into()))?;
    let mut out = Vec::with_capacity(4 + block.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&block);
    Ok(out)
}

/// `nonce | ciphertext+tag` of `plain`.
fn encrypt(cipher: &Aes256Gcm, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
    let sealed = cipher
        .encrypt(&nonce.into(), Payload { msg: plain, aad: MAGIC })
        .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts `nonce | ciphertext+tag`; `None` when it does not authenticate.
fn open_block(cipher: &Aes256Gcm, block: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, sealed) = block.split_at_checked(NONCE_LEN)?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    cipher.decrypt(&nonce.into(), Payload { msg: sealed, aad: MAGIC }).ok().map(Zeroizing::new)
}

fn key_check(cipher: &Aes256Gcm) -> Result<Vec<u8>, StoreError> {
    encrypt(cipher, &[0u8; 32])
}

// === key file, lock, fs helpers ===

fn load_or_create_key(dir: &Path) -> Result<Zeroizing<[u8; 32]>, StoreError> {
    let path = dir.join(KEY_FILE);
    if path.exists() {
        let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| io_error("cannot read", &path, &e))?);
        return crate::config::decode_data_key(&text)
            .ok_or_else(|| StoreError::Unavailable(format!("{} is not base64 of 32 bytes", path.display())));
    }
    if dir.join(LOG_FILE).exists() {
        // A fresh key could never read the existing log: say so instead of "wrong key".
        return Err(StoreError::Unavailable(format!(
            "{} exists but {} is missing; restore the key file or set MTLS_DATA_KEY",
            dir.join(LOG_FILE).display(),
            path.display()
        )));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut_slice()).map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
    let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.as_slice()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| io_error("cannot create", &path, &e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &path, &e))?;
    sync_dir(dir)?;
    tracing::info!(path = %path.display(), "generated a new data key file; back it up with the data");
    Ok(key)
}

/// Takes an exclusive lock so that two processes never append to one log.
fn acquire_lock(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error("cannot open", &path, &e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "another process uses the data dir {}; the embedded store is for one process",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io_error("cannot lock", &path, &e)),
    }
}

fn set_owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("cannot sync", dir, &e))
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mtls-embedded-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn torn_tail_is_cut_and_earlier_records_survive() {
        let dir = temp_dir();
        {
            let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
            store.write("a", &serde_json::json!({"n": 1}), Expect::Absent).await.unwrap();
            store.write("b", &serde_json::json!({"n": 2}), Expect::Absent).await.unwrap();
        }
        // Simulate a crash mid-append: drop the last 5 bytes of the last record.
        let path = dir.join(LOG_FILE);
        let len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();
        let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
        assert_eq!(store.read("a").await.unwrap().unwrap().version, 1);
        assert!(store.read("b").await.unwrap().is_none());
        // The log is usable after the repair.
        store.write("c", &serde_json::json!({}), Expect::Absent).await.unwrap();
        drop(store);
        let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
        assert!(store.read("c").await.unwrap().is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn corruption_in_the_middle_refuses_to_open() {
        let dir = temp_dir();
        {
            let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
            store.write("a", &serde_json::json!({"n": 1}), Expect::Absent).await.unwrap();
            store.write("b", &serde_json::json!({"n": 2}), Expect::Absent).await.unwrap();
        }
        let path = dir.join(LOG_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let first_record = MAGIC.len() + CHECK_LEN + 4 + NONCE_LEN + 2;
        bytes[first_record] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(EmbeddedStore::open(&dir, DataKey::File), Err(StoreError::Corrupt(_))));
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
    async fn key_file_is_owner_only_and_second_process_is_refused() {
        let dir = temp_dir();
        let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
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
            let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
            let mut version = 0;
            for i in 0..(COMPACT_MIN_DEAD * 2 + 10) {
                version = store.write("hot", &serde_json::json!({ "i": i }), Expect::Any).await.unwrap();
            }
            store.write("gone", &serde_json::json!({}), Expect::Absent).await.unwrap();
            store.delete("gone").await.unwrap();
            assert_eq!(version, COMPACT_MIN_DEAD * 2 + 10);
            let records = store.state().records;
            assert!(records < COMPACT_MIN_DEAD * 2, "compaction ran: {records} records");
        }
        let store = EmbeddedStore::open(&dir, DataKey::File).unwrap();
        let hot = store.read("hot").await.unwrap().unwrap();
        assert_eq!(hot.version, COMPACT_MIN_DEAD * 2 + 10);
        assert_eq!(hot.value["i"], COMPACT_MIN_DEAD * 2 + 9);
        assert!(store.read("gone").await.unwrap().is_none());
        assert_eq!(store.write("gone", &serde_json::json!({}), Expect::Absent).await.unwrap(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
