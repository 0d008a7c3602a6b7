//! Questions: a template with every generator drawn once and its text rendered.

use std::sync::Arc;

use crate::checker::Verdict;
use crate::error::QuizError;
use crate::random::RandomSource;
use crate::template::Template;
use crate::value::{Substitutions, Value};

/// One question, made from a template.
///
/// The template is shared, not copied: a question costs its drawn values and its rendered text.
///
/// ```
/// use mastery_core::{Question, SplitMix64, examples};
///
/// let template = examples::single_digit_addition();
/// let question = Question::new(&template, &mut SplitMix64::new(42)).unwrap();
/// assert!(question.asked().contains(" + "));
/// assert_eq!(question.template().name(), "single_digit_addition");
/// ```
#[derive(Debug, Clone)]
pub struct Question {
    template: Arc<Template>,
    asked: String,
    values: Values,
}

/// A question's drawn values. Most templates have a few generators, so those values live inline
/// in the question rather than in an allocation of their own.
#[derive(Debug, Clone)]
enum Values {
    Inline { len: usize, items: [Value; INLINE_VALUES] },
    Heap(Box<[Value]>),
}

const INLINE_VALUES: usize = 3;

impl Values {
    fn with_len(len: usize) -> Self {
        if len <= INLINE_VALUES {
            return Values::Inline { len, items: [const { Value::Integer(0) }; INLINE_VALUES] };
        }
        Values::Heap(vec![Value::Integer(0); len].into_boxed_slice())
    }

    fn slots(&mut self) -> &mut [Value] {
        match self {
            Values::Inline { len, items } => &mut items[..*len],
            Values::Heap(items) => items,
        }
    }

    fn as_slice(&self) -> &[Value] {
        match self {
            Values::Inline { len, items } => &items[..*len],
            Values::Heap(items) => items,
        }
    }
}

/// Stored values in the template's generator order; fails when the names are not exactly the
/// template's generators.
fn stored_values<'a>(
    template: &Arc<Template>,
    substitutions: impl IntoIterator<Item = (&'a str, Value)>,
) -> Result<Values, QuizError> {
    let names = template.generator_names();
    let mut values = Values::with_len(names.len());
    let mut filled = vec![false; names.len()];
    let mismatch = |what: String| QuizError::Substitutions { template: template.name().to_string(), message: what };
    for (name, value) in substitutions {
        let index = names
            .iter()
            .position(|known| &**known == name)
            .ok_or_else(|| mismatch(format!("it has no generator named {name:?}")))?;
        if std::mem::replace(&mut filled[index], true) {
            return Err(mismatch(format!("{name:?} is given twice")));
        }
        values.slots()[index] = value;
    }
    if let Some(missing) = filled.iter().position(|filled| !filled) {
        return Err(mismatch(format!("no value is given for its generator {:?}", names[missing])));
    }
    Ok(values)
}

impl Question {
    /// Draws every generator once, in name order, and renders the template's text.
    pub fn new(template: &Arc<Template>, rng: &mut dyn RandomSource) -> Result<Question, QuizError> {
        let mut values = Values::with_len(template.generators().len());
        for ((generator, name), slot) in
            template.generators().iter().zip(template.generator_names()).zip(values.slots())
        {
            *slot = generator.draw(rng).map_err(|message| QuizError::Generator {
                template: template.name().to_string(),
                generator: name.to_string(),
                message,
            })?;
        }
        let asked = template.render(values.as_slice());
        Ok(Question { template: Arc::clone(template), asked, values })
    }

    /// The question `template` asked with `substitutions` (each generator's name and value, in
    /// any order): how a stored question is made again to be judged anew. Fails when the names
    /// are not exactly the template's generators.
    ///
    /// ```
    /// use mastery_core::{Question, Value, Verdict, examples};
    ///
    /// let template = examples::single_digit_addition();
    /// let stored = [("left", Value::Integer(3)), ("right", Value::Integer(4))];
    /// let question = Question::with_substitutions(&template, stored).unwrap();
    /// assert_eq!(question.asked(), "3 + 4");
    /// assert_eq!(question.judge("7"), Verdict::Correct);
    /// ```
    pub fn with_substitutions<'a>(
        template: &Arc<Template>,
        substitutions: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<Question, QuizError> {
        let values = stored_values(template, substitutions)?;
        let asked = template.render(values.as_slice());
        Ok(Question { template: Arc::clone(template), asked, values })
    }

    /// Judges `answer` as [`Question::judge`] does, for the question `template` asked with
    /// `substitutions`, without making the question again: how a regrade judges a million stored
    /// answers.
    ///
    /// ```
    /// use mastery_core::{Question, Value, Verdict, examples};
    ///
    /// let template = examples::single_digit_addition();
    /// let stored = [("left", Value::Integer(3)), ("right", Value::Integer(4))];
    /// assert_eq!(Question::judge_stored(&template, stored, "7").unwrap(), Verdict::Correct);
    /// ```
    pub fn judge_stored<'a>(
        template: &Arc<Template>,
        substitutions: impl IntoIterator<Item = (&'a str, Value)>,
        answer: &str,
    ) -> Result<Verdict, QuizError> {
        let values = stored_values(template, substitutions)?;
        let judged =
            template.checker().check(Substitutions::new(template.generator_names(), values.as_slice()), answer);
        Ok(judged.unwrap_or_else(|message| {
            let fault = QuizError::Checker { template: template.name().to_string(), message };
            Verdict::Invalid(crate::response::unjudged(&fault))
        }))
    }

    /// The template the question was made from.
    pub fn template(&self) -> &Arc<Template> {
        &self.template
    }

    /// The question as the learner sees it.
    pub fn asked(&self) -> &str {
        &self.asked
    }

    /// Each generator's name with the value drawn for it.
    pub fn substitutions(&self) -> Substitutions<'_> {
        Substitutions::new(self.template.generator_names(), self.values.as_slice())
    }

    /// The answer the checker expects for this question, when it can state one. Only for the
    /// author's eyes, or a learner's after a miss when the quiz reveals answers.
    pub fn expected_answer(&self) -> Option<String> {
        self.template.checker().expected(self.substitutions())
    }

    /// Judges a learner's `answer`: a checker that fails on it gives an invalid verdict whose
    /// reason says the checker could not judge it (see [`crate::Response::new`]).
    pub fn judge(&self, answer: &str) -> Verdict {
        self.check(answer).unwrap_or_else(|fault| Verdict::Invalid(crate::response::unjudged(&fault)))
    }

    /// Judges `answer` with the template's checker.
    ///
    /// Fails with [`QuizError::Checker`] when the checker itself fails on this answer, so that a
    /// self-test can report it; [`crate::Response::new`] records such an answer as invalid instead.
    pub fn check(&self, answer: &str) -> Result<Verdict, QuizError> {
        self.template
            .checker()
            .check(self.substitutions(), answer)
            .map_err(|message| QuizError::Checker { template: self.template.name().to_string(), message })
    }
}
