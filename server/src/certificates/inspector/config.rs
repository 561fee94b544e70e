//! The P12 inspector's settings, declared and validated here; [`crate::config::Config`] builds
//! them at start.

use crate::settings::{self, Declared, Setting, Settings};

/// PKCS#12 iteration cap.
pub(crate) const MAX_ITERATIONS: Setting<u64> = Setting::new(
    "MTLS_P12_MAX_ITERATIONS",
    "p12-max-iterations",
    "Cap on PKCS#12 MAC and KDF iteration counts.",
    settings::positive,
)
.default("1000000");
/// Budget of KDF iterations over all P12 files of one request.
pub(crate) const REQUEST_ITERATION_BUDGET: Setting<u64> = Setting::new(
    "MTLS_P12_REQUEST_ITERATION_BUDGET",
    "p12-request-iteration-budget",
    "Budget of KDF iterations over all P12 files of one request, checked before any KDF runs \
     (default: 3 times --p12-max-iterations).",
    settings::positive,
);
/// How many P12 inspections run at once.
pub(crate) const INSPECTION_WORKERS: Setting<usize> = Setting::new(
    "MTLS_P12_INSPECTION_WORKERS",
    "p12-inspection-workers",
    "P12 inspections (uploads, replacements, the tester) running at once; more answer 503 \
     (default: the number of cores minus one, at least 1).",
    settings::positive,
);

/// The default per-request KDF budget is this many times `MTLS_P12_MAX_ITERATIONS` (3,000,000 by
/// default): a file at the cap in each of its three usual KDF runs (MAC, key, certificates) fits,
/// so every file rule 7 accepts uploads on its own, and so do 100 files as keytool writes them
/// (10,000 iterations per run); one request costs a few core-seconds of KDF, not minutes.
pub(crate) const DEFAULT_REQUEST_BUDGET_FACTOR: u64 = 3;

/// Limits of P12 inspections.
#[derive(Debug, Clone)]
pub struct InspectorConfig {
    /// `MTLS_P12_MAX_ITERATIONS`.
    pub max_iterations: u64,
    /// `MTLS_P12_REQUEST_ITERATION_BUDGET`: iterations the KDF runs of all files of one request
    /// may take together.
    pub request_iteration_budget: u64,
    /// `MTLS_P12_INSPECTION_WORKERS`: inspections running at once; more answer 503.
    pub workers: usize,
}

impl InspectorConfig {
    /// The inspector's settings, for the command line and `--help`.
    pub const SETTINGS: &[&dyn Declared] = &[
        &MAX_ITERATIONS,
        &REQUEST_ITERATION_BUDGET,
        &INSPECTION_WORKERS,
    ];

    /// The default number of concurrent P12 inspections: one per core but one, at least one, so
    /// that KDF work never takes every core from forwarding.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    }

    /// Reads the inspector's settings.
    pub fn from_settings(s: &mut Settings<'_>) -> Option<Self> {
        let max_iterations = s.read(&MAX_ITERATIONS);
        let budget = s.read(&REQUEST_ITERATION_BUDGET);
        let workers = s.read(&INSPECTION_WORKERS);
        let max_iterations = max_iterations?;
        let request_iteration_budget =
            budget.unwrap_or_else(|| max_iterations.saturating_mul(DEFAULT_REQUEST_BUDGET_FACTOR));
        // A budget under the cap would refuse files that rule 7 accepts.
        if request_iteration_budget < max_iterations {
            s.refuse(
                REQUEST_ITERATION_BUDGET.env,
                format!(
                    "{request_iteration_budget} is below {} ({max_iterations}); a file at the cap \
                     could never be uploaded",
                    MAX_ITERATIONS.env
                ),
            );
            return None;
        }
        Some(Self {
            max_iterations,
            request_iteration_budget,
            workers: workers.unwrap_or_else(Self::default_workers),
        })
    }
}
