//! `mtls_certificate_expiry_seconds{account,certificate}`: seconds from now to each known
//! certificate's notAfter (negative once expired), computed at scrape time from the notAfter the
//! gateway last saw, so a scrape never touches the store.
//!
//! Fed by what the certificate service reads and writes anyway (every metadata read, create,
//! replacement and delete; the runtime cache's loads go through the same reads) and by a
//! periodic walk of the store ([`crate::housekeeping`]) that also drops certificates deleted by
//! other instances.
//!
//! **Labels.** The account id and the numeric certificate id, both chosen by the gateway or the
//! operator, never the certificate's name or display name: those are free text typed by brands
//! and could carry anything (a customer's name, a hostname they consider private). The id is
//! enough to find the certificate through the API. Label values are escaped as the text format
//! requires, since prometheus-client writes them as given.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, PoisonError, RwLock};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder};
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::clock;

/// notAfter (Unix seconds) of every certificate this gateway knows, by account and id. Updated
/// on certificate changes and reads, never on the forward path; cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct CertificateExpiry {
    not_after: Arc<RwLock<HashMap<(String, u64), i64>>>,
}

impl CertificateExpiry {
    /// Records that certificate `id` of `account` expires at `not_after_unix`.
    pub fn observe(&self, account: &str, id: u64, not_after_unix: i64) {
        let mut map = self.not_after.write().unwrap_or_else(PoisonError::into_inner);
        match map.get_mut(&(account.to_owned(), id)) {
            Some(known) => *known = not_after_unix,
            None => {
                map.insert((account.to_owned(), id), not_after_unix);
            }
        }
    }

    /// Forgets certificate `id` of `account` (deleted, or found absent).
    pub fn forget(&self, account: &str, id: u64) {
        let mut map = self.not_after.write().unwrap_or_else(PoisonError::into_inner);
        map.remove(&(account.to_owned(), id));
    }

    /// Replaces everything known with `all` (a complete walk of the store).
    pub fn replace_all(&self, all: HashMap<(String, u64), i64>) {
        *self.not_after.write().unwrap_or_else(PoisonError::into_inner) = all;
    }

    /// The notAfter known for certificate `id` of `account`.
    pub fn not_after(&self, account: &str, id: u64) -> Option<i64> {
        let map = self.not_after.read().unwrap_or_else(PoisonError::into_inner);
        map.get(&(account.to_owned(), id)).copied()
    }
}

impl TypedMetric for CertificateExpiry {
    const TYPE: MetricType = MetricType::Gauge;
}

impl EncodeMetric for CertificateExpiry {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let now = clock::now_unix();
        let mut series: Vec<(String, u64, i64)> = {
            let map = self.not_after.read().unwrap_or_else(PoisonError::into_inner);
            map.iter().map(|((account, id), not_after)| (escape(account), *id, *not_after)).collect()
        };
        series.sort_unstable();
        for (account, id, not_after) in series {
            let labels = ExpiryLabels { account: &account, certificate: id };
            encoder.encode_family(&labels)?.encode_gauge(&not_after.saturating_sub(now))?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }

    /// Described (HELP and TYPE) even before any certificate is known.
    fn is_empty(&self) -> bool {
        false
    }
}

struct ExpiryLabels<'a> {
    account: &'a str,
    certificate: u64,
}

impl EncodeLabelSet for ExpiryLabels<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        [("account", self.account)].encode(encoder)?;
        [("certificate", self.certificate)].encode(encoder)
    }
}

/// A label value as the text format wants it: `\`, `"` and line feeds escaped.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_cannot_break_the_text_format() {
        assert_eq!(escape("acc-1"), "acc-1");
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
