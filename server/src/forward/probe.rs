//! Handshake probe (SPEC section 12): connect to a target exactly as forwarding would, complete
//! the TLS handshake, send `HEAD` for the URL, and explain what happened.
//!
//! Entry point: [`probe`], called by `http::probe` after it authorized the caller, parsed the URL
//! and chose the certificate (the runtime mapping, as forwarding chooses it, or the one the caller
//! named). Same path as a forwarded request: the guard's checked addresses
//! ([`TargetGuard::addresses`](super::TargetGuard::addresses)), `MTLS_FORWARD_CONNECT_TIMEOUT_MS`
//! over resolution, TCP and TLS, the same roots, crypto provider and protocol versions, and
//! `MTLS_FORWARD_TIMEOUT_MS` for the response head. The connection is new and never pooled:
//! only a fresh handshake shows what the target asks for.
//!
//! What forwarding cannot see, the probe records through two rustls hooks:
//! - a [`ResolvesClientCert`] that rustls calls only when the target sends a CertificateRequest,
//!   with the acceptable issuers the request lists (RFC 8446 4.2.4 `certificate_authorities`,
//!   RFC 5246 7.4.4); it presents the chosen certificate whatever the list says, as forwarding
//!   does;
//! - a [`ServerCertVerifier`] that delegates to rustls's WebPKI verifier (the one
//!   `with_root_certificates` builds) and keeps the target's certificate and the reason it was
//!   refused.
//!
//! The caller's duties: run on an actix worker (the connection's task is spawned on it). Nothing
//! here logs or returns key material; the report holds names, dates and fingerprints only.

use std::sync::{Arc, Mutex, MutexGuard};

use der::{Decode as _, Encode as _};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::body::RequestBody;
use super::guard::GuardError;
use super::pool::ClientSettings;
use super::transport_error::{causes, Failure};
use crate::certificates::ClientMaterial;

/// Acceptable issuers reported at most (a CertificateRequest may list hundreds); the chain is
/// matched against all of them.
pub(crate) const MAX_ACCEPTABLE_ISSUERS: usize = 100;

/// The answer of `POST /mtls/account/{a}/probe` (SPEC section 12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProbeReport {
    /// True when nothing went wrong: the certificate was requested, presented and accepted,
    /// and the target answered `HEAD`.
    pub ok: bool,
    /// The normalised URL probed.
    pub url: String,
    /// The certificate presented (or that would have been), `None` when none.
    pub certificate_id: Option<u64>,
    /// What the TLS handshake showed; `None` when it never started (DNS, TCP, plain HTTP).
    pub tls: Option<TlsFacts>,
    /// The target sent a CertificateRequest.
    pub client_certificate_requested: bool,
    /// The issuers that request named (RFC 4514), in its order; empty when it named none.
    pub acceptable_issuers: Vec<String>,
    /// The status of the target's answer to `HEAD`, when it answered.
    pub http_status: Option<u16>,
    /// What went wrong first, `None` when `ok`.
    pub problem: Option<Problem>,
}

/// The negotiated TLS session and the target's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TlsFacts {
    /// `TLSv1.3` or `TLSv1.2`; `None` when the handshake did not complete.
    pub version: Option<String>,
    /// IANA name, for example `TLS_AES_256_GCM_SHA384`; `None` when the handshake did not
    /// complete.
    pub cipher_suite: Option<String>,
    /// The target's leaf certificate, also when it was not trusted.
    pub server_certificate: Option<ServerCertificate>,
}

/// Facts of the target's leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerCertificate {
    /// RFC 4514.
    pub subject: String,
    /// RFC 4514.
    pub issuer: String,
    /// RFC 3339 UTC.
    pub not_after: String,
    /// SHA-256 of the DER, lower-case hex.
    pub fingerprint_sha256: String,
}

/// Why a probe is not `ok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Problem {
    /// Stable snake_case code.
    pub code: ProblemCode,
    /// What happened, and what to do, in plain words.
    pub message: String,
    /// Why the target's certificate was refused (`server_certificate_untrusted` only):
    /// `unknown_issuer`, `expired`, `not_valid_yet`, `name_mismatch`, `revoked`,
    /// `wrong_purpose`, `bad_signature`, `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The TLS alert the target sent (RFC 8446 6 name, for example `unknown_ca`), when one
    /// ended the exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
}

