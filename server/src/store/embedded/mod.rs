//! The embedded [`Store`] (`MTLS_STORE=embedded`, the default): one process, everything under
//! `MTLS_DATA_DIR`, every record encrypted at rest (SPEC section 8).
//!
//! # On disk
//! - `store.log`: an append-only log. Header: magic `MTLSKV02`, a random 16-byte *log id* (new
//!   for every generation of the log, that is at creation and at each compaction), and a
//!   key-check block (the AES-256-GCM encryption of 32 zero bytes), so a wrong key is named at
//!   start instead of looking like corruption. Then records, each `u32` big-endian length, `u64`
//!   sequence number, 12-byte random nonce and AES-256-GCM ciphertext with its tag. The
//!   plaintext is a JSON record (a put with key, version and value, or a delete with the key and
//!   its last version): keys *and* values are encrypted. The associated data of record `n` is
//!   the log id and `n`, so a record only authenticates at its own position of its own log: a
//!   record copied to the end, two records swapped, or a record of an older generation spliced
//!   in is refused at open with the file and the record named.
//! - `store.head`: the authenticated count of acknowledged records of the current log and the
//!   tag of the last of them (module `head`), so records cut off the end of the log are
//!   detected at open.
//! - `data.key` (only when `MTLS_DATA_KEY` is unset): base64 of 32 random bytes. Back it up with
//!   the data: without it nothing can be read.
//! - `store.lock`: held while the store is open, so a second process is refused.
//!
//! The data dir is made 0700 and every file in it 0600 at open and at creation, whatever the
//! umask (an owner-only mode is set explicitly, not left to the umask).
//!
//! # Durability and crash consistency
//! A write appends one record with a single `write` and `fdatasync`s it, then writes the head
//! counting it (one slot of `store.head`, `fdatasync`), and only then becomes visible and is
//! acknowledged (SPEC section 11). The head is written only after the records it counts are
//! on disk, so after any crash it is a lower bound of the log: at open, every record it counts
//! must be there and authenticate, and the last of them must carry the tag it names; the log
//! may hold more (a crash between the two syncs, or a head write that failed and was logged).
//! Only after those may a torn record end the log (an append that crashed, never
//! acknowledged): shorter than its length says, zeros, or of full length and carrying its own
//! sequence number but not authenticating. It is cut off, as a crash mid-append requires. A
//! record that fails to authenticate *before* the end, or a last record that names another
//! position, is corruption or tampering: the store refuses to open rather than drop data
//! silently or let a copied record take effect.
//!
//! Compaction rewrites live entries and tombstones as a new generation (new log id): the new
//! log goes to `store.log.tmp` and is fsynced; the head for it is written into the older slot of
//! `store.head` (the newer slot keeps the old log's head); the temp file is renamed over
//! `store.log` and the directory fsynced; then the other slot gets the new head too. A crash at
//! any point leaves a whole log and a slot that matches it (open picks the slot whose log id is
//! the log's), and once both slots name the new generation an old copy of the log no longer
//! matches. Compaction runs when dead records outnumber live ones, and after a delete: a
//! compactor thread rewrites the log 100 ms after it (one rewrite for a burst of deletes), at
//! once when the store closes, and at open if a crash came in between, so a deleted value's
//! ciphertext does not stay on disk. An overwritten value stays until the next compaction.
//!
//! A new store writes its head first (count 0) and then its log, so a missing log beside a head
//! that counts records, or a log without its head, is refused, never taken for an empty store.
//!
//! # Limits
//! Someone who can write the data dir but lacks the key can still roll the *whole* store back
//! to an earlier copy of both `store.log` and `store.head`, or delete everything: detecting that
//! needs state outside the data dir. They cannot forge, reorder, replay or cut off records.
//!
//! # The previous format
//! A `MTLSKV01` log (no sequence numbers, no head) is read once and rewritten in the current
//! format at open (logged); its own records cannot be checked for replay or truncation.
//!
//! # Versions and check-and-set
//! Identical to Vault ([`Expect`]), except that deleting a key keeps a tombstone with its last
//! version, so a re-created key continues from there and a version number is never reused for a
//! different value (stronger than KV v2, where delete resets versions to 1).
//!
//! Everything lives in memory too (reads never touch the disk); the store suits the data of one
//! gateway (certificates and mappings, kilobytes each), not bulk data.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use aes_gcm::aead::KeyInit;
use aes_gcm::Aes256Gcm;
use async_trait::async_trait;
use serde_json::Value;
use zeroize::Zeroizing;

