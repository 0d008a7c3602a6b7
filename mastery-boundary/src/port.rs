//! The ports through which the boundary reaches the outside: persistence and the clock.
//!
//! The book passes a persistence function into the boundary; so does Mastery. The boundary never
//! knows what is behind the port — the command line plugs in SQLite, tests plug in memory.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use mastery_core::{Deadline, Response, SessionEnding, Timestamp};

/// What recording a response returns: resolves once the response is durable, or with why not.
pub type RecordFuture = Pin<Box<dyn Future<Output = Result<(), RecordError>> + Send>>;

/// Why a port did not store a response. The kind tells a caller what to do about it; the reason
/// says what happened, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct RecordError {
    /// What a caller can do about it.
    pub kind: RecordErrorKind,
    /// What happened.
    pub reason: String,
}

/// What a caller can do about a response that was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordErrorKind {
    /// The store could not take it now (down, busy, full, too slow): the same answer may be given
    /// again later.
    Unavailable,
    /// Another writer got there first: rebuild from the store, then answer again.
    Conflict,
    /// The store refused this response for good: giving it again will not help.
    Refused,
    /// The quiz had closed when the answer came (its deadline, as the store keeps it).
    Closed,
}

impl RecordError {
    /// A store that could not take the response now.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        RecordError { kind: RecordErrorKind::Unavailable, reason: reason.into() }
    }

    /// A store that refused the response for good.
    pub fn refused(reason: impl Into<String>) -> Self {
        RecordError { kind: RecordErrorKind::Refused, reason: reason.into() }
    }
}

/// A bare reason, as a port written as a function gives one, says nothing of the kind: it is
/// taken as a store that could not take the response now, the common case and the safe one to
/// retry (an answer refused is never stored, so a retry cannot count it twice).
impl From<String> for RecordError {
    fn from(reason: String) -> Self {
        RecordError::unavailable(reason)
    }
}

impl From<&str> for RecordError {
    fn from(reason: &str) -> Self {
        RecordError::unavailable(reason)
    }
}

/// What a port's session calls return.
pub type PortFuture<T> = Pin<Box<dyn Future<Output = Result<T, RecordError>> + Send>>;

/// Where an answer stands: its session (an id the port gave) and how many answers of the session
/// came before it. A port that keeps one answer per place refuses a second history of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Place {
    /// The session's id.
    pub session: u64,
    /// The answer's position in it, from 0.
    pub position: u64,
}

/// A session about to start, as the port is asked to keep it (before its first question).
#[derive(Debug, Clone, Copy)]
pub struct SessionStart<'a> {
    /// The quiz's title.
    pub title: &'a str,
    /// The quiz's version.
    pub version: &'a str,
    /// The learner's email.
    pub email: &'a str,
    /// The seed its questions are drawn from.
    pub seed: u64,
    /// When it starts.
    pub at: Timestamp,
    /// When the learner's time is up and when the session closes, for an exam.
    pub deadline: Option<Deadline>,
}

/// A learner's open session as the port kept it: what resuming it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession {
    /// The session's id.
    pub id: u64,
    /// The quiz version it was taken with; `None` when unknown.
    pub version: Option<String>,
    /// Its seed; `None` when unknown (such a session cannot be resumed).
    pub seed: Option<u64>,
    /// Its answers, in order.
    pub answers: Vec<StoredTurn>,
    /// When it started: an exam's time limit counts from then, resumed or not.
    pub started_at: Timestamp,
    /// Its deadline as stored (with any extra time given since it started).
    pub deadline: Option<Deadline>,
}

/// A learner's latest session of a quiz: open (to be resumed), or ended (an exam allows one
/// attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LatestSession {
    /// Still open, with what resuming it needs.
    Open(OpenSession),
    /// Ended.
    Ended(EndedAttempt),
}

/// How a learner's latest session of a quiz ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedAttempt {
    /// The session's id.
    pub id: u64,
    /// How it ended.
    pub ending: SessionEnding,
    /// Whether it was a timed attempt (it had a deadline): only those use up an exam's one
    /// attempt, so that practice before a quiz became an exam does not.
    pub timed: bool,
}

/// One stored answer of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTurn {
    /// The template asked.
    pub template: String,
    /// The question as asked.
    pub asked: String,
    /// The answer given.
    pub answer: String,
    /// The verdict's kind then: `correct`, `incorrect` or `invalid`.
    pub verdict: String,
    /// When.
    pub at: Timestamp,
}