/// The problem codes of SPEC section 12, plus `tls` and `io` for failures none of them names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProblemCode {
    /// No mapping matched and no certificate was named: no certificate would be presented.
    NoMapping,
    /// The target name does not resolve.
    Dns,
    /// TCP connection refused or failed.
    Connect,
    /// The connect timeout passed, or the target did not answer `HEAD` in time.
    Timeout,
    /// The target's certificate is not trusted (see [`Problem::reason`]).
    ServerCertificateUntrusted,
    /// The handshake completed without the target asking for a client certificate.
    ClientCertificateNotRequested,
    /// The target listed acceptable issuers and the certificate's chain has none of them.
    IssuerNotAccepted,
    /// The target refused the certificate (see [`Problem::alert`]).
    ClientCertificateRejected,
    /// The handshake failed before any certificate was asked for (protocol, cipher, alert).
    Tls,
    /// The connection broke after the handshake.
    Io,
}

/// Why no report could be made; these refusals are forwarding's (SPEC section 6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ProbeError {
    /// The target address is in a refused range (403 `target_not_allowed`, as forwarding).
    #[error("target {origin} resolves to an address that is not allowed")]
    TargetNotAllowed {
        /// scheme://host:port of the target.
        origin: String,
    },
    /// The certificate's key or chain could not be turned into a TLS identity (500).
    #[error("certificate {certificate_id} could not be loaded for TLS")]
    BadClientMaterial {
        /// Certificate id.
        certificate_id: u64,
    },
    /// rustls refused the probe's TLS settings (a bug: forwarding's were accepted at start).
    #[error("probe TLS settings refused: {reason}")]
    TlsSettings {
        /// rustls's message.
        reason: String,
    },
}

/// Connects to `url` as forwarding would, presenting `material` (when given), and reports.
///
/// # Errors
/// [`ProbeError`]: the guard refused the target, or the certificate is unusable for TLS.
pub(crate) async fn probe(
    settings: &ClientSettings,
    url: &mtls_sdk::NormalizedUrl,
    material: Option<&ClientMaterial>,
) -> Result<ProbeReport, ProbeError> {
    let observed = Arc::new(Mutex::new(Observed::default()));
    let tls = build_tls(settings, material, &observed)?;
    let outcome = exchange(settings, url, tls).await;
    if let Some(Failure::Guard(GuardError::NotAllowed { .. })) = &outcome.failure {
        return Err(ProbeError::TargetNotAllowed { origin: url.origin() });
    }
    let observed = std::mem::take(&mut *lock(&observed));
    let report = explain(url, material, observed, outcome);
    if let Some(problem) = &report.problem {
        tracing::info!(origin = %url.origin(), problem = ?problem.code, "probe found a problem");
    }
    Ok(report)
}

/// What the handshake hooks saw.
#[derive(Debug, Default)]
struct Observed {
    client_certificate_requested: bool,
    /// DER `Name`s, as the CertificateRequest carried them (all of them: a TLS message bounds
    /// the list; the report shows the first [`MAX_ACCEPTABLE_ISSUERS`]).
    acceptable_issuers: Vec<Vec<u8>>,
    server_certificate: Option<Vec<u8>>,
    untrusted: Option<CertificateError>,
}

/// How far the exchange got, and what stopped it.
#[derive(Default)]
struct Outcome {
    version: Option<String>,
    cipher_suite: Option<String>,
    /// TCP and TLS (when https) completed.
    connected: bool,
    http_status: Option<u16>,
    failure: Option<Failure>,
}

