//! `store.head`: the authenticated count of acknowledged records, so that records cut off the
//! end of `store.log` are detected at open.
//!
//! The file holds two fixed-size slots; each is `nonce | AES-256-GCM(log id | record count |
//! tag of the last record)`. A write overwrites the slot *not* holding the newest head and
//! `fdatasync`s it, so a crash mid-write tears at most that slot and the other one still holds
//! the previous head. A head is only ever written after the records it counts are synced, so
//! every valid slot is a lower bound of what the log holds.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use aes_gcm::Aes256Gcm;

use super::files::{self, io_error};
use super::format::{decrypt, encrypt, DOMAIN_HEAD, MAGIC, NONCE_LEN};
use crate::store::StoreError;

/// File name of the head inside the data dir.
pub const HEAD_FILE: &str = "store.head";
pub(super) const LOG_ID_LEN: usize = 16;
pub(super) const TAG_LEN: usize = 16;
const PLAIN_LEN: usize = LOG_ID_LEN + 8 + TAG_LEN;
const SLOT_LEN: usize = NONCE_LEN + PLAIN_LEN + TAG_LEN;

/// The random id of one log generation (a new one at every compaction).
pub(super) type LogId = [u8; LOG_ID_LEN];
/// A GCM tag.
pub(super) type Tag = [u8; TAG_LEN];
/// The two slots of the head file, `None` where a slot does not authenticate.
pub(super) type Slots = [Option<Head>; 2];

/// How far a log generation was acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Head {
    pub(super) log_id: LogId,
    /// Records acknowledged.
    pub(super) count: u64,
    /// GCM tag of the last acknowledged record (zeros when there is none).
    pub(super) last_tag: Tag,
}

/// The open head file.
pub(super) struct HeadFile {
    file: File,
    path: PathBuf,
    /// Slot the next write goes to: never the one holding the newest head.
    next: usize,
}

impl HeadFile {
    /// Creates (or replaces) the head file with `head` in both slots: temp file, fsync, rename,
    /// fsync dir.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be written.
    pub(super) fn create(dir: &Path, cipher: &Aes256Gcm, head: &Head) -> Result<Self, StoreError> {
        let slot = seal(cipher, head)?;
        let path = files::write_atomically(dir, HEAD_FILE, &[slot.as_slice(), slot.as_slice()].concat())?;
        let file = OpenOptions::new().read(true).write(true).open(&path).map_err(|e| io_error("cannot open", &path, &e))?;
        Ok(Self { file, path, next: 0 })
    }

    /// Opens the head file of `dir`; `None` when there is none. Returns the valid slots too.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be read.
    pub(super) fn open(dir: &Path, cipher: &Aes256Gcm) -> Result<Option<(Self, Slots)>, StoreError> {
        let path = dir.join(HEAD_FILE);
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot open", &path, &e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io_error("cannot read", &path, &e))?;
        let slot = |i: usize| bytes.get(i * SLOT_LEN..(i + 1) * SLOT_LEN).and_then(|s| open(cipher, s));
        Ok(Some((Self { file, path, next: 0 }, [slot(0), slot(1)])))
    }

    /// The path of the file, for messages.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the slot holding the newest head (`newest`) the one the next write spares.
    pub(super) fn keep(&mut self, newest: usize) {
        self.next = 1 - newest;
    }

    /// Makes the next write go to the slot the last write went to.
    pub(super) fn rewind(&mut self) {
        self.next = 1 - self.next;
    }

    /// Writes `head` over the older slot and syncs it. On failure the newer slot is intact and
    /// the next write goes to the same slot again.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the slot cannot be written or synced.
    pub(super) fn write(&mut self, cipher: &Aes256Gcm, head: &Head) -> Result<(), StoreError> {
        let slot = seal(cipher, head)?;
        let offset = (self.next * SLOT_LEN) as u64;
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.write_all(&slot))
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io_error("cannot write", &self.path, &e))?;
        self.next = 1 - self.next;
        Ok(())
    }
}

/// The newest of the valid `slots` that belongs to the log `log_id`, and its slot index.
pub(super) fn newest_for(slots: &Slots, log_id: &LogId) -> Option<(usize, Head)> {
    slots
        .iter()
        .enumerate()
        .filter_map(|(i, slot)| slot.filter(|h| &h.log_id == log_id).map(|h| (i, h)))
        .max_by_key(|(_, h)| h.count)
}

fn associated_data() -> [u8; 9] {
    let mut aad = [0u8; 9];
    aad[..8].copy_from_slice(MAGIC);
    aad[8] = DOMAIN_HEAD;
    aad
}

fn seal(cipher: &Aes256Gcm, head: &Head) -> Result<Vec<u8>, StoreError> {
    let mut plain = Vec::with_capacity(PLAIN_LEN);
    plain.extend_from_slice(&head.log_id);
    plain.extend_from_slice(&head.count.to_be_bytes());
    plain.extend_from_slice(&head.last_tag);
    encrypt(cipher, &plain, &associated_data())
}

fn open(cipher: &Aes256Gcm, slot: &[u8]) -> Option<Head> {
    let plain = decrypt(cipher, slot, &associated_data())?;
    let (log_id, rest) = plain.split_at_checked(LOG_ID_LEN)?;
    let (count, last_tag) = rest.split_at_checked(8)?;
    Some(Head {
        log_id: log_id.try_into().ok()?,
        count: u64::from_be_bytes(count.try_into().ok()?),
        last_tag: last_tag.try_into().ok()?,
    })
}