use self::files::io_error;
use self::format::{Contents, Generation, Record};
use self::head::{Head, HeadFile};
use super::{Expect, Store, StoreError, Versioned};

mod files;
mod format;
mod head;

pub use self::files::KEY_FILE;
pub use self::head::HEAD_FILE;

/// File name of the log inside the data dir.
pub const LOG_FILE: &str = "store.log";
/// Compaction for dead records starts only past this many of them (small logs are cheap to
/// replay); a delete schedules one whatever the count.
const COMPACT_MIN_DEAD: u64 = 1000;
/// How long the compactor lets deletes accumulate before it rewrites the log: one compaction
/// then covers a burst of deletes (each costs a rewrite of every live value), while a deleted
/// value still leaves the disk within a fraction of a second.
const COMPACT_AFTER_DELETE: Duration = Duration::from_millis(100);

/// The embedded store.
pub struct EmbeddedStore {
    inner: Arc<Shared>,
    /// The thread compacting after deletes; joined on drop.
    compactor: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a compaction is requested, has run, or the store closes.
    changed: Condvar,
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
    log: File,
    head_file: HeadFile,
    /// The log's id, its record count and the tag of its last record.
    head: Head,
    /// Length of the log up to the last complete record.
    len: u64,
    contents: Contents,
    /// Set when a failed append could not be rolled back; writes refuse from then on.
    broken: bool,
    /// Set by a delete for the compactor thread.
    compaction_requested: bool,
    /// Set on drop: the compactor finishes pending work and ends.
    closed: bool,
    _lock: File,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the directory or key file cannot be used, another
    /// process holds the store, or the key does not match; [`StoreError::Corrupt`] when the log
    /// or its head was tampered with or damaged: a record in the middle does not decrypt, a
    /// record is out of place (replayed, reordered), acknowledged records are missing from the
    /// end, or one of the two files is missing.
    pub fn open(dir: &Path, key: DataKey) -> Result<Self, StoreError> {
        files::prepare_dir(dir)?;
        let lock = files::acquire_lock(dir)?;
        files::remove_stale_tmp(dir, &[LOG_FILE, HEAD_FILE]);
        files::restrict_existing(dir, &[LOG_FILE, HEAD_FILE, KEY_FILE]);
        let key = match key {
            DataKey::Given(key) => key,
            DataKey::File => files::load_or_create_key(dir, LOG_FILE)?,
        };
        let cipher = Aes256Gcm::new_from_slice(key.as_slice())
            .map_err(|_| StoreError::Unavailable("invalid data key length".to_owned()))?;
        let mut state = State::open(dir, cipher, lock)?;
        // A crash between a delete and its compaction left the deleted value in the log.
        if state.should_compact() || state.contents.shadowed {
            state.compact()?;
        }
        let inner = Arc::new(Shared { state: Mutex::new(state), changed: Condvar::new() });
        let shared = inner.clone();
        let compactor = std::thread::Builder::new()
            .name("store-compactor".into())
            .spawn(move || run_compactor(&shared))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the store compactor: {e}")))?;
        Ok(Self { inner, compactor: Some(compactor) })
    }