/// Guard, TCP and TLS within the connect timeout, then `HEAD` within the forward timeout.
async fn exchange(settings: &ClientSettings, url: &mtls_sdk::NormalizedUrl, tls: Arc<ClientConfig>) -> Outcome {
    let connect = async {
        let addresses = settings.guard.addresses(url.host(), url.port()).await.map_err(Failure::Guard)?;
        let tcp = super::connect::connect_any(&addresses).await.map_err(Failure::Connect)?;
        if url.scheme() != "https" {
            return Ok(Connected::Plain(tcp));
        }
        let host = url.host();
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let name = ServerName::try_from(host)
            .map_err(|_| {
                Failure::Connect(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a valid TLS server name"))
            })?
            .to_owned();
        let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(Failure::Connect)?;
        Ok(Connected::Tls(Box::new(stream)))
    };
    let connected = match tokio::time::timeout(settings.connect_timeout, connect).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(failure)) => return Outcome { failure: Some(failure), ..Outcome::default() },
        Err(_) => return Outcome { failure: Some(Failure::Timeout), ..Outcome::default() },
    };
    let mut outcome = Outcome { connected: true, ..Outcome::default() };
    let started = match connected {
        Connected::Plain(tcp) => super::connect::start(TokioIo::new(tcp)).await,
        Connected::Tls(stream) => {
            let session = stream.get_ref().1;
            outcome.version = session.protocol_version().map(version_name);
            outcome.cipher_suite = session.negotiated_cipher_suite().map(|suite| cipher_suite_name(suite.suite()));
            super::connect::start(TokioIo::new(*stream)).await
        }
    };
    let mut sender = match started {
        Ok(sender) => sender,
        Err(failure) => {
            outcome.failure = Some(failure);
            return outcome;
        }
    };
    let request = http::Request::builder()
        .method(http::Method::HEAD)
        .uri(url.path_and_query())
        .header(http::header::HOST, url.authority())
        .body(RequestBody::Empty);
    let request = match request {
        Ok(request) => request,
        Err(error) => {
            outcome.failure = Some(Failure::Exchange(error.into()));
            return outcome;
        }
    };
    match tokio::time::timeout(settings.idle_timeout, sender.send_request(request)).await {
        Ok(Ok(response)) => outcome.http_status = Some(response.status().as_u16()),
        Ok(Err(error)) => outcome.failure = Some(Failure::Exchange(error.into())),
        Err(_) => outcome.failure = Some(Failure::Timeout),
    }
    outcome
}

enum Connected {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

/// What a failure says, read through the wrapped errors.
#[derive(Debug, Default, PartialEq, Eq)]
struct FailureFacts {
    alert: Option<AlertDescription>,
    /// A TLS error other than an alert or a refused server certificate.
    other_tls: bool,
    connect_refused: bool,
    timed_out: bool,
}

fn facts(failure: &Failure) -> FailureFacts {
    let mut facts = FailureFacts::default();
    let error = match failure {
        Failure::Timeout => {
            facts.timed_out = true;
            return facts;
        }
        Failure::Refused(_) | Failure::Guard(_) => return facts,
        Failure::Connect(error) => error as &(dyn std::error::Error + 'static),
        Failure::Exchange(error) => error.as_ref() as &(dyn std::error::Error + 'static),
    };
    for cause in causes(error) {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            match tls {
                rustls::Error::AlertReceived(alert) => facts.alert = Some(*alert),
                rustls::Error::InvalidCertificate(_) => {}
                _ => facts.other_tls = true,
            }
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::HostUnreachable
                | std::io::ErrorKind::NetworkUnreachable
                | std::io::ErrorKind::AddrNotAvailable => facts.connect_refused = true,
                std::io::ErrorKind::TimedOut => facts.timed_out = true,
                _ => {}
            }
        }
    }
    facts
}

/// The report: the first thing that went wrong on the way, in the order a connection meets
/// them (see `first_problem`).
fn explain(
    url: &mtls_sdk::NormalizedUrl,
    material: Option<&ClientMaterial>,
    observed: Observed,
    outcome: Outcome,
) -> ProbeReport {
    let server_certificate = observed.server_certificate.as_deref().and_then(server_certificate);
    let tls = (outcome.version.is_some() || server_certificate.is_some()).then(|| TlsFacts {
        version: outcome.version.clone(),
        cipher_suite: outcome.cipher_suite.clone(),
        server_certificate,
    });
    let chain_matches = material.is_none_or(|m| chain_has_issuer(&m.certificate_chain, &observed.acceptable_issuers));
    let problem = first_problem(&Findings {
        origin: url.origin(),
        connected: outcome.connected,
        presented: material.is_some(),
        requested: observed.client_certificate_requested,
        issuers_listed: !observed.acceptable_issuers.is_empty(),
        chain_matches,
        untrusted: observed.untrusted.as_ref(),
        failure: outcome.failure.as_ref(),
    });
    ProbeReport {
        ok: problem.is_none(),
        url: url.as_str().to_owned(),
        certificate_id: material.map(|m| m.certificate_id),
        tls,
        client_certificate_requested: observed.client_certificate_requested,
        acceptable_issuers: observed
            .acceptable_issuers
            .iter()
            .take(MAX_ACCEPTABLE_ISSUERS)
            .map(|der| name_text(der))
            .collect(),
        http_status: outcome.http_status,
        problem,
    }
}

/// Everything the problem depends on.
struct Findings<'a> {
    origin: String,
    connected: bool,
    presented: bool,
    requested: bool,
    issuers_listed: bool,
    chain_matches: bool,
    untrusted: Option<&'a CertificateError>,
    failure: Option<&'a Failure>,
}

