//! Quiz files: TOML read with spans, so that every problem points at its line and column.
//!
//! The file is walked by hand rather than deserialized: a type mismatch in one field must not hide
//! the problems in all the others. The walk (`walk.rs`) builds the same [`QuizFields`] and
//! [`TemplateFields`] an API caller would pass, then the one [`Validator`] judges them; each
//! problem's field path is mapped back to the span of the key or value it names and from there to
//! a line and column (`locate.rs`). An unknown key gets a "did you mean" (`suggest.rs`).
//!
//! [`QuizFields`]: crate::QuizFields
//! [`TemplateFields`]: crate::TemplateFields

mod locate;
mod suggest;

pub use suggest::edit_distance;
mod walk;

use std::fmt;
use std::ops::Range;
use std::path::Path;

use toml::de::DeTable;

use crate::check::{TemplateSummary, self_test};
use crate::problem::{Problem, Problems};
use crate::validate::{ValidQuiz, Validator};
use locate::{Locator, Spans};
use walk::Walk;

/// A problem located in a quiz file: `FILE:LINE:COL: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file as named by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Where the offending text ends: the 1-based line and column just after its last character
    /// (the same as the start when the problem is about the file, or a point between characters).
    pub end_line: usize,
    /// See [`end_line`](Self::end_line).
    pub end_column: usize,
    /// The text of line `line`, without its line ending, for showing the problem in place; empty
    /// when there is no line to show.
    pub source_line: String,
    /// The field's path, such as `templates[0].raw`.
    pub field: String,
    /// What is wrong, or for a warning `warning: ` and what is worth a look.
    pub message: String,
}

impl FileProblem {
    /// A problem with the file as a whole, or with no place in it to show: at line 1, column 1.
    pub fn at_start(file: &str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        FileProblem {
            file: file.into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            source_line: String::new(),
            field: field.into(),
            message,
        }
    }

    /// Whether this is a warning (its message starts `warning: `) rather than an error.
    pub fn is_warning(&self) -> bool {
        self.message.starts_with(WARNING)
    }
}

/// How a warning's message starts, so that its `FILE:LINE:COL: field: warning: …` line says so.
const WARNING: &str = "warning: ";

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.field, self.message)
    }
}

/// Every problem in a quiz file, in file order, one per line when displayed. As an error it holds
/// at least one error, and the file's warnings beside them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct FileProblems(pub Vec<FileProblem>);

/// A quiz file that passed validation.
#[derive(Debug, Clone)]
pub struct QuizFile {
    /// The validated quiz and its templates.
    pub valid: ValidQuiz,
    /// Warnings, located: things worth a look that do not stop the quiz.
    pub warnings: Vec<FileProblem>,
}

/// A quiz file that passed `mastery check`.
#[derive(Debug, Clone)]
pub struct CheckedQuiz {
    /// The file as loaded, with its warnings.
    pub quiz_file: QuizFile,
    /// What the self-test saw of each template, in file order.
    pub templates: Vec<TemplateSummary>,
}

/// Reads and validates the quiz file at `path`.
pub fn load_quiz_file(path: &Path, validator: &Validator) -> Result<QuizFile, FileProblems> {
    let text = read_quiz_text(path, validator)?;
    parse_quiz_text(&path.display().to_string(), &text, validator)
}

/// Validates quiz-file text; `file` names it in problems.
///
/// ```
/// use mastery_boundary::{Validator, parse_quiz_text};
///
/// let text = "title = \"Sums\"\nmastry = 2\n";
/// let problems = parse_quiz_text("sums.toml", text, &Validator::default()).unwrap_err();
/// let lines: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
/// assert_eq!(
///     lines,
///     [
///         "sums.toml:1:1: templates: a quiz needs at least one template ([[templates]])",
///         r#"sums.toml:2:1: mastry: unknown key "mastry" (did you mean "mastery"?)"#,
///     ]
/// );
/// ```
pub fn parse_quiz_text(file: &str, text: &str, validator: &Validator) -> Result<QuizFile, FileProblems> {
    parse_located(file, text, validator).map(|(quiz_file, _)| quiz_file)
}

