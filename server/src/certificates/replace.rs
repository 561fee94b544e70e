//! Replacing a certificate (rotation: the id stays, the version grows), now or staged for an
//! instant (SPEC section 12), and cancelling a staged version.

use super::error::{concurrent, duplicate_name, not_found, rotation_pending};
use super::stored::{Staged, StoredCertificate, meta_key, name_key, secrets_key};
use super::upload::{facts_into, open};
use super::{Certificate, CertificateService, P12Inspector, Upload, check_name};
use crate::http::error_code::ErrorCode;
use crate::clock;
use crate::error::ApiError;
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
    /// 404 `certificate_not_found`; 400 `invalid_activate_at` when the instant is not in the
    /// future; 409 `rotation_pending` while a version is staged; 422; 413 and 503 from
    /// [`P12Inspector::admit`]; 409 on a taken name or a concurrent replacement; 503 when the
    /// store is down.
    pub async fn replace(
        &self,
        account: &str,
        id: u64,
        upload: Upload,
        activate_at_millis: Option<i64>,
        inspector: &P12Inspector,
    ) -> Result<Certificate, ApiError> {
        let Some((current, store_version)) = self.read_meta(account, id).await? else {
            return Err(not_found());
        };
        if current.deleting {
            return Err(concurrent(StoreError::Conflict));
        }
        if let Some(pending) = &current.staged {
            return Err(rotation_pending(&pending.certificate, pending.activate_at_millis));
        }
        if let Some(at) = activate_at_millis
            && at <= clock::now_unix_millis()
        {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidActivateAt,
                "activateAt must be in the future; send the replacement without it to rotate now",
            ));
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
            return Err(duplicate_name(name));
        }
        let version = old.version.saturating_add(1);
        let secrets_key = secrets_key(account, id, version);
        let secrets = serde_json::to_value(&opened.secrets).map_err(|_| ApiError::internal())?;
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
        let value = serde_json::to_value(&stored).map_err(|_| ApiError::internal())?;
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
    /// 404 `certificate_not_found`, or `pending_version_not_found` when nothing is staged
    /// (also once the staged version has become current); 409 `concurrent_change`; 503.
    pub async fn cancel_pending(&self, account: &str, id: u64) -> Result<Certificate, ApiError> {
        let Some((stored, store_version)) = self.read_meta(account, id).await? else {
            return Err(not_found());
        };
        if stored.deleting {
            return Err(concurrent(StoreError::Conflict));
        }
        let Some(staged) = stored.staged.clone() else {
            return Err(ApiError::not_found(
                ErrorCode::PendingVersionNotFound,
                "this certificate has no staged version (none was staged, or it is active already)",
            ));
        };
        let unstaged = StoredCertificate {
            certificate: Certificate {
                updated_at: clock::format_rfc3339(clock::now_unix()),
                ..stored.certificate
            },
            staged: None,
            ..stored
        };
        let value = serde_json::to_value(&unstaged).map_err(|_| ApiError::internal())?;
        self.store
            .write(&meta_key(account, id), &value, Expect::Version(store_version))
            .await
            .map_err(concurrent)?;
        self.tell_other_instances(account).await;
        self.forget(&secrets_key(account, id, staged.certificate.version)).await;
        Ok(self.present(unstaged))
    }
}
