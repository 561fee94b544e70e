//! Store key layout of mappings, designed so that every runtime question costs O(1) reads.
//!
//! ```text
//! mappings/{account}/records/{id}                       the mapping (revision = store version)
//! mappings/{account}/names/{sha256(name)}               {id, claimedAt}: name uniqueness
//! mappings/{account}/routes/{code}/{sha256(url)}        {id, claimedAt}: (service, url) uniqueness
//! mappings/{account}/by-certificate/{certId}/{id}       {id}: who uses a certificate
//! ```
//!
//! `{account}` is [`crate::store::segment`] of the account id. Names and URLs are hashed rather
//! than hex-encoded because a 128-character name or a long URL would exceed the 255-byte file
//! name limit of the embedded store; the record the index points at holds the text itself.
//! Index keys are created with [`crate::store::Expect::Absent`], which is Vault's `cas=0`, so
//! of two racing writers (or gateway instances) exactly one creates the key.
//!
//! A runtime lookup of (account, service, url) reads `routes/{code}/{hash}` and then the record:
//! two reads whatever the size of the account. Without a service it probes the route key of each
//! configured service (a constant of the configuration).

use sha2::{Digest, Sha256};

use crate::store::segment;

/// Folder of all records of `account` (for listing).
pub(crate) fn records(account: &str) -> String {
    format!("mappings/{}/records", segment(account))
}

/// The record of mapping `id`.
pub(crate) fn record(account: &str, id: u64) -> String {
    format!("mappings/{}/records/{id}", segment(account))
}

/// Name index key.
pub(crate) fn name(account: &str, name: &str) -> String {
    format!("mappings/{}/names/{}", segment(account), digest(name))
}

/// Route index key: one per (service code, normalised URL).
pub(crate) fn route(account: &str, service_code: u32, normalized_url: &str) -> String {
    format!("mappings/{}/routes/{service_code}/{}", segment(account), digest(normalized_url))
}

/// Folder listing the mappings that use certificate `certificate_id`.
pub(crate) fn users_of_certificate(account: &str, certificate_id: u64) -> String {
    format!("mappings/{}/by-certificate/{certificate_id}", segment(account))
}

/// Marker that mapping `id` uses certificate `certificate_id`.
pub(crate) fn certificate_user(account: &str, certificate_id: u64, id: u64) -> String {
    format!("mappings/{}/by-certificate/{certificate_id}/{id}", segment(account))
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_safe_and_distinct_per_account() {
        let long_url = format!("https://a.com/{}", "x".repeat(5000));
        let key = route("acct", 1, &long_url);
        assert!(key.len() < 200, "{key}");
        assert!(key.split('/').all(|s| !s.is_empty() && s.len() <= 255));
        assert_ne!(route("a", 1, "https://a.com/"), route("b", 1, "https://a.com/"));
        assert_ne!(route("a", 1, "https://a.com/"), route("a", 2, "https://a.com/"));
        assert_ne!(name("a", "n"), name("a", "N"));
        assert!(record("a", 7).starts_with(&records("a")));
        assert!(certificate_user("a", 3, 7).starts_with(&users_of_certificate("a", 3)));
    }
}
