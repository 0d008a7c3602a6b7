//! The errors the `Mastery` API returns.

use std::time::Duration;

use mastery_core::{QuizError, SessionEnding, Timestamp};

use crate::port::RecordError;
use crate::problem::Problems;

/// Why a `Mastery` call failed. Every variant is an answer to the caller; none is a crash.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MasteryError {
    /// The input did not pass validation; every problem is listed.
    #[error("invalid input: {0}")]
    Invalid(Problems),
    /// No quiz has this title.
    #[error("no quiz titled {0:?}")]
    NoSuchQuiz(String),
    /// The learner already has a session of this quiz.
    #[error("{email} has already started quiz {title:?}")]
    AlreadyStarted {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
    },
    /// The learner has no session of this quiz (never started, finished or ended).
    #[error("{email} has no session of quiz {title:?}")]
    NoSession {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
    },
    /// The session stopped while the call was in flight (it was ended, or it crashed).
    #[error("the session of {email} in quiz {title:?} stopped before answering")]
    SessionStopped {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
    },
    /// A worker did not answer in time, or its mailbox stayed full.
    #[error("the {worker} did not answer within {after:?}")]
    Timeout {
        /// Which worker.
        worker: String,
        /// The timeout in force.
        after: Duration,
    },
    /// The core refused (answering with no current question, a failing generator or checker).
    #[error("{0}")]
    Quiz(QuizError),
    /// The persistence port failed; the answer was not applied and the quiz did not move.
    #[error("the answer was not recorded, so it was not applied: {0}")]
    NotRecorded(RecordError),
    /// The port neither stored nor refused the answer in time: it may have been stored. The
    /// session has ended, so that it never goes on from a state the store may not share.
    #[error(
        "the store neither confirmed nor refused the answer within {waited:?}; it may have been stored, so the session of {email} in quiz {title:?} has ended"
    )]
    RecordUnknown {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// How long the session waited, in all.
        waited: Duration,
    },
    /// The learner's exam window has not opened yet, or has closed.
    #[error("the exam {title:?} is not open for {email}: {}", describe_not_open(*opens_at, *closed_at))]
    NotOpen {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// When it opens, if it has not yet.
        opens_at: Option<Timestamp>,
        /// When it closed, if it has.
        closed_at: Option<Timestamp>,
    },
    /// The learner's time is up: the answer came after their session closed and was not stored.
    #[error("time is up for {email} in quiz {title:?}: the session closed at {}; the answer was not stored", crate::format_rfc3339(closed_at.as_millis()))]
    TimeUp {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// When the session closed.
        closed_at: Timestamp,
    },
    /// The learner has already taken this exam, which allows one attempt.
    #[error("{email} has already taken the exam {title:?} (the attempt ended: {})", ending.as_str())]
    AttemptUsed {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// How the attempt ended.
        ending: SessionEnding,
    },
    /// The system is shut down, or the worker behind this call is gone for good.
    #[error("mastery is shut down")]
    ShutDown,
}

impl From<QuizError> for MasteryError {
    fn from(error: QuizError) -> Self {
        MasteryError::Quiz(error)
    }
}

fn describe_not_open(opens_at: Option<Timestamp>, closed_at: Option<Timestamp>) -> String {
    match (opens_at, closed_at) {
        (Some(opens_at), _) => format!("it opens at {}", crate::format_rfc3339(opens_at.as_millis())),
        (None, Some(closed_at)) => format!("it closed at {}", crate::format_rfc3339(closed_at.as_millis())),
        (None, None) => "it is closed".to_string(),
    }
}
