//! Quiz files: TOML read with spans, so that every problem points at its line and column.
//!
//! The file is walked by hand rather than deserialized: a type mismatch in one field must not hide
//! the problems in all the others. The walk builds the same [`QuizFields`] and [`TemplateFields`]
//! an API caller would pass, then the one [`Validator`] judges them; each problem's field path is
//! mapped back to the span of the key or value it names.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::check::{TemplateSummary, self_test};
use crate::fields::{CheckerSpec, GeneratorSpec, QuizFields, TemplateFields, ValueSpec};
use crate::problem::{Problem, join};
use crate::validate::{ValidQuiz, Validator};

/// A problem located in a quiz file: `FILE:LINE:COL: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file as named by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field's path, such as `templates[0].raw`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.field, self.message)
    }
}

/// Every problem in a quiz file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct FileProblems(pub Vec<FileProblem>);

/// A quiz file that passed validation.
#[derive(Debug, Clone)]
pub struct QuizFile {
    /// The validated quiz and its templates.
    pub valid: ValidQuiz,
    /// Warnings, located.
    pub warnings: Vec<FileProblem>,
}

/// Reads and validates the quiz file at `path`.
pub fn load_quiz_file(path: &Path, validator: &Validator) -> Result<QuizFile, FileProblems> {
    let text = read_quiz_text(path, validator)?;
    parse_quiz_text(&path.display().to_string(), &text, validator)
}

fn read_quiz_text(path: &Path, validator: &Validator) -> Result<String, FileProblems> {
    let file = path.display().to_string();
    let whole_file = |message: String| FileProblems(vec![at_start(&file, "file", message)]);
    let max = validator.limits().max_file_bytes;
    let size =
        std::fs::metadata(path).map_err(|e| whole_file(format!("cannot read the file: {}", io_reason(&e))))?.len();
    if size > max as u64 {
        return Err(whole_file(format!("the file is {size} bytes, more than the {max} allowed")));
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

fn at_start(file: &str, field: &str, message: String) -> FileProblem {
    FileProblem { file: file.into(), line: 1, column: 1, field: field.into(), message }
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
        Err(problems) => Err(locate.all(problems.into_iter().map(|p| (spans.span_of(&p.field), p)).collect())),
    }
}

/// A quiz file that passed `mastery check`.
#[derive(Debug, Clone)]
pub struct CheckedQuiz {
    /// The loaded quiz.
    pub quiz_file: QuizFile,
    /// What the self-test saw of each template.
    pub templates: Vec<TemplateSummary>,
}

fn parse_located(file: &str, text: &str, validator: &Validator) -> Result<(QuizFile, Spans), FileProblems> {
    let locate = Locator::new(file, text);
    if text.len() > validator.limits().max_file_bytes {
        let message =
            format!("the file is {} bytes, more than the {} allowed", text.len(), validator.limits().max_file_bytes);
        return Err(FileProblems(vec![at_start(file, "file", message)]));
    }
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let problems =
            errors.iter().map(|e| (e.span().unwrap_or(0..0), Problem::new("toml", e.message().trim()))).collect();
        return Err(locate.all(problems));
    }
    let mut walk = Walk::default();
    let (quiz_fields, template_fields) = walk.root(root.get_ref());
    let validated = validator.quiz_with_templates(&quiz_fields, &template_fields);
    let mut problems: Vec<(Range<usize>, Problem)> = walk.problems;
    let valid = match validated {
        Ok(valid) if problems.is_empty() => valid,
        Ok(_) => return Err(locate.all(problems)),
        Err(found) => {
            // A field already reported as the wrong type would otherwise be reported again as missing.
            let fresh = found.0.into_iter().filter(|p| !problems.iter().any(|(_, known)| known.field == p.field));
            problems.extend(fresh.map(|p| (walk.spans.span_of(&p.field), p)).collect::<Vec<_>>());
            return Err(locate.all(problems));
        }
    };
    let warnings = valid
        .warnings
        .iter()
        .map(|w| locate.at(walk.spans.span_of(&w.field), &w.field, format!("warning: {}", w.message)))
        .collect();
    Ok((QuizFile { valid, warnings }, walk.spans))
}

/// Turns byte offsets into lines and columns.
struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Locator<'a> {
    fn new(file: &'a str, text: &'a str) -> Self {
        Locator { file, text }
    }

    fn at(&self, span: Range<usize>, field: &str, message: String) -> FileProblem {
        let offset = span.start.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        FileProblem { file: self.file.into(), line, column, field: field.into(), message }
    }

    /// Locates every problem and sorts them into file order (stable for ties).
    fn all(&self, mut problems: Vec<(Range<usize>, Problem)>) -> FileProblems {
        problems.sort_by_key(|(span, _)| span.start);
        FileProblems(problems.into_iter().map(|(span, p)| self.at(span, &p.field, p.message)).collect())
    }
}

/// Where each field path was written.
#[derive(Default)]
struct Spans(BTreeMap<String, Range<usize>>);