/// `mastery check`: loads the file, then self-tests every template with `draws` seeds.
pub fn check_quiz_file(path: &Path, validator: &Validator, draws: usize) -> Result<CheckedQuiz, FileProblems> {
    let file = path.display().to_string();
    let text = read_quiz_text(path, validator)?;
    let (quiz_file, spans) = parse_located(&file, &text, validator)?;
    let locate = Locator::new(&file, &text);
    match self_test(&quiz_file.valid, draws) {
        Ok(templates) => Ok(CheckedQuiz { quiz_file, templates }),
        Err(problems) => Err(locate.all(problems.into_iter().map(|p| (spans.span_of_problem(&p), p)).collect())),
    }
}

/// The file's text, checked for size before it is read whole.
fn read_quiz_text(path: &Path, validator: &Validator) -> Result<String, FileProblems> {
    let file = path.display().to_string();
    let whole_file = |message: String| FileProblems(vec![at_start(&file, "file", message)]);
    let max = validator.limits().max_file_bytes;
    let size =
        std::fs::metadata(path).map_err(|e| whole_file(format!("cannot read the file: {}", io_reason(&e))))?.len();
    if size > max as u64 {
        return Err(too_big(&file, size, max));
    }
    let bytes = std::fs::read(path).map_err(|e| whole_file(format!("cannot read the file: {}", io_reason(&e))))?;
    String::from_utf8(bytes)
        .map_err(|e| whole_file(format!("the file is not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}

fn too_big(file: &str, size: u64, max: usize) -> FileProblems {
    FileProblems(vec![at_start(file, "file", format!("the file is {size} bytes, more than the {max} allowed"))])
}

/// A problem with the file as a whole, shown at its start.
fn at_start(file: &str, field: &str, message: String) -> FileProblem {
    FileProblem::at_start(file, field, message)
}

/// The quiz file, and where each field was written (for the self-test's problems).
fn parse_located(file: &str, text: &str, validator: &Validator) -> Result<(QuizFile, Spans), FileProblems> {
    let max = validator.limits().max_file_bytes;
    if text.len() > max {
        return Err(too_big(file, text.len() as u64, max));
    }
    let locate = Locator::new(file, text);
    let (root, errors) = DeTable::parse_recoverable(text);
    // Only the first syntax error in the file: after it the parser is guessing, and one missing
    // `]` would otherwise read as many errors after it.
    if let Some(first) = errors.iter().min_by_key(|e| e.span().map_or(0, |span| span.start)) {
        let problem = Problem::new("toml", first.message().trim());
        return Err(locate.all(vec![(first.span().unwrap_or(0..0), problem)]));
    }
    let mut walk = Walk::default();
    let (quiz_fields, template_fields) = walk.root(root.get_ref());
    let (spans, walk_problems) = walk.finish();
    let validated = validator.quiz_with_templates(&quiz_fields, &template_fields);
    let as_warning = |w: &Problem| locate.at(spans.span_of(&w.field), &w.field, format!("{WARNING}{}", w.message));
    let valid = merge_problems(validated, walk_problems, &spans).map_err(|problems| {
        let mut problems = locate.all(problems);
        let warnings = template_fields.iter().enumerate().flat_map(|(index, template)| {
            validator.template_warnings(template).into_iter().map(move |w| w.under(&format!("templates[{index}]")))
        });
        problems.0.extend(warnings.map(|w| as_warning(&w)));
        problems.0.sort_by_key(|p| (p.line, p.column));
        problems
    })?;
    let warnings = valid.warnings.iter().map(as_warning).collect();
    Ok((QuizFile { valid, warnings }, spans))
}

/// The valid quiz when neither the walk nor the validator found a problem; otherwise the
/// problems of both, each with its span.
fn merge_problems(
    validated: Result<ValidQuiz, Problems>,
    mut problems: Vec<(Range<usize>, Problem)>,
    spans: &Spans,
) -> Result<ValidQuiz, Vec<(Range<usize>, Problem)>> {
    match validated {
        Ok(valid) if problems.is_empty() => Ok(valid),
        Ok(_) => Err(problems),
        Err(found) => {
            // A field already reported as the wrong type, or with something inside it already
            // reported, would otherwise be reported again as missing.
            let fresh: Vec<Problem> = found
                .0
                .into_iter()
                .filter(|p| !problems.iter().any(|(_, known)| within(&known.field, &p.field)))
                .collect();
            problems.extend(fresh.into_iter().map(|p| (spans.span_of_problem(&p), p)));
            Err(problems)
        }
    }
}

/// Whether `field` is `parent` or a field inside it: `templates[0].checker.expect` is within
/// `templates[0].checker` and `templates`, not within `templates[0].check`.
fn within(field: &str, parent: &str) -> bool {
    field.strip_prefix(parent).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}
