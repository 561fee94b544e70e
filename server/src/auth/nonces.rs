//! oAuth1 nonce replay refusal (RFC 5849 section 3.3).
//!
//! **Per instance and in memory**: a nonce is remembered by the instance that saw it, for as
//! long as its timestamp stays inside the accepted window (±300 s), then forgotten, since the
//! timestamp check refuses the request from then on anyway. Behind a load balancer a replay sent
//! to a *different* instance within the window is not caught; the window bounds that exposure.
//! Memory is bounded: past [`MAX_NONCES`] live entries, new requests are refused (503) rather
//! than forgetting live nonces, which would reopen replays.

use std::collections::HashMap;
use std::sync::Mutex;

/// Upper bound on remembered nonces (about 100 bytes each).
pub(crate) const MAX_NONCES: usize = 200_000;

/// Remembered nonces and when each may be forgotten.
#[derive(Debug, Default)]
pub(crate) struct NonceCache {
    seen: Mutex<HashMap<(String, String, String), i64>>,
    capacity: Option<usize>,
}

/// The outcome of offering a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// First use: accepted and remembered.
    Fresh,
    /// Seen before within the window.
    Replayed,
    /// The cache is full of live nonces.
    Full,
}

impl NonceCache {
    /// A cache holding at most `capacity` nonces (tests use a small one).
    #[cfg(test)]
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            seen: Mutex::default(),
            capacity: Some(capacity),
        }
    }

    /// Records `nonce` of (`consumer_key`, `token`) with `timestamp`; it is forgotten once
    /// `now` is past `timestamp + window`.
    pub(crate) fn check(
        &self,
        consumer_key: &str,
        token: &str,
        nonce: &str,
        timestamp: i64,
        window: i64,
        now: i64,
    ) -> NonceCheck {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (consumer_key.to_owned(), token.to_owned(), nonce.to_owned());
        if seen.get(&key).is_some_and(|forget_at| *forget_at >= now) {
            return NonceCheck::Replayed;
        }
        let capacity = self.capacity.unwrap_or(MAX_NONCES);
        if seen.len() >= capacity {
            seen.retain(|_, forget_at| *forget_at >= now);
            if seen.len() >= capacity {
                return NonceCheck::Full;
            }
        }
        seen.insert(key, timestamp.saturating_add(window));
        NonceCheck::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_the_second_time_within_the_window() {
        let cache = NonceCache::default();
        assert_eq!(
            cache.check("k", "", "n1", 1000, 300, 1000),
            NonceCheck::Fresh
        );
        assert_eq!(
            cache.check("k", "", "n1", 1000, 300, 1200),
            NonceCheck::Replayed
        );
        // Same nonce, another consumer: independent.
        assert_eq!(
            cache.check("k2", "", "n1", 1000, 300, 1000),
            NonceCheck::Fresh
        );
    }

    #[test]
    fn full_cache_forgets_expired_nonces_and_refuses_when_all_are_live() {
        let cache = NonceCache::with_capacity(2);
        assert_eq!(cache.check("k", "", "a", 0, 300, 0), NonceCheck::Fresh);
        assert_eq!(cache.check("k", "", "b", 0, 300, 0), NonceCheck::Fresh);
        assert_eq!(cache.check("k", "", "c", 0, 300, 10), NonceCheck::Full);
        assert_eq!(
            cache.check("k", "", "c", 1000, 300, 1000),
            NonceCheck::Fresh
        );
    }
}
