//! Replacing a certificate (rotation: the id stays, the version grows), now or staged for an
//! instant (SPEC section 12), and cancelling a staged version.

use super::error::concurrent;
use super::stored::{Staged, StoredCertificate, meta_key, name_key, secrets_key};
use super::upload::{facts_into, open};
use super::{Certificate, CertificateError, CertificateService, P12Inspector, Upload, check_name};
use crate::clock;
use crate::store::{Expect, StoreError};

impl CertificateService {
    /// Replaces certificate `id` of `account` with `upload` (rotation: the id stays, `version`
    /// grows by one, an optional new name is claimed).
    ///
    /// With `activate_at_millis` the replacement is staged instead: checked and stored exactly
    /// the same way, shown as `pending`, and presented from that instant on (SPEC section 12).
    /// A new name or display name applies at once either way (it is not what targets see).
    /// While a version is staged, every replacement, staged or not, is refused: the caller
    /// cancels the staged one first, so no staged rotation is ever dropped silently.
    ///
    /// # Errors
    /// [`CertificateError::NotFound`]; [`CertificateError::ActivateAtNotFuture`];
    /// [`CertificateError::RotationPending`] while a version is staged;
    /// [`CertificateError::InvalidName`], [`CertificateError::NotUsable`];
    /// [`CertificateError::Inspection`] from [`P12Inspector::admit`];
    /// [`CertificateError::DuplicateName`] or [`CertificateError::ConcurrentChange`]; store
    /// failures.
    pub async fn replace(
        &self,
        account: &str,
        id: u64,
        upload: Upload,
        activate_at_millis: Option<i64>,
        inspector: &P12Inspector,
    ) -> Result<Certificate, CertificateError> {
        let Some((current, store_version)) = self.read_meta(account, id).await? else {
            return Err(CertificateError::NotFound);
        };
        if current.deleting {
            return Err(concurrent(StoreError::Conflict));
        }
        if let Some(pending) = &current.staged {
            return Err(CertificateError::RotationPending {
                pending_version: pending.certificate.version,
                activate_at_millis: pending.activate_at_millis,
            });
        }
        if let Some(at) = activate_at_millis
            && at <= clock::now_unix_millis()
        {
            return Err(CertificateError::ActivateAtNotFuture);
        }
        let current_not_after_unix = current.not_after_unix;
        if let Some(name) = &upload.name {
            check_name(name)?;
        }
        let admission = inspector.admit(&[upload.p12.as_slice()])?;
        let opened = open(&admission, 0, upload).await?;
        drop(admission);
        let old = current.certificate;
        let new_name = opened.name.clone().filter(|n| *n != old.name);
        if let Some(name) = &new_name
            && (self.name_taken(account, name).await?
                || !self.claim_name(account, name, id).await?)
        {
            return Err(CertificateError::DuplicateName { name: name.clone() });
        }
        let version = old.version.saturating_add(1);
        let secrets_key = secrets_key(account, id, version);
        let secrets = serde_json::to_value(&opened.secrets)
            .map_err(|_| CertificateError::Internal("encoding the secrets of a certificate"))?;
        if let Err(error) = self
            .store
            .write(&secrets_key, &secrets, Expect::Absent)
            .await
        {
            self.release_new_name(account, new_name.as_deref(), id)
                .await;
            return Err(concurrent(error));
        }
        let now = clock::format_rfc3339(clock::now_unix());
        let display_name = opened
            .display_name
            .clone()
            .or_else(|| new_name.clone())
            .unwrap_or_else(|| old.display_name.clone());
        let next = Certificate {
            name: new_name.clone().unwrap_or_else(|| old.name.clone()),
            display_name,
            version,
            updated_at: now.clone(),
            ..facts_into(&opened.facts, old.clone())
        };
        let stored = match activate_at_millis {
            None => StoredCertificate {
                certificate: next,
                not_after_unix: opened.facts.not_after_unix,
                deleting: false,
                staged: None,
            },
            Some(activate_at_millis) => StoredCertificate {
                certificate: Certificate {
                    name: next.name.clone(),
                    display_name: next.display_name.clone(),
                    updated_at: now,
                    ..old.clone()
                },
                not_after_unix: current_not_after_unix,
                deleting: false,
                staged: Some(Staged {
                    activate_at_millis,
                    certificate: next,
                    not_after_unix: opened.facts.not_after_unix,
                }),
            },
        };
        let value = serde_json::to_value(&stored)
            .map_err(|_| CertificateError::Internal("encoding a certificate"))?;
        if let Err(error) = self
            .store
            .write(
                &meta_key(account, id),
                &value,
                Expect::Version(store_version),
            )
            .await
        {
            let _ = self.store.delete(&secrets_key).await;
            self.release_new_name(account, new_name.as_deref(), id)
                .await;
            return Err(concurrent(error));
        }
        if activate_at_millis.is_some() {
            self.tell_other_instances(account).await;
        }
        // `stored.not_after_unix` is the presented version's (the current one while a switch is
        // staged).
        self.expiry.observe(account, id, stored.not_after_unix);
        // The new version is committed; the old secrets (unless they are presented until a
        // staged switch) and the old name are garbage now.
        if activate_at_millis.is_none() {
            self.forget(&self::secrets_key(account, id, old.version)).await;
        }
        if new_name.is_some() {
            self.forget(&name_key(account, &old.name)).await;
        }
        Ok(Certificate { warnings: Some(opened.warnings), ..self.present(stored) })
    }

    /// Cancels the staged version of certificate `id` of `account` and answers the certificate
    /// without it; its secrets are deleted.
    ///
    /// # Errors
    /// [`CertificateError::NotFound`], or [`CertificateError::PendingVersionNotFound`] when
    /// nothing is staged (also once the staged version has become current);
    /// [`CertificateError::ConcurrentChange`]; store failures.
    pub async fn cancel_pending(&self, account: &str, id: u64) -> Result<Certificate, CertificateError> {
        let Some((stored, store_version)) = self.read_meta(account, id).await? else {
            return Err(CertificateError::NotFound);
        };
        if stored.deleting {
            return Err(concurrent(StoreError::Conflict));
        }
        let Some(staged) = stored.staged.clone() else {
            return Err(CertificateError::PendingVersionNotFound);
        };
        let unstaged = StoredCertificate {
            certificate: Certificate {
                updated_at: clock::format_rfc3339(clock::now_unix()),
                ..stored.certificate
            },
            staged: None,
            ..stored
        };
        let value = serde_json::to_value(&unstaged)
            .map_err(|_| CertificateError::Internal("encoding a certificate"))?;
        self.store
            .write(&meta_key(account, id), &value, Expect::Version(store_version))
            .await
            .map_err(concurrent)?;
        self.tell_other_instances(account).await;
        self.forget(&secrets_key(account, id, staged.certificate.version)).await;
        Ok(self.present(unstaged))
    }
}
