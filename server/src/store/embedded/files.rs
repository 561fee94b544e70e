//! The data dir and its files: owner-only modes whatever the umask, atomic replacement, the
//! lock and the generated key file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use zeroize::Zeroizing;

use crate::store::StoreError;

/// File name of the generated key inside the data dir.
pub const KEY_FILE: &str = "data.key";
pub(super) const LOCK_FILE: &str = "store.lock";
/// Suffix of a file being written before it is renamed into place.
const TMP_SUFFIX: &str = ".tmp";

/// Creates the data dir when needed and makes it owner-only (0700), whatever the umask and
/// whatever mode it had.
///
/// # Errors
/// [`StoreError::Unavailable`] when it cannot be created.
pub(super) fn prepare_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_error("cannot create the data dir", dir, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(|e| io_error("cannot read", dir, &e))?.permissions().mode();
        if mode & 0o777 != 0o700
            && let Err(error) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        {
            // A dir owned by someone else (a mounted volume) keeps its mode; the files stay 0600.
            tracing::warn!(path = %dir.display(), %error, "cannot make the data dir owner-only (0700)");
        }
    }
    Ok(())
}

/// Makes the store's existing files owner-only (0600): they may come from an older version
/// that left them to the umask. Missing files are skipped.
pub(super) fn restrict_existing(dir: &Path, names: &[&str]) {
    for name in names {
        let path = dir.join(name);
        if let Ok(file) = File::open(&path)
            && let Err(error) = restrict(&file)
        {
            tracing::warn!(path = %path.display(), %error, "cannot make a store file owner-only (0600)");
        }
    }
}

/// Removes what a crash mid-replacement left (the replaced file itself is whole).
pub(super) fn remove_stale_tmp(dir: &Path, names: &[&str]) {
    for name in names {
        let _ = std::fs::remove_file(tmp_path(dir, name));
    }
}

/// Options that create files with mode 0600; pair with [`restrict`] after opening, since the
/// umask can only remove bits and a file may already exist with others.
pub(super) fn private_options() -> OpenOptions {
    #[allow(unused_mut, reason = "the mode is only set on unix")]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Sets an open file's mode to exactly 0600.
///
/// # Errors
/// The I/O error of `fchmod`.
pub(super) fn restrict(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Writes `bytes` to `<name>.tmp` (mode 0600) and syncs it; [`install`] renames it into place.
///
/// # Errors
/// [`StoreError::Unavailable`] when it cannot be written.
pub(super) fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let tmp = tmp_path(dir, name);
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| io_error("cannot create", &tmp, &e))?;
    restrict(&file)
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &tmp, &e))?;
    Ok(tmp)
}

/// Renames a [`write_tmp`] file over `name` and syncs the directory, so a crash leaves either
/// the old or the new file, both whole. Returns the final path.
///
/// # Errors
/// [`StoreError::Unavailable`] when the rename or the directory sync fails (after a failed
/// sync the new file may or may not be the one a crash leaves).
pub(super) fn install(dir: &Path, tmp: &Path, name: &str) -> Result<PathBuf, StoreError> {
    let path = dir.join(name);
    std::fs::rename(tmp, &path).map_err(|e| io_error("cannot replace", &path, &e))?;
    sync_dir(dir)?;
    Ok(path)
}

/// [`write_tmp`] then [`install`].
///
/// # Errors
/// As theirs.
pub(super) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let tmp = write_tmp(dir, name, bytes)?;
    install(dir, &tmp, name)
}

/// Takes an exclusive lock so that two processes never append to one log.
///
/// # Errors
/// [`StoreError::Unavailable`] when another process holds it or it cannot be opened.
pub(super) fn acquire_lock(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = private_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error("cannot open", &path, &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(StoreError::Unavailable(format!(
                "another process uses the data dir {}; the embedded store is for one process",
                dir.display()
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io_error("cannot lock", &path, &e)),
    }
    restrict(&file).map_err(|e| io_error("cannot restrict", &path, &e))?;
    Ok(file)
}

/// Reads `data.key`, or generates it (mode 0600) for a new store.
///
/// # Errors
/// [`StoreError::Unavailable`] when it cannot be read or written, is not base64 of 32 bytes, or
/// is missing beside an existing log.
pub(super) fn load_or_create_key(dir: &Path, log_file: &str) -> Result<Zeroizing<[u8; 32]>, StoreError> {
    let path = dir.join(KEY_FILE);
    if path.exists() {
        let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| io_error("cannot read", &path, &e))?);
        return crate::store::decode_data_key(&text)
            .ok_or_else(|| StoreError::Unavailable(format!("{} is not base64 of 32 bytes", path.display())));
    }
    if dir.join(log_file).exists() {
        // A fresh key could never read the existing log: say so instead of "wrong key".
        return Err(StoreError::Unavailable(format!(
            "{} exists but {} is missing; restore the key file or set MTLS_DATA_KEY",
            dir.join(log_file).display(),
            path.display()
        )));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut_slice()).map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
    let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.as_slice()));
    let mut file =
        private_options().write(true).create_new(true).open(&path).map_err(|e| io_error("cannot create", &path, &e))?;
    restrict(&file)
        .and_then(|()| file.write_all(text.as_bytes()))
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &path, &e))?;
    sync_dir(dir)?;
    tracing::info!(path = %path.display(), "generated a new data key file; back it up with the data");
    Ok(key)
}

/// Syncs a directory, making renames and new names in it durable.
///
/// # Errors
/// [`StoreError::Unavailable`] with the I/O error.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("cannot sync", dir, &e))
}

pub(super) fn io_error(what: &str, path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

fn tmp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{TMP_SUFFIX}"))
}
