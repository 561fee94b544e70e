//! Bodies on both sides of the forward, streamed without buffering them whole.
//!
//! [`RequestBody`] is what hyper sends to the target. A caller's body is actix's payload itself:
//! the target connection is driven in the caller's task (see [`super::connect`]), so hyper polls
//! the payload directly, and a slow target slows the reading of the caller's body (backpressure).
//! Bytes are counted as they pass; once `MTLS_MAX_BODY_BYTES` is passed the body ends with an
//! error, which aborts the request to the target, and the caller gets 413 (see
//! [`CallerBodyState::over_limit`]). A caller that leaves it waiting for `MTLS_FORWARD_TIMEOUT_MS`
//! ends it the same way, and gets 408 ([`CallerBodyState::stalled`]).
//!
//! [`ResponseBody`] is the target's response body as the caller's response stream: it drives the
//! connection while the caller reads (the connection has no task of its own, and the request
//! body may still be going out), gives the connection back to the worker's pool once the body
//! has been read to its end, and ends with an
//! error when the target leaves it waiting for `MTLS_FORWARD_TIMEOUT_MS`. Neither body has a
//! limit on its total duration: a stream that keeps moving is never cut (see [`super::idle`]).

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::idle::IdleTimer;
use super::pool::Lease;

/// What the forwarder learns of the caller's body while hyper streams it (on the same thread).
#[derive(Debug, Clone)]
pub struct CallerBodyState(Rc<CallerBodyCells>);

#[derive(Debug)]
struct CallerBodyCells {
    over_limit: Cell<bool>,
    stalled: Cell<bool>,
    /// The body is waiting for the caller's next bytes.
    waiting: Cell<bool>,
    /// When the body last handed bytes (or its end) to hyper.
    last_progress: Cell<Instant>,
}

impl CallerBodyState {
    fn new() -> Self {
        Self(Rc::new(CallerBodyCells {
            over_limit: Cell::new(false),
            stalled: Cell::new(false),
            waiting: Cell::new(false),
            last_progress: Cell::new(Instant::now()),
        }))
    }

    /// True once more than the limit was read.
    pub fn over_limit(&self) -> bool {
        self.0.over_limit.get()
    }

    /// True once the caller left the body waiting for the idle timeout.
    pub fn stalled(&self) -> bool {
        self.0.stalled.get()
    }

    /// Until when the target may keep the forwarder waiting for its response head, allowed
    /// `timeout` without progress. While the body is waiting for the caller the target is not
    /// the one stalling (the body's own idle timer bounds the caller), so the deadline moves on;
    /// otherwise the target has `timeout` from the body's last progress (hyper takes the next
    /// bytes only once it could write the previous ones, so a target that stops reading the
    /// body stops the progress too).
    pub fn target_deadline(&self, timeout: Duration) -> Instant {
        if self.0.waiting.get() {
            Instant::now() + timeout
        } else {
            self.0.last_progress.get() + timeout
        }
    }

    fn progressed(&self) {
        self.0.waiting.set(false);
        self.0.last_progress.set(Instant::now());
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

/// The caller's payload with its byte count and idle timer.
pub struct CallerBody {
    payload: actix_web::web::Payload,
    limit: usize,
    total: usize,
    idle: IdleTimer,
    state: CallerBodyState,
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
    /// The caller sent nothing for `MTLS_FORWARD_TIMEOUT_MS`.
    #[error("caller's request body stalled")]
    Stalled,
}

impl RequestBody {
    /// Streams `payload`, refusing more than `limit` bytes and waits for the caller of
    /// `idle_timeout`; [`Self::caller_state`] tells when either happened.
    pub fn caller(payload: actix_web::web::Payload, limit: usize, idle_timeout: Duration) -> Self {
        Self::Caller(CallerBody {
            payload,
            limit,
            total: 0,
            idle: IdleTimer::new(idle_timeout),
            state: CallerBodyState::new(),
        })
    }

    /// A body held in memory (empty bytes send no body).
    pub fn full(bytes: Bytes) -> Self {
        if bytes.is_empty() { Self::Empty } else { Self::Full(Some(bytes)) }
    }

    /// The state of a streamed caller's body.
    pub fn caller_state(&self) -> Option<CallerBodyState> {
        match self {
            Self::Caller(body) => Some(body.state.clone()),
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
            Self::Caller(body) => body.poll_chunk(cx),
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

impl CallerBody {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let Poll::Ready(item) = Pin::new(&mut self.payload).poll_next(cx) else {
            self.state.0.waiting.set(true);
            if self.idle.poll_expired(cx) {
                tracing::info!("caller's request body stalled");
                self.state.0.stalled.set(true);
                return Poll::Ready(Some(Err(BodyError::Stalled)));
            }
            return Poll::Pending;
        };
        self.idle.progressed();
        self.state.progressed();
        Poll::Ready(match item {
            None => None,
            Some(Ok(bytes)) => {
                self.total = self.total.saturating_add(bytes.len());
                if self.total > self.limit {
                    self.state.0.over_limit.set(true);
                    Some(Err(BodyError::OverLimit))
                } else {
                    Some(Ok(Frame::data(bytes)))
                }
            }
            Some(Err(_)) => Some(Err(BodyError::Caller)),
        })
    }
}

/// The target's response body, streamed to the caller.
pub struct ResponseBody {
    incoming: Incoming,
    /// The connection, until the body has been read to its end.
    lease: Option<Lease>,
    /// Waits for the target's next bytes (`MTLS_FORWARD_TIMEOUT_MS`).
    idle: IdleTimer,
    /// The target's body broke off; reported on the next poll, see [`Stream::poll_next`].
    broken: bool,
    done: bool,
}

impl ResponseBody {
    /// `incoming` read over `lease`'s connection, waiting at most `idle`'s timeout for each of
    /// its bytes; a body that is empty already gives the connection back at once.
    pub(super) fn new(incoming: Incoming, lease: Lease, idle: IdleTimer) -> Self {
        let lease = if incoming.is_end_stream() {
            lease.release();
            None
        } else {
            Some(lease)
        };
        Self { incoming, lease, idle, broken: false, done: false }
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
        if this.broken {
            return this.fail("target response body broke off");
        }
        loop {
            if let Some(lease) = this.lease.as_mut() {
                // Moves the body's bytes into `incoming`; a connection that ended has sent its
                // end or its error there.
                let _ = lease.connection.poll_drive(cx);
            }
            let Poll::Ready(frame) = Pin::new(&mut this.incoming).poll_frame(cx) else {
                if this.idle.poll_expired(cx) {
                    tracing::info!("target response body stalled");
                    return this.fail("target response body stalled");
                }
                return Poll::Pending;
            };
            this.idle.progressed();
            match frame {
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
                    // actix drops what it has not written yet when a body fails, the response
                    // head included: the error is reported on the next poll, after actix wrote
                    // out what came before it (the caller sees the status and a truncated body).
                    // The connection is driven in this poll, so a break read together with the
                    // head would otherwise fail before anything went out.
                    this.lease = None;
                    this.broken = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
    }
}
