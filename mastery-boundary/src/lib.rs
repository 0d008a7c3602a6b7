//! # mastery-boundary
//!
//! Placeholder essay, completed below.

mod check;
mod fields;
mod problem;
mod quiz_file;
mod script;
mod validate;

pub use check::{TemplateSummary, self_test};
pub use fields::{CheckerSpec, GeneratorSpec, QuizFields, TemplateFields, ValueSpec};
pub use problem::{Problem, Problems};
pub use quiz_file::{
    CheckedQuiz, FileProblem, FileProblems, QuizFile, check_quiz_file, load_quiz_file, parse_quiz_text,
};
pub use script::{Script, ScriptLimits, Scripts};
pub use validate::{ExpectChecker, Expected, Limits, ValidQuiz, ValidTemplate, Validator};
