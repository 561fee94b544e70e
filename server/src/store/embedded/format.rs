//! The bytes of `store.log`: records, their encryption and their position binding, a whole new
//! log generation, and replay (the current format and the previous one, read for migration).
//!
//! Every block is AES-256-GCM; its associated data binds it to its place, so a block copied to
//! another place does not authenticate there (see [`record_aad`]).

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Aes256Gcm;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use super::head::{Head, LogId, Tag, LOG_ID_LEN, TAG_LEN};
use crate::store::{StoreError, Versioned};

/// Magic of the current log format.
pub(super) const MAGIC: &[u8; 8] = b"MTLSKV02";
/// Magic of the previous format (constant associated data, no sequence numbers, no head): read
/// once and rewritten in the current format at open.
pub(super) const MAGIC_V1: &[u8; 8] = b"MTLSKV01";
pub(super) const NONCE_LEN: usize = 12;
const SEQ_LEN: usize = 8;
/// A key-check block: nonce and the encryption of 32 zero bytes.
const CHECK_LEN: usize = NONCE_LEN + 32 + TAG_LEN;
/// Magic, log id, key check.
pub(super) const HEADER_LEN: usize = MAGIC.len() + LOG_ID_LEN + CHECK_LEN;
const HEADER_LEN_V1: usize = MAGIC_V1.len() + CHECK_LEN;
/// A record larger than this is corruption (values are kilobytes; P12 files are capped well
/// below by the body limit).
const MAX_RECORD: usize = 256 * 1024 * 1024;

/// Domains of the associated data, so that no block of one kind authenticates as another.
const DOMAIN_CHECK: u8 = b'c';
const DOMAIN_RECORD: u8 = b'r';
pub(super) const DOMAIN_HEAD: u8 = b'h';

/// One log record (the plaintext of one encrypted block).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Record {
    Put { key: String, version: u64, value: Value },
    Del { key: String, version: u64 },
}

/// The state a log describes.
#[derive(Default)]
pub(super) struct Contents {
    pub(super) entries: BTreeMap<String, Versioned>,
    /// Last version of each deleted key.
    pub(super) tombstones: BTreeMap<String, u64>,
    /// Set when a delete follows a put of the same key in the log: that put's ciphertext is
    /// still on disk until the next compaction.
    pub(super) shadowed: bool,
}

impl Contents {
    pub(super) fn apply(&mut self, record: Record) {
        match record {
            Record::Put { key, version, value } => {
                self.tombstones.remove(&key);
                self.entries.insert(key, Versioned { value, version });
            }
            Record::Del { key, version } => {
                if self.entries.remove(&key).is_some() {
                    self.shadowed = true;
                }
                self.tombstones.insert(key, version);
            }
        }
    }
}

/// A complete log in the current format, not yet on disk.
pub(super) struct Generation {
    pub(super) bytes: Vec<u8>,
    pub(super) head: Head,
}

impl Generation {
    /// A new log (fresh random id) holding `contents`' live entries and tombstones.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] without randomness; [`StoreError::Corrupt`] when a value
    /// cannot be encoded.
    pub(super) fn build(cipher: &Aes256Gcm, contents: &Contents) -> Result<Self, StoreError> {
        let mut log_id = [0u8; LOG_ID_LEN];
        getrandom::fill(&mut log_id).map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&log_id);
        bytes.extend_from_slice(&encrypt(cipher, &[0u8; 32], &check_aad(&log_id))?);
        let mut head = Head { log_id, count: 0, last_tag: [0u8; TAG_LEN] };
        let puts = contents.entries.iter().map(|(key, v)| Record::Put {
            key: key.clone(),
            version: v.version,
            value: v.value.clone(),
        });
        let dels = contents.tombstones.iter().map(|(key, version)| Record::Del { key: key.clone(), version: *version });
        for record in puts.chain(dels) {
            let block = seal(cipher, &log_id, head.count, &record)?;
            head.last_tag = tag_of(&block);
            head.count += 1;
            bytes.extend_from_slice(&block);
        }
        Ok(Self { bytes, head })
    }
}

/// What replaying a log found.
pub(super) struct Replayed {
    pub(super) contents: Contents,
    /// Records read; for the current format the head of the log after them.
    pub(super) head: Head,
    /// Length of the log up to the end of the last whole record; bytes after it are a torn
    /// append to cut off.
    pub(super) len: u64,
}

