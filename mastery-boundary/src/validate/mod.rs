//! The validators: untrusted fields in, domain values or *every* problem out.
//!
//! The book's validators lose earlier errors as they go; these collect every problem, in field
//! order, as `(field, message)` pairs.
//!
//! - `quiz.rs`: a quiz's own fields, and a quiz with all its templates;
//! - `template.rs`: one template: its texts, generators, placeholders and checker spec;
//! - `checkers.rs`: the checkers a validated template runs for every answer.

mod checkers;
mod quiz;
mod template;

use std::sync::Arc;

use mastery_core::{Quiz, Template};

use crate::problem::Problem;
use crate::script::Scripts;

pub use checkers::ExpectChecker;

/// Size limits that keep hostile input harmless: each is a clear error, never an allocation
/// blow-up.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Characters in a quiz title.
    pub max_title_chars: usize,
    /// Characters in a template name or category.
    pub max_name_chars: usize,
    /// Characters in `raw` or `instructions`.
    pub max_text_chars: usize,
    /// Templates in one quiz.
    pub max_templates: usize,
    /// Generators in one template.
    pub max_generators: usize,
    /// Values in one list generator.
    pub max_list_len: usize,
    /// `hi - lo` of a range; 2^53 keeps every value exact when compared as a number.
    pub max_range_width: i64,
    /// Largest `mastery`.
    pub max_mastery: i64,
    /// Bytes in a quiz file.
    pub max_file_bytes: usize,
    /// Characters in a learner's answer; the self-test feeds every checker an answer this long.
    pub max_answer_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_title_chars: 200,
            max_name_chars: 100,
            max_text_chars: 2_000,
            max_templates: 10_000,
            max_generators: 32,
            max_list_len: 10_000,
            max_range_width: 1 << 53,
            max_mastery: 1_000,
            max_file_bytes: 1 << 20,
            max_answer_chars: 1_000,
        }
    }
}

/// Validates untrusted fields into domain values: the one judge for API callers and quiz files
/// alike. Scripts in the fields are compiled by its own sandboxed engine.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    scripts: Scripts,
    limits: Limits,
}

/// A template that passed validation.
#[derive(Debug, Clone)]
pub struct ValidTemplate {
    /// The template, ready to add to a quiz.
    pub template: Arc<Template>,
    /// Things worth a look that do not stop the template (a generator no placeholder uses).
    pub warnings: Vec<Problem>,
    /// The `expect` checker, kept so a self-test can ask it for the right answer.
    pub expect: Option<Arc<ExpectChecker>>,
}

/// A quiz that passed validation, with its templates.
#[derive(Debug, Clone)]
pub struct ValidQuiz {
    /// The quiz with every template already added.
    pub quiz: Quiz,
    /// Warnings from every template, under `templates[i]`.
    pub warnings: Vec<Problem>,
    /// Each template as validated, in file order.
    pub templates: Vec<ValidTemplate>,
    /// The longest answer a learner may give ([`Limits::max_answer_chars`]).
    pub max_answer_chars: usize,
}

impl Validator {
    /// A validator with its own script engine and limits.
    pub fn new(scripts: Scripts, limits: Limits) -> Self {
        Validator { scripts, limits }
    }

    /// The limits in force; a front end reads `max_answer_chars` and `max_file_bytes` from here.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A required, non-blank text of at most `max` characters, or `None` with its problem pushed.
    fn text<'a>(
        &self,
        problems: &mut Vec<Problem>,
        field: &str,
        value: Option<&'a str>,
        max: usize,
    ) -> Option<&'a str> {
        match value {
            None => fail(problems, field, format!("{field} is required")),
            Some(v) if v.trim().is_empty() => fail(problems, field, format!("{field} must not be blank")),
            Some(v) if v.chars().count() > max => {
                fail(problems, field, format!("{field} must be at most {max} characters, got {}", v.chars().count()))
            }
            Some(v) => Some(v),
        }
    }
}

fn fail<T>(problems: &mut Vec<Problem>, field: &str, message: String) -> Option<T> {
    problems.push(Problem::new(field, message));
    None
}
