//! The request body, streamed from the caller to the target without buffering it whole.
//!
//! actix's payload lives on one worker thread (it is `!Send`) while the HTTP client wants a
//! `Send` stream, so a small local task moves chunks through a bounded channel: at most
//! [`CHANNEL_CHUNKS`] chunks are in flight, and a slow target slows the reading of the caller's
//! body (backpressure). The task counts bytes and ends the stream with an error once
//! `MTLS_MAX_BODY_BYTES` is passed, which aborts the request to the target; the caller then
//! gets 413 (see [`BodyLimit::exceeded`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// Chunks buffered between the caller's connection and the target's (actix reads up to 64 KiB
/// at a time, so this bounds the body bytes held per request to about 512 KiB).
pub const CHANNEL_CHUNKS: usize = 8;

/// Tells whether the body went over the limit.
#[derive(Debug, Clone, Default)]
pub struct BodyLimit(Arc<AtomicBool>);

impl BodyLimit {
    /// True once more than the limit was read.
    pub fn exceeded(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Starts streaming `payload` (on the current actix worker) and returns the body to send.
pub fn stream_payload(mut payload: actix_web::web::Payload, limit: usize) -> (reqwest::Body, BodyLimit) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_CHUNKS);
    let flag = BodyLimit::default();
    let exceeded = flag.clone();
    actix_web::rt::spawn(async move {
        let mut total: usize = 0;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    total = total.saturating_add(bytes.len());
                    if total > limit {
                        exceeded.0.store(true, Ordering::Release);
                        let _ = tx.send(Err(io::Error::other("request body over the limit"))).await;
                        return;
                    }
                    Ok(bytes)
                }
                Err(_) => Err(io::Error::other("caller's request body could not be read")),
            };
            let failed = item.is_err();
            // A closed channel means the target request is over (answered or failed): stop.
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    (reqwest::Body::wrap_stream(ChannelStream(rx)), flag)
}

struct ChannelStream(mpsc::Receiver<io::Result<Bytes>>);

impl Stream for ChannelStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
