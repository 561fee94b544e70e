//! Failures of the call to the target, classified for the 424 answer of SPEC section 6
//! (`LP-error-from-transport`: `dns`, `connect`, `tls`, `timeout`, `io`), and the refusals that
//! happen before anything is sent.
//!
//! Messages are short, fixed phrases plus the target's origin (scheme, host, port): never the
//! path or query (which may carry tokens), never an error's own text (which may quote data).

use std::error::Error as StdError;
use std::io;

use super::guard::GuardError;

/// The failure kinds callers see in `LP-error-from-transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The target name did not resolve.
    Dns,
    /// TCP connection refused, reset or unreachable.
    Connect,
    /// TLS handshake failed: bad server certificate, or the target refused ours.
    Tls,
    /// Connect timeout, or the target left the forwarder waiting for its response head.
    Timeout,
    /// The connection broke while the request or response was in flight.
    Io,
}

impl TransportKind {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Io => "io",
        }
    }
}

/// Why a forward did not produce a target response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// The target address is in a refused range (403 `target_not_allowed`).
    #[error("target {origin} resolves to an address that is not allowed")]
    TargetNotAllowed {
        /// scheme://host:port of the target.
        origin: String,
    },
    /// The call to the target failed (424).
    #[error("{origin}: {message}")]
    Transport {
        /// The failure kind.
        kind: TransportKind,
        /// scheme://host:port of the target.
        origin: String,
        /// A short fixed phrase.
        message: &'static str,
    },
    /// The request body went over `MTLS_MAX_BODY_BYTES` while streaming (413).
    #[error("request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The caller's request body sent nothing for `MTLS_FORWARD_TIMEOUT_MS` before the target
    /// answered (408).
    #[error("request body sent nothing for {timeout:?}")]
    RequestBodyStalled {
        /// The idle timeout.
        timeout: std::time::Duration,
    },
    /// The mapped certificate's key or chain could not be turned into a TLS identity (500).
    #[error("certificate {certificate_id} could not be loaded for TLS")]
    BadClientMaterial {
        /// Certificate id.
        certificate_id: u64,
    },
}

/// What went wrong on the way to a target response, before classification.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Refused before anything was sent (an unusable certificate).
    Refused(ForwardError),
    /// The guard refused the target or its name did not resolve.
    Guard(GuardError),
    /// The connect timeout passed, or the target left the forwarder waiting for its answer.
    Timeout,
    /// TCP connect or the TLS handshake failed.
    Connect(io::Error),
    /// The exchange over an established connection failed (a hyper error, or under TLS 1.3 the
    /// target's alert refusing the client certificate, which arrives after the handshake).
    Exchange(Box<dyn StdError + Send + Sync>),
}