/// Order: what stops the connection (DNS, TCP, timeout before the handshake, the target's
/// certificate, another handshake failure), then the client certificate (none to present, not
/// requested, issuer not accepted, refused), then what broke after the handshake.
fn first_problem(f: &Findings<'_>) -> Option<Problem> {
    let origin = &f.origin;
    let problem = |code, message: String| Some(Problem { code, message, reason: None, alert: None });
    let failure_facts = f.failure.map(facts).unwrap_or_default();
    let alert = failure_facts.alert;
    if let Some(Failure::Guard(GuardError::Dns)) = f.failure {
        return problem(ProblemCode::Dns, format!("{origin}: the name does not resolve"));
    }
    if let Some(error) = f.untrusted {
        let (reason, why) = untrusted_reason(error);
        return Some(Problem {
            code: ProblemCode::ServerCertificateUntrusted,
            message: format!("{origin}: the target's certificate is not trusted: {why}"),
            reason: Some(reason),
            alert: None,
        });
    }
    if !f.connected && alert.is_none() {
        if failure_facts.timed_out {
            return problem(ProblemCode::Timeout, format!("{origin}: no connection within MTLS_FORWARD_CONNECT_TIMEOUT_MS"));
        }
        if failure_facts.other_tls {
            return problem(ProblemCode::Tls, format!("{origin}: the TLS handshake failed"));
        }
        let why = if failure_facts.connect_refused { "connection refused" } else { "connection failed" };
        return problem(ProblemCode::Connect, format!("{origin}: {why}"));
    }
    let alert_name = alert.map(alert_name);
    let with_alert = |code, message: String| {
        Some(Problem { code, message, reason: None, alert: alert_name.clone() })
    };
    if let (Some(name), false) = (&alert_name, f.requested) {
        return with_alert(
            ProblemCode::Tls,
            format!("{origin}: the target ended the TLS handshake (alert {name}) before asking for a client certificate"),
        );
    }
    if !f.presented {
        let message = match (&alert_name, f.requested) {
            (Some(name), _) => format!(
                "no mapping matched this account, service and URL (or its certificate is not \
                 available), so no client certificate was presented; the target requires one \
                 (alert {name})"
            ),
            (None, true) => "no mapping matched this account, service and URL (or its \
                 certificate is not available), so no client certificate was presented; the target \
                 asked for one"
                .to_owned(),
            (None, false) => "no mapping matched this account, service and URL (or its \
                 certificate is not available): no client certificate would be presented (the \
                 target did not ask for one either)"
                .to_owned(),
        };
        return with_alert(ProblemCode::NoMapping, message);
    }
    if !f.requested {
        return problem(
            ProblemCode::ClientCertificateNotRequested,
            format!("{origin}: the target completed the handshake without asking for a client certificate"),
        );
    }
    if f.issuers_listed && !f.chain_matches {
        return with_alert(
            ProblemCode::IssuerNotAccepted,
            format!(
                "{origin}: the target accepts certificates of the issuers in acceptableIssuers and \
                 this certificate's chain has none of them; use a certificate from one of them"
            ),
        );
    }
    if let Some(name) = &alert_name {
        return with_alert(
            ProblemCode::ClientCertificateRejected,
            format!("{origin}: the target refused the client certificate (alert {name})"),
        );
    }
    match f.failure {
        None => None,
        Some(_) if failure_facts.timed_out => {
            problem(ProblemCode::Timeout, format!("{origin}: no answer to HEAD within MTLS_FORWARD_TIMEOUT_MS"))
        }
        Some(_) => problem(ProblemCode::Io, format!("{origin}: the connection broke before the answer to HEAD")),
    }
}

/// True when a certificate of `chain` was issued by, or is, one of `issuers` (DER names).
fn chain_has_issuer(chain: &[Vec<u8>], issuers: &[Vec<u8>]) -> bool {
    chain.iter().filter_map(|der| x509_cert::Certificate::from_der(der).ok()).any(|cert| {
        let tbs = cert.tbs_certificate();
        [tbs.issuer(), tbs.subject()]
            .into_iter()
            .filter_map(|name| name.to_der().ok())
            .any(|name| issuers.contains(&name))
    })
}

fn server_certificate(der: &[u8]) -> Option<ServerCertificate> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let tbs = cert.tbs_certificate();
    let not_after = i64::try_from(tbs.validity().not_after.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    Some(ServerCertificate {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        not_after: crate::clock::format_rfc3339(not_after),
        fingerprint_sha256: hex::encode(Sha256::digest(der)),
    })
}