impl Spans {
    /// The span of `field`, or of its nearest written parent (a missing field points at its table).
    fn span_of(&self, field: &str) -> Range<usize> {
        let mut path = field;
        loop {
            if let Some(span) = self.0.get(path) {
                return span.clone();
            }
            match path.rfind(['.', '[']) {
                Some(cut) => path = &path[..cut],
                None => return 0..0,
            }
        }
    }
}

#[derive(Default)]
struct Walk {
    spans: Spans,
    problems: Vec<(Range<usize>, Problem)>,
}

type Entry<'i> = (&'i Spanned<std::borrow::Cow<'i, str>>, &'i Spanned<DeValue<'i>>);

const ROOT_KEYS: &[&str] = &["title", "mastery", "templates"];
const TEMPLATE_KEYS: &[&str] = &["name", "category", "instructions", "raw", "generators", "checker"];
const CHECKER_KEYS: &[&str] = &["expect", "tolerance", "case_sensitive", "script"];
const GENERATOR_KEYS: &[&str] = &["range", "script"];

impl Walk {
    fn root(&mut self, root: &DeTable<'_>) -> (QuizFields, Vec<TemplateFields>) {
        let mut quiz = QuizFields::default();
        let mut templates = Vec::new();
        for (key, value) in root.iter() {
            let field = key.get_ref().to_string();
            self.spans.0.insert(field.clone(), value.span());
            match key.get_ref().as_ref() {
                "title" => quiz.title = self.text(&field, value),
                "mastery" => quiz.mastery = self.integer(&field, value),
                "templates" => templates = self.templates(value),
                _ => self.unknown_key(key, "", ROOT_KEYS),
            }
        }
        (quiz, templates)
    }

    fn templates(&mut self, value: &Spanned<DeValue<'_>>) -> Vec<TemplateFields> {
        let Some(array) = value.get_ref().as_array() else {
            self.wrong_type::<()>("templates", value, "an array of tables ([[templates]])");
            return Vec::new();
        };
        let mut templates = Vec::new();
        for (index, item) in array.iter().enumerate() {
            let path = format!("templates[{index}]");
            self.spans.0.insert(path.clone(), item.span());
            match item.get_ref().as_table() {
                Some(table) => templates.push(self.template(&path, table)),
                None => self.wrong_type::<()>(&path, item, "a table").unwrap_or_default(),
            }
        }
        templates
    }

    fn template(&mut self, path: &str, table: &DeTable<'_>) -> TemplateFields {
        let mut template = TemplateFields::default();
        for (key, value) in table.iter() {
            let field = join(path, key.get_ref());
            self.spans.0.insert(field.clone(), value.span());
            match key.get_ref().as_ref() {
                "name" => template.name = self.text(&field, value),
                "category" => template.category = self.text(&field, value),
                "instructions" => template.instructions = self.text(&field, value),
                "raw" => template.raw = self.text(&field, value),
                "generators" => template.generators = self.generators(&field, value),
                "checker" => template.checker = self.checker(&field, value),
                _ => self.unknown_key(key, path, TEMPLATE_KEYS),
            }
        }
        template
    }

