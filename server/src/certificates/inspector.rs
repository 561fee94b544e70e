//! Bounded P12 inspection: the KDF work of uploads, replacements and the P12 tester, kept off
//! the async executor and away from the cores that forward.
//!
//! Entry point: [`P12Inspector::admit`], once per request with all of its files, before any KDF
//! runs. It refuses a request whose files declare more KDF iterations in all than the
//! per-request budget (SPEC section 9), then takes one of a fixed number of inspection workers
//! for the whole request; with every worker busy it refuses at once
//! ([`InspectionError::Busy`]: the caller is told to retry) rather than queueing without bound. The caller then inspects each admitted file through
//! [`Admission::inspect`], by its index in the admitted list; the worker is freed when the
//! [`Admission`] drops.
//!
//! Key bags inside encrypted parts declare their counts only after decryption: each file's KDF
//! budget handed to the SDK is its declared iterations plus an even share of what the request
//! leaves unused, so the KDF runs of a whole request never exceed the budget.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

use crate::clock;
pub(super) mod config;

pub use config::InspectorConfig;

/// Named in the refusal of a request over its budget.
pub const ENV_P12_REQUEST_ITERATION_BUDGET: &str = config::REQUEST_ITERATION_BUDGET.env;

/// Seconds a caller is told to wait when every inspection worker is busy: an inspection within
/// the budget takes about that long.
pub const BUSY_RETRY_AFTER_SECONDS: u32 = 1;

/// Why a P12 inspection could not run (a file it ran on but refused is a report, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectionError {
    /// The files of one request declare more KDF iterations in all than the per-request budget
    /// (`MTLS_P12_REQUEST_ITERATION_BUDGET`); nothing ran.
    #[error("the P12 files of this request ({files}) declare {total} KDF iterations in all; at most {budget} are allowed per request")]
    BudgetExceeded {
        /// Iterations the files declare in all.
        total: u64,
        /// The per-request budget.
        budget: u64,
        /// How many files the request holds.
        files: usize,
    },
    /// Every inspection worker is busy: the caller retries after
    /// [`BUSY_RETRY_AFTER_SECONDS`].
    #[error("every P12 inspection worker is busy")]
    Busy,
    /// A file was inspected that was not admitted with its request (a bug).
    #[error("a P12 inspection of file {index}, which was not admitted")]
    NotAdmitted {
        /// Its index.
        index: usize,
    },
    /// The blocking task of an inspection failed (a bug: the SDK panicked).
    #[error("the P12 inspection task failed")]
    TaskFailed,
}

/// Runs P12 inspections with a per-request KDF budget on a fixed number of workers.
pub struct P12Inspector {
    workers: Arc<Semaphore>,
    worker_count: usize,
    max_iterations: u64,
    request_budget: u64,
}

/// A request admitted to inspection: holds one worker until dropped.
pub struct Admission {
    _worker: OwnedSemaphorePermit,
    max_iterations: u64,
    /// KDF budget of each admitted file, by index.
    kdf_budgets: Vec<u64>,
}

impl P12Inspector {
    /// An inspector with the configured cap, request budget and worker count.
    pub fn new(config: &InspectorConfig) -> Self {
        Self::with_limits(config.workers, config.max_iterations, config.request_iteration_budget)
    }

    /// An inspector with `workers` workers (at least 1), a per-KDF cap and a per-request budget.
    pub fn with_limits(workers: usize, max_iterations: u64, request_budget: u64) -> Self {
        let worker_count = workers.max(1);
        Self {
            workers: Arc::new(Semaphore::new(worker_count)),
            worker_count,
            max_iterations,
            request_budget,
        }
    }

    /// How many inspections may run at once.
    pub fn worker_count(&self) -> usize {
        self.worker_count
    }

    /// Admits a request whose P12 files are `files`: checks the KDF iterations they declare
    /// against the request budget (no KDF runs), then takes a worker.
    ///
    /// A file the inspection refuses before any KDF (one that does not parse, or a count over
    /// the cap) costs nothing and counts 0: it gets its own report instead.
    ///
    /// # Errors
    /// [`InspectionError::BudgetExceeded`]; [`InspectionError::Busy`] when every worker is busy.
    pub fn admit(&self, files: &[&[u8]]) -> Result<Admission, InspectionError> {
        let per_file_cap = self.max_iterations.saturating_mul(mtls_sdk::KDF_BUDGET_FACTOR);
        let declared: Vec<u64> = files
            .iter()
            .map(|file| match mtls_sdk::p12_iterations(file) {
                Ok(counts) if counts.max() <= self.max_iterations && counts.total() <= per_file_cap => {
                    counts.total()
                }
                _ => 0,
            })
            .collect();
        let total = declared.iter().fold(0u64, |sum, n| sum.saturating_add(*n));
        if total > self.request_budget {
            return Err(InspectionError::BudgetExceeded {
                total,
                budget: self.request_budget,
                files: files.len(),
            });
        }
        let worker = self
            .workers
            .clone()
            .try_acquire_owned()
            .map_err(|_| InspectionError::Busy)?;
        let share = (self.request_budget - total) / (files.len().max(1) as u64);
        let kdf_budgets = declared
            .iter()
            .map(|n| n.saturating_add(share).min(per_file_cap))
            .collect();
        Ok(Admission { _worker: worker, max_iterations: self.max_iterations, kdf_budgets })
    }
}

impl Admission {
    /// Runs the SPEC section 2 rules on admitted file `index` (its place in the list given to
    /// [`P12Inspector::admit`]) on a blocking thread.
    ///
    /// # Errors
    /// [`InspectionError::NotAdmitted`] or [`InspectionError::TaskFailed`] (bugs); the report
    /// is in the `Ok` value whether or not the file is usable.
    pub async fn inspect(
        &self,
        index: usize,
        p12: Zeroizing<Vec<u8>>,
        password: Zeroizing<String>,
    ) -> Result<(mtls_sdk::P12Report, Option<mtls_sdk::P12Contents>), InspectionError> {
        let Some(kdf_budget) = self.kdf_budgets.get(index).copied() else {
            return Err(InspectionError::NotAdmitted { index });
        };
        let options = mtls_sdk::InspectOptions {
            kdf_budget,
            ..mtls_sdk::InspectOptions::new(clock::now_unix(), self.max_iterations)
        };
        actix_web::rt::task::spawn_blocking(move || mtls_sdk::open_p12(&p12, &password, &options))
            .await
            .map_err(|_| InspectionError::TaskFailed)
    }
}
