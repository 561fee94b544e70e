//! The credentials' settings, declared and validated here; [`crate::config::Config`] builds them
//! at start.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::settings::{self, Declared, Setting, Settings};

/// Token for `/admin/*` (secret).
pub(crate) const ADMIN_TOKEN: Setting<String> = Setting::new(
    "MTLS_ADMIN_TOKEN",
    "admin-token",
    "Token for the admin API (/admin/*); unset turns the admin API off.",
    settings::text,
)
.secret();
/// External issuer's JWKS file.
pub(crate) const JWKS_FILE: Setting<PathBuf> = Setting::new(
    "MTLS_JWKS_FILE",
    "jwks-file",
    "JWKS file of an external token issuer.",
    settings::file,
);
/// An oAuth1 form body is read whole before its signature is checked; a caller sending it
/// slowly holds that memory, so the read is bounded. Forms are small: 10 s is generous.
pub(crate) const OAUTH1_FORM_READ_TIMEOUT_MS: Setting<u64> = Setting::new(
    "MTLS_OAUTH1_FORM_READ_TIMEOUT_MS",
    "oauth1-form-read-timeout-ms",
    "Time allowed to read an oAuth1 form body on forward, in milliseconds.",
    settings::positive,
)
.default("10000");

/// How callers are authenticated.
#[derive(Clone)]
pub struct AuthConfig {
    /// `MTLS_ADMIN_TOKEN` (secret); `None` turns the admin API off.
    pub admin_token: Option<String>,
    /// `MTLS_JWKS_FILE`.
    pub jwks_file: Option<PathBuf>,
    /// `MTLS_OAUTH1_FORM_READ_TIMEOUT_MS`.
    pub oauth1_form_read_timeout: Duration,
}

impl AuthConfig {
    /// The credentials' settings, for the command line and `--help`.
    pub const SETTINGS: &[&dyn Declared] =
        &[&ADMIN_TOKEN, &JWKS_FILE, &OAUTH1_FORM_READ_TIMEOUT_MS];

    /// Reads the credentials' settings.
    pub fn from_settings(s: &mut Settings<'_>) -> Option<Self> {
        let admin_token = s.read(&ADMIN_TOKEN);
        let jwks_file = s.read(&JWKS_FILE);
        let oauth1_form_read_timeout = s.read(&OAUTH1_FORM_READ_TIMEOUT_MS);
        Some(Self {
            admin_token,
            jwks_file,
            oauth1_form_read_timeout: Duration::from_millis(oauth1_form_read_timeout?),
        })
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The admin token is omitted on purpose: only its presence is shown.
        f.debug_struct("AuthConfig")
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("jwks_file", &self.jwks_file)
            .field("oauth1_form_read_timeout", &self.oauth1_form_read_timeout)
            .finish()
    }
}