impl Failure {
    /// The error itself, for the log (none of these carry request data).
    pub(crate) fn as_error(&self) -> &(dyn StdError + 'static) {
        match self {
            Self::Refused(e) => e,
            Self::Guard(e) => e,
            Self::Timeout => &TimedOut,
            Self::Connect(e) => e,
            Self::Exchange(e) => e.as_ref(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("timed out")]
struct TimedOut;

/// The 424 message when the target refused the handshake and no mapping had matched, so no
/// client certificate was presented: not to be read as a refusal of a certificate.
pub(crate) const NO_CERTIFICATE_PRESENTED: &str =
    "target requires a client certificate; none was presented because no mapping matched";
/// Like [`NO_CERTIFICATE_PRESENTED`] for a target that ended the handshake without saying why.
pub(crate) const HANDSHAKE_ENDED_WITHOUT_CERTIFICATE: &str =
    "target ended the TLS handshake; no client certificate was presented because no mapping matched";

/// Classifies a failure of the call to `origin`; `presented` tells whether a client certificate
/// was offered (false when no mapping matched).
pub(crate) fn classify(failure: &Failure, origin: &str, presented: bool) -> ForwardError {
    let transport = |kind, message| ForwardError::Transport { kind, origin: origin.to_owned(), message };
    let error = match failure {
        Failure::Refused(refused) => return refused.clone(),
        Failure::Guard(GuardError::NotAllowed { .. }) => {
            return ForwardError::TargetNotAllowed { origin: origin.to_owned() };
        }
        Failure::Guard(GuardError::Dns) => return transport(TransportKind::Dns, "name does not resolve"),
        Failure::Timeout => return transport(TransportKind::Timeout, "timed out"),
        Failure::Connect(error) => error as &(dyn StdError + 'static),
        Failure::Exchange(error) => error.as_ref() as &(dyn StdError + 'static),
    };
    let mut connect_refused = false;
    let mut tls_alert = None;
    let mut tls_other = false;
    for cause in causes(error) {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            match tls {
                rustls::Error::AlertReceived(alert) => tls_alert = Some(*alert),
                _ => tls_other = true,
            }
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable
                | io::ErrorKind::AddrNotAvailable => connect_refused = true,
                io::ErrorKind::TimedOut => return transport(TransportKind::Timeout, "timed out"),
                _ => {}
            }
        }
    }
    if let Some(alert) = tls_alert {
        use rustls::AlertDescription as A;
        let about_certificate = matches!(
            alert,
            A::CertificateRequired | A::BadCertificate | A::UnknownCA | A::CertificateUnknown
                | A::CertificateRevoked | A::CertificateExpired | A::AccessDenied
                | A::UnsupportedCertificate
        );
        let message = match (about_certificate, presented) {
            (true, true) => "target refused the client certificate",
            (true, false) => NO_CERTIFICATE_PRESENTED,
            // TLS 1.2 servers (OpenSSL) answer a missing certificate with handshake_failure.
            (false, false) if alert == A::HandshakeFailure => HANDSHAKE_ENDED_WITHOUT_CERTIFICATE,
            (false, _) => "target ended the TLS handshake",
        };
        return transport(TransportKind::Tls, message);
    }
    if tls_other {
        return transport(TransportKind::Tls, "TLS handshake failed (target certificate not trusted or invalid)");
    }
    if connect_refused {
        return transport(TransportKind::Connect, "connection refused");
    }
    match failure {
        Failure::Connect(_) => transport(TransportKind::Connect, "connection failed"),
        _ => transport(TransportKind::Io, "connection to the target broke"),
    }
}

/// `error`, its sources, and the errors wrapped inside `io::Error`s: tokio-rustls wraps rustls
/// errors in io::Error (sometimes twice), and `io::Error::source` skips the wrapped error itself.
pub(super) fn causes<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut found = Vec::new();
    let mut pending = vec![error];
    while let Some(e) = pending.pop() {
        if found.len() > 32 {
            break; // a cycle would be a bug elsewhere; do not loop on it
        }
        found.push(e);
        if let Some(inner) = e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            pending.push(inner);
        }
        if let Some(source) = e.source() {
            pending.push(source);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_stable_names_and_messages_name_the_origin_only() {
        let names: Vec<&str> = [
            TransportKind::Dns,
            TransportKind::Connect,
            TransportKind::Tls,
            TransportKind::Timeout,
            TransportKind::Io,
        ]
        .iter()
        .map(|k| k.as_str())
        .collect();
        assert_eq!(names, ["dns", "connect", "tls", "timeout", "io"]);
        let e = ForwardError::Transport {
            kind: TransportKind::Dns,
            origin: "https://t.example:8443".into(),
            message: "name does not resolve",
        };
        assert_eq!(e.to_string(), "https://t.example:8443: name does not resolve");
        assert_eq!(
            ForwardError::BodyTooLarge { limit: 10 }.to_string(),
            "request body is larger than 10 bytes"
        );
        assert_eq!(
            ForwardError::RequestBodyStalled { timeout: std::time::Duration::from_millis(500) }.to_string(),
            "request body sent nothing for 500ms"
        );
    }

    const ORIGIN: &str = "https://t.example:443";

    fn kind_and_message(failure: Failure) -> (TransportKind, &'static str) {
        match classify(&failure, ORIGIN, true) {
            ForwardError::Transport { kind, origin, message } => {
                assert_eq!(origin, ORIGIN);
                (kind, message)
            }
            other => panic!("not a transport error: {other:?}"),
        }
    }

    /// rustls errors reach the client inside io::Errors (tokio-rustls), sometimes twice.
    fn tls_io(error: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, io::Error::new(io::ErrorKind::InvalidData, error))
    }

    #[test]
    fn failures_are_classified_by_kind() {
        use rustls::AlertDescription as A;
        let refused = classify(&Failure::Guard(GuardError::NotAllowed { address: [10, 0, 0, 1].into() }), ORIGIN, true);
        assert_eq!(refused, ForwardError::TargetNotAllowed { origin: ORIGIN.into() });
        assert_eq!(kind_and_message(Failure::Guard(GuardError::Dns)).0, TransportKind::Dns);
        assert_eq!(kind_and_message(Failure::Timeout).0, TransportKind::Timeout);
        assert_eq!(
            kind_and_message(Failure::Connect(io::ErrorKind::ConnectionRefused.into())),
            (TransportKind::Connect, "connection refused")
        );
        assert_eq!(
            kind_and_message(Failure::Connect(io::ErrorKind::ConnectionReset.into())),
            (TransportKind::Connect, "connection failed")
        );
        assert_eq!(kind_and_message(Failure::Connect(io::ErrorKind::TimedOut.into())).0, TransportKind::Timeout);
        // TLS 1.2: the target's alert ends the handshake.
        assert_eq!(
            kind_and_message(Failure::Connect(tls_io(rustls::Error::AlertReceived(A::BadCertificate)))),
            (TransportKind::Tls, "target refused the client certificate")
        );
        assert_eq!(
            kind_and_message(Failure::Connect(tls_io(rustls::Error::AlertReceived(A::HandshakeFailure)))),
            (TransportKind::Tls, "target ended the TLS handshake")
        );
        let untrusted = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(kind_and_message(Failure::Connect(tls_io(untrusted))).0, TransportKind::Tls);
        // TLS 1.3: the alert arrives with the first read after the handshake.
        let alert = tls_io(rustls::Error::AlertReceived(A::CertificateRequired));
        assert_eq!(
            kind_and_message(Failure::Exchange(Box::new(alert))),
            (TransportKind::Tls, "target refused the client certificate")
        );
        assert_eq!(
            kind_and_message(Failure::Exchange(Box::new(io::Error::from(io::ErrorKind::UnexpectedEof)))),
            (TransportKind::Io, "connection to the target broke")
        );
    }

    /// A target refusing the handshake when no mapping matched is not told as a refusal of a
    /// certificate: none was presented.
    #[test]
    fn a_refusal_without_a_certificate_says_no_mapping_matched() {
        use rustls::AlertDescription as A;
        let classify_unpresented = |failure: Failure| match classify(&failure, ORIGIN, false) {
            ForwardError::Transport { kind, message, .. } => (kind, message),
            other => panic!("not a transport error: {other:?}"),
        };
        for alert in [A::CertificateRequired, A::BadCertificate, A::UnknownCA] {
            assert_eq!(
                classify_unpresented(Failure::Exchange(Box::new(tls_io(rustls::Error::AlertReceived(alert))))),
                (TransportKind::Tls, NO_CERTIFICATE_PRESENTED)
            );
            assert_eq!(
                classify_unpresented(Failure::Connect(tls_io(rustls::Error::AlertReceived(alert)))),
                (TransportKind::Tls, NO_CERTIFICATE_PRESENTED)
            );
        }
        assert_eq!(
            classify_unpresented(Failure::Connect(tls_io(rustls::Error::AlertReceived(A::HandshakeFailure)))),
            (TransportKind::Tls, HANDSHAKE_ENDED_WITHOUT_CERTIFICATE)
        );
        assert_eq!(
            classify_unpresented(Failure::Connect(tls_io(rustls::Error::AlertReceived(A::ProtocolVersion)))),
            (TransportKind::Tls, "target ended the TLS handshake")
        );
        // With a certificate presented, handshake_failure stays a plain handshake failure.
        assert_eq!(
            kind_and_message(Failure::Connect(tls_io(rustls::Error::AlertReceived(A::HandshakeFailure)))),
            (TransportKind::Tls, "target ended the TLS handshake")
        );
        assert_ne!(NO_CERTIFICATE_PRESENTED, "target refused the client certificate");
    }
}