/// Encrypts `record` as record number `seq` of log `log_id`:
/// `u32 length | u64 seq | nonce | ciphertext+tag`, the length counting what follows it.
///
/// # Errors
/// [`StoreError::Corrupt`] when the record cannot be encoded; [`StoreError::Unavailable`]
/// without randomness.
pub(super) fn seal(cipher: &Aes256Gcm, log_id: &LogId, seq: u64, record: &Record) -> Result<Vec<u8>, StoreError> {
    let plain = Zeroizing::new(
        serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(format!("cannot encode a record: {e}")))?,
    );
    let block = encrypt(cipher, &plain, &record_aad(log_id, seq))?;
    let len = u32::try_from(SEQ_LEN + block.len()).map_err(|_| StoreError::Corrupt("record too large".into()))?;
    let mut out = Vec::with_capacity(4 + SEQ_LEN + block.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&block);
    Ok(out)
}

/// The GCM tag that ends a sealed block (what the head remembers of the last record).
pub(super) fn tag_of(block: &[u8]) -> Tag {
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&block[block.len() - TAG_LEN..]);
    tag
}

/// `nonce | ciphertext+tag` of `plain` under the associated data `aad`.
///
/// # Errors
/// [`StoreError::Unavailable`] without randomness.
pub(super) fn encrypt(cipher: &Aes256Gcm, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
    let sealed = cipher
        .encrypt(&nonce.into(), Payload { msg: plain, aad })
        .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts `nonce | ciphertext+tag`; `None` when it does not authenticate under `aad`.
pub(super) fn decrypt(cipher: &Aes256Gcm, block: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, sealed) = block.split_at_checked(NONCE_LEN)?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    cipher.decrypt(&nonce.into(), Payload { msg: sealed, aad }).ok().map(Zeroizing::new)
}

/// Associated data of record `seq` of log `log_id`: a record authenticates only at its own
/// position of its own log, so a copied, swapped or older-generation record is detected.
fn record_aad(log_id: &LogId, seq: u64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(MAGIC.len() + 1 + LOG_ID_LEN + SEQ_LEN);
    aad.extend_from_slice(MAGIC);
    aad.push(DOMAIN_RECORD);
    aad.extend_from_slice(log_id);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad
}

fn check_aad(log_id: &LogId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(MAGIC.len() + 1 + LOG_ID_LEN);
    aad.extend_from_slice(MAGIC);
    aad.push(DOMAIN_CHECK);
    aad.extend_from_slice(log_id);
    aad
}

/// The log id in a current-format header, after checking the data key against it.
///
/// # Errors
/// [`StoreError::Corrupt`] when `bytes` is no current-format log;
/// [`StoreError::Unavailable`] when the key does not match.
pub(super) fn read_header(cipher: &Aes256Gcm, path: &Path, bytes: &[u8]) -> Result<LogId, StoreError> {
    let header = bytes
        .get(..HEADER_LEN)
        .filter(|h| h.starts_with(MAGIC))
        .ok_or_else(|| StoreError::Corrupt(format!("{} is not an mtls store log", path.display())))?;
    let mut log_id = [0u8; LOG_ID_LEN];
    log_id.copy_from_slice(&header[MAGIC.len()..MAGIC.len() + LOG_ID_LEN]);
    if decrypt(cipher, &header[MAGIC.len() + LOG_ID_LEN..], &check_aad(&log_id)).is_none() {
        return Err(wrong_key());
    }
    Ok(log_id)
}

/// Replays a current-format log against its head: every record must authenticate at its
/// position; the records the head counts as acknowledged must all be there, the last of them
/// the one the head names. Only a torn record after them is tolerated (an append that crashed
/// before it was acknowledged).
///
/// # Errors
/// [`StoreError::Corrupt`] naming the file and the record: a record in the middle does not
/// authenticate, a record sits at another record's position (replayed or reordered), or
/// acknowledged records are missing from the end.
pub(super) fn replay(
    cipher: &Aes256Gcm,
    path: &Path,
    bytes: &[u8],
    log_id: LogId,
    acknowledged: &Head,
    head_path: &Path,
) -> Result<Replayed, StoreError> {
    let mut contents = Contents::default();
    let mut head = Head { log_id, count: 0, last_tag: [0u8; TAG_LEN] };
    let mut offset = HEADER_LEN;
    while offset < bytes.len() {
        let seq = head.count;
        if bytes[offset..].iter().all(|b| *b == 0) {
            break; // a crash after the file grew but before the data reached the disk
        }
        let Some(frame) = Frame::at(bytes, offset) else { break }; // torn length or body
        let plain = match decrypt(cipher, frame.block, &record_aad(&log_id, seq)) {
            Some(plain) => plain,
            None if frame.seq != seq && decrypt(cipher, frame.block, &record_aad(&log_id, frame.seq)).is_some() => {
                return Err(StoreError::Corrupt(format!(
                    "record {seq} (byte {offset}) of {} is a copy of record {}: records were replayed or reordered; \
                     restore the data dir from a backup",
                    path.display(),
                    frame.seq
                )));
            }
            None if frame.end < bytes.len() || seq < acknowledged.count => {
                return Err(StoreError::Corrupt(format!(
                    "record {seq} (byte {offset}) of {} does not decrypt; refusing to drop the records after it",
                    path.display()
                )));
            }
            None if frame.seq != seq => {
                // An append torn by a crash still carries its own sequence number.
                return Err(StoreError::Corrupt(format!(
                    "record {seq} (byte {offset}) of {} is not a record of this log at this position (copied from \
                     another log or an older generation of it); restore the data dir from a backup",
                    path.display()
                )));
            }
            None => break, // a torn append: length and sequence number written, the rest not
        };
        let record: Record = serde_json::from_slice(&plain).map_err(|_| {
            StoreError::Corrupt(format!("record {seq} (byte {offset}) of {} is not a record", path.display()))
        })?;
        contents.apply(record);
        head.count += 1;
        head.last_tag = tag_of(frame.block);
        if head.count == acknowledged.count && head.last_tag != acknowledged.last_tag {
            return Err(StoreError::Corrupt(format!(
                "record {seq} (byte {offset}) of {} is not the record {} acknowledged; restore the data dir from \
                 a backup",
                path.display(),
                head_path.display()
            )));
        }
        offset = frame.end;
    }
    if head.count < acknowledged.count {
        return Err(StoreError::Corrupt(format!(
            "{} ends after {} whole records but {} counts {} acknowledged ones: records were cut off its end; \
             restore the data dir from a backup",
            path.display(),
            head.count,
            head_path.display(),
            acknowledged.count
        )));
    }
    Ok(Replayed { contents, head, len: offset as u64 })
}

