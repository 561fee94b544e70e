//! The closed set of error codes the API answers with (SPEC section 5: `error.code`), each
//! spelled once. `/openapi.json` lists the same set as the enum of `Error.error.code`; a test
//! holds the two equal, so neither the documentation nor the schemathesis contract can drift.

use serde::{Serialize, Serializer};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A stable snake_case error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    // Requests the server cannot read.
    /// A body, query or header that cannot be parsed for this endpoint.
    MalformedRequest = "malformed_request",
    /// An account id that cannot be one of ours.
    InvalidAccount = "invalid_account",
    /// A body larger than the endpoint accepts.
    PayloadTooLarge = "payload_too_large",
    /// The request body stalled.
    RequestBodyTimeout = "request_body_timeout",
    /// No such endpoint.
    NotFound = "not_found",
    /// The endpoint exists, not with this method.
    MethodNotAllowed = "method_not_allowed",
    /// An unsupported `v` of the check endpoints.
    UnsupportedVersion = "unsupported_version",
    /// More check items than one request may hold.
    TooManyItems = "too_many_items",
    /// An invalid query parameter.
    InvalidQueryParameter = "invalid_query_parameter",
    /// An admin request that makes no sense.
    InvalidRequest = "invalid_request",

    // Who may call.
    /// No acceptable credential (with `WWW-Authenticate`).
    Unauthenticated = "unauthenticated",
    /// A credential that may not act on this account.
    Forbidden = "forbidden",
    /// Over a rate (with `Retry-After`).
    TooManyRequests = "too_many_requests",

    // Mappings.
    /// A mapping field with the wrong type or value.
    InvalidMapping = "invalid_mapping",
    /// A service that is not configured.
    UnknownService = "unknown_service",
    /// A URL that is not a valid target.
    InvalidUrl = "invalid_url",
    /// `siteId` is not the account of the path.
    SiteIdMismatch = "site_id_mismatch",
    /// No such mapping in this account.
    MappingNotFound = "mapping_not_found",
    /// Another mapping has this name.
    DuplicateMappingName = "duplicate_mapping_name",
    /// Another mapping has this service and URL.
    DuplicateMappingUrl = "duplicate_mapping_url",
    /// `If-Match` names an old revision.
    StaleRevision = "stale_revision",
    /// Another update of the same mapping won.
    ConcurrentUpdate = "concurrent_update",

    // Certificates.
    /// No such certificate in this account.
    CertificateNotFound = "certificate_not_found",
    /// A P12 the rules refuse (details: the report).
    P12NotUsable = "p12_not_usable",
    /// Certificate material that cannot be read.
    InvalidCertificate = "invalid_certificate",
    /// Another certificate has this name.
    DuplicateCertificateName = "duplicate_certificate_name",
    /// Mappings still use the certificate.
    CertificateInUse = "certificate_in_use",
    /// Another change of the same certificate won.
    ConcurrentChange = "concurrent_change",
    /// A replacement is already staged.
    RotationPending = "rotation_pending",
    /// No staged version to act on.
    PendingVersionNotFound = "pending_version_not_found",
    /// An activation time that is not an RFC 3339 instant in range.
    InvalidActivateAt = "invalid_activate_at",
    /// The upload's PBKDF iterations exceed the request's budget.
    P12IterationBudgetExceeded = "p12_iteration_budget_exceeded",
    /// Every P12 inspection worker is busy.
    P12InspectionsBusy = "p12_inspections_busy",

    // Certificate requests.
    /// No such certificate request in this account.
    CertificateRequestNotFound = "certificate_request_not_found",
    /// The request was completed already.
    CertificateRequestCompleted = "certificate_request_completed",
    /// Another completion is under way.
    CertificateRequestCompleting = "certificate_request_completing",
    /// A request name or field the rules refuse.
    InvalidCertificateRequest = "invalid_certificate_request",
    /// The completion's PEM cannot be read.
    InvalidCertificatePem = "invalid_certificate_pem",
    /// No certificate given carries the request's key.
    KeyCertificateMismatch = "key_certificate_mismatch",
    /// The chain is not in issuing order.
    InvalidCertificateChain = "invalid_certificate_chain",
    // The SDK's CSR codes (`mtls_sdk::CsrError::code`), answered as they are.
    /// A subject field breaks a rule.
    InvalidSubject = "invalid_subject",
    /// A subjectAltName entry is invalid.
    InvalidSubjectAltName = "invalid_subject_alt_name",
    /// A key type the CSR builder does not make.
    UnsupportedKeyType = "unsupported_key_type",
    /// A key that cannot be read.
    InvalidPrivateKey = "invalid_private_key",
    /// An encrypted key without its passphrase.
    PassphraseRequired = "passphrase_required",
    /// The wrong passphrase for an encrypted key.
    WrongPassphrase = "wrong_passphrase",
    /// A key encryption the SDK does not read.
    UnsupportedKeyEncryption = "unsupported_key_encryption",
    /// The system random number generator failed.
    RandomFailure = "random_failure",
    /// The SDK hit a bug.
    InternalError = "internal_error",

    // Forwarding.
    /// A target on a non-public address.
    TargetNotAllowed = "target_not_allowed",
    /// The call to the target failed (details: the transport error kind).
    TransportError = "transport_error",
    /// A forward without a usable target URL.
    InvalidForwardUrl = "invalid_forward_url",
    /// A header the gateway cannot forward.
    InvalidHeader = "invalid_header",
    /// A method override that is not a method.
    InvalidMethodOverride = "invalid_method_override",
    /// A probe body that cannot be read.
    InvalidBody = "invalid_body",

    // Administration and audit.
    /// No such app key.
    AppKeyNotFound = "app_key_not_found",
    /// The audit trail cannot be written or read.
    AuditUnavailable = "audit_unavailable",
    /// An audit cursor that is not one of ours.
    InvalidCursor = "invalid_cursor",
    /// An audit `since` that is not an instant.
    InvalidSince = "invalid_since",
    /// An audit `limit` out of range.
    InvalidLimit = "invalid_limit",

    // The server's side.
    /// A concurrent change won a check-and-set.
    Conflict = "conflict",
    /// The store is unavailable (with `Retry-After`).
    StoreUnavailable = "store_unavailable",
    /// A fault of ours; the cause is in the log.
    Internal = "internal",
}

