//! Our own token issuer: one ES256 signing key, generated on first use and kept in the store so
//! tokens survive restarts and every instance sharing the store accepts every other's tokens.
//!
//! The key is created with a create-only write: when two instances start at once, one write
//! wins and the other reads the winner's key, so there is only ever one key. After it is loaded
//! the key is kept in memory, so verifying a token needs no store read.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use super::jwt::{self, Claims};
use crate::store::{Expect, Store, StoreError};

/// Store key of the signing key (the value is secret: the private scalar).
const SIGNING_KEY: &str = "auth/jwt-signing-key";

/// `iss` of every token we issue.
pub(crate) const ISSUER: &str = "mtls-gateway";

/// Issues and recognises the gateway's own tokens.
pub(crate) struct TokenIssuer {
    store: Arc<dyn Store>,
    key: OnceCell<Arc<IssuerKey>>,
}

/// The loaded key pair and its id.
pub(crate) struct IssuerKey {
    /// Key id: the first 8 bytes of SHA-256 over the uncompressed public point, hex.
    pub(crate) kid: String,
    signing: p256::ecdsa::SigningKey,
    /// The public half.
    pub(crate) verifying: p256::ecdsa::VerifyingKey,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    /// The private scalar, base64url.
    d: String,
}

impl TokenIssuer {
    /// An issuer over `store`; nothing is read until first use.
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            key: OnceCell::new(),
        }
    }

    /// Signs a token for `sub` on `accounts`, valid `ttl_seconds` from `now`.
    ///
    /// # Errors
    /// The store could not be read or written (the key is created on first use).
    pub(crate) async fn issue(
        &self,
        sub: &str,
        accounts: &[String],
        ttl_seconds: i64,
        now: i64,
    ) -> Result<String, StoreError> {
        let key = self.load_or_create().await?;
        let claims = Claims {
            sub: sub.to_owned(),
            accounts: accounts.to_vec(),
            exp: now.saturating_add(ttl_seconds),
            nbf: None,
            iat: Some(now),
            iss: Some(ISSUER.to_owned()),
            jti: Some(uuid::Uuid::new_v4().to_string()),
        };
        Ok(jwt::sign_es256(&key.signing, &key.kid, &claims))
    }

    /// The key, when it exists; `None` before any token was ever issued.
    ///
    /// # Errors
    /// The store could not be read.
    pub(crate) async fn existing(&self) -> Result<Option<Arc<IssuerKey>>, StoreError> {
        if let Some(key) = self.key.get() {
            return Ok(Some(key.clone()));
        }
        match self.store.read(SIGNING_KEY).await? {
            Some(stored) => {
                let key = decode(&stored.value)?;
                Ok(Some(self.key.get_or_init(|| async { key }).await.clone()))
            }
            None => Ok(None),
        }
    }

    async fn load_or_create(&self) -> Result<Arc<IssuerKey>, StoreError> {
        self.key
            .get_or_try_init(|| async {
                if let Some(stored) = self.store.read(SIGNING_KEY).await? {
                    return decode(&stored.value);
                }
                let fresh = generate()?;
                let value = serde_json::to_value(StoredKey {
                    kid: fresh.kid.clone(),
                    d: URL_SAFE_NO_PAD.encode(fresh.signing.to_bytes()),
                })
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                match self.store.write(SIGNING_KEY, &value, Expect::Absent).await {
                    Ok(_) => {
                        tracing::info!(kid = %fresh.kid, "created the token signing key");
                        Ok(Arc::new(fresh))
                    }
                    // Another instance created it first: use theirs.
                    Err(StoreError::Conflict) => match self.store.read(SIGNING_KEY).await? {
                        Some(stored) => decode(&stored.value),
                        None => Err(StoreError::Unavailable("signing key vanished".to_owned())),
                    },
                    Err(e) => Err(e),
                }
            })
            .await
            .cloned()
    }
}

fn generate() -> Result<IssuerKey, StoreError> {
    loop {
        let mut scalar = Zeroizing::new([0u8; 32]);
        getrandom::fill(scalar.as_mut_slice())
            .map_err(|e| StoreError::Unavailable(format!("no system randomness: {e}")))?;
        // A random 32-byte string is a valid P-256 scalar except with probability ~2^-32.
        if let Ok(signing) = p256::ecdsa::SigningKey::from_slice(scalar.as_slice()) {
            return Ok(with_kid(signing));
        }
    }
}

fn with_kid(signing: p256::ecdsa::SigningKey) -> IssuerKey {
    let verifying = *signing.verifying_key();
    let point = verifying.to_sec1_point(false);
    let digest = sha2::Sha256::digest(point.as_bytes());
    IssuerKey {
        kid: hex::encode(&digest[..8]),
        signing,
        verifying,
    }
}

fn decode(value: &serde_json::Value) -> Result<Arc<IssuerKey>, StoreError> {
    let corrupt = || StoreError::Corrupt("token signing key".to_owned());
    let stored: StoredKey = serde_json::from_value(value.clone()).map_err(|_| corrupt())?;
    let scalar = Zeroizing::new(URL_SAFE_NO_PAD.decode(&stored.d).map_err(|_| corrupt())?);
    let signing = p256::ecdsa::SigningKey::from_slice(&scalar).map_err(|_| corrupt())?;
    let key = with_kid(signing);
    if key.kid != stored.kid {
        return Err(corrupt());
    }
    Ok(Arc::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn two_issuers_on_one_store_share_one_key() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        let (a, b) = (
            TokenIssuer::new(store.clone()),
            TokenIssuer::new(store.clone()),
        );
        assert!(a.existing().await.unwrap().is_none());
        let accounts = vec!["1".to_owned()];
        let (ta, tb) = tokio::join!(
            a.issue("x", &accounts, 60, 0),
            b.issue("y", &accounts, 60, 0)
        );
        let (ta, tb) = (ta.unwrap(), tb.unwrap());
        let (ka, kb) = (
            a.existing().await.unwrap().unwrap(),
            b.existing().await.unwrap().unwrap(),
        );
        assert_eq!(ka.kid, kb.kid);
        let key = jwt::JwtVerifyingKey::Es256(kb.verifying);
        jwt::parse(&ta).unwrap().verify(&key, 1).unwrap();
        jwt::parse(&tb).unwrap().verify(&key, 1).unwrap();
        // A fresh issuer (a restarted process) reads the same key.
        let c = TokenIssuer::new(store);
        assert_eq!(c.existing().await.unwrap().unwrap().kid, ka.kid);
    }
}
