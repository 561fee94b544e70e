//! Wrap and forward (SPEC section 6): send a caller's request to its target over TLS, presenting
//! the mapped client certificate, and hand back the target's response as a stream.
//!
//! Entry point: [`Forwarder::send`], called by `http::forward` after it authorized the caller,
//! parsed the `LP-*` headers and looked the mapping up in the runtime cache. Data flow:
//! target guard (IP literals here, names in the client's resolver, on the addresses actually
//! connected) → client pool (certificate version → `reqwest::Client` with its connections) →
//! streamed request and response. Failures are classified in [`transport_error`].

pub mod body;
pub mod guard;
pub mod headers;
pub mod pool;
pub mod transport_error;

use std::net::IpAddr;
use std::sync::Arc;

use crate::certificates::ClientMaterial;
use crate::config::Config;
pub use body::{stream_payload, BodyLimit};
pub use guard::{GuardError, TargetGuard};
pub use pool::{ClientPool, ClientSettings};
pub use transport_error::{ForwardError, TransportKind};

/// A request ready to go to the target.
pub struct Outgoing {
    /// Method (after `LP-method-override`).
    pub method: reqwest::Method,
    /// Target URL (`LP-forward-url`).
    pub url: reqwest::Url,
    /// Headers after the rules of [`headers::request_headers`].
    pub headers: reqwest::header::HeaderMap,
    /// The streamed body and its limit flag, when the caller sent one.
    pub body: Option<(reqwest::Body, BodyLimit)>,
}

/// Forwards requests; one per server, shared by all workers.
pub struct Forwarder {
    pool: ClientPool,
    guard: Arc<TargetGuard>,
    max_body_bytes: usize,
}

impl Forwarder {
    /// Builds the forwarder from the configuration: reads `MTLS_EXTRA_TARGET_CA_FILE` and builds
    /// the shared TLS settings once.
    ///
    /// # Errors
    /// The extra CA file cannot be read or holds no usable certificate (the message names the
    /// variable).
    pub fn new(config: &Config) -> Result<Self, String> {
        let extra = match &config.extra_target_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                format!("MTLS_EXTRA_TARGET_CA_FILE: cannot read {}: {e}", path.display())
            })?),
            None => None,
        };
        let roots = pool::root_store(extra.as_deref())
            .map_err(|e| format!("MTLS_EXTRA_TARGET_CA_FILE: {e}"))?;
        let guard = Arc::new(TargetGuard::new(config.allowed_target_cidrs.clone()));
        let pool = ClientPool::new(ClientSettings {
            roots: Arc::new(roots),
            guard: guard.clone(),
            connect_timeout: config.forward_connect_timeout,
            total_timeout: config.forward_timeout,
        })?;
        Ok(Self { pool, guard, max_body_bytes: config.max_body_bytes })
    }

    /// `MTLS_MAX_BODY_BYTES`.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The client pool (tests and metrics).
    pub fn pool(&self) -> &ClientPool {
        &self.pool
    }

    /// Sends `request`, presenting `material` when given, and returns the target's response
    /// head; its body is read as the caller reads it.
    ///
    /// # Errors
    /// [`ForwardError`]: refused target, transport failure, body over the limit, unusable
    /// certificate.
    pub async fn send(
        &self,
        material: Option<&ClientMaterial>,
        request: Outgoing,
    ) -> Result<reqwest::Response, ForwardError> {
        let origin = origin(&request.url);
        let literal: Option<IpAddr> = request
            .url
            .host_str()
            .and_then(|host| host.trim_start_matches('[').trim_end_matches(']').parse().ok());
        // IP literals are connected to without a resolver: check them here.
        if let Some(ip) = literal
            && self.guard.check_ip(ip).is_err()
        {
            return Err(ForwardError::TargetNotAllowed { origin });
        }
        let client = self.pool.client(material)?;
        let mut builder = client.request(request.method, request.url).headers(request.headers);
        let limit = match request.body {
            Some((body, limit)) => {
                builder = builder.body(body);
                Some(limit)
            }
            None => None,
        };
        match builder.send().await {
            Ok(response) => Ok(response),
            Err(_) if limit.as_ref().is_some_and(BodyLimit::exceeded) => {
                Err(ForwardError::BodyTooLarge { limit: self.max_body_bytes })
            }
            Err(error) => {
                let classified = transport_error::classify(&error, &origin);
                // The URL's path and query may carry tokens: keep them out of the log.
                let error = error.without_url();
                tracing::info!(%origin, error = %error_chain(&error), "forward failed");
                Err(classified)
            }
        }
    }

    /// Drops the clients and connections of certificate `id` (replaced or deleted).
    pub fn certificate_changed(&self, id: u64) {
        self.pool.forget_certificate(id);
    }
}

/// scheme://host:port of `url`: what messages may name (the path and query may carry secrets).
pub fn origin(url: &reqwest::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// The error and its causes for the log (transport errors carry no request data).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
