//! Typed errors of the core. Hand-written: the core depends on nothing but std.

use std::error::Error;
use std::fmt;

/// Why a template could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A required text field (`name`, `category` or `raw`) is missing or blank.
    BlankField {
        /// The field's name.
        field: &'static str,
    },
    /// No checker was given.
    MissingChecker,
    /// A `{{` has no closing `}}`.
    UnterminatedPlaceholder {
        /// Byte offset of the `{{` in `raw`.
        offset: usize,
    },
    /// A `{{ }}` has nothing between the braces.
    EmptyPlaceholder {
        /// Byte offset of the `{{` in `raw`.
        offset: usize,
    },
    /// A placeholder names no generator.
    UnknownPlaceholder {
        /// The placeholder's name.
        name: String,
    },
    /// Two generators share a name.
    DuplicateGenerator {
        /// The repeated name.
        name: String,
    },
    /// A list generator has no values.
    EmptyList {
        /// The generator's name.
        generator: String,
    },
    /// A range generator's low end is above its high end.
    InvertedRange {
        /// The generator's name.
        generator: String,
        /// The low end given.
        lo: i64,
        /// The high end given.
        hi: i64,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::BlankField { field } => write!(f, "{field} must not be blank"),
            TemplateError::MissingChecker => f.write_str("a checker is required"),
            TemplateError::UnterminatedPlaceholder { offset } => {
                write!(f, "placeholder opened at byte {offset} is never closed with }}}}")
            }
            TemplateError::EmptyPlaceholder { offset } => write!(f, "placeholder at byte {offset} has no name"),
            TemplateError::UnknownPlaceholder { name } => {
                write!(f, "placeholder {{{{ {name} }}}} has no generator named {name:?}")
            }
            TemplateError::DuplicateGenerator { name } => write!(f, "generator {name:?} is defined twice"),
            TemplateError::EmptyList { generator } => write!(f, "generator {generator:?} has an empty list"),
            TemplateError::InvertedRange { generator, lo, hi } => {
                write!(f, "generator {generator:?} has range [{lo}, {hi}] whose low end is above its high end")
            }
        }
    }
}

impl Error for TemplateError {}

/// Why a quiz operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizError {
    /// The quiz title is blank.
    BlankTitle,
    /// `mastery` is below 1.
    MasteryTooLow {
        /// The value given.
        mastery: u32,
    },
    /// A template with this name is already in the quiz.
    DuplicateTemplate {
        /// The repeated name.
        name: String,
    },
    /// A response was made or answered with no current question (the book crashes here).
    NoCurrentQuestion,
    /// The response answers a question that is no longer the quiz's current one.
    StaleResponse {
        /// The template the response was for.
        template: String,
    },
    /// A generator failed while a question was being made.
    Generator {
        /// The template being asked.
        template: String,
        /// The failing generator.
        generator: String,
        /// What went wrong.
        message: String,
    },
    /// Stored substitutions do not fit the template they are given to (its generators changed).
    Substitutions {
        /// The template.
        template: String,
        /// What does not fit.
        message: String,
    },
    /// A checker failed (as opposed to judging the answer wrong or invalid). Only
    /// [`Question::check`](crate::Question::check) reports it; a response records the answer as
    /// invalid instead.
    Checker {
        /// The template whose checker failed.
        template: String,
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for QuizError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuizError::BlankTitle => f.write_str("title must not be blank"),
            QuizError::MasteryTooLow { mastery } => write!(f, "mastery must be at least 1, got {mastery}"),
            QuizError::DuplicateTemplate { name } => write!(f, "template {name:?} is already in the quiz"),
            QuizError::NoCurrentQuestion => {
                f.write_str("there is no current question to answer; select a question first")
            }
            QuizError::StaleResponse { template } => {
                write!(f, "the response to template {template:?} is not for the current question")
            }
            QuizError::Generator { template, generator, message } => {
                write!(f, "generator {generator:?} of template {template:?} failed: {message}")
            }
            QuizError::Substitutions { template, message } => {
                write!(f, "the stored values do not fit template {template:?}: {message}")
            }
            QuizError::Checker { template, message } => write!(f, "checker of template {template:?} failed: {message}"),
        }
    }
}

impl Error for QuizError {}
