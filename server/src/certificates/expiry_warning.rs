//! `MTLS_EXPIRY_WARNING_DAYS` (SPEC section 12), declared here; [`crate::config::Config`] reads
//! it at start.

use crate::settings::{self, Raw, Refusals, Setting};

/// What a certificate service built without configuration uses: SPEC section 12, the same 30
/// days as the SDK report's `expires_soon` warning. A test checks it is [`EXPIRY_WARNING_DAYS`]'s
/// default.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 30;
/// Ten years: a longer warning window only means every certificate is always "expiring soon".
pub const MAX_EXPIRY_WARNING_DAYS: u32 = 3650;

/// Days before a certificate's notAfter from which it counts as `expiringSoon`.
pub const EXPIRY_WARNING_DAYS: Setting<u32> = Setting::new(
    "MTLS_EXPIRY_WARNING_DAYS",
    "expiry-warning-days",
    "Days before expiry from which a certificate is flagged expiringSoon (0 to 3650).",
    expiry_warning_days,
)
.default("30");

fn expiry_warning_days(raw: &Raw<'_>) -> Result<u32, Refusals> {
    let days = settings::whole::<u32>(raw)?;
    if days > MAX_EXPIRY_WARNING_DAYS {
        return Err(vec![format!(
            "{days} is more than {MAX_EXPIRY_WARNING_DAYS} days"
        )]);
    }
    Ok(days)
}
