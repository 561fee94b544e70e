//! The one error type of the SDK (rules of section 2 report problems in a [`crate::P12Report`]
//! instead; this type is for API misuse and the builders).

/// Errors returned by SDK functions that do not produce a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL could not be normalised.
    #[error(transparent)]
    Url(#[from] crate::UrlError),
}