    fn generators(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<BTreeMap<String, GeneratorSpec>> {
        let Some(table) = value.get_ref().as_table() else {
            return self.wrong_type(path, value, "a table of generators");
        };
        let mut generators = BTreeMap::new();
        for (key, value) in table.iter() {
            let field = join(path, key.get_ref());
            self.spans.0.insert(field.clone(), value.span());
            if let Some(spec) = self.generator(&field, value) {
                generators.insert(key.get_ref().to_string(), spec);
            }
        }
        Some(generators)
    }

    fn generator(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<GeneratorSpec> {
        match value.get_ref() {
            DeValue::Array(items) => {
                let values =
                    items.iter().enumerate().filter_map(|(i, item)| self.list_value(&format!("{path}[{i}]"), item));
                Some(GeneratorSpec::List(values.collect()))
            }
            DeValue::Table(table) => {
                let known: Vec<Entry<'_>> = self.known_entries(table, path, GENERATOR_KEYS);
                match known.as_slice() {
                    [(key, value)] if key.get_ref() == "range" => self.range(&join(path, "range"), value),
                    [(_, value)] => Some(GeneratorSpec::Script { script: self.text(&join(path, "script"), value)? }),
                    _ => self.problem(
                        value.span(),
                        path,
                        "a generator table needs exactly one of `range` or `script`".into(),
                    ),
                }
            }
            _ => self.wrong_type(path, value, "a list of values, { range = [lo, hi] } or { script = \"...\" }"),
        }
    }

    fn range(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<GeneratorSpec> {
        self.spans.0.insert(path.to_string(), value.span());
        let bounds = value.get_ref().as_array().map(|a| a.iter().map(|v| as_i64(v.get_ref())).collect::<Vec<_>>());
        match bounds.as_deref() {
            Some([Some(lo), Some(hi)]) => Some(GeneratorSpec::Range { range: (*lo, *hi) }),
            _ => self.problem(value.span(), path, "range must be two integers [lo, hi]".into()),
        }
    }

    fn list_value(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<ValueSpec> {
        match value.get_ref() {
            DeValue::String(text) => Some(ValueSpec::Text(text.to_string())),
            other => match as_i64(other) {
                Some(n) => Some(ValueSpec::Integer(n)),
                None => self.wrong_type(path, value, "an integer or text"),
            },
        }
    }

    fn checker(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<CheckerSpec> {
        let Some(table) = value.get_ref().as_table() else {
            return self.wrong_type(path, value, "a table: { expect = \"...\" } or { script = \"...\" }");
        };
        let known = self.known_entries(table, path, CHECKER_KEYS);
        let mut expect = None;
        let mut script = None;
        let mut tolerance = None;
        let mut case_sensitive = None;
        for (key, value) in &known {
            let field = join(path, key.get_ref());
            self.spans.0.insert(field.clone(), value.span());
            match key.get_ref().as_ref() {
                "expect" => expect = self.text(&field, value),
                "script" => script = self.text(&field, value),
                "tolerance" => tolerance = self.number(&field, value),
                _ => case_sensitive = self.boolean(&field, value),
            }
        }
        match (expect, script) {
            (Some(expect), None) => Some(CheckerSpec::Expect { expect, tolerance, case_sensitive }),
            (None, Some(script)) if tolerance.is_none() && case_sensitive.is_none() => {
                Some(CheckerSpec::Script { script })
            }
            (None, Some(_)) => {
                self.problem(value.span(), path, "tolerance and case_sensitive go with expect, not script".into())
            }
            (Some(_), Some(_)) => {
                self.problem(value.span(), path, "a checker has either expect or script, not both".into())
            }
            (None, None) if known.len() == table.len() => {
                self.problem(value.span(), path, "a checker needs expect or script".into())
            }
            (None, None) => None,
        }
    }

    /// The entries whose keys are known; unknown keys are reported.
    fn known_entries<'t, 'i>(&mut self, table: &'t DeTable<'i>, path: &str, known: &[&str]) -> Vec<Entry<'t>>
    where
        'i: 't,
    {
        let mut entries = Vec::new();
        for (key, value) in table.iter() {
            if known.contains(&key.get_ref().as_ref()) {
                entries.push((key, value));
            } else {
                self.unknown_key(key, path, known);
            }
        }
        entries
    }

    fn text(&mut self, field: &str, value: &Spanned<DeValue<'_>>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            _ => self.wrong_type(field, value, "text"),
        }
    }

    fn integer(&mut self, field: &str, value: &Spanned<DeValue<'_>>) -> Option<i64> {
        as_i64(value.get_ref()).or_else(|| self.wrong_type(field, value, "an integer"))
    }

    fn number(&mut self, field: &str, value: &Spanned<DeValue<'_>>) -> Option<f64> {
        match value.get_ref() {
            DeValue::Float(x) => x.as_str().replace('_', "").parse().ok(),
            other => as_i64(other).map(|n| n as f64),
        }
        .or_else(|| self.wrong_type(field, value, "a number"))
    }

    fn boolean(&mut self, field: &str, value: &Spanned<DeValue<'_>>) -> Option<bool> {
        value.get_ref().as_bool().or_else(|| self.wrong_type(field, value, "true or false"))
    }

    fn wrong_type<T>(&mut self, field: &str, value: &Spanned<DeValue<'_>>, expected: &str) -> Option<T> {
        let found = value.get_ref().type_str();
        let message = match value.get_ref() {
            DeValue::Integer(_) => {
                format!("{} must be {expected}, got integer {}", leaf(field), value_text(value.get_ref()))
            }
            _ => format!("{} must be {expected}, got {found}", leaf(field)),
        };
        self.problem(value.span(), field, message)
    }

    fn unknown_key(&mut self, key: &Spanned<std::borrow::Cow<'_, str>>, path: &str, known: &[&str]) {
        let name = key.get_ref();
        let mut message = format!("unknown key {name:?}");
        if let Some(close) = known.iter().filter(|k| edit_distance(k, name) <= 2).min_by_key(|k| edit_distance(k, name))
        {
            message.push_str(&format!(" (did you mean {close:?}?)"));
        }
        self.problems.push((key.span(), Problem::new(join(path, name), message)));
    }

    fn problem<T>(&mut self, span: Range<usize>, field: &str, message: String) -> Option<T> {
        self.problems.push((span, Problem::new(field, message)));
        None
    }
}

/// The last segment of a field path, for messages: `templates[0].raw` → `raw`.
fn leaf(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

fn as_i64(value: &DeValue<'_>) -> Option<i64> {
    let integer = value.as_integer()?;
    i64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()).ok()
}

fn value_text(value: &DeValue<'_>) -> String {
    value.as_integer().map(|i| i.as_str().to_string()).unwrap_or_default()
}

/// Levenshtein distance, for "did you mean" suggestions between short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
