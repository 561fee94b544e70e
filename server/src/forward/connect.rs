//! Opening a connection to a target: the guard's addresses (resolved and checked once, so only
//! checked addresses are connected to), TCP, TLS with the target's certificate always verified
//! (the server name is the URL's host), then an HTTP/1.1 handshake. The connection's task runs on
//! the calling actix worker (`spawn_local`), next to the requests that use it.
//!
//! The connect timeout (`MTLS_FORWARD_CONNECT_TIMEOUT_MS`) covers resolution, TCP and TLS.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;

use super::pool::{ClientSettings, Sender};
use super::transport_error::Failure;

/// A new connection to `url`'s target, presenting what `tls` presents (for `https`).
///
/// # Errors
/// [`Failure`]: refused or unresolvable target, timeout, TCP or TLS failure.
pub async fn open(settings: &ClientSettings, url: &mtls_sdk::NormalizedUrl, tls: Arc<ClientConfig>) -> Result<Sender, Failure> {
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
    start(TokioIo::new(stream)).await
}

/// The first of `addresses` that accepts.
async fn connect_any(addresses: &[SocketAddr]) -> io::Result<TcpStream> {
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