/// Replays a log of the previous format (no positions, no head), for migration.
///
/// # Errors
/// As [`replay`], except that nothing there can detect replayed or cut-off records.
pub(super) fn replay_v1(cipher: &Aes256Gcm, path: &Path, bytes: &[u8]) -> Result<Replayed, StoreError> {
    let header = bytes
        .get(..HEADER_LEN_V1)
        .filter(|h| h.starts_with(MAGIC_V1))
        .ok_or_else(|| StoreError::Corrupt(format!("{} is not an mtls store log", path.display())))?;
    if decrypt(cipher, &header[MAGIC_V1.len()..], MAGIC_V1).is_none() {
        return Err(wrong_key());
    }
    let mut contents = Contents::default();
    let mut count = 0u64;
    let mut offset = HEADER_LEN_V1;
    while offset < bytes.len() {
        let Some(len_bytes) = bytes.get(offset..offset + 4) else { break };
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
        let end = offset + 4 + len;
        if end > bytes.len() {
            break; // torn tail: the record was never acknowledged
        }
        let plain = match (len <= MAX_RECORD).then(|| decrypt(cipher, &bytes[offset + 4..end], MAGIC_V1)).flatten() {
            Some(plain) => plain,
            None if end == bytes.len() => break,
            None => {
                return Err(StoreError::Corrupt(format!(
                    "record {count} (byte {offset}) of {} does not decrypt; refusing to drop the records after it",
                    path.display()
                )));
            }
        };
        let record: Record = serde_json::from_slice(&plain).map_err(|_| {
            StoreError::Corrupt(format!("record {count} (byte {offset}) of {} is not a record", path.display()))
        })?;
        contents.apply(record);
        count += 1;
        offset = end;
    }
    let head = Head { log_id: [0u8; LOG_ID_LEN], count, last_tag: [0u8; TAG_LEN] };
    Ok(Replayed { contents, head, len: offset as u64 })
}

pub(super) fn wrong_key() -> StoreError {
    StoreError::Unavailable(
        "the data key does not match the key this store was written with (MTLS_DATA_KEY or data.key)".to_owned(),
    )
}

/// One whole record frame in the log bytes.
struct Frame<'a> {
    /// The sequence number the frame claims (authenticated only as part of the block's
    /// associated data).
    seq: u64,
    /// `nonce | ciphertext+tag`.
    block: &'a [u8],
    /// Offset just after the frame.
    end: usize,
}

impl<'a> Frame<'a> {
    /// The frame at `offset`; `None` when the bytes end before it does (a torn append).
    fn at(bytes: &'a [u8], offset: usize) -> Option<Self> {
        let len_bytes: [u8; 4] = bytes.get(offset..offset + 4)?.try_into().ok()?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let end = offset.checked_add(4)?.checked_add(len)?;
        let body = bytes.get(offset + 4..end)?;
        if !(SEQ_LEN + NONCE_LEN + TAG_LEN..=MAX_RECORD).contains(&len) {
            // Not a frame this store writes; let it fail authentication like other garbage.
            return Some(Self { seq: u64::MAX, block: &[], end });
        }
        let (seq, block) = body.split_at(SEQ_LEN);
        let seq = u64::from_be_bytes(seq.try_into().ok()?);
        Some(Self { seq, block, end })
    }
}
