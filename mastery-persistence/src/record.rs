//! What is stored for each response, and the reports computed from it.

use std::collections::BTreeMap;

use mastery_core::{MasteryFold, Response, Verdict};

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
    /// The verdict.
    pub verdict: &'a Verdict,
    /// The quiz's mastery then.
    pub mastery: u32,
}

/// Folds responses, oldest first, into one report row per email, sorted by email.
///
/// Mastery is derived by the core's own rule ([`MasteryFold`]), so a report never disagrees with
/// the quiz that produced its rows.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    learners: BTreeMap<String, LearnerTally>,
}

#[derive(Debug, Default)]
struct LearnerTally {
    responses: u64,
    correct: u64,
    invalid: u64,
    fold: MasteryFold,
}

impl ReportBuilder {
    /// Adds one response; call in the order the responses were given.
    pub fn add(&mut self, row: ReportRow<'_>) {
        let tally = match self.learners.get_mut(row.email) {
            Some(tally) => tally,
            None => self.learners.entry(row.email.to_string()).or_default(),
        };
        tally.responses += 1;
        tally.correct += u64::from(row.verdict.is_correct());
        tally.invalid += u64::from(matches!(row.verdict, Verdict::Invalid(_)));
        tally.fold.apply(row.template, row.verdict, row.mastery);
    }

    /// The finished report, one row per email, sorted by email.
    pub fn finish(self) -> Vec<LearnerReport> {
        self.learners
            .into_iter()
            .map(|(email, tally)| {
                let mut mastered: Vec<String> = tally.fold.mastered().map(String::from).collect();
                mastered.sort_unstable();
                LearnerReport {
                    email,
                    responses: tally.responses,
                    correct: tally.correct,
                    invalid: tally.invalid,
                    mastered,
                }
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
            verdict: &record.verdict,
            mastery: record.mastery,
        });
    }
    builder.finish()
}
