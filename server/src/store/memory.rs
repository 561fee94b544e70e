//! An in-memory [`Store`], for unit tests only (never the proof that Vault works).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::{Expect, Store, StoreError, Versioned};

/// Keeps everything in a map; versions per key grow from 1.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeMap<String, Versioned>>,
    last_versions: Mutex<BTreeMap<String, u64>>,
}

#[async_trait]
impl Store for MemoryStore {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.entries.lock().expect("store mutex poisoned").get(key).cloned())
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        let mut entries = self.entries.lock().expect("store mutex poisoned");
        let current = entries.get(key).map(|v| v.version);
        match (expect, current) {
            (Expect::Absent, Some(_)) => return Err(StoreError::Conflict),
            (Expect::Version(want), got) if got != Some(want) => return Err(StoreError::Conflict),
            _ => {}
        }
        let mut last = self.last_versions.lock().expect("store mutex poisoned");
        let version = last.get(key).copied().unwrap_or(0) + 1;
        last.insert(key.to_owned(), version);
        entries.insert(key.to_owned(), Versioned { value: value.clone(), version });
        Ok(version)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.entries.lock().expect("store mutex poisoned").remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let folder = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        let entries = self.entries.lock().expect("store mutex poisoned");
        let mut names: Vec<String> = entries
            .keys()
            .filter_map(|k| k.strip_prefix(&folder))
            .map(|rest| match rest.split_once('/') {
                Some((dir, _)) => format!("{dir}/"),
                None => rest.to_owned(),
            })
            .collect();
        names.dedup();
        Ok(names)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
