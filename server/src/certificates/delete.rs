//! Deleting a certificate unless a mapping uses it, without a lock across instances: the
//! delete marks the record, looks for users again, and undoes its mark when one appeared.

use serde::Serialize;

use super::error::concurrent;
use super::stored::{StoredCertificate, meta_key, name_key, secrets_key};
use super::{Certificate, CertificateError, CertificateService};
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
    /// The answer is in the caller's error type `E`, which holds this service's errors and
    /// `users`' as they are.
    ///
    /// # Errors
    /// [`CertificateError::NotFound`]; [`CertificateError::InUse`] listing the users, or
    /// [`CertificateError::ConcurrentChange`] when the certificate changed meanwhile; store
    /// failures; `users`' errors.
    pub async fn delete_unless_used<F, Fut, U, E>(
        &self,
        account: &str,
        id: u64,
        users: F,
    ) -> Result<Certificate, E>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<U>, E>>,
        U: Serialize,
        E: From<CertificateError>,
    {
        let Some((stored, store_version)) =
            self.read_meta(account, id).await.map_err(CertificateError::from)?
        else {
            return Err(CertificateError::NotFound.into());
        };
        let before = users().await?;
        if !before.is_empty() {
            return Err(in_use(&before).into());
        }
        let marked = StoredCertificate {
            deleting: true,
            ..stored.clone()
        };
        let marked = serde_json::to_value(&marked)
            .map_err(|_| CertificateError::Internal("encoding a certificate"))?;
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
            return Err(in_use(&after).into());
        }
        self.store
            .delete(&meta_key(account, id))
            .await
            .map_err(CertificateError::from)?;
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

/// The users as the caller's lookup describes them, kept for the answer.
fn in_use<U: Serialize>(users: &[U]) -> CertificateError {
    CertificateError::InUse {
        users: users
            .iter()
            .map(|user| serde_json::to_value(user).unwrap_or(serde_json::Value::Null))
            .collect(),
    }
}
