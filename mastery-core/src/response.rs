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
    /// crashes there). A checker that fails on this answer (a script that cannot read it, or runs
    /// out of time on it) gives an invalid verdict whose reason says the checker could not judge
    /// the answer: the learner's answer is recorded and the quiz goes on.
    pub fn new(
        quiz: &Quiz,
        email: impl Into<Arc<str>>,
        answer: impl Into<String>,
        timestamp: Timestamp,
    ) -> Result<Response, QuizError> {
        let question = quiz.current_question().ok_or(QuizError::NoCurrentQuestion)?;
        let answer = answer.into();
        let verdict = question.judge(&answer);
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

/// The reason recorded when the checker fails on an answer; long script errors are clipped.
pub(crate) fn unjudged(fault: &QuizError) -> String {
    const LIMIT: usize = 200;
    let message = match fault {
        QuizError::Checker { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let message = match message.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message,
    };
    format!("the checker could not judge this answer: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::Checker;
    use crate::generator::Generator;
    use crate::random::SplitMix64;
    use crate::template::Template;

    /// A quiz whose checker reads the answer as a number and fails on anything else, with a
    /// message that echoes the answer (as a script's `parse_int` does).
    fn fragile_quiz() -> Quiz {
        let checker = Checker::new(|_, answer: &str| match answer.trim().parse::<i64>() {
            Ok(n) => Ok(Verdict::from_bool(n == 3)),
            Err(_) => Err(format!("cannot parse {answer:?} as an integer")),
        });
        let template = Template::builder("three")
            .category("numbers")
            .raw("{{n}}")
            .generator("n", Generator::list([3i64]))
            .checker(checker)
            .build()
            .unwrap();
        let mut quiz = Quiz::new("Fragile", 1).unwrap();
        quiz.add_template(template).unwrap();
        quiz.select_question(&mut SplitMix64::new(1)).unwrap();
        quiz
    }

    #[test]
    fn a_checker_fault_is_an_invalid_answer_and_the_quiz_goes_on() {
        let mut quiz = fragile_quiz();
        let question = Arc::clone(quiz.current_question().unwrap());
        assert!(matches!(question.check("twelve"), Err(QuizError::Checker { .. })), "self-tests still see it");

        let response = Response::new(&quiz, "a@example.com", "twelve", Timestamp::from_millis(0)).unwrap();
        let reason = "the checker could not judge this answer: cannot parse \"twelve\" as an integer";
        assert_eq!(response.verdict(), &Verdict::Invalid(reason.into()));
        let outcome = quiz.answer_question(response).unwrap();
        assert_eq!(outcome.streak, 0);
        assert!(Arc::ptr_eq(quiz.current_question().unwrap(), &question), "the same question stays current");

        let right = Response::new(&quiz, "a@example.com", "3", Timestamp::from_millis(1)).unwrap();
        assert!(right.correct());
        quiz.answer_question(right).unwrap();
        assert!(quiz.is_finished());
    }

    #[test]
    fn a_long_checker_fault_is_clipped_in_the_reason() {
        let quiz = fragile_quiz();
        let response = Response::new(&quiz, "a@example.com", "x".repeat(10_000), Timestamp::from_millis(0)).unwrap();
        let Verdict::Invalid(reason) = response.verdict() else { panic!("expected an invalid verdict") };
        assert!(reason.starts_with("the checker could not judge this answer: cannot parse"), "{reason}");
        assert!(reason.chars().count() < 300 && reason.ends_with('…'), "{reason}");
    }
}
