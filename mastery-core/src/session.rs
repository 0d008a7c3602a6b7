//! A session as a value: one learner's way through one quiz, drawn from one seed.
//!
//! The answer protocol lives here, once: a question is drawn when there is none current, an
//! answer is applied, and the next question is drawn unless the answer was invalid. The session
//! worker runs it live; [`Session::replay`] runs it again over stored answers, which rebuilds
//! the same session question for question.

use std::sync::Arc;

use crate::checker::Verdict;
use crate::error::QuizError;
use crate::question::Question;
use crate::quiz::{AnswerOutcome, Quiz};
use crate::random::SplitMix64;
use crate::response::{Response, Timestamp};

/// A quiz being taken, with the random source its questions are drawn from.
///
/// ```
/// use mastery_core::{Next, Session, Timestamp, examples};
///
/// let mut session = Session::new(examples::math_quiz(), 7);
/// let question = session.question().unwrap().unwrap();
/// let sum: i64 = question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum();
/// let response = session.respond("ada@example.com", sum.to_string(), Timestamp::from_millis(0)).unwrap();
/// let turn = session.answer(response).unwrap();
/// assert_eq!(turn.outcome.streak, 1);
/// assert!(matches!(turn.next, Next::Question(_)));
///
/// // The same seed and the same answers give the same session.
/// let replayed = Session::replay(examples::math_quiz(), 7, "ada@example.com",
///     [(sum.to_string(), Timestamp::from_millis(0))]).unwrap();
/// assert_eq!(replayed.quiz().streak("single_digit_addition"), Some(1));
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    quiz: Quiz,
    rng: SplitMix64,
    seed: u64,
}

/// What an answer did, and what comes after it.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The question answered.
    pub question: Arc<Question>,
    /// The checker's verdict.
    pub verdict: Verdict,
    /// The template's streak after the answer, and whether it mastered the template.
    pub outcome: AnswerOutcome,
    /// What comes next.
    pub next: Next,
}

/// What follows an answer.
#[derive(Debug, Clone)]
pub enum Next {
    /// The next question: the same one again after an invalid answer.
    Question(Arc<Question>),
    /// Every template is mastered.
    Finished,
    /// The answer counts, but the next question could not be drawn (a generator failed). Asking
    /// for a question draws again.
    Failed(QuizError),
}

impl Session {
    /// A session of `quiz` whose questions are drawn from `seed`.
    pub fn new(quiz: Quiz, seed: u64) -> Session {
        Session { quiz, rng: SplitMix64::new(seed), seed }
    }

    /// The seed the questions are drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The quiz as it stands.
    pub fn quiz(&self) -> &Quiz {
        &self.quiz
    }

    /// The question to answer: the current one, or a new one drawn when there is none. Asking
    /// twice gives the same question, so a page reloaded or a call retried never skips one.
    /// `None` when the quiz is finished.
    pub fn question(&mut self) -> Result<Option<Arc<Question>>, QuizError> {
        if let Some(current) = self.quiz.current_question() {
            return Ok(Some(Arc::clone(current)));
        }
        Ok(self.quiz.select_question(&mut self.rng)?.cloned())
    }

    /// Judges `answer` to the current question, without applying it: the caller may store the
    /// response first and apply it with [`Session::answer`] once it is stored.
    pub fn respond(
        &self,
        email: impl Into<Arc<str>>,
        answer: impl Into<String>,
        at: Timestamp,
    ) -> Result<Response, QuizError> {
        Response::new(&self.quiz, email, answer, at)
    }

    /// Applies a response to the current question and draws the next one unless it was invalid.
    pub fn answer(&mut self, response: Response) -> Result<Turn, QuizError> {
        let question = Arc::clone(response.question());
        let verdict = response.verdict().clone();
        let outcome = self.quiz.answer_question(response)?;
        let next = match self.question() {
            Ok(Some(next)) => Next::Question(next),
            Ok(None) => Next::Finished,
            Err(error) => Next::Failed(error),
        };
        Ok(Turn { question, verdict, outcome, next })
    }

    /// Rebuilds a session from its seed and its answers in the order given: the same questions,
    /// the same streaks, the same next question. Each answer is judged again by today's checkers.
    pub fn replay<A: Into<String>>(
        quiz: Quiz,
        seed: u64,
        email: &str,
        answers: impl IntoIterator<Item = (A, Timestamp)>,
    ) -> Result<Session, QuizError> {
        let mut session = Session::new(quiz, seed);
        let email: Arc<str> = email.into();
        for (answer, at) in answers {
            session.question()?.ok_or(QuizError::NoCurrentQuestion)?;
            let response = session.respond(Arc::clone(&email), answer, at)?;
            session.answer(response)?;
        }
        Ok(session)
    }
}

/// One answer of a stored session, as [`Session::resume`] checks it against the replay.
#[derive(Debug, Clone, Copy)]
pub struct StoredAnswer<'a> {
    /// The template the stored question was made from.
    pub template: &'a str,
    /// The question as it was asked.
    pub asked: &'a str,
    /// The answer given.
    pub answer: &'a str,
    /// The verdict then (`correct`, `incorrect` or `invalid`; see [`Verdict::kind`]).
    pub verdict: &'a str,
    /// When it was given.
    pub at: Timestamp,
}

/// Why a stored session cannot be rebuilt: its history and today's quiz disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeError {
    /// The answer (counted from 0) where they first disagree.
    pub position: usize,
    /// How.
    pub reason: String,
}

impl std::fmt::Display for ResumeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stored answer {} does not replay: {}", self.position + 1, self.reason)
    }
}

impl std::error::Error for ResumeError {}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEnding {
    /// Every template was mastered.
    Finished,
    /// The quiz closed (its time ran out) before that.
    TimeUp,
    /// It was ended on purpose before either.
    Stopped,
    /// It was given up for a new session: the learner restarted, or the quiz changed.
    Abandoned,
}

