//! Opening a connection to a target: the guard's addresses (resolved and checked once, so only
//! checked addresses are connected to), TCP, TLS with the target's certificate always verified
//! (the server name is the URL's host), then an HTTP/1.1 handshake.
//!
//! A forward's connection has no task of its own: [`TargetConnection`] holds hyper's request
//! side and its connection driver together, and whoever uses the connection drives it — the
//! handler's future while it waits for the response head, the response body while the caller
//! reads it, the pool's checkout and reaper while it is idle. A forward then wakes one task (the
//! caller's), not two talking over a channel. The probe's one-off connection is driven by a task
//! of its own ([`start`]).
//!
//! The connect timeout (`MTLS_FORWARD_CONNECT_TIMEOUT_MS`) covers resolution, TCP and TLS.
//!
//! A target that closes its TLS connection without `close_notify` (Python's `http.server`, many
//! embedded servers) ends the stream cleanly here, as it does for curl, browsers and nginx: a
//! response delimited by the connection's close then arrives whole. Bodies with a length or
//! chunked framing are still checked by hyper, so their truncation remains an error.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::body::RequestBody;
use super::pool::{ClientSettings, Sender};
use super::transport_error::Failure;

/// A new connection to `url`'s target, presenting what `tls` presents (for `https`).
///
/// # Errors
/// [`Failure`]: refused or unresolvable target, timeout, TCP or TLS failure.
pub(crate) async fn open(
    settings: &ClientSettings,
    url: &mtls_sdk::NormalizedUrl,
    tls: Arc<ClientConfig>,
) -> Result<TargetConnection, Failure> {
    tokio::time::timeout(settings.connect_timeout, connect(settings, url, tls))
        .await
        .unwrap_or(Err(Failure::Timeout))
}

async fn connect(
    settings: &ClientSettings,
    url: &mtls_sdk::NormalizedUrl,
    tls: Arc<ClientConfig>,
) -> Result<TargetConnection, Failure> {
    let addresses = settings.guard.addresses(url.host(), url.port()).await.map_err(Failure::Guard)?;
    let tcp = connect_any(&addresses).await.map_err(Failure::Connect)?;
    tcp.set_nodelay(true).map_err(Failure::Connect)?;
    if url.scheme() != "https" {
        return TargetConnection::plain(tcp).await;
    }
    let host = url.host();
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let name = ServerName::try_from(host)
        .map_err(|_| Failure::Connect(io::Error::new(io::ErrorKind::InvalidInput, "not a valid TLS server name")))?
        .to_owned();
    let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(Failure::Connect)?;
    TargetConnection::handshake(TargetIo::Tls(UncleanCloseIsEof(stream))).await
}

/// The byte stream to a target: one type for both schemes, so that pooled connections of either
/// share a type without a boxed trait object.
#[allow(
    clippy::large_enum_variant,
    reason = "it lives inside the connection's boxed driver; boxing the TLS stream would add an allocation per connection"
)]
enum TargetIo {
    Plain(TcpStream),
    Tls(UncleanCloseIsEof<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for TargetIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TargetIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Self::Tls(tls) => Pin::new(tls).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(tcp) => tcp.is_write_vectored(),
            Self::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

/// hyper's side of a connection that its request side does not drive by itself.
type Driver = hyper::client::conn::http1::Connection<TokioIo<TargetIo>, RequestBody>;

/// A connection to a target, driven by whoever holds it; see the module docs.
pub(crate) struct TargetConnection {
    pub(crate) sender: Sender,
    /// The connection's reading and writing; `None` once it ended. Boxed once per connection,
    /// so that moving the connection in and out of the pool copies a pointer.
    driver: Option<Pin<Box<Driver>>>,
}

impl TargetConnection {
    /// A plain HTTP connection over `tcp`.
    pub(super) async fn plain(tcp: TcpStream) -> Result<Self, Failure> {
        Self::handshake(TargetIo::Plain(tcp)).await
    }

    /// The HTTP/1.1 handshake over `io` (no bytes are exchanged: hyper only sets up).
    async fn handshake(io: TargetIo) -> Result<Self, Failure> {
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| Failure::Exchange(e.into()))?;
        Ok(Self { sender, driver: Some(Box::pin(driver)) })
    }

    /// Moves the connection's reading and writing on as far as it can, registering `cx` for
    /// more. Ready once the connection has ended (closed by either side, or failed: the error
    /// reaches the request or the response body that was waiting on it).
    pub(crate) fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(driver) = self.driver.as_mut() else { return Poll::Ready(()) };
        let Poll::Ready(result) = driver.as_mut().poll(cx) else { return Poll::Pending };
        if let Err(error) = result {
            tracing::debug!(%error, "target connection ended");
        }
        self.driver = None;
        Poll::Ready(())
    }

    /// Ready when a request can be sent; an error when the connection has ended (a pooled
    /// connection the target closed while it was idle finds out here).
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        // The driver first: a close by the target is read there, and it makes the request side
        // ready once the previous exchange is complete.
        let _ = self.poll_drive(cx);
        self.sender.poll_ready(cx)
    }

    /// Drives the connection without a task to wake: tells whether it has ended, for idle
    /// connections no request is waiting on.
    pub(crate) fn check_closed(&mut self) -> bool {
        let _ = self.poll_drive(&mut Context::from_waker(std::task::Waker::noop()));
        self.is_closed()
    }

    /// True once the connection can carry no more requests.
    pub(crate) fn is_closed(&self) -> bool {
        self.driver.is_none() || self.sender.is_closed()
    }
}

/// A stream on which the peer's close without TLS `close_notify` reads as end of stream.
struct UncleanCloseIsEof<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for UncleanCloseIsEof<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for UncleanCloseIsEof<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The first of `addresses` that accepts.
pub(super) async fn connect_any(addresses: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last = io::Error::from(io::ErrorKind::AddrNotAvailable);
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// The HTTP/1.1 handshake over `io`, its connection driven by a task of its own on this worker
/// (the probe's one-off exchange).
pub(super) async fn start<T>(io: T) -> Result<Sender, Failure>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| Failure::Exchange(e.into()))?;
    tokio::task::spawn_local(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "target connection ended");
        }
    });
    Ok(sender)
}
