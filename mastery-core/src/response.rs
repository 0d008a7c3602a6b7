//! Responses: a learner's answer to the current question, judged and timestamped.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::checker::Verdict;
use crate::error::QuizError;
use crate::question::Question;
use crate::quiz::Quiz;
use crate::value::Substitutions;

/// A point in time, in whole milliseconds since the Unix epoch.
///
/// The core never reads a clock: whoever makes a response passes the time in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0)
    }
}

impl From<SystemTime> for Timestamp {
    /// Converts a system time; instants before the epoch clamp to it.
    fn from(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A learner's answer to a quiz's current question, with the checker's verdict.
///
/// The question is shared with the quiz (one reference count), so a response costs its answer
/// text and little more.
///
/// ```
/// use mastery_core::{Response, SplitMix64, Timestamp, examples};
///
/// let mut quiz = examples::math_quiz();
/// quiz.select_question(&mut SplitMix64::new(1)).unwrap();
/// let expected: i64 = quiz.current_question().unwrap().substitutions().iter()
///     .map(|(_, value)| value.as_integer().unwrap())
///     .sum();
/// let response = Response::new(&quiz, "mathy@example.com", expected.to_string(), Timestamp::from_millis(0)).unwrap();
/// assert!(response.correct());
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    quiz_title: Arc<str>,
    question: Arc<Question>,
    email: Arc<str>,
    answer: String,
    verdict: Verdict,
    timestamp: Timestamp,
    mastery: u32,
}

impl Response {
    /// Judges `answer` to the quiz's current question.
    ///
    /// Fails with [`QuizError::NoCurrentQuestion`] before any question was selected (the book
    /// crashes there), and with [`QuizError::Checker`] when the checker itself fails.
    pub fn new(
        quiz: &Quiz,
        email: impl Into<Arc<str>>,
        answer: impl Into<String>,
        timestamp: Timestamp,
    ) -> Result<Response, QuizError> {
        let question = quiz.current_question().ok_or(QuizError::NoCurrentQuestion)?;
        let answer = answer.into();
        let verdict = question.check(&answer)?;
        Ok(Response {
            quiz_title: Arc::clone(quiz.shared_title()),
            question: Arc::clone(question),
            email: email.into(),
            answer,
            verdict,
            timestamp,
            mastery: quiz.mastery(),
        })
    }

    /// The title of the quiz answered.
    pub fn quiz_title(&self) -> &str {
        &self.quiz_title
    }

    /// The name of the template the question came from.
    pub fn template_name(&self) -> &str {
        self.question.template().name()
    }

    /// The question's text as it was asked (the book's `to`).
    pub fn to(&self) -> &str {
        self.question.asked()
    }

    /// The question answered.
    pub fn question(&self) -> &Arc<Question> {
        &self.question
    }

    /// The question's substitutions.
    pub fn substitutions(&self) -> Substitutions<'_> {
        self.question.substitutions()
    }

    /// The learner's email.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The answer as given.
    pub fn answer(&self) -> &str {
        &self.answer
    }

    /// The checker's verdict.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The book's yes/no: whether the answer was correct.
    pub fn correct(&self) -> bool {
        self.verdict.is_correct()
    }

    /// When the answer was given.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The quiz's mastery when the answer was given, so a stored history can tell on its own who
    /// mastered what.
    pub fn mastery(&self) -> u32 {
        self.mastery
    }
}
