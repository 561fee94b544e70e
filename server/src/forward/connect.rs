//! Opening a connection to a target: the guard's addresses (resolved and checked once, so only
//! checked addresses are connected to), TCP, TLS with the target's certificate always verified
//! (the server name is the URL's host), then an HTTP/1.1 handshake. The connection's task runs on
//! the calling actix worker (`spawn_local`), next to the requests that use it.
//!
//! The connect timeout (`MTLS_FORWARD_CONNECT_TIMEOUT_MS`) covers resolution, TCP and TLS.
//!
//! A target that closes its TLS connection without `close_notify` (Python's `http.server`, many
//! embedded servers) ends the stream cleanly here, as it does for curl, browsers and nginx: a
//! response delimited by the connection's close then arrives whole. Bodies with a length or
//! chunked framing are still checked by hyper, so their truncation remains an error.

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

use super::pool::{ClientSettings, Sender};
use super::transport_error::Failure;

/// A new connection to `url`'s target, presenting what `tls` presents (for `https`).
///
/// # Errors
/// [`Failure`]: refused or unresolvable target, timeout, TCP or TLS failure.
pub(crate) async fn open(settings: &ClientSettings, url: &mtls_sdk::NormalizedUrl, tls: Arc<ClientConfig>) -> Result<Sender, Failure> {
    tokio::time::timeout(settings.connect_timeout, connect(settings, url, tls))
        .await
        .unwrap_or(Err(Failure::Timeout))
}

async fn connect(settings: &ClientSettings, url: &mtls_sdk::NormalizedUrl, tls: Arc<ClientConfig>) -> Result<Sender, Failure> {
    let addresses = settings.guard.addresses(url.host(), url.port()).await.map_err(Failure::Guard)?;
    let tcp = connect_any(&addresses).await.map_err(Failure::Connect)?;
    tcp.set_nodelay(true).map_err(Failure::Connect)?;
    if url.scheme() != "https" {
        return start(TokioIo::new(tcp)).await;
    }
    let host = url.host();
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let name = ServerName::try_from(host)
        .map_err(|_| Failure::Connect(io::Error::new(io::ErrorKind::InvalidInput, "not a valid TLS server name")))?
        .to_owned();
    let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(Failure::Connect)?;
    start(TokioIo::new(UncleanCloseIsEof(stream))).await
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
