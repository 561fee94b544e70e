//! Why a mapping operation failed. Each variant carries what was found; the HTTP status, code
//! and details are chosen in one place, `crate::http::mappings`.

use crate::store::StoreError;

/// A mapping operation's failure. For the caller's mistakes `Display` is the message the caller
/// reads; for the store's and the system's failures it is the cause for the operator's log line,
/// never sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The create body is neither an array nor one object.
    #[error("expected a JSON array of mappings")]
    NotABatch,
    /// The create body holds no mapping, or more than `max`.
    #[error("expected 1 to {max} mappings")]
    BatchSize {
        /// [`crate::mappings::MAX_BATCH`].
        max: usize,
    },
    /// An item of the body is not a JSON object.
    #[error("a mapping must be a JSON object")]
    NotAnObject,
    /// A field has the wrong type or value; `rule` says what it must be.
    #[error("{field} {rule}")]
    InvalidField {
        /// The field's JSON name.
        field: &'static str,
        /// What the field must be, as a predicate ("must be a string").
        rule: &'static str,
    },
    /// `name` is empty, blank or longer than `max` characters.
    #[error("name must have 1 to {max} characters")]
    NameLength {
        /// [`crate::mappings::MAX_NAME_CHARS`].
        max: usize,
    },
    /// A create lacks required fields.
    #[error("missing required field(s): {}", fields.join(", "))]
    MissingFields {
        /// The JSON names of the missing fields.
        fields: Vec<&'static str>,
    },
    /// `serviceId` and `serviceName` name different services and neither is the change.
    #[error("serviceId and serviceName name different services")]
    ConflictingServices,
    /// An update body's `id` is not the id of the path.
    #[error("id in the body differs from the id in the path")]
    IdMismatch,
    /// `serviceId` or `serviceName` names no configured service.
    #[error("{field} names no configured service; expected one of {known:?} or its code")]
    UnknownService {
        /// The field that named it.
        field: &'static str,
        /// The configured service names.
        known: Vec<String>,
    },
    /// The URL is not a valid forwarding target.
    #[error(transparent)]
    InvalidUrl(#[from] InvalidUrl),
    /// `siteId` is not the account of the path.
    #[error("siteId must be the account of the request path (or be left out)")]
    SiteIdMismatch,
    /// `certificationId` names no certificate of the account (or one being deleted).
    #[error("certificationId {certificate_id} is not a certificate of this account")]
    CertificateNotFound {
        /// The id given.
        certificate_id: u64,
    },
    /// Another mapping of the account has this name.
    #[error("a mapping named {name:?} already exists in this account")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// Another mapping of the account has this service and URL.
    #[error("service {service_name} already has a mapping for {url} in this account")]
    DuplicateRoute {
        /// The service code.
        service_code: u32,
        /// The service name.
        service_name: String,
        /// The normalised URL.
        url: String,
    },
    /// No mapping with this id in the account.
    #[error("no such mapping in this account")]
    NotFound,
    /// `If-Match` names a revision that is no longer current.
    #[error("the mapping has changed since that revision; read it again and retry")]
    StaleRevision,
    /// Another update of the same mapping won the write.
    #[error("the mapping changed while this update ran; read it again and retry")]
    ConcurrentUpdate,
    /// Two new random ids collided: astronomically rare, and safe to retry.
    #[error("a concurrent change won; retry the request")]
    IdCollision,
    /// An error about item `index` of a create batch.
    #[error("item {index}: {source}")]
    InItem {
        /// The item's position in the body.
        index: usize,
        /// What was wrong with it.
        source: Box<MappingError>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system had no randomness for a new id.
    #[error("no randomness for a mapping id: {reason}")]
    NoRandomness {
        /// The system's error.
        reason: String,
    },
    /// A record could not be encoded as JSON.
    #[error("could not encode a mapping value: {reason}")]
    Encode {
        /// serde's error.
        reason: String,
    },
}

/// Why a mapping or lookup URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidUrl {
    /// Longer than `max` bytes.
    #[error("url is longer than {max} bytes")]
    TooLong {
        /// [`crate::mappings::MAX_URL_BYTES`].
        max: usize,
    },
    /// The SDK's normalisation refused it.
    #[error("url: {reason}")]
    Refused {
        /// The SDK's reason.
        reason: String,
    },
}

impl MappingError {
    /// This error as one about item `index` of a batch.
    pub(crate) fn in_item(self, index: usize) -> Self {
        Self::InItem { index, source: Box::new(self) }
    }
}
