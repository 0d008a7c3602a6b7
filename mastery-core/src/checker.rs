//! Checkers: functions of a question's substitutions and an answer that return a [`Verdict`].

use std::fmt;
use std::sync::Arc;

use crate::value::Substitutions;

/// How an answer was judged.
///
/// The book's checker returns a boolean. Mastery separates an answer that cannot be read (`"l2"`
/// where a number is due) from a wrong one: an invalid answer is recorded and explained, but leaves
/// the streak alone and keeps the same question current.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The answer is right.
    Correct,
    /// The answer is readable and wrong.
    Incorrect,
    /// The answer cannot be judged; the reason says why (`expected a number, got "l2"`).
    Invalid(String),
}

impl Verdict {
    /// The book's yes/no: `true` only for [`Verdict::Correct`].
    pub fn is_correct(&self) -> bool {
        matches!(self, Verdict::Correct)
    }

    /// The verdict's name as the command line and the store spell it:
    /// `correct`, `incorrect` or `invalid`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Incorrect => "incorrect",
            Verdict::Invalid(_) => "invalid",
        }
    }

    /// The verdict that [`Verdict::kind`] spells `kind`, with `reason` for an invalid one;
    /// `None` for any other word, so a misspelt verdict read back from storage is an error, never
    /// silently counted as wrong.
    ///
    /// ```
    /// use mastery_core::Verdict;
    ///
    /// assert_eq!(Verdict::from_kind("correct", String::new()), Some(Verdict::Correct));
    /// assert_eq!(Verdict::from_kind("invalid", "no number".into()), Some(Verdict::Invalid("no number".into())));
    /// assert_eq!(Verdict::from_kind("corect", String::new()), None);
    /// ```
    pub fn from_kind(kind: &str, reason: String) -> Option<Verdict> {
        match kind {
            "correct" => Some(Verdict::Correct),
            "incorrect" => Some(Verdict::Incorrect),
            "invalid" => Some(Verdict::Invalid(reason)),
            _ => None,
        }
    }

    /// Correct when `right` holds, else incorrect.
    pub fn from_bool(right: bool) -> Self {
        if right { Verdict::Correct } else { Verdict::Incorrect }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Invalid(reason) => write!(f, "invalid: {reason}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// The signature of a checker function. An `Err` is a fault in the checker itself (a script that
/// ran out of operations, say), never a judgement of the learner's answer: a
/// [`Response`](crate::Response) records that answer as invalid, saying the checker could not
/// judge it, and [`Question::check`](crate::Question::check) passes the fault on to self-tests.
pub type CheckFn = dyn Fn(Substitutions<'_>, &str) -> Result<Verdict, String> + Send + Sync;

/// A shareable checker: judges an answer given the question's substitutions.
///
/// ```
/// use mastery_core::{Checker, Substitutions, Value, Verdict, checker};
/// use std::sync::Arc;
///
/// let sum = Checker::new(|subs: Substitutions<'_>, answer: &str| {
///     let term = |name| subs.get(name).and_then(Value::as_integer).ok_or("missing term");
///     Ok(checker::compare_integer(term("left")? + term("right")?, answer))
/// });
/// let names: Vec<Arc<str>> = vec!["left".into(), "right".into()];
/// let values = vec![Value::Integer(1), Value::Integer(2)];
/// let subs = Substitutions::new(&names, &values);
/// assert_eq!(sum.check(subs, "3"), Ok(Verdict::Correct));
/// assert_eq!(sum.check(subs, " 03 "), Ok(Verdict::Correct));
/// assert_eq!(sum.check(subs, "4"), Ok(Verdict::Incorrect));
/// assert!(matches!(sum.check(subs, "l2"), Ok(Verdict::Invalid(_))));
/// ```
#[derive(Clone)]
pub struct Checker {
    check: Arc<CheckFn>,
    expected: Option<Arc<ExpectedFn>>,
}

/// The signature of a function that states the answer a checker expects, where there is one.
pub type ExpectedFn = dyn Fn(Substitutions<'_>) -> Option<String> + Send + Sync;

impl Checker {
    /// Wraps a checker function.
    pub fn new(check: impl Fn(Substitutions<'_>, &str) -> Result<Verdict, String> + Send + Sync + 'static) -> Self {
        Self { check: Arc::new(check), expected: None }
    }

    /// The same checker, able to state the answer it expects, so that a quiz can show it after a
    /// miss (see [`Reveal`](crate::Reveal)). A checker that accepts many answers may have none.
    ///
    /// ```
    /// use mastery_core::{Checker, Substitutions, Value, checker};
    /// use std::sync::Arc;
    ///
    /// let term = |subs: Substitutions<'_>| subs.get("n").and_then(Value::as_integer);
    /// let double = Checker::new(move |subs, answer| Ok(checker::compare_integer(term(subs).unwrap_or(0) * 2, answer)))
    ///     .with_expected(move |subs| term(subs).map(|n| (n * 2).to_string()));
    /// let names: Vec<Arc<str>> = vec!["n".into()];
    /// let values = vec![Value::Integer(21)];
    /// assert_eq!(double.expected(Substitutions::new(&names, &values)), Some("42".to_string()));
    /// ```
    pub fn with_expected(
        mut self,
        expected: impl Fn(Substitutions<'_>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.expected = Some(Arc::new(expected));
        self
    }

    /// Judges `answer` for a question with these substitutions.
    pub fn check(&self, substitutions: Substitutions<'_>, answer: &str) -> Result<Verdict, String> {
        (self.check)(substitutions, answer)
    }

    /// The answer expected for these substitutions, when the checker can state one.
    pub fn expected(&self, substitutions: Substitutions<'_>) -> Option<String> {
        self.expected.as_ref().and_then(|expected| expected(substitutions))
    }
}

impl fmt::Debug for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Checker(..)")
    }
}

/// Reads an answer as a number: trimmed, an optional sign, digits with an optional fraction or
/// exponent. `"03"`, `"+3"` and `"3.0"` all read as 3; `"inf"`, `"NaN"` and `""` do not read.
pub fn parse_number(answer: &str) -> Option<f64> {
    let text = answer.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(n as f64);
    }
    // f64's parser also accepts "inf" and "NaN", which no learner means as a number.
    let looks_numeric = text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if !looks_numeric {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Judges a numeric answer against an expected integer: numbers compared as numbers, so `"03"`
/// and `"3.0"` are right for 3; an answer that is no number is invalid.
pub fn compare_integer(expected: i64, answer: &str) -> Verdict {
    let trimmed = answer.trim();
    // Fast path: most answers are plain integers, compared exactly without a float round trip.
    if let Ok(n) = trimmed.parse::<i64>() {
        return Verdict::from_bool(n == expected);
    }
    compare_number(expected as f64, answer, 0.0)
}

/// Judges a numeric answer against `expected`, accepting any answer within `tolerance` of it.
pub fn compare_number(expected: f64, answer: &str, tolerance: f64) -> Verdict {
    match parse_number(answer) {
        Some(given) => Verdict::from_bool((given - expected).abs() <= tolerance.abs()),
        None => Verdict::Invalid(format!("expected a number, got {:?}", clip(answer.trim()))),
    }
}

/// Judges a text answer: both sides trimmed, and compared ignoring case unless `case_sensitive`.
pub fn compare_text(expected: &str, answer: &str, case_sensitive: bool) -> Verdict {
    let (expected, answer) = (expected.trim(), answer.trim());
    let same = if case_sensitive { expected == answer } else { expected.to_lowercase() == answer.to_lowercase() };
    Verdict::from_bool(same)
}

/// Shortens a hostile answer before it is echoed in a reason.
fn clip(text: &str) -> &str {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compared_as_numbers() {
        assert_eq!(compare_integer(3, "3"), Verdict::Correct);
        assert_eq!(compare_integer(3, "03"), Verdict::Correct);
        assert_eq!(compare_integer(3, "3.0"), Verdict::Correct);
        assert_eq!(compare_integer(3, "+3"), Verdict::Correct);
        assert_eq!(compare_integer(-3, " -3 "), Verdict::Correct);
        assert_eq!(compare_integer(3, "2"), Verdict::Incorrect);
        assert_eq!(compare_integer(3, "3.5"), Verdict::Incorrect);
    }

    #[test]
    fn an_answer_that_is_no_number_is_invalid_and_says_so() {
        assert_eq!(compare_integer(3, "l2"), Verdict::Invalid("expected a number, got \"l2\"".into()));
        for unreadable in ["", "   ", "inf", "NaN", "three", "1e999"] {
            assert!(matches!(compare_integer(3, unreadable), Verdict::Invalid(_)), "{unreadable:?}");
        }
    }

    #[test]
    fn the_reason_for_an_invalid_answer_is_clipped() {
        let Verdict::Invalid(reason) = compare_integer(1, &"x".repeat(10_000)) else {
            panic!("expected an invalid verdict");
        };
        assert!(reason.len() < 80, "{reason}");
    }

    #[test]
    fn tolerance_accepts_answers_close_enough() {
        assert_eq!(compare_number(0.333, "0.33", 0.01), Verdict::Correct);
        assert_eq!(compare_number(0.333, "0.3", 0.01), Verdict::Incorrect);
    }

    #[test]
    fn text_is_trimmed_and_case_insensitive_unless_asked() {
        assert_eq!(compare_text("Paris", "  paris ", false), Verdict::Correct);
        assert_eq!(compare_text("Paris", "paris", true), Verdict::Incorrect);
        assert_eq!(compare_text("Paris", "Lyon", false), Verdict::Incorrect);
    }

    #[test]
    fn verdict_kinds_are_the_contract_spellings() {
        assert_eq!(Verdict::Correct.kind(), "correct");
        assert_eq!(Verdict::Incorrect.kind(), "incorrect");
        assert_eq!(Verdict::Invalid("x".into()).kind(), "invalid");
        assert!(Verdict::Correct.is_correct() && !Verdict::Incorrect.is_correct());
    }
}
