//! Untrusted quiz and template fields, as they arrive from a file, a form or an API caller.
//!
//! Every field is optional here: a missing field is a problem the validators report alongside
//! all the others, not a parse failure that hides them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A quiz's own fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizFields {
    /// Required, non-blank.
    pub title: Option<String>,
    /// Correct answers in a row that master a template; at least 1, default 3.
    pub mastery: Option<i64>,
    /// Whether learners see the expected answer: `"never"` (the default) or `"after_incorrect"`.
    pub reveal: Option<String>,
    /// Exam settings (the `[exam]` table); `None`: a practice quiz.
    pub exam: Option<ExamFields>,
}

/// A quiz's exam settings as written: instants in RFC 3339, durations as people write them
/// (`45m`, `1h30m`).
///
/// ```toml
/// [exam]
/// opens_at = "2026-12-01T09:00:00Z"
/// closes_at = "2026-12-01T11:00:00Z"
/// time_limit = "45m"     # per learner, from when they start
/// grace_period = "5m"    # answers stored as overdue; without it the session ends at once
/// idle_limit = "20m"     # a session without an answer this long is ended as abandoned
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamFields {
    /// When learners may start (with `closes_at`).
    pub opens_at: Option<String>,
    /// When the quiz closes (with `opens_at`).
    pub closes_at: Option<String>,
    /// How long each attempt may last, from the learner's start.
    pub time_limit: Option<String>,
    /// How long after a learner's time is up answers are still stored, marked overdue.
    pub grace_period: Option<String>,
    /// How long a session may go without an answer before it is ended as abandoned.
    pub idle_limit: Option<String>,
}

/// One learner's own exam settings as a teacher gives them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerOverrideFields {
    /// More time: a duration (`15m`) or a percentage of the time limit (`50%`).
    pub extra_time: Option<String>,
    /// The learner's own window opens (with `closes_at`), in RFC 3339.
    pub opens_at: Option<String>,
    /// The learner's own window closes (with `opens_at`), in RFC 3339.
    pub closes_at: Option<String>,
}

impl QuizFields {
    /// Fields with a title and the default mastery.
    pub fn titled(title: impl Into<String>) -> Self {
        QuizFields { title: Some(title.into()), mastery: None, reveal: None, exam: None }
    }

    /// The same fields with `mastery` set.
    pub fn with_mastery(mut self, mastery: i64) -> Self {
        self.mastery = Some(mastery);
        self
    }
}

/// A template's fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFields {
    /// Required, non-blank, unique within a quiz.
    pub name: Option<String>,
    /// Required, non-blank.
    pub category: Option<String>,
    /// Optional text shown with each question.
    pub instructions: Option<String>,
    /// Required question text with `{{ name }}` placeholders.
    pub raw: Option<String>,
    /// Required, non-empty: one generator per placeholder.
    pub generators: Option<BTreeMap<String, GeneratorSpec>>,
    /// Required.
    pub checker: Option<CheckerSpec>,
}

/// How a generator draws its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GeneratorSpec {
    /// One element drawn uniformly.
    List(Vec<ValueSpec>),
    /// An integer from an inclusive range.
    Range {
        /// `[lo, hi]`.
        range: (i64, i64),
    },
    /// A sandboxed expression; `rand(lo, hi)` draws from the quiz's random source.
    Script {
        /// rhai source giving an integer or text, such as `rand(1, 6) * 10`.
        script: String,
    },
}

/// A literal value in a list generator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValueSpec {
    /// An integer substitution, such as `7`.
    Integer(i64),
    /// A text substitution, such as `"cat"`.
    Text(String),
}

/// How answers are judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CheckerSpec {
    /// Correct when the answer equals the value of an expression over the substitutions.
    Expect {
        /// rhai source whose value is the right answer, such as `left + right`.
        expect: String,
        /// Numbers within this distance count as equal (default 0).
        tolerance: Option<f64>,
        /// Compare text case-sensitively (default false).
        case_sensitive: Option<bool>,
    },
    /// A boolean expression over the substitutions and `answer`; a text result marks the answer
    /// invalid with that text as the reason.
    Script {
        /// rhai source with `answer` in scope, such as `answer.len() == 3`.
        script: String,
    },
}
