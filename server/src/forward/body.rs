//! Bodies on both sides of the forward, streamed without buffering them whole.
//!
//! [`RequestBody`] is what hyper sends to the target. A caller's body is actix's payload itself:
//! the target connection's task runs on the same actix worker (`spawn_local`), so hyper polls the
//! payload directly, and a slow target slows the reading of the caller's body (backpressure).
//! Bytes are counted as they pass; once `MTLS_MAX_BODY_BYTES` is passed the body ends with an
//! error, which aborts the request to the target, and the caller gets 413 (see
//! [`BodyLimit::exceeded`]).
//!
//! [`ResponseBody`] is the target's response body as the caller's response stream: it gives the
//! connection back to the worker's pool once the body has been read to its end, and ends with an
//! error when the total timeout passes.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;

use super::pool::Lease;

/// Tells whether the caller's body went over the limit.
#[derive(Debug, Clone, Default)]
pub struct BodyLimit(Rc<Cell<bool>>);

impl BodyLimit {
    /// True once more than the limit was read.
    pub fn exceeded(&self) -> bool {
        self.0.get()
    }
}

/// The body of the request to the target.
pub enum RequestBody {
    /// No body.
    Empty,
    /// A body already in memory (a form read whole for its oAuth1 signature); taken when sent.
    Full(Option<Bytes>),
    /// The caller's body, streamed.
    Caller(CallerBody),
}

/// The caller's payload with its byte count.
pub struct CallerBody {
    payload: actix_web::web::Payload,
    limit: usize,
    total: usize,
    exceeded: BodyLimit,
}

/// Why the request body ended early (hyper aborts the request with it).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More than `MTLS_MAX_BODY_BYTES` arrived.
    #[error("request body over the limit")]
    OverLimit,
    /// The caller's connection failed mid-body.
    #[error("caller's request body could not be read")]
    Caller,
}

impl RequestBody {
    /// Streams `payload`, refusing more than `limit` bytes; the flag tells when that happened.
    pub fn caller(payload: actix_web::web::Payload, limit: usize) -> (Self, BodyLimit) {
        let exceeded = BodyLimit::default();
        let body = CallerBody { payload, limit, total: 0, exceeded: exceeded.clone() };
        (Self::Caller(body), exceeded)
    }

    /// A body held in memory (empty bytes send no body).
    pub fn full(bytes: Bytes) -> Self {
        if bytes.is_empty() { Self::Empty } else { Self::Full(Some(bytes)) }
    }

    /// The limit flag of a streamed caller's body.
    pub fn limit(&self) -> Option<BodyLimit> {
        match self {
            Self::Caller(body) => Some(body.exceeded.clone()),
            _ => None,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Self::Empty => Poll::Ready(None),
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Caller(body) => {
                let item = match ready!(Pin::new(&mut body.payload).poll_next(cx)) {
                    None => None,
                    Some(Ok(bytes)) => {
                        body.total = body.total.saturating_add(bytes.len());
                        if body.total > body.limit {
                            body.exceeded.0.set(true);
                            Some(Err(BodyError::OverLimit))
                        } else {
                            Some(Ok(Frame::data(bytes)))
                        }
                    }
                    Some(Err(_)) => Some(Err(BodyError::Caller)),
                };
                Poll::Ready(item)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Empty | Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Empty | Self::Full(None) => SizeHint::with_exact(0),
            Self::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Self::Caller(_) => SizeHint::default(),
        }
    }
}

/// The target's response body, streamed to the caller.
pub struct ResponseBody {
    incoming: Incoming,
    /// The connection, until the body has been read to its end.
    lease: Option<Lease>,
    /// The total timeout (`MTLS_FORWARD_TIMEOUT_MS`), started with the request.
    deadline: Pin<Box<Sleep>>,
    done: bool,
}

impl ResponseBody {
    /// `incoming` read over `lease`'s connection until `deadline`; a body that is empty already
    /// gives the connection back at once.
    pub(super) fn new(incoming: Incoming, lease: Lease, deadline: Pin<Box<Sleep>>) -> Self {
        let lease = if incoming.is_end_stream() {
            lease.release();
            None
        } else {
            Some(lease)
        };
        Self { incoming, lease, deadline, done: false }
    }

    /// The length the target declared, when it did.
    pub fn content_length(&self) -> Option<u64> {
        self.incoming.size_hint().exact()
    }

    fn fail(&mut self, message: &'static str) -> Poll<Option<io::Result<Bytes>>> {
        // The status line is gone already: the caller sees a truncated body. Dropping the lease
        // closes the connection (its response was not read to the end).
        self.done = true;
        self.lease = None;
        Poll::Ready(Some(Err(io::Error::other(message))))
    }
}

impl Stream for ResponseBody {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            tracing::info!("target response body timed out");
            return this.fail("target response body timed out");
        }
        loop {
            match ready!(Pin::new(&mut this.incoming).poll_frame(cx)) {
                None => {
                    this.done = true;
                    if let Some(lease) = this.lease.take() {
                        lease.release();
                    }
                    return Poll::Ready(None);
                }
                Some(Ok(frame)) => {
                    // Trailers are hop-by-hop here (the caller's response is framed anew).
                    let Ok(data) = frame.into_data() else { continue };
                    if this.incoming.is_end_stream()
                        && let Some(lease) = this.lease.take()
                    {
                        lease.release();
                    }
                    return Poll::Ready(Some(Ok(data)));
                }
                Some(Err(error)) => {
                    tracing::info!(%error, "target response body broke off");
                    return this.fail("target response body broke off");
                }
            }
        }
    }
}