impl ErrorCode {
    /// The code of one of the SDK's errors (`code()` of its error types), when it is one of ours.
    pub fn from_sdk(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|known| known.as_str() == code)
    }
}

impl From<&mtls_sdk::CsrError> for ErrorCode {
    /// The SDK's own code for a CSR failure; a code the SDK may add later and this set does not
    /// know yet is answered as a refused certificate request rather than leave the set.
    fn from(error: &mtls_sdk::CsrError) -> Self {
        Self::from_sdk(error.code()).unwrap_or(Self::InvalidCertificateRequest)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and callers compare with the code as sent.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let codes: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len(), "a code is spelled twice");
        for code in codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    && !code.starts_with('_')
                    && !code.ends_with('_'),
                "{code}"
            );
        }
        assert_eq!(serde_json::to_value(ErrorCode::MalformedRequest).unwrap(), "malformed_request");
    }

    #[test]
    fn openapi_lists_exactly_these_codes() {
        let document: serde_json::Value = serde_json::from_str(crate::http::ops::OPENAPI_JSON).unwrap();
        let listed = &document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
        let listed: BTreeSet<&str> = listed
            .as_array()
            .expect("Error.error.code in /openapi.json has an enum of the codes")
            .iter()
            .map(|c| c.as_str().expect("codes are strings"))
            .collect();
        let ours: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            listed.difference(&ours).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "documented but never answered"
        );
        assert_eq!(
            ours.difference(&listed).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "answered but not documented"
        );
    }

    /// Every code the SDK's CSR builder can give is one of ours, so a certificate request never
    /// answers a code outside the set.
    #[test]
    fn every_csr_error_code_of_the_sdk_is_known() {
        use mtls_sdk::{CsrError, PrivateKeyError};
        let errors = [
            CsrError::InvalidSubject { field: "country", problem: String::new() },
            CsrError::InvalidSubjectAltName { value: String::new(), problem: "" },
            CsrError::UnsupportedKeyType { key_type: String::new() },
            CsrError::UnsupportedPublicKey,
            CsrError::Key(PrivateKeyError::NotFound { found: String::new() }),
            CsrError::Key(PrivateKeyError::Malformed { label: String::new(), reason: "" }),
            CsrError::Key(PrivateKeyError::PassphraseRequired),
            CsrError::Key(PrivateKeyError::UnsupportedEncryption { what: String::new() }),
            CsrError::Key(PrivateKeyError::WrongPassphrase),
            CsrError::Key(PrivateKeyError::UnsupportedAlgorithm { algorithm: String::new() }),
            CsrError::Random,
            CsrError::Internal { stage: "" },
        ];
        for error in errors {
            assert!(ErrorCode::from_sdk(error.code()).is_some(), "{}", error.code());
            assert_eq!(ErrorCode::from(&error).as_str(), error.code());
        }
    }
}
