//! Sessions as stored facts: one learner's attempt at one quiz, its answers in order, how it
//! ended, and the regrades that re-judged it.

use mastery_core::{SessionEnding, Verdict};

use crate::record::ResponseRecord;

/// Where a response stands: its session and its position in it (0 for the first answer).
///
/// A store keeps at most one response per place, which is what makes two writers of one session
/// (two processes, say) unable to write two histories: the second is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    /// The session's id, given by the store when it started.
    pub session: u64,
    /// How many answers of the session came before this one.
    pub position: u64,
}

/// A session about to start, as the store is asked to keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The quiz's title.
    pub quiz_title: String,
    /// The quiz's version (see [`mastery_core::Quiz::version`]).
    pub quiz_version: String,
    /// The learner's email.
    pub email: String,
    /// The seed its questions are drawn from.
    pub seed: u64,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// When the learner's time is up, for a session with a deadline of its own (an exam): later
    /// answers are still taken, up to `closes_at_ms`, and reports count them as overdue.
    pub due_at_ms: Option<u64>,
    /// When the session stops taking answers, for a session with a deadline of its own. It
    /// replaces the quiz's window for this session: a learner given more time, or a grace period,
    /// answers after the quiz closed for the others. `None`: the quiz's window decides, as for
    /// any session.
    pub closes_at_ms: Option<u64>,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Its id.
    pub id: u64,
    /// The quiz's title.
    pub quiz_title: String,
    /// The quiz's version; `None` for a session stored before versions were kept.
    pub quiz_version: Option<String>,
    /// The learner's email.
    pub email: String,
    /// The seed; `None` for a session stored before seeds were kept, which cannot be resumed.
    pub seed: Option<u64>,
    /// When it started.
    pub started_at_ms: u64,
    /// When it ended, if it has.
    pub ended_at_ms: Option<u64>,
    /// How it ended; `None` while it is open.
    pub ending: Option<SessionEnding>,
    /// Why, where a reason was given (a session abandoned because its quiz changed, say).
    pub ending_reason: Option<String>,
    /// When the learner's time is up, for a session with a deadline of its own: answers after it
    /// are overdue (see [`NewSession::due_at_ms`]).
    pub due_at_ms: Option<u64>,
    /// When the session stops taking answers, in place of its quiz's window (see
    /// [`NewSession::closes_at_ms`]).
    pub closes_at_ms: Option<u64>,
}

impl SessionRecord {
    /// Whether the session is still open (neither finished nor ended otherwise).
    pub fn is_open(&self) -> bool {
        self.ending.is_none()
    }
}

/// An open session with its answers in order: what resuming it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session.
    pub session: SessionRecord,
    /// Its responses, by position.
    pub responses: Vec<ResponseRecord>,
}

/// A regrade: every stored answer of a quiz judged again by the checkers of one version. Only
/// the verdicts that differ from the stored ones are kept; the stored responses never change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegradeRecord {
    /// The quiz's title.
    pub quiz_title: String,
    /// The version whose checkers judged.
    pub quiz_version: String,
    /// When, in milliseconds since the Unix epoch.
    pub regraded_at_ms: u64,
    /// Each response whose verdict changed, with its verdict now.
    pub changed: Vec<(Place, Verdict)>,
}

/// One quiz in a store, for the list `mastery report` prints without a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizSummary {
    /// The quiz's title.
    pub title: String,
    /// Distinct learners (emails).
    pub learners: u64,
    /// Sessions.
    pub sessions: u64,
    /// Responses.
    pub responses: u64,
    /// The latest response or session start, in milliseconds since the Unix epoch.
    pub last_activity_ms: u64,
}

/// A quiz a server offers, kept so that every server on the database (and one restarted) offers
/// it too: its source when a teacher gave it as a file, and its window once scheduled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedQuiz {
    /// The quiz's title.
    pub title: String,
    /// The quiz's version, from its content.
    pub version: Option<String>,
    /// The quiz file's text as it was given; `None` for a quiz every server loads itself (the
    /// demo, a `--quizzes` folder), of which only the window is shared.
    pub source: Option<String>,
    /// When it was given (milliseconds since the Unix epoch).
    pub saved_at_ms: u64,
    /// When it opens and closes (milliseconds since the Unix epoch); `None`: open now.
    pub window: Option<(u64, u64)>,
    /// The quiz's exam settings as the server wrote them (JSON), kept so every server runs the
    /// same exam; the store keeps the text and never reads it. `None`: not an exam.
    pub exam: Option<String>,
}
