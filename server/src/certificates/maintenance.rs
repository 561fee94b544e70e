//! Walks over every account that the housekeeping loop runs: the expiry gauge's refresh and the
//! sweep of secrets no certificate points at.

use super::CertificateService;
use super::stored::{SECRETS, StoredCertificate, folders, meta_key};
use crate::clock;
use crate::store::{StoreError, claim};

impl CertificateService {
    /// Walks every certificate in the store and makes the expiry gauge hold exactly those:
    /// certificates created, replaced or deleted by other instances appear, change or go.
    /// Answers how many certificates the gauge now holds.
    ///
    /// # Errors
    /// The store's error; the gauge then keeps what it had.
    pub async fn refresh_expiry(&self) -> Result<usize, StoreError> {
        let mut all = std::collections::HashMap::new();
        for folder in folders(self.store.list("certificates").await?) {
            let Some(account) = hex::decode(&folder).ok().and_then(|b| String::from_utf8(b).ok())
            else {
                continue;
            };
            for name in self.store.list(&format!("certificates/{folder}")).await? {
                let Ok(id) = name.parse::<u64>() else { continue };
                let Some(found) = self.store.read(&meta_key(&account, id)).await? else { continue };
                let Ok(stored) = serde_json::from_value::<StoredCertificate>(found.value) else {
                    continue;
                };
                if stored.certificate.site_id == account && stored.certificate.id == id {
                    all.insert((account.clone(), id), stored.not_after_unix);
                }
            }
        }
        let count = all.len();
        self.expiry.replace_all(all);
        Ok(count)
    }

    /// Deletes the secrets of every account that no certificate points at: left by a crash
    /// between the secrets and the metadata of a create (never acknowledged), or kept by a crash
    /// after a replacement or a delete. Only secrets older than [`claim::CLAIM_GRACE`] go, so a
    /// create in flight keeps its own; versions above the current one are kept (a replacement
    /// in flight writes those). Answers how many were deleted.
    ///
    /// # Errors
    /// The store's error; what was deleted before it stays deleted.
    pub async fn sweep_orphan_secrets(&self) -> Result<usize, StoreError> {
        let grace = i64::try_from(claim::CLAIM_GRACE.as_secs()).unwrap_or(i64::MAX);
        let now = clock::now_unix();
        let mut deleted = 0;
        for account in folders(self.store.list(SECRETS).await?) {
            let account_folder = format!("{SECRETS}/{account}");
            for id in folders(self.store.list(&account_folder).await?) {
                let current = match self.store.read(&format!("certificates/{account}/{id}")).await? {
                    Some(found) => serde_json::from_value::<StoredCertificate>(found.value)
                        .map_err(|_| StoreError::Corrupt(format!("certificate {id}")))?
                        .at(clock::now_unix_millis())
                        .certificate
                        .version,
                    None => u32::MAX,
                };
                let id_folder = format!("{account_folder}/{id}");
                for name in self.store.list(&id_folder).await? {
                    let Ok(version) = name.parse::<u32>() else { continue };
                    if version >= current && current != u32::MAX {
                        continue;
                    }
                    let key = format!("{id_folder}/{name}");
                    let Some(found) = self.store.read(&key).await? else { continue };
                    let stored_at = found.value.get("storedAt").and_then(serde_json::Value::as_i64).unwrap_or(0);
                    if now.saturating_sub(stored_at) >= grace {
                        self.store.delete(&key).await?;
                        deleted += 1;
                    }
                }
            }
        }
        Ok(deleted)
    }
}
