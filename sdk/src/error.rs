//! The one error type of the SDK (rules of section 2 report problems in a [`crate::P12Report`]
//! instead; this type is for API misuse and the builders).

/// Errors returned by SDK functions that do not produce a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL could not be normalised.
    #[error(transparent)]
    Url(#[from] crate::UrlError),
    /// A CSR could not be generated ([`crate::generate_csr`]).
    #[error(transparent)]
    Csr(#[from] crate::CsrError),
    /// A P12 could not be built ([`crate::build_p12`]).
    #[error(transparent)]
    P12Build(#[from] crate::P12BuildError),
}

impl Error {
    /// The stable snake_case code of this error, the same the server and the npm package use.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Url(_) => "invalid_url",
            Self::Csr(error) => error.code(),
            Self::P12Build(error) => error.code(),
        }
    }
}
