//! The walk from a parsed TOML table to the fields the validator judges.
//!
//! Every key and value is recorded with its span as it is read. A value of the wrong type, an
//! unknown key or an impossible combination is a problem here; the field is then left out, so
//! the walk goes on and the validator still judges everything else.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::locate::Spans;
use super::suggest::closest;
use crate::fields::{CheckerSpec, ExamFields, GeneratorSpec, QuizFields, TemplateFields, ValueSpec};
use crate::problem::{Problem, join};

/// The spans seen so far and the problems found so far, each problem with its span.
#[derive(Default)]
pub(super) struct Walk {
    spans: Spans,
    problems: Vec<(Range<usize>, Problem)>,
}

type Entry<'i> = (&'i Spanned<Cow<'i, str>>, &'i Spanned<DeValue<'i>>);

const ROOT_KEYS: &[&str] = &["title", "mastery", "reveal", "exam", "templates"];
const EXAM_KEYS: &[&str] = &["opens_at", "closes_at", "time_limit", "grace_period", "idle_limit"];
const TEMPLATE_KEYS: &[&str] = &["name", "category", "instructions", "raw", "generators", "checker"];
const CHECKER_KEYS: &[&str] = &["expect", "tolerance", "case_sensitive", "script"];
const GENERATOR_KEYS: &[&str] = &["range", "script"];

/// A checker table's keys, each `None` when absent or of the wrong type.
struct CheckerKeys {
    expect: Option<String>,
    script: Option<String>,
    tolerance: Option<f64>,
    case_sensitive: Option<bool>,
}

impl Walk {
    /// The quiz's fields and its templates' fields, as far as their types allow.
    pub(super) fn root(&mut self, root: &DeTable<'_>) -> (QuizFields, Vec<TemplateFields>) {
        let mut quiz = QuizFields::default();
        let mut templates = Vec::new();
        for (key, value) in root.iter() {
            let field = key.get_ref().to_string();
            self.spans.record(field.clone(), value.span());
            match key.get_ref().as_ref() {
                "title" => quiz.title = self.text(&field, value),
                "mastery" => quiz.mastery = self.integer(&field, value),
                "reveal" => quiz.reveal = self.text(&field, value),
                "exam" => quiz.exam = self.exam(&field, value),
                "templates" => templates = self.templates(value),
                _ => self.unknown_key(key, "", ROOT_KEYS),
            }
        }
        (quiz, templates)
    }

    /// Where each field was written, and the problems the walk found.
    pub(super) fn finish(self) -> (Spans, Vec<(Range<usize>, Problem)>) {
        (self.spans, self.problems)
    }