impl SessionEnding {
    /// Every ending, in the order listed.
    pub const ALL: [SessionEnding; 4] =
        [SessionEnding::Finished, SessionEnding::TimeUp, SessionEnding::Stopped, SessionEnding::Abandoned];

    /// The stable name stored and shown: `finished`, `time_up`, `stopped` or `abandoned`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnding::Finished => "finished",
            SessionEnding::TimeUp => "time_up",
            SessionEnding::Stopped => "stopped",
            SessionEnding::Abandoned => "abandoned",
        }
    }

    /// The ending named `name` by [`SessionEnding::as_str`].
    ///
    /// ```
    /// use mastery_core::SessionEnding;
    /// assert_eq!(SessionEnding::parse("time_up"), Some(SessionEnding::TimeUp));
    /// assert_eq!(SessionEnding::parse("done"), None);
    /// ```
    pub fn parse(name: &str) -> Option<SessionEnding> {
        SessionEnding::ALL.into_iter().find(|ending| ending.as_str() == name)
    }
}

impl Session {
    /// Rebuilds a stored session, checking each replayed step against what was stored: the same
    /// template, the same question text and the same verdict. Where they differ the quiz is not
    /// the one the answers were given to, and no half-rebuilt session comes back.
    ///
    /// ```
    /// use mastery_core::{Session, StoredAnswer, Timestamp, examples};
    ///
    /// let mut live = Session::new(examples::math_quiz(), 5);
    /// let asked = live.question().unwrap().unwrap().asked().to_string();
    /// let stored = [StoredAnswer {
    ///     template: "single_digit_addition", asked: &asked, answer: "x", verdict: "invalid",
    ///     at: Timestamp::from_millis(0),
    /// }];
    /// let resumed = Session::resume(examples::math_quiz(), 5, "a@example.com", stored).unwrap();
    /// assert_eq!(resumed.quiz().current_question().unwrap().asked(), asked);
    ///
    /// let changed = [StoredAnswer { asked: "9 + 9", ..stored[0] }];
    /// let error = Session::resume(examples::math_quiz(), 5, "a@example.com", changed).unwrap_err();
    /// assert_eq!(error.position, 0);
    /// ```
    pub fn resume<'a>(
        quiz: Quiz,
        seed: u64,
        email: &str,
        answers: impl IntoIterator<Item = StoredAnswer<'a>>,
    ) -> Result<Session, ResumeError> {
        let mut session = Session::new(quiz, seed);
        let email: Arc<str> = email.into();
        for (position, stored) in answers.into_iter().enumerate() {
            let fail = |reason: String| ResumeError { position, reason };
            let question = match session.question() {
                Ok(Some(question)) => question,
                Ok(None) => return Err(fail("the quiz was already finished".into())),
                Err(error) => return Err(fail(error.to_string())),
            };
            if question.template().name() != stored.template {
                let now = question.template().name();
                return Err(fail(format!("template {:?} was asked then, {now:?} now", stored.template)));
            }
            if question.asked() != stored.asked {
                return Err(fail(format!("{:?} was asked then, {:?} now", stored.asked, question.asked())));
            }
            let response =
                session.respond(Arc::clone(&email), stored.answer, stored.at).map_err(|e| fail(e.to_string()))?;
            if response.verdict().kind() != stored.verdict {
                let (then, now) = (stored.verdict, response.verdict().kind());
                return Err(fail(format!("the answer {:?} was judged {then} then, {now} now", stored.answer)));
            }
            session.answer(response).map_err(|e| fail(e.to_string()))?;
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples;

    fn sum_of_terms(question: &Question) -> String {
        question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum::<i64>().to_string()
    }

    #[test]
    fn asking_twice_gives_the_same_question() {
        let mut session = Session::new(examples::math_quiz(), 3);
        let first = session.question().unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &session.question().unwrap().unwrap()));
    }

    #[test]
    fn an_invalid_answer_keeps_the_question_and_a_decisive_one_draws_the_next() {
        let mut session = Session::new(examples::math_quiz(), 3);
        let first = session.question().unwrap().unwrap();
        let invalid = session.respond("a@b.c", "l2", Timestamp::from_millis(0)).unwrap();
        let turn = session.answer(invalid).unwrap();
        assert!(matches!(&turn.next, Next::Question(same) if Arc::ptr_eq(same, &first)));
        let wrong = session.respond("a@b.c", "-1", Timestamp::from_millis(0)).unwrap();
        let turn = session.answer(wrong).unwrap();
        assert!(matches!(&turn.next, Next::Question(next) if !Arc::ptr_eq(next, &first)));
    }

    #[test]
    fn replay_rebuilds_the_session_question_for_question() {
        let mut live = Session::new(examples::arithmetic_quiz(), 11);
        let mut answers = Vec::new();
        for turn in 0..12 {
            let Some(question) = live.question().unwrap() else { break };
            let answer = match turn % 3 {
                0 => "nonsense".to_string(),
                1 => "-99".to_string(),
                _ => sum_of_terms(&question),
            };
            let response = live.respond("a@b.c", answer.clone(), Timestamp::from_millis(turn)).unwrap();
            live.answer(response).unwrap();
            answers.push((answer, Timestamp::from_millis(turn)));
        }
        let mut replayed = Session::replay(examples::arithmetic_quiz(), 11, "a@b.c", answers).unwrap();
        assert_eq!(replayed.quiz().record().collect::<Vec<_>>(), live.quiz().record().collect::<Vec<_>>());
        let (next, expected) = (replayed.question().unwrap().unwrap(), live.question().unwrap().unwrap());
        assert_eq!(next.asked(), expected.asked());
    }
}
