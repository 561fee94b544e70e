//! Certificate names: the rules a name follows, and its claim, which makes a name unique in
//! its account across racing creates and renames on any number of instances.

use super::CertificateService;
use super::stored::name_key;
use crate::store::{StoreError, claim};

/// Longest certificate name, in characters (SPEC section 3).
pub const MAX_NAME_CHARS: usize = 128;

/// Which name rule a name breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty, only white space, or longer than [`MAX_NAME_CHARS`].
    #[error("name must be 1 to {MAX_NAME_CHARS} characters and not blank")]
    Length,
    /// Holds a control character (a line break, say).
    #[error("name must not contain control characters")]
    ControlCharacter,
}

/// Checks a certificate name: 1-128 characters, not blank, no control characters.
///
/// # Errors
/// The rule it breaks.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let chars = name.chars().count();
    if chars == 0 || name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(NameError::Length);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    Ok(())
}

impl CertificateService {
    /// True when a live certificate or an in-flight create holds `name`.
    pub(super) async fn name_taken(&self, account: &str, name: &str) -> Result<bool, StoreError> {
        let uses = |holder| self.uses_name(account, holder, name);
        Ok(claim::holder(self.store.as_ref(), &name_key(account, name), 0, uses).await?.taken)
    }

    /// Claims `name` for `id`; `false` when a live certificate or an in-flight create holds it.
    pub(super) async fn claim_name(&self, account: &str, name: &str, id: u64) -> Result<bool, StoreError> {
        let uses = |holder| self.uses_name(account, holder, name);
        claim::claim(self.store.as_ref(), &name_key(account, name), id, uses).await
    }

    /// True when certificate `id` exists and is named `name`.
    pub(super) async fn uses_name(&self, account: &str, id: u64, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .read_meta(account, id)
            .await?
            .is_some_and(|(s, _)| s.certificate.name == name))
    }

    /// Releases a name claim we made for `id` (after a failed write); best effort.
    pub(super) async fn release_new_name(&self, account: &str, name: Option<&str>, id: u64) {
        if let Some(name) = name {
            claim::release(self.store.as_ref(), &name_key(account, name), id).await;
        }
    }
}
