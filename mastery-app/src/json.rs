//! The JSON every front end speaks: the events of a run and the rows of a report.
//!
//! Field names and their order are a contract (scripts read `mastery run --json`), so they are
//! written down once, here, for the command line and any other front end.

use mastery_boundary::{Answered, QuestionView};
use mastery_core::Verdict;
use mastery_persistence::LearnerReport;
use serde::Serialize;

/// One event of a run, serialised as one JSON object with an `event` field.
///
/// No event carries an expected answer: questions come from [`QuestionView`], which has none.
///
/// ```
/// use mastery_app::Event;
///
/// let line = serde_json::to_string(&Event::Finished { title: "Arithmetic" }).unwrap();
/// assert_eq!(line, r#"{"event":"finished","title":"Arithmetic"}"#);
/// ```
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A question to answer.
    Question {
        /// The template's name.
        template: &'a str,
        /// The template's category.
        category: &'a str,
        /// The question's text.
        asked: &'a str,
        /// The template's instructions (empty when it has none).
        instructions: &'a str,
    },
    /// An answer, sent only once its response is durable.
    Answer {
        /// The template answered.
        template: &'a str,
        /// The answer as given.
        answer: &'a str,
        /// The book's yes/no.
        correct: bool,
        /// `correct`, `incorrect` or `invalid`.
        verdict: &'a str,
        /// The template's streak after this answer.
        streak: u32,
        /// Why an invalid answer could not be judged; absent for the other verdicts.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        /// The expected answer: only after an incorrect one, in a quiz with
        /// `reveal = "after_incorrect"`.
        #[serde(skip_serializing_if = "Option::is_none")]
        expected: Option<&'a str>,
        /// `true` for an answer given in an exam's grace period, after the learner's time was
        /// up; absent otherwise.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        overdue: bool,
    },
    /// The learner's open session was resumed: it comes before the first question.
    Resumed {
        /// The session's id in the store.
        session: u64,
        /// Answers stored in it before this run.
        answers: usize,
    },
    /// A line that is no answer at all (blank, or over the answer limit); the same question
    /// follows.
    Rejected {
        /// Why.
        reason: &'a str,
    },
    /// A template was mastered.
    Mastered {
        /// The template.
        template: &'a str,
    },
    /// Every template is mastered.
    Finished {
        /// The quiz.
        title: &'a str,
    },
    /// The time limit ended the quiz.
    TimeUp {
        /// The quiz.
        title: &'a str,
    },
    /// The run stopped before the quiz ended: end of input, or an interrupt.
    Stopped {
        /// The quiz.
        title: &'a str,
    },
}

impl<'a> Event<'a> {
    /// The `question` event showing `question`.
    pub fn question(question: &'a QuestionView) -> Event<'a> {
        Event::Question {
            template: question.template(),
            category: question.category(),
            asked: question.asked(),
            instructions: question.instructions(),
        }
    }

    /// The `answer` event for `answer`, judged as `answered` tells.
    pub fn answer(answered: &'a Answered, answer: &'a str) -> Event<'a> {
        let reason = match &answered.verdict {
            Verdict::Invalid(reason) => Some(reason.as_str()),
            _ => None,
        };
        Event::Answer {
            template: answered.question.template(),
            answer,
            correct: answered.verdict.is_correct(),
            verdict: answered.verdict.kind(),
            streak: answered.streak,
            reason,
            expected: answered.expected.as_deref(),
            overdue: answered.overdue,
        }
    }

    /// Every event an answer gives, in the contract's order: `answer`, then `mastered` if it
    /// mastered its template. (What comes next — a question or `finished` — depends on
    /// [`Answered::next`] and follows these.)
    pub fn answered(answered: &'a Answered, answer: &'a str) -> impl Iterator<Item = Event<'a>> {
        let mastered = answered.mastered.then(|| Event::Mastered { template: answered.question.template() });
        std::iter::once(Event::answer(answered, answer)).chain(mastered)
    }
}

/// One learner's row of a quiz's report, serialised as
/// `{"email","responses","correct","invalid","mastered":[template names]}`.
///
/// ```
/// use mastery_app::ReportRow;
/// use mastery_persistence::LearnerReport;
///
/// let learner = LearnerReport {
///     email: "ada@example.com".into(),
///     responses: 5,
///     correct: 4,
///     invalid: 1,
///     mastered: vec!["addition".into()],
/// };
/// assert_eq!(
///     serde_json::to_string(&ReportRow::from(&learner)).unwrap(),
///     r#"{"email":"ada@example.com","responses":5,"correct":4,"invalid":1,"mastered":["addition"]}"#
/// );
/// ```
#[derive(Debug, Serialize)]
pub struct ReportRow<'a> {
    /// The learner.
    pub email: &'a str,
    /// Responses given.
    pub responses: u64,
    /// Correct responses.
    pub correct: u64,
    /// Invalid (unreadable) responses.
    pub invalid: u64,
    /// Templates mastered, sorted by name.
    pub mastered: &'a [String],
}

impl<'a> From<&'a LearnerReport> for ReportRow<'a> {
    fn from(row: &'a LearnerReport) -> Self {
        ReportRow {
            email: &row.email,
            responses: row.responses,
            correct: row.correct,
            invalid: row.invalid,
            mastered: &row.mastered,
        }
    }
}
