//! Calls to workers: a message with a `oneshot` reply, a bounded mailbox, and a timeout.
//!
//! The book prefers call over cast: a caller waits for the worker's reply, so overload slows
//! callers down instead of piling up memory. A full mailbox makes the caller wait (up to the
//! timeout); a worker that stops drops the reply, which the caller sees at once.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

/// Why a call got no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallError {
    /// The worker is gone (its mailbox is closed, or it dropped the reply).
    Stopped,
    /// No reply within the timeout.
    TimedOut,
}

/// Sends `message` (made with the reply's sender) and waits for the reply.
pub(crate) async fn call<M, R>(
    mailbox: &mpsc::Sender<M>,
    message: impl FnOnce(oneshot::Sender<R>) -> M,
    timeout: Option<Duration>,
) -> Result<R, CallError> {
    let (reply, replied) = oneshot::channel();
    let message = message(reply);
    // Fast path: room in the mailbox, no waiting to send.
    match mailbox.try_send(message) {
        Ok(()) => within(timeout, async { replied.await.map_err(|_| CallError::Stopped) }).await,
        Err(mpsc::error::TrySendError::Closed(_)) => Err(CallError::Stopped),
        Err(mpsc::error::TrySendError::Full(message)) => {
            within(timeout, async {
                mailbox.send(message).await.map_err(|_| CallError::Stopped)?;
                replied.await.map_err(|_| CallError::Stopped)
            })
            .await
        }
    }
}

/// Runs `work` with an optional time limit.
pub(crate) async fn within<T>(
    limit: Option<Duration>,
    work: impl Future<Output = Result<T, CallError>>,
) -> Result<T, CallError> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or(Err(CallError::TimedOut)),
        None => work.await,
    }
}