    fn exam(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<ExamFields> {
        let Some(table) = value.get_ref().as_table() else {
            return self.wrong_type(path, value, "a table ([exam])");
        };
        let mut exam = ExamFields::default();
        for (key, value) in table.iter() {
            let field = join(path, key.get_ref());
            self.spans.record(field.clone(), value.span());
            let slot = match key.get_ref().as_ref() {
                "opens_at" => &mut exam.opens_at,
                "closes_at" => &mut exam.closes_at,
                "time_limit" => &mut exam.time_limit,
                "grace_period" => &mut exam.grace_period,
                "idle_limit" => &mut exam.idle_limit,
                _ => {
                    self.unknown_key(key, path, EXAM_KEYS);
                    continue;
                }
            };
            *slot = match value.get_ref() {
                // TOML's own date-times are as good as the same instant written as text.
                DeValue::Datetime(datetime) => Some(datetime.to_string()),
                _ => self.text(&field, value),
            };
        }
        Some(exam)
    }

    fn templates(&mut self, value: &Spanned<DeValue<'_>>) -> Vec<TemplateFields> {
        let Some(array) = value.get_ref().as_array() else {
            self.wrong_type::<()>("templates", value, "an array of tables ([[templates]])");
            return Vec::new();
        };
        let mut templates = Vec::new();
        for (index, item) in array.iter().enumerate() {
            let path = format!("templates[{index}]");
            self.spans.record(path.clone(), item.span());
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
            self.spans.record(field.clone(), value.span());
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
            self.spans.record(field.clone(), value.span());
            // A generator written wrongly is reported here; a stand-in keeps its name, so that a
            // placeholder using it is not also reported as having no generator.
            let spec =
                self.generator(&field, value).unwrap_or_else(|| GeneratorSpec::List(vec![ValueSpec::Integer(0)]));
            generators.insert(key.get_ref().to_string(), spec);
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
            DeValue::Table(table) => self.generator_table(path, table, value.span()),
            _ => self.wrong_type(path, value, "a list of values, { range = [lo, hi] } or { script = \"...\" }"),
        }
    }

    /// `{ range = [lo, hi] }` or `{ script = "..." }`; `span` is the whole table's.
    fn generator_table(&mut self, path: &str, table: &DeTable<'_>, span: Range<usize>) -> Option<GeneratorSpec> {
        let known: Vec<Entry<'_>> = self.known_entries(table, path, GENERATOR_KEYS);
        match known.as_slice() {
            [(key, value)] if key.get_ref() == "range" => self.range(&join(path, "range"), value),
            [(_, value)] => {
                let field = join(path, "script");
                // Recorded so that a script's own line and column can be found in the file.
                self.spans.record(field.clone(), value.span());
                Some(GeneratorSpec::Script { script: self.text(&field, value)? })
            }
            _ => self.problem(span, path, "a generator table needs exactly one of `range` or `script`".into()),
        }
    }

    fn range(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<GeneratorSpec> {
        self.spans.record(path.to_string(), value.span());
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

    /// `{ expect = "..." }` with its options, or `{ script = "..." }` alone.
    fn checker(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<CheckerSpec> {
        let Some(table) = value.get_ref().as_table() else {
            return self.wrong_type(path, value, "a table: { expect = \"...\" } or { script = \"...\" }");
        };
        let known = self.known_entries(table, path, CHECKER_KEYS);
        let CheckerKeys { expect, script, tolerance, case_sensitive } = self.checker_keys(path, &known);
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
            // Unknown keys are reported already, and one of them may be a misspelt `expect`; an
            // `expect` or `script` of the wrong type is reported already too.
            (None, None) if known.len() == table.len() && !known.iter().any(|(key, _)| is_rule(key.get_ref())) => {
                self.problem(value.span(), path, "a checker needs expect or script".into())
            }
            (None, None) => None,
        }
    }

    fn checker_keys(&mut self, path: &str, known: &[Entry<'_>]) -> CheckerKeys {
        let mut keys = CheckerKeys { expect: None, script: None, tolerance: None, case_sensitive: None };
        for (key, value) in known {
            let field = join(path, key.get_ref());
            self.spans.record(field.clone(), value.span());
            match key.get_ref().as_ref() {
                "expect" => keys.expect = self.text(&field, value),
                "script" => keys.script = self.text(&field, value),
                "tolerance" => keys.tolerance = self.number(&field, value),
                _ => keys.case_sensitive = self.boolean(&field, value),
            }
        }
        keys
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

    fn unknown_key(&mut self, key: &Spanned<Cow<'_, str>>, path: &str, known: &[&str]) {
        let name = key.get_ref();
        let mut message = format!("unknown key {name:?}");
        if let Some(close) = closest(name, known) {
            message.push_str(&format!(" (did you mean {close:?}?)"));
        }
        self.problems.push((key.span(), Problem::new(join(path, name), message)));
    }

    fn problem<T>(&mut self, span: Range<usize>, field: &str, message: String) -> Option<T> {
        self.problems.push((span, Problem::new(field, message)));
        None
    }
}

/// `expect` or `script`: the keys that say how a checker judges.
fn is_rule(key: &str) -> bool {
    key == "expect" || key == "script"
}

/// The last segment of a field path, for messages: `templates[0].raw` → `raw`.
fn leaf(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A TOML integer in any radix, with `_` separators, when it fits an `i64`.
fn as_i64(value: &DeValue<'_>) -> Option<i64> {
    let integer = value.as_integer()?;
    i64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()).ok()
}

/// An integer's digits as written, for messages: one too big for an `i64` still shows.
fn value_text(value: &DeValue<'_>) -> String {
    value.as_integer().map(|i| i.as_str().to_string()).unwrap_or_default()
}
