//! Deleting a certificate unless a mapping uses it, without a lock across instances: the
//! delete marks the record, looks for users again, and undoes its mark when one appeared.

use serde::Serialize;

use super::error::{concurrent, in_use, not_found};
use super::stored::{StoredCertificate, meta_key, name_key, secrets_key};
use super::{Certificate, CertificateService};
use crate::error::ApiError;
use crate::store::{Expect, StoreError};

impl CertificateService {
    /// Deletes certificate `id` of `account` unless `users` (the mappings using it) is
    /// non-empty, and answers it with `deleted: true`.
    ///
    /// A mapping that starts using the certificate while the delete runs is caught without a
    /// lock, on any number of instances: the delete marks the metadata `deleting` (a versioned
    /// write) and only then asks `users` a second time; a mapping writes its record first and
    /// only then asks [`Self::accepts_users`]. Whichever of the two comes second sees the
    /// other: the delete answers 409 with the users and clears its mark, or the mapping is
    /// rolled back and refused. Both may lose; both never win.
    ///
    /// # Errors
    /// 404 `certificate_not_found`; 409 `certificate_in_use` listing the users, or
    /// `concurrent_change` when the certificate changed meanwhile; 503.
    pub async fn delete_unless_used<F, Fut, U>(
        &self,
        account: &str,
        id: u64,
        users: F,
    ) -> Result<Certificate, ApiError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<U>, ApiError>>,
        U: Serialize,
    {
        let Some((stored, store_version)) = self.read_meta(account, id).await? else {
            return Err(not_found());
        };
        let before = users().await?;
        if !before.is_empty() {
            return Err(in_use(&before));
        }
        let marked = StoredCertificate {
            deleting: true,
            ..stored.clone()
        };
        let marked = serde_json::to_value(&marked).map_err(|_| ApiError::internal())?;
        let marked_version = self
            .store
            .write(&meta_key(account, id), &marked, Expect::Version(store_version))
            .await
            .map_err(concurrent)?;
        let after = match users().await {
            Ok(after) => after,
            Err(error) => {
                self.unmark(account, id, &stored, marked_version).await;
                return Err(error);
            }
        };
        if !after.is_empty() {
            self.unmark(account, id, &stored, marked_version).await;
            return Err(in_use(&after));
        }
        self.store.delete(&meta_key(account, id)).await?;
        self.expiry.forget(account, id);
        self.forget(&secrets_key(account, id, stored.certificate.version))
            .await;
        if let Some(staged) = &stored.staged {
            self.forget(&secrets_key(account, id, staged.certificate.version)).await;
        }
        self.forget(&name_key(account, &stored.certificate.name))
            .await;
        let mut certificate = self.present(stored);
        certificate.deleted = true;
        Ok(certificate)
    }

    /// Clears the `deleting` mark of a delete that had to be undone. Should that fail, the mark
    /// stays: the certificate keeps working for its mappings, and a later delete finishes it.
    async fn unmark(&self, account: &str, id: u64, stored: &StoredCertificate, marked_version: u64) {
        let unmarked = StoredCertificate {
            deleting: false,
            ..stored.clone()
        };
        let restored = match serde_json::to_value(&unmarked) {
            Ok(value) => self
                .store
                .write(&meta_key(account, id), &value, Expect::Version(marked_version))
                .await
                .map(|_| ()),
            Err(e) => Err(StoreError::Corrupt(e.to_string())),
        };
        if let Err(error) = restored {
            tracing::error!(%error, account, id, "could not clear the deleting mark of a certificate whose delete was undone");
        }
    }
}
