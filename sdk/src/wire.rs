//! The gateway's wire vocabulary, shared by the server and every client: the `LP-*` header names
//! (SPEC section 6), the realm of its `WWW-Authenticate` challenges, the closed set of error codes
//! its answers carry (SPEC section 5: `error.code`) and the codes a client gives errors of its own.
//!
//! Each name is spelled once, here. The server declares its headers and answers its codes from
//! these constants; the npm package's TypeScript client reads them from
//! `sdk/js/client/src/generated/wire.ts`, which the test in `sdk/src/typescript.rs` writes from
//! this module, so a rename cannot reach one side only.

use serde::{Serialize, Serializer};

/// `LP-forward-url`: the target URL of a forwarded request (required).
pub const LP_FORWARD_URL: &str = "lp-forward-url";
/// `LP-service-name`: the service whose mapping picks the certificate.
pub const LP_SERVICE_NAME: &str = "lp-service-name";
/// `LP-authorization-override`: sent to the target as its `Authorization`.
pub const LP_AUTHORIZATION_OVERRIDE: &str = "lp-authorization-override";
/// `LP-content-type-override`: sent to the target as its `Content-Type`.
pub const LP_CONTENT_TYPE_OVERRIDE: &str = "lp-content-type-override";
/// `LP-method-override`: the method used towards the target.
pub const LP_METHOD_OVERRIDE: &str = "lp-method-override";
/// `LP-stop-if-certificate-not-found`: `true` refuses to forward without a mapped certificate.
pub const LP_STOP_IF_CERTIFICATE_NOT_FOUND: &str = "lp-stop-if-certificate-not-found";
/// `LP-certificate-id`: on a forwarded answer, the certificate that was presented.
pub const LP_CERTIFICATE_ID: &str = "lp-certificate-id";
/// `LP-error-from-transport`: on a 424, the kind of transport failure.
pub const LP_ERROR_FROM_TRANSPORT: &str = "lp-error-from-transport";
/// `LP-message-from-transport`: on a 424, what the transport said.
pub const LP_MESSAGE_FROM_TRANSPORT: &str = "lp-message-from-transport";
/// The prefix of every gateway header: a caller's `LP-*` headers are never forwarded.
pub const LP_PREFIX: &str = "lp-";

/// Every `LP-*` header, with the key the TypeScript client's `LP_HEADERS` object uses for it.
pub const LP_HEADERS: [(&str, &str); 9] = [
    ("forwardUrl", LP_FORWARD_URL),
    ("serviceName", LP_SERVICE_NAME),
    ("authorizationOverride", LP_AUTHORIZATION_OVERRIDE),
    ("contentTypeOverride", LP_CONTENT_TYPE_OVERRIDE),
    ("methodOverride", LP_METHOD_OVERRIDE),
    ("stopIfCertificateNotFound", LP_STOP_IF_CERTIFICATE_NOT_FOUND),
    ("certificateId", LP_CERTIFICATE_ID),
    ("errorFromTransport", LP_ERROR_FROM_TRANSPORT),
    ("messageFromTransport", LP_MESSAGE_FROM_TRANSPORT),
];

/// `X-Request-Id`: the id of a request, taken from the caller or made, on every answer.
pub const REQUEST_ID: &str = "x-request-id";

/// The realm of the gateway's `WWW-Authenticate` challenges: it tells a gateway 401 from a
/// target's 401 in a forwarded answer.
pub const GATEWAY_REALM: &str = "mtls-gateway";

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A code the gateway's error answers carry in `error.code`: stable, snake_case.
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

impl From<&crate::CsrError> for ErrorCode {
    /// The SDK's own code for a CSR failure; a code the SDK may add later and this set does not
    /// know yet is answered as a refused certificate request rather than leave the set.
    fn from(error: &crate::CsrError) -> Self {
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

/// Codes a client gives errors of its own (status 0 in the npm package's `MtlsError`): the
/// gateway never answers them, so a caller can tell "the gateway refused" from "it never got
/// there".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientErrorCode {
    /// An argument has the wrong type or an unknown value; the message names the allowed ones.
    InvalidArgument,
    /// The gateway did not answer (connection refused, DNS, TLS, aborted).
    NetworkError,
    /// The gateway answered 2xx with a body that is not the JSON the endpoint defines.
    UnexpectedResponse,
}

impl ClientErrorCode {
    /// Every client code, in declaration order.
    pub const ALL: &'static [ClientErrorCode] =
        &[Self::InvalidArgument, Self::NetworkError, Self::UnexpectedResponse];

    /// The code as a client reports it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::NetworkError => "network_error",
            Self::UnexpectedResponse => "unexpected_response",
        }
    }
}

#[cfg(test)]
mod tests;