/// Session ids for ports that keep no sessions: distinct within the process.
static LOCAL_SESSION_IDS: AtomicU64 = AtomicU64::new(1);

/// Completes when a session gives up waiting for a record: its time ran out.
pub type Withdrawal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where responses are recorded. A session records each response *before* its quiz advances: if
/// recording fails, the answer is rejected and the quiz stays where it was.
///
/// A session never reports an answer as refused while the port might still store it. When its
/// time runs out it fires the record's [`Withdrawal`] and waits for the port's final word: a port
/// that can still stop the record resolves with an error, one that has already committed to it
/// resolves with that commit's outcome. A port that cannot withdraw keeps the default
/// [`ResponsePort::record_withdrawable`]; the session then waits a grace period for it and, if it
/// stays silent, ends the session rather than guess (see [`MasteryError::RecordUnknown`]).
///
/// [`MasteryError::RecordUnknown`]: crate::MasteryError::RecordUnknown
///
/// Sessions are kept through the same port: a session is stored as it starts, and ended when it
/// finishes or time is up. A port that keeps no sessions keeps the defaults: nothing to resume,
/// ids distinct within the process, endings forgotten.
pub trait ResponsePort: Send + Sync + 'static {
    /// Records one response, given at `place`.
    fn record(&self, place: Place, response: &Response) -> RecordFuture;

    /// Records one response unless `withdrawal` completes while the port can still stop it.
    /// Must resolve promptly after `withdrawal` does: `Err` if the response is not stored and
    /// never will be, else the outcome of the write already under way.
    fn record_withdrawable(&self, place: Place, response: &Response, withdrawal: Withdrawal) -> RecordFuture {
        drop(withdrawal);
        self.record(place, response)
    }

    /// The learner's latest session of the quiz, with its answers, if it is still open.
    fn open_session(&self, title: &str, email: &str) -> PortFuture<Option<OpenSession>> {
        let _ = (title, email);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Keeps a new session and gives its id.
    fn start_session(&self, start: SessionStart<'_>) -> PortFuture<u64> {
        let _ = start;
        Box::pin(std::future::ready(Ok(LOCAL_SESSION_IDS.fetch_add(1, Ordering::Relaxed))))
    }

    /// The learner's latest session of the quiz, open or ended, in one call: taking a quiz
    /// resumes an open one, and an exam refuses a second attempt after an ended one. The default
    /// knows only open sessions (from [`ResponsePort::open_session`]), so a port that keeps its
    /// endings should answer this itself.
    fn latest_session(&self, title: &str, email: &str) -> PortFuture<Option<LatestSession>> {
        let open = self.open_session(title, email);
        Box::pin(async move { Ok(open.await?.map(LatestSession::Open)) })
    }

    /// Replaces an open session's deadline (a learner given extra time while the exam runs);
    /// `false` when the session has ended.
    fn set_deadline(&self, id: u64, deadline: Option<Deadline>) -> PortFuture<bool> {
        let _ = (id, deadline);
        Box::pin(std::future::ready(Ok(true)))
    }

    /// Ends the session `id` as `ending` (a session already ended keeps its first ending).
    fn end_session(&self, id: u64, ending: SessionEnding, at: Timestamp, reason: Option<String>) -> PortFuture<()> {
        let _ = (id, ending, at, reason);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A port that keeps nothing: for benchmarks and quizzes nobody needs a record of.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPersistence;

impl ResponsePort for NoPersistence {
    fn record(&self, _place: Place, _response: &Response) -> RecordFuture {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A port made from a function, as the book passes one: it is given each response (not its
/// place) and keeps no sessions.
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
    Fut: Future<Output = Result<(), RecordError>> + Send + 'static,
{
    fn record(&self, _place: Place, response: &Response) -> RecordFuture {
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

/// A clock that follows tokio's: in paused time (tests) it moves only when tokio's time does, so
/// exam deadlines, which are wall-clock instants, and the Proctor's timers agree.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: Timestamp,
    since: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `base` now.
    pub fn starting_at(base: Timestamp) -> Self {
        TokioClock { base, since: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        Timestamp::from_millis(self.base.as_millis().saturating_add(elapsed))
    }
}