/// RFC 4514 text of a DER name; the hex of what does not parse (it came from the target).
fn name_text(der: &[u8]) -> String {
    match x509_cert::name::Name::from_der(der) {
        Ok(name) => name.to_string(),
        Err(_) => format!("unparsable name {}", hex::encode(der)),
    }
}

fn version_name(version: rustls::ProtocolVersion) -> String {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
        other => format!("{other:?}"),
    }
}

/// The IANA registry name: rustls names TLS 1.3 suites `TLS13_*` where the registry (RFC 8446
/// B.4) says `TLS_*`; TLS 1.2 names are the registry's already.
fn cipher_suite_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => name.strip_prefix("TLS13_").map_or_else(|| name.to_owned(), |rest| format!("TLS_{rest}")),
        None => format!("0x{:04x}", u16::from(suite)),
    }
}

/// A short reason code and its words.
fn untrusted_reason(error: &CertificateError) -> (&'static str, &'static str) {
    use CertificateError as E;
    match error {
        E::UnknownIssuer => (
            "unknown_issuer",
            "issued by a certificate authority the gateway does not trust (add it with MTLS_EXTRA_TARGET_CA_FILE)",
        ),
        E::Expired | E::ExpiredContext { .. } => ("expired", "it has expired"),
        E::NotValidYet | E::NotValidYetContext { .. } => ("not_valid_yet", "it is not valid yet"),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            ("name_mismatch", "it is not valid for the URL's host name")
        }
        E::Revoked => ("revoked", "it has been revoked"),
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
            ("wrong_purpose", "it is not issued for TLS server authentication")
        }
        E::BadSignature | E::UnsupportedSignatureAlgorithmContext { .. } => {
            ("bad_signature", "its signature does not verify")
        }
        _ => ("invalid", "it is malformed or breaks a rule of RFC 5280"),
    }
}

/// The RFC 8446 section 6 name of `alert`.
fn alert_name(alert: AlertDescription) -> String {
    let name = match u8::from(alert) {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        other => return format!("alert_{other}"),
    };
    name.to_owned()
}

fn lock(observed: &Mutex<Observed>) -> MutexGuard<'_, Observed> {
    observed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// === TLS settings ===

/// Forwarding's TLS settings (roots, provider, versions, ALPN; see `pool::build_tls`) with the
/// two recording hooks.
fn build_tls(
    settings: &ClientSettings,
    material: Option<&ClientMaterial>,
    observed: &Arc<Mutex<Observed>>,
) -> Result<Arc<ClientConfig>, ProbeError> {
    let provider = super::pool::tls_provider();
    let key = match material {
        None => None,
        Some(material) => {
            let certificate_id = material.certificate_id;
            let chain: Vec<CertificateDer<'static>> =
                material.certificate_chain.iter().map(|der| CertificateDer::from(der.clone())).collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(material.private_key_pkcs8.to_vec()));
            let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|reason| {
                tracing::error!(certificate_id, %reason, "unusable client certificate");
                ProbeError::BadClientMaterial { certificate_id }
            })?;
            Some(Arc::new(certified))
        }
    };
    let inner = WebPkiServerVerifier::builder_with_provider(settings.roots.clone(), provider.clone())
        .build()
        .map_err(|reason| ProbeError::TlsSettings { reason: reason.to_string() })?;
    let verifier = Arc::new(RecordingVerifier { inner, observed: observed.clone() });
    let resolver = Arc::new(RecordingResolver { key, observed: observed.clone() });
    let mut tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|reason| ProbeError::TlsSettings { reason: reason.to_string() })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(resolver);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

/// Presents the chosen certificate (as forwarding does, whatever the issuer list says) and
/// records that the target asked, with the issuers it named.
struct RecordingResolver {
    key: Option<Arc<CertifiedKey>>,
    observed: Arc<Mutex<Observed>>,
}

impl std::fmt::Debug for RecordingResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingResolver").field("has_key", &self.key.is_some()).finish_non_exhaustive()
    }
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(&self, root_hint_subjects: &[&[u8]], _sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let mut observed = lock(&self.observed);
        observed.client_certificate_requested = true;
        observed.acceptable_issuers = root_hint_subjects.iter().map(|name| name.to_vec()).collect();
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// rustls's WebPKI verification, recording the target's certificate and why it was refused.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    observed: Arc<Mutex<Observed>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let mut observed = lock(&self.observed);
        observed.server_certificate = Some(end_entity.to_vec());
        if let Err(rustls::Error::InvalidCertificate(error)) = &verified {
            observed.untrusted = Some(error.clone());
        }
        verified
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests;
