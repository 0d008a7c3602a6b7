//! The checkers a validated template runs for every answer: `expect` (the answer must equal the
//! value of an expression) and `script` (an expression judges the answer itself).

use std::sync::Arc;

use mastery_core::{Checker, Substitutions, Verdict, checker};

use crate::script::{Script, type_words};

/// What an `expect` checker wants as the answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expected {
    Integer(i64),
    /// A number with a fraction, compared within a tolerance.
    Number(f64),
    /// Text, and also `true` or `false` as text.
    Text(String),
}

impl Expected {
    /// The answer a learner would type to be right.
    pub(crate) fn answer_text(&self) -> String {
        match self {
            Expected::Integer(n) => n.to_string(),
            Expected::Number(x) => x.to_string(),
            Expected::Text(text) => text.clone(),
        }
    }

    /// An answer that is certainly wrong, even within `tolerance`, but readable.
    pub(crate) fn wrong_answer_text(&self, tolerance: f64) -> String {
        match self {
            Expected::Integer(n) => (*n as f64 + tolerance.max(0.5) * 2.0 + 1.0).round().to_string(),
            Expected::Number(x) => (x + tolerance * 2.0 + 1.0).to_string(),
            Expected::Text(text) => format!("{text}-not"),
        }
    }
}

/// The `expect` checker: correct when the answer equals the value of an expression over the
/// question's substitutions; numbers within a tolerance, text ignoring case unless told not to.
#[derive(Debug)]
pub struct ExpectChecker {
    script: Script,
    tolerance: f64,
    case_sensitive: bool,
}

impl ExpectChecker {
    pub(super) fn new(script: Script, tolerance: f64, case_sensitive: bool) -> Self {
        ExpectChecker { script, tolerance, case_sensitive }
    }

    /// The value the expression gives for these substitutions.
    pub(crate) fn expected(&self, substitutions: Substitutions<'_>) -> Result<Expected, String> {
        let value = self.script.evaluate(substitutions, None)?;
        if let Ok(n) = value.as_int() {
            return Ok(Expected::Integer(n));
        }
        if let Ok(x) = value.as_float() {
            return Ok(Expected::Number(x));
        }
        if let Ok(b) = value.as_bool() {
            return Ok(Expected::Text(b.to_string()));
        }
        if value.is_string() {
            return Ok(Expected::Text(value.into_string().unwrap_or_default()));
        }
        Err(format!("expect must give a number or text, got {}", type_words(value.type_name())))
    }

    pub(crate) fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// The verdict on `answer` to the question these substitutions drew. An error is a fault of
    /// the checker (the expression failed or gave no number or text), never of the answer.
    pub fn judge(&self, substitutions: Substitutions<'_>, answer: &str) -> Result<Verdict, String> {
        Ok(match self.expected(substitutions)? {
            Expected::Integer(n) if self.tolerance == 0.0 => checker::compare_integer(n, answer),
            Expected::Integer(n) => checker::compare_number(n as f64, answer, self.tolerance),
            // Without a tolerance a fraction is still compared as a number: a rounding error in the
            // last bits of the expression (`0.1 + 0.2`) must not make the exact answer wrong.
            Expected::Number(x) => checker::compare_number(x, answer, self.tolerance.max(x.abs().max(1.0) * 1e-9)),
            Expected::Text(text) => checker::compare_text(&text, answer, self.case_sensitive),
        })
    }
}

/// The core checker that runs `expect`; the caller keeps its own handle for the self-test.
pub(super) fn expect_checker(expect: &Arc<ExpectChecker>) -> Checker {
    let judge = Arc::clone(expect);
    let states = Arc::clone(expect);
    Checker::new(move |subs, answer| judge.judge(subs, answer))
        .with_expected(move |subs| states.expected(subs).ok().map(|expected| expected.answer_text()))
}

/// The core checker that runs a `script` checker: `true` or `false` is the verdict, a text marks
/// the answer invalid with that text as the reason.
pub(super) fn script_checker(script: Script) -> Checker {
    Checker::new(move |subs, answer| script_verdict(&script, subs, answer))
}

fn script_verdict(script: &Script, substitutions: Substitutions<'_>, answer: &str) -> Result<Verdict, String> {
    let value = script.evaluate(substitutions, Some(answer))?;
    if let Ok(right) = value.as_bool() {
        return Ok(Verdict::from_bool(right));
    }
    if value.is_string() {
        return Ok(Verdict::Invalid(value.into_string().unwrap_or_default()));
    }
    Err(format!("checker script must give true, false or a reason text, got {}", type_words(value.type_name())))
}
