//! Wrap and forward (SPEC section 6): send a caller's request to its target over TLS, presenting
//! the mapped client certificate, and hand back the target's response as a stream.
//!
//! Entry point: [`Forwarder::send`], called by `http::forward` after it authorized the caller,
//! parsed the `LP-*` headers (the target URL once, by `mtls_sdk::parse_url`) and looked the
//! mapping up in the runtime cache. Data flow: the worker's connection pool ([`pool`]: per
//! certificate version, then per target) → on a miss, a new connection ([`connect`]: guard-checked
//! addresses, TCP, verified TLS presenting the certificate, HTTP/1.1 by hyper) → the request with
//! the caller's body streamed in ([`body::RequestBody`]) → the response head, whose body streams
//! back ([`body::ResponseBody`]) and returns the connection to the pool at its end. Failures are
//! classified in [`transport_error`]; when no mapping matched, a target's refusal says that no
//! certificate was presented. [`probe`] connects the same way for the handshake probe and
//! explains what the target asked for and did.
//!
//! Timeouts: connecting (`MTLS_FORWARD_CONNECT_TIMEOUT_MS`, in [`connect`]), and
//! `MTLS_FORWARD_TIMEOUT_MS` for every wait after that ([`idle`]): for the response head once
//! the request has stopped moving, and between the bytes of either body. None bounds a stream
//! that keeps moving, so a long upload or download at any steady pace goes through.

pub(crate) mod body;
pub(crate) mod config;
pub(crate) mod connect;
pub(crate) mod guard;
pub(crate) mod headers;
pub(crate) mod idle;
pub(crate) mod pool;
pub(crate) mod probe;
pub(crate) mod transport_error;

use std::future::Future;
use std::sync::Arc;

use crate::certificates::ClientMaterial;
pub(crate) use body::{CallerBodyState, RequestBody, ResponseBody};
pub(crate) use config::ForwardConfig;
pub(crate) use guard::TargetGuard;
pub(crate) use pool::{ClientPool, ClientSettings};
use transport_error::Failure;
pub(crate) use transport_error::{ForwardError, TransportKind};

/// A request ready to go to the target.
pub struct Outgoing {
    /// Method (after `LP-method-override`).
    pub method: http::Method,
    /// Target URL (`LP-forward-url`), normalised.
    pub url: mtls_sdk::NormalizedUrl,
    /// The request-target: the URL's path and query.
    pub target: http::Uri,
    /// Headers after the rules of [`headers::request_headers`] (`Host` is added from the URL).
    pub headers: http::HeaderMap,
    /// The body.
    pub body: RequestBody,
}

/// The target's answer: status and headers, and the body as the caller reads it.
pub struct TargetResponse {
    /// Status, headers.
    pub head: http::response::Parts,
    /// The streamed body.
    pub body: ResponseBody,
}

impl std::fmt::Debug for TargetResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetResponse").field("status", &self.head.status).finish_non_exhaustive()
    }
}

/// Forwards requests; one per server, shared by all workers.
pub struct Forwarder {
    pool: ClientPool,
    max_body_bytes: usize,
}

