//! oAuth1 nonce replay refusal (RFC 5849 section 3.3).
//!
//! **Per instance and in memory**: a nonce is remembered by the instance that saw it, for as
//! long as its timestamp stays inside the accepted window (±300 s), then forgotten, since the
//! timestamp check refuses the request from then on anyway. Behind a load balancer a replay sent
//! to a *different* instance within the window is not caught; the window bounds that exposure.
//!
//! **Bounded per consumer**: each consumer key has its own share of [`NONCES_PER_CONSUMER`] live
//! nonces. A consumer past its share is refused (it is sending faster than the share allows over
//! the window) rather than forgetting live nonces, which would reopen replays; other consumers
//! are unaffected. Only requests whose signature verified reach this cache, so the consumers
//! here are real app keys, and memory is bounded by their number times the share (nonces are at
//! most [`super::oauth1::MAX_NONCE_CHARS`] characters, tokens are the app key's own).

use std::collections::HashMap;
use std::sync::Mutex;

/// Live nonces one consumer key may have: about 170 requests per second sustained over the
/// 300 s a current timestamp stays in the window, at roughly 200 bytes each (10 MB).
pub(crate) const NONCES_PER_CONSUMER: usize = 50_000;

/// Remembered nonces per consumer key and when each may be forgotten.
#[derive(Debug)]
pub(crate) struct NonceCache {
    state: Mutex<Consumers>,
    share: usize,
}

/// The outcome of offering a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// First use: accepted and remembered.
    Fresh,
    /// Seen before within the window.
    Replayed,
    /// This consumer already has its share of live nonces; the oldest is forgotten in
    /// `retry_after` seconds.
    OverShare { retry_after: u64 },
}

#[derive(Debug, Default)]
struct Consumers {
    /// Consumer key → (token, nonce) → Unix time after which the entry may be forgotten.
    seen: HashMap<String, HashMap<(String, String), i64>>,
    /// When every consumer's expired entries were last dropped.
    swept_at: i64,
}

impl Default for NonceCache {
    fn default() -> Self {
        Self::with_share_per_consumer(NONCES_PER_CONSUMER)
    }
}

impl NonceCache {
    /// A cache holding at most `share` live nonces per consumer key (tests use a small one).
    pub(crate) fn with_share_per_consumer(share: usize) -> Self {
        Self {
            state: Mutex::default(),
            share,
        }
    }

    /// Records `nonce` of (`consumer_key`, `token`) with `timestamp`; it is forgotten once
    /// `now` is past `timestamp + window`. Call only for requests whose signature verified.
    pub(crate) fn check(
        &self,
        consumer_key: &str,
        token: &str,
        nonce: &str,
        timestamp: i64,
        window: i64,
        now: i64,
    ) -> NonceCheck {
        let mut state = self.lock();
        // Drop expired entries of every consumer once per window, so idle consumers do not keep
        // their last window's nonces forever.
        if now.saturating_sub(state.swept_at) > window {
            state
                .seen
                .retain(|_, nonces| forget_expired(nonces, now) > 0);
            state.swept_at = now;
        }
        let nonces = state.seen.entry(consumer_key.to_owned()).or_default();
        let key = (token.to_owned(), nonce.to_owned());
        if nonces.get(&key).is_some_and(|forget_at| *forget_at >= now) {
            return NonceCheck::Replayed;
        }
        if nonces.len() >= self.share && forget_expired(nonces, now) >= self.share {
            let oldest = nonces.values().copied().min().unwrap_or(now);
            let retry_after = u64::try_from(oldest.saturating_sub(now)).unwrap_or(0) + 1;
            return NonceCheck::OverShare { retry_after };
        }
        nonces.insert(key, timestamp.saturating_add(window));
        NonceCheck::Fresh
    }

    /// Forgets every nonce of `consumer_key` (its app key was deleted).
    pub(crate) fn forget_consumer(&self, consumer_key: &str) {
        self.lock().seen.remove(consumer_key);
    }

    /// Remembered nonces of all consumers, expired ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().seen.values().map(HashMap::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Consumers> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Drops the entries of `nonces` that expired before `now`; returns how many are left.
fn forget_expired(nonces: &mut HashMap<(String, String), i64>, now: i64) -> usize {
    nonces.retain(|_, forget_at| *forget_at >= now);
    nonces.len()
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
    fn a_full_share_forgets_expired_nonces_and_refuses_when_all_are_live() {
        let cache = NonceCache::with_share_per_consumer(2);
        assert_eq!(cache.check("k", "", "a", 0, 300, 0), NonceCheck::Fresh);
        assert_eq!(cache.check("k", "", "b", 10, 300, 10), NonceCheck::Fresh);
        assert_eq!(
            cache.check("k", "", "c", 20, 300, 20),
            NonceCheck::OverShare { retry_after: 281 }
        );
        // Another consumer has its own share.
        assert_eq!(cache.check("k2", "", "c", 20, 300, 20), NonceCheck::Fresh);
        // Once "a" expired, "k" has room again.
        assert_eq!(cache.check("k", "", "c", 301, 300, 301), NonceCheck::Fresh);
    }

    #[test]
    fn expired_nonces_of_idle_consumers_are_swept_and_deleted_consumers_forgotten() {
        let cache = NonceCache::default();
        assert_eq!(cache.check("idle", "", "a", 0, 300, 0), NonceCheck::Fresh);
        assert_eq!(cache.check("gone", "", "a", 0, 300, 0), NonceCheck::Fresh);
        cache.forget_consumer("gone");
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.check("busy", "", "a", 1000, 300, 1000),
            NonceCheck::Fresh
        );
        assert_eq!(cache.len(), 1);
    }
}
