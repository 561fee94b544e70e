//! The idle timeout of a stream (`MTLS_FORWARD_TIMEOUT_MS`): how long one side may leave the
//! other waiting for its next bytes. A stream that keeps moving is never cut, however long it
//! lasts (SPEC section 6).
//!
//! Only time spent waiting counts: the clock starts when the stream's source answers `Pending`
//! and stops when it yields. Time the consumer takes between two polls (a slow caller reading
//! the response) is not the source's stall. The timer is a single `Sleep`, allocated on the
//! first wait and moved to its new deadline with [`Sleep::reset`] at the start of each later wait
//! (for a later deadline tokio only moves an atomic, the timer wheel is not touched); bytes that
//! are ready without waiting cost nothing.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The idle timer of one stream; see the module docs.
pub(crate) struct IdleTimer {
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    /// The source answered `Pending` and has not yielded since.
    waiting: bool,
}

impl IdleTimer {
    /// A timer allowing `timeout` of waiting; nothing is allocated before the first wait.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self { timeout, sleep: None, waiting: false }
    }

    /// Call when the source answered `Pending`: starts the clock if this is a new wait and
    /// registers `cx` for its end. True when the wait has lasted the timeout.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = self.timeout;
        let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if !self.waiting {
            self.waiting = true;
            sleep.as_mut().reset(Instant::now() + timeout);
        }
        sleep.as_mut().poll(cx).is_ready()
    }

    /// Call when the source yielded something: the current wait, if any, is over.
    pub(crate) fn progressed(&mut self) {
        self.waiting = false;
    }
}

