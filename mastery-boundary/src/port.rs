//! The ports through which the boundary reaches the outside: persistence and the clock.
//!
//! The book passes a persistence function into the boundary; so does Mastery. The boundary never
//! knows what is behind the port — the command line plugs in SQLite, tests plug in memory.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use mastery_core::{Response, Timestamp};

/// What recording a response returns: resolves once the response is durable, or with a reason.
pub type RecordFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Where responses are recorded. A session records each response *before* its quiz advances: if
/// recording fails, the answer is rejected and the quiz stays where it was.
pub trait ResponsePort: Send + Sync + 'static {
    /// Records one response.
    fn record(&self, response: &Response) -> RecordFuture;
}

/// A port that keeps nothing: for benchmarks and quizzes nobody needs a record of.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPersistence;

impl ResponsePort for NoPersistence {
    fn record(&self, _response: &Response) -> RecordFuture {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A port made from a function, as the book passes one.
///
/// ```
/// use mastery_boundary::{FnPort, ResponsePort};
///
/// let port = FnPort(|response: &mastery_core::Response| {
///     let line = format!("{} answered {}", response.email(), response.answer());
///     async move { println!("{line}"); Ok(()) }
/// });
/// # let _: &dyn ResponsePort = &port;
/// ```
pub struct FnPort<F>(pub F);

impl<F, Fut> ResponsePort for FnPort<F>
where
    F: Fn(&Response) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    fn record(&self, response: &Response) -> RecordFuture {
        Box::pin((self.0)(response))
    }
}

/// Where response timestamps come from.
pub trait Clock: Send + Sync + 'static {
    /// The time now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from(SystemTime::now())
    }
}
