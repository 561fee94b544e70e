//! Bearer tokens whose signature already verified, so a client that sends the same token on
//! every request (the forwarding hot path) pays for one ECDSA/RSA verification, not one per
//! request: profiling the forward benchmark showed P-256 verification taking about two thirds
//! of the gateway's CPU.
//!
//! Sound because a token's verdict cannot change before its `exp`: our signing key is never
//! replaced while the process runs, the external JWKS is read once at start, and JWTs have no
//! revocation here. Entries are keyed by SHA-256 of the token (the cache holds no usable
//! credential), dropped at `exp`, and bounded: when full, expired entries go first, then all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};

use super::Grant;

/// Tokens kept at most.
pub(crate) const CAPACITY: usize = 10_000;

/// A verified token: what it grants (shared with every caller presenting it) and its `exp`.
#[derive(Debug)]
struct Verified {
    grant: Arc<Grant>,
    exp: i64,
}

/// The cache.
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], Verified>>,
}

impl VerifiedTokens {
    /// The grant of `token` when it verified before and has not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: i64) -> Option<Arc<Grant>> {
        let key = digest(token);
        let mut entries = self.lock();
        match entries.get(&key) {
            Some(found) if now < found.exp => Some(found.grant.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers that `token` verified, granting `grant` until `exp`.
    pub(crate) fn insert(&self, token: &str, grant: Arc<Grant>, exp: i64, now: i64) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.retain(|_, v| now < v.exp);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest(token), Verified { grant, exp });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Verified>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Arc<Grant> {
        Arc::new(Grant::new("s".into(), &["a".into()]))
    }

    #[test]
    fn answers_until_expiry_only() {
        let cache = VerifiedTokens::default();
        cache.insert("tok", grant(), 100, 10);
        assert_eq!(cache.get("tok", 99).map(|v| v.subject.clone()), Some("s".to_owned()));
        assert!(cache.get("tok", 100).is_none());
        assert!(cache.get("tok", 50).is_none(), "an expired entry is dropped");
        assert!(cache.get("other", 10).is_none());
    }

    #[test]
    fn every_hit_shares_the_one_grant() {
        let cache = VerifiedTokens::default();
        let inserted = grant();
        cache.insert("tok", inserted.clone(), 100, 10);
        let (first, second) = (cache.get("tok", 11).unwrap(), cache.get("tok", 12).unwrap());
        assert!(Arc::ptr_eq(&first, &inserted) && Arc::ptr_eq(&second, &inserted));
    }

    #[test]
    fn stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY + 5 {
            cache.insert(&format!("t{i}"), grant(), 1_000, 0);
        }
        assert!(cache.lock().len() <= CAPACITY);
        assert!(cache.get(&format!("t{}", CAPACITY + 4), 0).is_some(), "the newest is kept");
    }
}
