//! What is stored for each response, and the reports computed from it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mastery_core::{Response, Verdict};

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
}

/// A stored substitution value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstitutionValue {
    /// An integer.
    Integer(i64),
    /// Text.
    Text(String),
}

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
        }
    }
}

/// One learner's results in one quiz: the row the command line's report prints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LearnerReport {
    /// The learner's email.
    pub email: String,
    /// Responses given.
    pub responses: u64,
    /// Correct responses.
    pub correct: u64,
    /// Invalid (unreadable) responses.
    pub invalid: u64,
    /// Templates mastered, sorted by name.
    pub mastered: Vec<String>,
}

/// The part of a stored response a report needs.
#[derive(Debug, Clone, Copy)]
pub struct ReportRow<'a> {
    /// The learner's email.
    pub email: &'a str,
    /// The template answered.
    pub template: &'a str,
    /// `correct`, `incorrect` or `invalid`.
    pub verdict: &'a str,
    /// The quiz's mastery then.
    pub mastery: u32,
}

/// Folds responses, oldest first, into one report row per email, sorted by email.
///
/// Mastery is derived as the core derives it: a correct answer adds to the template's streak, a
/// wrong one resets it, an invalid one leaves it; reaching `mastery` masters the template.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    learners: BTreeMap<String, LearnerTally>,
}

#[derive(Debug, Default)]
struct LearnerTally {
    responses: u64,
    correct: u64,
    invalid: u64,
    streaks: HashMap<String, u32>,
    mastered: BTreeSet<String>,
}

impl ReportBuilder {
    /// Adds one response; call in the order the responses were given.
    pub fn add(&mut self, row: ReportRow<'_>) {
        let tally = match self.learners.get_mut(row.email) {
            Some(tally) => tally,
            None => self.learners.entry(row.email.to_string()).or_default(),
        };
        tally.responses += 1;
        match row.verdict {
            "correct" => {
                tally.correct += 1;
                let streak = match tally.streaks.get_mut(row.template) {
                    Some(streak) => streak,
                    None => tally.streaks.entry(row.template.to_string()).or_default(),
                };
                *streak += 1;
                if *streak >= row.mastery {
                    *streak = 0;
                    tally.mastered.insert(row.template.to_string());
                }
            }
            "invalid" => tally.invalid += 1,
            _ => {
                if let Some(streak) = tally.streaks.get_mut(row.template) {
                    *streak = 0;
                }
            }
        }
    }

    /// The finished report, one row per email, sorted by email.
    pub fn finish(self) -> Vec<LearnerReport> {
        self.learners
            .into_iter()
            .map(|(email, tally)| LearnerReport {
                email,
                responses: tally.responses,
                correct: tally.correct,
                invalid: tally.invalid,
                mastered: tally.mastered.into_iter().collect(),
            })
            .collect()
    }
}

/// Builds the report from whole records, oldest first.
pub fn report_from_records<'a>(records: impl IntoIterator<Item = &'a ResponseRecord>) -> Vec<LearnerReport> {
    let mut builder = ReportBuilder::default();
    for record in records {
        builder.add(ReportRow {
            email: &record.email,
            template: &record.template,
            verdict: record.verdict.kind(),
            mastery: record.mastery,
        });
    }
    builder.finish()
}