    /// Runs `op` on the state in a blocking thread (appends `fsync`).
    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut State) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            op(&mut inner.lock())
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.lock()
    }

    /// Waits until the compaction a delete scheduled has run.
    #[cfg(test)]
    fn wait_for_scheduled_compaction(&self) {
        let mut state = self.state();
        while state.compaction_requested {
            state = self.inner.changed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.state().closed = true;
        self.inner.changed.notify_all();
        if let Some(compactor) = self.compactor.take() {
            let _ = compactor.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The compactor thread: after a delete, waits [`COMPACT_AFTER_DELETE`] and compacts the
/// deleted values away; on close, compacts what is pending at once and ends.
fn run_compactor(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        while !state.compaction_requested && !state.closed {
            state = shared.changed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if !state.closed {
            drop(state);
            std::thread::sleep(COMPACT_AFTER_DELETE);
            state = shared.lock();
        }
        state.compaction_requested = false;
        if state.contents.shadowed
            && let Err(error) = state.compact()
        {
            // The old log is intact and still used; the next delete or start retries.
            tracing::warn!(%error, "store log compaction after a delete failed");
        }
        shared.changed.notify_all();
        if state.closed {
            return;
        }
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.state().contents.entries.get(key).cloned())
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        let (key, value) = (key.to_owned(), value.clone());
        self.blocking(move |state| {
            let current = state.contents.entries.get(&key).map(|v| v.version);
            match (expect, current) {
                (Expect::Absent, Some(_)) => return Err(StoreError::Conflict),
                (Expect::Version(want), got) if got != Some(want) => return Err(StoreError::Conflict),
                _ => {}
            }
            let last = current.or_else(|| state.contents.tombstones.get(&key).copied()).unwrap_or(0);
            let version = last + 1;
            let record = Record::Put { key, version, value };
            state.append(&record)?;
            state.contents.apply(record);
            state.maybe_compact();
            Ok(version)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.blocking(move |state| {
            let Some(current) = state.contents.entries.get(&key).map(|v| v.version) else { return Ok(()) };
            let record = Record::Del { key, version: current };
            state.append(&record)?;
            state.contents.apply(record);
            // The deleted value (possibly a secret) is still in the log: compact it away soon.
            state.compaction_requested = true;
            Ok(())
        })
        .await?;
        self.inner.changed.notify_all();
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let folder = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        let state = self.state();
        let mut names: Vec<String> = state
            .contents
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
            return Err(broken());
        }
        Ok(())
    }

    fn is_exclusive(&self) -> bool {
        true // the lock file keeps every other process out
    }
}

// === impl State ===

impl State {
    /// Reads the log and its head, or creates a new store, or migrates a previous-format log.
    fn open(dir: &Path, cipher: Aes256Gcm, lock: File) -> Result<Self, StoreError> {
        let path = dir.join(LOG_FILE);
        let bytes = match File::open(&path) {
            Ok(mut file) => {
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).map_err(|e| io_error("cannot read", &path, &e))?;
                Some(bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error("cannot open", &path, &e)),
        };
        let head = HeadFile::open(dir, &cipher)?;
        match (bytes, head) {
            (None, head) => {
                if let Some((file, slots)) = head
                    && let Some(counted) = slots.iter().flatten().map(|h| h.count).max()
                    && counted > 0
                {
                    return Err(StoreError::Corrupt(format!(
                        "{} is missing but {} counts {counted} acknowledged records; restore the data dir from a \
                         backup",
                        path.display(),
                        file.path().display()
                    )));
                }
                Self::start_generation(dir, cipher, Contents::default(), lock)
            }
            (Some(bytes), _) if bytes.starts_with(format::MAGIC_V1) => {
                let replayed = format::replay_v1(&cipher, &path, &bytes)?;
                tracing::info!(
                    records = replayed.head.count,
                    "rewriting a store log of the previous format (MTLSKV01) in the current one"
                );
                Self::start_generation(dir, cipher, replayed.contents, lock)
            }
            (Some(bytes), None) => {
                format::read_header(&cipher, &path, &bytes)?; // a wrong key is named as such first
                Err(StoreError::Corrupt(format!(
                    "{} is missing beside {}, so records cut off the log could not be detected; restore it from \
                     the backup of the data dir",
                    dir.join(HEAD_FILE).display(),
                    path.display()
                )))
            }
            (Some(bytes), Some((mut head_file, slots))) => {
                let log_id = format::read_header(&cipher, &path, &bytes)?;
                let Some((newest, acknowledged)) = head::newest_for(&slots, &log_id) else {
                    return Err(StoreError::Corrupt(format!(
                        "{} does not belong to {} (it names another log, or does not decrypt); restore the data \
                         dir from a backup",
                        head_file.path().display(),
                        path.display()
                    )));
                };
                head_file.keep(newest);
                let replayed = format::replay(&cipher, &path, &bytes, log_id, &acknowledged, head_file.path())?;
                let log = OpenOptions::new().append(true).open(&path).map_err(|e| io_error("cannot open", &path, &e))?;
                if replayed.len < bytes.len() as u64 {
                    tracing::warn!(
                        bytes = bytes.len() as u64 - replayed.len,
                        "cutting a torn record (a crashed, unacknowledged append) off the end of the store log"
                    );
                    log.set_len(replayed.len)
                        .and_then(|()| log.sync_all())
                        .map_err(|e| io_error("cannot repair", &path, &e))?;
                }
                Ok(Self {
                    dir: dir.to_owned(),
                    cipher,
                    log,
                    head_file,
                    head: replayed.head,
                    len: replayed.len,
                    contents: replayed.contents,
                    broken: false,
                    compaction_requested: false,
                    closed: false,
                    _lock: lock,
                })
            }
        }
    }

    /// Writes `contents` as the first generation of a log with a fresh head file: head first
    /// (so a log never exists without its head), then the log, renamed into place.
    fn start_generation(dir: &Path, cipher: Aes256Gcm, contents: Contents, lock: File) -> Result<Self, StoreError> {
        let generation = Generation::build(&cipher, &contents)?;
        let tmp = files::write_tmp(dir, LOG_FILE, &generation.bytes)?;
        let head_file = HeadFile::create(dir, &cipher, &generation.head)?;
        let path = files::install(dir, &tmp, LOG_FILE)?;
        let log = OpenOptions::new().append(true).open(&path).map_err(|e| io_error("cannot open", &path, &e))?;
        Ok(Self {
            dir: dir.to_owned(),
            cipher,
            log,
            head_file,
            head: generation.head,
            len: generation.bytes.len() as u64,
            contents: Contents { shadowed: false, ..contents },
            broken: false,
            compaction_requested: false,
            closed: false,
            _lock: lock,
        })
    }

    /// Appends one record and syncs it, then the head; on failure rolls the log back to its
    /// last good length.
    fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        if self.broken {
            return Err(broken());
        }
        let block = format::seal(&self.cipher, &self.head.log_id, self.head.count, record)?;
        let result = self.log.write_all(&block).and_then(|()| self.log.sync_data());
        if let Err(e) = result {
            // A partial record at the tail would make every later record unreadable.
            if self.log.set_len(self.len).and_then(|()| self.log.sync_data()).is_err() {
                self.broken = true;
            }
            return Err(io_error("cannot write", &self.dir.join(LOG_FILE), &e));
        }
        self.len += block.len() as u64;
        self.head.count += 1;
        self.head.last_tag = format::tag_of(&block);
        if let Err(error) = self.head_file.write(&self.cipher, &self.head) {
            // The record is synced and will be replayed: acknowledge it. The head only lags
            // (it stays a lower bound), so cutting this record off would go unnoticed.
            tracing::warn!(%error, "cannot update the store head");
        }
        Ok(())
    }

    fn dead(&self) -> u64 {
        let live = self.contents.entries.len() as u64 + self.contents.tombstones.len() as u64;
        self.head.count.saturating_sub(live)
    }

    fn should_compact(&self) -> bool {
        let dead = self.dead();
        dead >= COMPACT_MIN_DEAD && dead > self.head.count / 2
    }

    fn maybe_compact(&mut self) {
        if self.should_compact()
            && let Err(error) = self.compact()
        {
            // The old log is intact and still used; compaction is retried on a later write.
            tracing::warn!(%error, "store log compaction failed");
        }
    }

    /// Rewrites the log as a new generation holding live entries and tombstones only (see the
    /// module doc for the order of the steps and why each crash point is safe).
    fn compact(&mut self) -> Result<(), StoreError> {
        if self.broken {
            return Err(broken());
        }
        let generation = Generation::build(&self.cipher, &self.contents)?;
        let tmp = files::write_tmp(&self.dir, LOG_FILE, &generation.bytes)?;
        if let Err(error) = self.head_file.write(&self.cipher, &generation.head) {
            let _ = std::fs::remove_file(&tmp);
            return Err(error);
        }
        let path = self.dir.join(LOG_FILE);
        if let Err(error) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            // The slot just written names a log that never came to be: the next write goes
            // there again, sparing the slot of the log still in use.
            self.head_file.rewind();
            return Err(io_error("cannot replace", &path, &error));
        }
        // From here the new generation is the log, whatever happens next.
        match OpenOptions::new().append(true).open(&path) {
            Ok(log) => self.log = log,
            Err(e) => {
                // Appending to the old, unlinked file would lose writes.
                self.broken = true;
                return Err(io_error("cannot open", &path, &e));
            }
        }
        self.head = generation.head;
        self.len = generation.bytes.len() as u64;
        self.contents.shadowed = false;
        if let Err(error) = files::sync_dir(&self.dir) {
            // A crash could still bring the old log back, and the next head writes would no
            // longer match it: stop writing rather than risk a store that refuses to open.
            self.broken = true;
            return Err(error);
        }
        // Both slots now name the new generation, so an old copy of the log is refused.
        if let Err(error) = self.head_file.write(&self.cipher, &self.head) {
            tracing::warn!(%error, "cannot update the store head after compaction");
        }
        Ok(())
    }
}

fn broken() -> StoreError {
    StoreError::Unavailable("the store log could not be repaired after a failed write".into())
}

#[cfg(test)]
mod tests;