impl Forwarder {
    /// Builds the forwarder from its settings: reads `MTLS_EXTRA_TARGET_CA_FILE` and builds the
    /// shared TLS settings once; bodies are limited to `max_body_bytes` (`MTLS_MAX_BODY_BYTES`).
    ///
    /// # Errors
    /// The extra CA file cannot be read or holds no usable certificate (the message names the
    /// variable).
    pub fn new(config: &ForwardConfig, max_body_bytes: usize) -> Result<Self, String> {
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
            guard,
            connect_timeout: config.connect_timeout,
            idle_timeout: config.idle_timeout,
        })?;
        Ok(Self { pool, max_body_bytes })
    }

    /// `MTLS_MAX_BODY_BYTES`.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The caller's body as the request body to the target, with `MTLS_MAX_BODY_BYTES` and the
    /// idle timeout applied to it.
    pub fn caller_body(&self, payload: actix_web::web::Payload) -> RequestBody {
        RequestBody::caller(payload, self.max_body_bytes, self.pool.settings().idle_timeout)
    }

    /// The client pool (tests and metrics).
    pub fn pool(&self) -> &ClientPool {
        &self.pool
    }

    /// Sends `request`, presenting `material` when given, and returns the target's response
    /// head; its body is read as the caller reads it, which drives the connection on. Must run
    /// on an actix worker (connections are pooled per worker thread).
    ///
    /// # Errors
    /// [`ForwardError`]: refused target, transport failure, body over the limit, unusable
    /// certificate.
    pub async fn send(
        &self,
        material: Option<&ClientMaterial>,
        request: Outgoing,
    ) -> Result<TargetResponse, ForwardError> {
        let Outgoing { method, url, target, mut headers, body } = request;
        let caller = body.caller_state();
        if let Ok(host) = http::HeaderValue::from_str(url.authority()) {
            headers.insert(http::header::HOST, host);
        }
        let mut outgoing = http::Request::new(body);
        *outgoing.method_mut() = method;
        *outgoing.uri_mut() = target;
        *outgoing.headers_mut() = headers;

        let timeout = self.pool.settings().idle_timeout;
        // The wait for the response head, on the stack: the response body's idle timer
        // allocates its own only if the body ever has to wait (a small answer arrives with its
        // head and never does).
        let timer = tokio::time::sleep(timeout);
        tokio::pin!(timer);
        let worker = self.pool.worker();
        let key = ClientPool::key(material);
        // The connection is driven here, in the caller's task, while the response head is
        // awaited (see `connect`): its reads and writes wake this task and no other.
        let exchange = async {
            let mut outgoing = outgoing;
            loop {
                let (mut connection, reused) = match worker.take(key, url.base()) {
                    Some(connection) => (connection, true),
                    None => {
                        let tls = self.pool.tls(material).map_err(Failure::Refused)?;
                        (connect::open(self.pool.settings(), &url, tls).await?, false)
                    }
                };
                if reused && std::future::poll_fn(|cx| connection.poll_ready(cx)).await.is_err() {
                    continue; // closed while idle
                }
                let response = connection.sender.try_send_request(outgoing);
                tokio::pin!(response);
                let sent = std::future::poll_fn(|cx| {
                    // The driver first: it writes the request and reads the answer the response
                    // future then finds (or ends, failing the response future).
                    let _ = connection.poll_drive(cx);
                    response.as_mut().poll(cx)
                })
                .await;
                match sent {
                    Ok(response) => return Ok((response, connection)),
                    Err(mut error) => match error.take_message() {
                        // A reused connection closed before the request went out: another one.
                        Some(unsent) if reused => outgoing = unsent,
                        _ => return Err(Failure::Exchange(error.into_error().into())),
                    },
                }
            }
        };
        // The exchange borrows the worker and the URL: pinned in this block, it is gone before
        // they move into the lease.
        let outcome = {
            tokio::pin!(exchange);
            loop {
                tokio::select! {
                    biased;
                    outcome = &mut exchange => break outcome,
                    () = timer.as_mut() => {
                        // A request body still moving (or waiting for the caller) keeps the
                        // target's time from running out.
                        let now = tokio::time::Instant::now();
                        match caller.as_ref().map(|state| state.target_deadline(timeout)) {
                            Some(deadline) if deadline > now => timer.as_mut().reset(deadline),
                            _ => break Err(Failure::Timeout),
                        }
                    }
                }
            }
        };
        match outcome {
            Ok((response, connection)) => {
                let (head, incoming) = response.into_parts();
                let lease = pool::Lease { connection, worker, key, url };
                let idle = idle::IdleTimer::new(timeout);
                Ok(TargetResponse { head, body: ResponseBody::new(incoming, lease, idle) })
            }
            Err(Failure::Refused(refused)) => Err(refused),
            Err(_) if caller.as_ref().is_some_and(CallerBodyState::over_limit) => {
                Err(ForwardError::BodyTooLarge { limit: self.max_body_bytes })
            }
            Err(_) if caller.as_ref().is_some_and(CallerBodyState::stalled) => {
                Err(ForwardError::RequestBodyStalled { timeout })
            }
            Err(failure) => {
                // The origin only: the URL's path and query may carry tokens.
                let origin = url.origin();
                let classified = transport_error::classify(&failure, &origin, material.is_some());
                tracing::info!(%origin, error = %error_chain(failure.as_error()), "forward failed");
                Err(classified)
            }
        }
    }

    /// Drops the TLS settings and connections of certificate `id` (replaced or deleted).
    pub fn certificate_changed(&self, id: u64) {
        self.pool.forget_certificate(id);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::io;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn forwarder(allowed: &str) -> Forwarder {
        forwarder_with_timeout(allowed, std::time::Duration::from_secs(5))
    }

    fn forwarder_with_timeout(allowed: &str, total: std::time::Duration) -> Forwarder {
        let config = crate::config::Config::for_tests(std::env::temp_dir());
        let mut settings = config.forward;
        settings.allowed_target_cidrs = vec![allowed.parse().unwrap()];
        settings.connect_timeout = std::time::Duration::from_secs(2);
        settings.idle_timeout = total;
        Forwarder::new(&settings, config.max_body_bytes).unwrap()
    }

    fn get(url: &str) -> Outgoing {
        let url = mtls_sdk::parse_url(url, true).unwrap();
        let target = http::Uri::try_from(url.path_and_query()).unwrap();
        Outgoing { method: http::Method::GET, url, target, headers: http::HeaderMap::new(), body: RequestBody::Empty }
    }

    fn on_worker<F: std::future::Future>(future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        tokio::task::LocalSet::new().block_on(&runtime, future)
    }

    /// A plain HTTP/1.1 keep-alive target answering every request with `ok`; counts connections.
    async fn keep_alive_target() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                        buffer.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            buffer.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    async fn read_all(body: ResponseBody) -> Vec<u8> {
        body.map(|chunk| chunk.unwrap().to_vec()).concat().await
    }

    #[test]
    fn one_connection_serves_consecutive_requests() {
        on_worker(async {
            let (addr, accepted) = keep_alive_target().await;
            let forwarder = forwarder("127.0.0.0/8");
            for _ in 0..3 {
                let response = forwarder.send(None, get(&format!("http://{addr}/x?secret=1"))).await.unwrap();
                assert_eq!(response.head.status, 200);
                assert_eq!(response.body.content_length(), Some(2));
                assert_eq!(read_all(response.body).await, b"ok");
            }
            assert_eq!(accepted.load(Ordering::SeqCst), 1, "the connection was reused");

            // A response dropped before its end closes its connection instead of pooling it.
            let response = forwarder.send(None, get(&format!("http://{addr}/"))).await.unwrap();
            drop(response);
            let response = forwarder.send(None, get(&format!("http://{addr}/"))).await.unwrap();
            assert_eq!(read_all(response.body).await, b"ok");
            assert_eq!(accepted.load(Ordering::SeqCst), 2);
        });
    }

    /// A plain HTTP/1.1 target answering each request on a connection with `body`, keeping the
    /// connection open, until `close` says to close every connection it holds; `closed` tells
    /// once it has. Counts connections.
    async fn closing_target(
        body: Vec<u8>,
    ) -> (std::net::SocketAddr, Arc<AtomicUsize>, tokio::sync::watch::Sender<bool>, tokio::sync::mpsc::UnboundedReceiver<()>)
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let (close, close_rx) = tokio::sync::watch::channel(false);
        let (closed_tx, closed) = tokio::sync::mpsc::unbounded_channel();
        let body = Arc::new(body);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (body, mut close, closed) = (body.clone(), close_rx.clone(), closed_tx.clone());
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        tokio::select! {
                            read = stream.read(&mut chunk) => {
                                let Ok(n @ 1..) = read else { return };
                                buffer.extend_from_slice(&chunk[..n]);
                            }
                            _ = close.wait_for(|close| *close) => {
                                drop(stream);
                                let _ = closed.send(());
                                return;
                            }
                        }
                        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            buffer.drain(..end + 4);
                            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                            if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&body).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, accepted, close, closed)
    }

    #[test]
    fn a_pooled_connection_the_target_closed_while_idle_is_noticed_at_checkout() {
        on_worker(async {
            let (addr, accepted, close, mut closed) = closing_target(b"ok".to_vec()).await;
            let forwarder = forwarder("127.0.0.0/8");
            let url = format!("http://{addr}/");
            let response = forwarder.send(None, get(&url)).await.unwrap();
            assert_eq!(read_all(response.body).await, b"ok");
            assert_eq!(forwarder.pool().worker().idle_count(), 1);
            // The target closes the idle connection; nothing drives it until the next checkout,
            // which must find the close and open another connection instead of failing.
            close.send(true).unwrap();
            closed.recv().await.unwrap();
            close.send(false).unwrap();
            let response = forwarder.send(None, get(&url)).await.unwrap();
            assert_eq!(read_all(response.body).await, b"ok");
            assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new connection replaced the closed one");
        });
    }

    #[test]
    fn a_response_body_larger_than_the_socket_buffers_streams_and_the_connection_is_reused() {
        on_worker(async {
            // Several MB: the body keeps arriving after the head was handed over, so the
            // response body has to keep driving the connection (it has no task of its own).
            let body: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
            let (addr, accepted, _close, _closed) = closing_target(body.clone()).await;
            let forwarder = forwarder("127.0.0.0/8");
            let url = format!("http://{addr}/");
            for _ in 0..2 {
                let response = forwarder.send(None, get(&url)).await.unwrap();
                assert_eq!(response.body.content_length(), Some(body.len() as u64));
                assert!(read_all(response.body).await == body, "the body arrived whole");
            }
            assert_eq!(accepted.load(Ordering::SeqCst), 1, "the connection went back to the pool at the body's end");
        });
    }

    /// A plain HTTP target that sends its head announcing `length` bytes, then `steady` bytes
    /// one every 100 ms, then stalls for 10 s with the rest unsent.
    async fn dripping_target(length: usize, steady: usize) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = stream.read(&mut [0u8; 1024]).await;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {length}\r\n\r\n");
            stream.write_all(head.as_bytes()).await.unwrap();
            for _ in 0..steady {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                stream.write_all(b"d").await.unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        });
        addr
    }

    #[test]
    fn a_steady_response_body_longer_than_the_timeout_arrives_whole() {
        on_worker(async {
            // 20 bytes over 2 s, a byte every 100 ms, against a 500 ms timeout.
            let addr = dripping_target(20, 20).await;
            let forwarder = forwarder_with_timeout("127.0.0.0/8", std::time::Duration::from_millis(500));
            let body = forwarder.send(None, get(&format!("http://{addr}/"))).await.unwrap().body;
            let received: Vec<io::Result<bytes::Bytes>> = body.collect().await;
            let received: Vec<u8> = received.into_iter().flat_map(|chunk| chunk.unwrap().to_vec()).collect();
            assert_eq!(received, [b'd'; 20]);
        });
    }

    #[test]
    fn a_response_body_stalled_for_the_timeout_ends_with_an_error() {
        on_worker(async {
            // 5 of 10 bytes over 500 ms, one every 100 ms, then a stall, against a 300 ms timeout.
            let addr = dripping_target(10, 5).await;
            let forwarder = forwarder_with_timeout("127.0.0.0/8", std::time::Duration::from_millis(300));
            let mut body = forwarder.send(None, get(&format!("http://{addr}/"))).await.unwrap().body;
            let mut received = Vec::new();
            let error = loop {
                match body.next().await.unwrap() {
                    Ok(chunk) => received.extend_from_slice(&chunk),
                    Err(error) => break error,
                }
            };
            assert_eq!(received, [b'd'; 5], "the steady part arrived");
            assert_eq!(error.to_string(), "target response body stalled");
            assert!(body.next().await.is_none(), "the stream ends after the error");
        });
    }

    fn transport_kind(error: ForwardError) -> (TransportKind, String) {
        match error {
            ForwardError::Transport { kind, origin, .. } => (kind, origin),
            other => panic!("not a transport failure: {other:?}"),
        }
    }

    #[test]
    fn failures_of_the_client_are_classified() {
        on_worker(async {
            let forwarder = forwarder("127.0.0.0/8");
            // Nobody listens.
            let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
            let error = forwarder.send(None, get(&format!("https://127.0.0.1:{port}/?secret=1"))).await.unwrap_err();
            assert_eq!(transport_kind(error), (TransportKind::Connect, format!("https://127.0.0.1:{port}")));

            // The target accepts, reads the request and hangs up without answering.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let _ = stream.read(&mut [0u8; 1024]).await;
                }
            });
            let error = forwarder.send(None, get(&format!("http://{addr}/"))).await.unwrap_err();
            assert_eq!(transport_kind(error).0, TransportKind::Io);
            // The same hang-up during a TLS handshake is a connect failure.
            let error = forwarder.send(None, get(&format!("https://{addr}/"))).await.unwrap_err();
            assert_eq!(transport_kind(error).0, TransportKind::Connect);

            // Names that do not resolve, and addresses the guard refuses (literal or resolved).
            let error = forwarder.send(None, get("https://no-such-host.invalid/")).await.unwrap_err();
            assert_eq!(transport_kind(error).0, TransportKind::Dns);
            let strict = self::forwarder("192.0.2.0/24");
            for url in [format!("http://{addr}/"), format!("http://localhost:{}/", addr.port())] {
                let error = strict.send(None, get(&url)).await.unwrap_err();
                assert!(matches!(error, ForwardError::TargetNotAllowed { .. }), "{url}: {error:?}");
            }
        });
    }
}
