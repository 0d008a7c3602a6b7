//! What is stored for each response, and the reports computed from it.

use mastery_core::{Response, Verdict};

use crate::session::Place;

/// One stored response: every field of a core [`Response`] as plain owned data, plus the quiz's
/// mastery at the time, so a history can be reported and replayed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRecord {
    /// The quiz's title.
    pub quiz_title: String,
    /// The template's name.
    pub template: String,
    /// The question as asked (the book's `to`).
    pub asked: String,
    /// Each generator's name with its value, in the template's order (values as displayed).
    pub substitutions: Vec<(String, SubstitutionValue)>,
    /// The learner's email.
    pub email: String,
    /// The answer as given.
    pub answer: String,
    /// The verdict.
    pub verdict: Verdict,
    /// When the answer was given, in milliseconds since the Unix epoch.
    pub answered_at_ms: u64,
    /// Correct answers in a row that mastered a template in this quiz.
    pub mastery: u32,
    /// The response's session and position in it; `None` for a response recorded outside any
    /// session (as the book's `record_response` does).
    pub place: Option<Place>,
}

/// A stored substitution value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstitutionValue {
    /// An integer.
    Integer(i64),
    /// Text.
    Text(String),
}

impl ResponseRecord {
    /// The record of `response`, given at `place` in its session.
    pub fn at(response: &Response, place: Place) -> ResponseRecord {
        ResponseRecord { place: Some(place), ..ResponseRecord::from(response) }
    }
}

/// The record of a response outside any session.
impl From<&Response> for ResponseRecord {
    fn from(response: &Response) -> Self {
        let substitutions = response
            .substitutions()
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    mastery_core::Value::Integer(n) => SubstitutionValue::Integer(*n),
                    mastery_core::Value::Text(text) => SubstitutionValue::Text(text.to_string()),
                };
                (name.to_string(), value)
            })
            .collect();
        ResponseRecord {
            quiz_title: response.quiz_title().to_string(),
            template: response.template_name().to_string(),
            asked: response.to().to_string(),
            substitutions,
            email: response.email().to_string(),
            answer: response.answer().to_string(),
            verdict: response.verdict().clone(),
            answered_at_ms: response.timestamp().as_millis(),
            mastery: response.mastery(),
            place: None,
        }
    }
}
