//! The validators: untrusted fields in, domain values or *every* problem out.
//!
//! The book's validators lose earlier errors as they go; these collect every problem, in field
//! order, as `(field, message)` pairs.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use mastery_core::{
    Checker, DEFAULT_MASTERY, Generator, Quiz, Substitutions, Template, TemplateError, Value, Verdict, checker,
    placeholders,
};

use crate::fields::{CheckerSpec, GeneratorSpec, QuizFields, TemplateFields, ValueSpec};
use crate::problem::{Problem, Problems};
use crate::script::{Script, Scripts};

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

/// Validates untrusted fields into domain values.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    scripts: Scripts,
    limits: Limits,
}

/// A template that passed validation.
#[derive(Debug, Clone)]
pub struct ValidTemplate {
    /// The template.
    pub template: Arc<Template>,
    /// Things worth a look that do not stop the template (a generator no placeholder uses).
    pub warnings: Vec<Problem>,
    /// The `expect` checker, kept so a self-test can ask it for the right answer.
    pub expect: Option<Arc<ExpectChecker>>,
}

/// A quiz that passed validation, with its templates.
#[derive(Debug, Clone)]
pub struct ValidQuiz {
    /// The quiz, every template added.
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

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The book's `QuizValidator`: a quiz with no templates yet, or every problem.
    ///
    /// ```
    /// use mastery_boundary::{QuizFields, Validator};
    ///
    /// let problems = Validator::default()
    ///     .quiz(&QuizFields { title: Some("  ".into()), mastery: Some(0) })
    ///     .unwrap_err();
    /// let found: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
    /// assert_eq!(found, ["title: title must not be blank", "mastery: mastery must be at least 1, got 0"]);
    /// ```
    pub fn quiz(&self, fields: &QuizFields) -> Result<Quiz, Problems> {
        let mut problems = Vec::new();
        let title = self.text(&mut problems, "title", fields.title.as_deref(), self.limits.max_title_chars);
        let mastery = match fields.mastery {
            None => Some(DEFAULT_MASTERY),
            Some(m) if m < 1 => fail(&mut problems, "mastery", format!("mastery must be at least 1, got {m}")),
            Some(m) if m > self.limits.max_mastery => {
                fail(&mut problems, "mastery", format!("mastery must be at most {}, got {m}", self.limits.max_mastery))
            }
            Some(m) => Some(m as u32),
        };
        match (title, mastery) {
            (Some(title), Some(mastery)) if problems.is_empty() => {
                Quiz::new(title, mastery).map_err(|e| Problems(vec![Problem::new("title", e.to_string())]))
            }
            _ => Err(Problems(problems)),
        }
    }

    /// The book's `TemplateValidator`: a template, or every problem.
    pub fn template(&self, fields: &TemplateFields) -> Result<ValidTemplate, Problems> {
        let mut problems = Vec::new();
        let limits = &self.limits;
        let name = self.text(&mut problems, "name", fields.name.as_deref(), limits.max_name_chars);
        let category = self.text(&mut problems, "category", fields.category.as_deref(), limits.max_name_chars);
        if let Some(instructions) = &fields.instructions
            && instructions.chars().count() > limits.max_text_chars
        {
            let message = format!("instructions must be at most {} characters", limits.max_text_chars);
            problems.push(Problem::new("instructions", message));
        }
        let raw_at = problems.len();
        let raw = self.text(&mut problems, "raw", fields.raw.as_deref(), limits.max_text_chars);
        let generators = self.generators(&mut problems, fields.generators.as_ref());
        let (checker, expect) = self.checker(&mut problems, fields.checker.as_ref()).unzip();
        let mut warnings = Vec::new();
        // Placeholders are checked against the generators' names even when a generator itself is
        // faulty, so that both problems are reported in one run.
        if let (Some(raw), Some(specs)) = (raw, &fields.generators) {
            let names: Vec<&str> = specs.keys().map(String::as_str).collect();
            let (raw_problems, unused) = placeholder_problems(raw, &names);
            problems.splice(raw_at..raw_at, raw_problems);
            warnings.extend(unused.into_iter().map(|name| {
                Problem::new(format!("generators.{name}"), format!("generator {name:?} is not used by any placeholder"))
            }));
        }
        let (Some(name), Some(category), Some(raw), Some(generators), Some(checker)) =
            (name, category, raw, generators, checker)
        else {
            return Err(Problems(problems));
        };
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        let builder = Template::builder(name)
            .category(category)
            .instructions(fields.instructions.clone().unwrap_or_default())
            .raw(raw)
            .checker(checker);
        let template = generators
            .into_iter()
            .fold(builder, |builder, (name, generator)| builder.generator(name, generator))
            .build()
            .map_err(|error| Problems(vec![template_error_problem(&error)]))?;
        Ok(ValidTemplate { template: Arc::new(template), warnings, expect: expect.flatten() })
    }

    /// A quiz with every template, or every problem (template problems under `templates[i]`).
    pub fn quiz_with_templates(
        &self,
        fields: &QuizFields,
        templates: &[TemplateFields],
    ) -> Result<ValidQuiz, Problems> {
        let mut problems = Vec::new();
        let quiz = self.quiz(fields).map_err(|found| problems.extend(found.0)).ok();
        if templates.is_empty() {
            // A quiz with nothing to ask would be "finished" the moment a learner starts it.
            problems.push(Problem::new("templates", "a quiz needs at least one template ([[templates]])"));
            return Err(Problems(problems));
        }
        if templates.len() > self.limits.max_templates {
            let message =
                format!("a quiz may have at most {} templates, got {}", self.limits.max_templates, templates.len());
            problems.push(Problem::new("templates", message));
            return Err(Problems(problems));
        }
        let mut valid = Vec::new();
        let mut names = HashSet::new();
        for (index, template) in templates.iter().enumerate() {
            let path = format!("templates[{index}]");
            if let Some(name) = template.name.as_deref().filter(|n| !n.trim().is_empty())
                && !names.insert(name)
            {
                let message = format!("template name {name:?} is used more than once");
                problems.push(Problem::new("name", message).under(&path));
            }
            match self.template(template) {
                Ok(template) => valid.push(template),
                Err(found) => problems.extend(found.0.into_iter().map(|p| p.under(&path))),
            }
        }
        let Some(mut quiz) = quiz.filter(|_| problems.is_empty()) else {
            return Err(Problems(problems));
        };
        let mut warnings = Vec::new();
        for (index, template) in valid.iter().enumerate() {
            warnings.extend(template.warnings.iter().cloned().map(|w| w.under(&format!("templates[{index}]"))));
            quiz.add_template(Arc::clone(&template.template))
                .map_err(|e| Problems(vec![Problem::new(format!("templates[{index}].name"), e.to_string())]))?;
        }
        Ok(ValidQuiz { quiz, warnings, templates: valid, max_answer_chars: self.limits.max_answer_chars })
    }

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

    fn generators(
        &self,
        problems: &mut Vec<Problem>,
        specs: Option<&BTreeMap<String, GeneratorSpec>>,
    ) -> Option<Vec<(String, Generator)>> {
        let specs = match specs {
            None => return fail(problems, "generators", "generators are required".into()),
            Some(specs) if specs.is_empty() => {
                return fail(problems, "generators", "generators must name at least one generator".into());
            }
            Some(specs) if specs.len() > self.limits.max_generators => {
                let message = format!("a template may have at most {} generators", self.limits.max_generators);
                return fail(problems, "generators", message);
            }
            Some(specs) => specs,
        };
        let before = problems.len();
        let generators: Vec<(String, Generator)> = specs
            .iter()
            .filter_map(|(name, spec)| {
                let field = format!("generators.{name}");
                let generator =
                    self.generator(name, spec).map_err(|message| problems.push(Problem::new(field, message)));
                Some((name.clone(), generator.ok()?))
            })
            .collect();
        (problems.len() == before).then_some(generators)
    }

    fn generator(&self, name: &str, spec: &GeneratorSpec) -> Result<Generator, String> {
        match spec {
            GeneratorSpec::List(values) if values.is_empty() => Err(format!("generator {name:?} has an empty list")),
            GeneratorSpec::List(values) if values.len() > self.limits.max_list_len => Err(format!(
                "generator {name:?} has {} values, more than the {} allowed",
                values.len(),
                self.limits.max_list_len
            )),
            GeneratorSpec::List(values) => Ok(Generator::list(values.iter().map(|v| match v {
                ValueSpec::Integer(n) => Value::Integer(*n),
                ValueSpec::Text(text) => Value::from(text.as_str()),
            }))),
            GeneratorSpec::Range { range: (lo, hi) } if lo > hi => {
                Err(format!("range [{lo}, {hi}] has its low end above its high end"))
            }
            GeneratorSpec::Range { range: (lo, hi) }
                if i128::from(*hi) - i128::from(*lo) > i128::from(self.limits.max_range_width) =>
            {
                Err(format!("range [{lo}, {hi}] is wider than {}", self.limits.max_range_width))
            }
            GeneratorSpec::Range { range: (lo, hi) } => Ok(Generator::range(*lo, *hi)),
            GeneratorSpec::Script { script } => {
                let script = self.scripts.compile(script)?;
                Ok(Generator::function(move |rng| script.generate(rng)))
            }
        }
    }

    fn checker(
        &self,
        problems: &mut Vec<Problem>,
        spec: Option<&CheckerSpec>,
    ) -> Option<(Checker, Option<Arc<ExpectChecker>>)> {
        let compiled = match spec {
            None => return fail(problems, "checker", "checker is required".into()),
            Some(CheckerSpec::Expect { expect, tolerance, case_sensitive }) => {
                let tolerance = tolerance.unwrap_or(0.0);
                if !(tolerance.is_finite() && tolerance >= 0.0) {
                    let message = format!("tolerance must be a finite number at least 0, got {tolerance}");
                    return fail(problems, "checker.tolerance", message);
                }
                let script = self.scripts.compile(expect).map_err(|m| problems.push(Problem::new("checker.expect", m)));
                let expect = Arc::new(ExpectChecker {
                    script: script.ok()?,
                    tolerance,
                    case_sensitive: case_sensitive.unwrap_or(false),
                });
                let judge = Arc::clone(&expect);
                (Checker::new(move |subs, answer| judge.judge(subs, answer)), Some(expect))
            }
            Some(CheckerSpec::Script { script }) => {
                let script = self.scripts.compile(script).map_err(|m| problems.push(Problem::new("checker.script", m)));
                let script = script.ok()?;
                (Checker::new(move |subs, answer| script_verdict(&script, subs, answer)), None)
            }
        };
        Some(compiled)
    }
}

fn fail<T>(problems: &mut Vec<Problem>, field: &str, message: String) -> Option<T> {
    problems.push(Problem::new(field, message));
    None
}

/// Placeholder problems of `raw` (as `raw` problems) and the generators no placeholder uses.
fn placeholder_problems(raw: &str, generators: &[&str]) -> (Vec<Problem>, Vec<String>) {
    let found = match placeholders(raw) {
        Ok(found) => found,
        Err(error) => return (vec![template_error_problem(&error)], Vec::new()),
    };
    let known: HashSet<&str> = generators.iter().copied().collect();
    let used: HashSet<&str> = found.iter().map(|p| p.name).collect();
    let mut reported = HashSet::new();
    let problems = found
        .iter()
        .filter(|p| !known.contains(p.name) && reported.insert(p.name))
        .map(|p| template_error_problem(&TemplateError::UnknownPlaceholder { name: p.name.to_string() }))
        .collect();
    let unused = generators.iter().filter(|name| !used.contains(*name)).map(|name| name.to_string()).collect();
    (problems, unused)
}

fn template_error_problem(error: &TemplateError) -> Problem {
    let field = match error {
        TemplateError::BlankField { field } => field,
        TemplateError::MissingChecker => "checker",
        TemplateError::DuplicateGenerator { .. }
        | TemplateError::EmptyList { .. }
        | TemplateError::InvertedRange { .. } => "generators",
        _ => "raw",
    };
    Problem::new(field, error.to_string())
}

/// What an `expect` checker wants as the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// An integer.
    Integer(i64),
    /// A number with a fraction.
    Number(f64),
    /// Text.
    Text(String),
}

impl Expected {
    /// The answer a learner would type to be right.
    pub fn answer_text(&self) -> String {
        match self {
            Expected::Integer(n) => n.to_string(),
            Expected::Number(x) => x.to_string(),
            Expected::Text(text) => text.clone(),
        }
    }

    /// An answer that is certainly wrong but readable.
    pub fn wrong_answer_text(&self, tolerance: f64) -> String {
        match self {
            Expected::Integer(n) => (*n as f64 + tolerance.max(0.5) * 2.0 + 1.0).round().to_string(),
            Expected::Number(x) => (x + tolerance * 2.0 + 1.0).to_string(),
            Expected::Text(text) => format!("{text}-not"),
        }
    }
}

/// The `expect` checker: correct when the answer equals the value of an expression.
#[derive(Debug)]
pub struct ExpectChecker {
    script: Script,
    tolerance: f64,
    case_sensitive: bool,
}

impl ExpectChecker {
    /// The value the expression gives for these substitutions.
    pub fn expected(&self, substitutions: Substitutions<'_>) -> Result<Expected, String> {
        let value = self.script.evaluate(substitutions, None)?;
        if let Ok(n) = value.as_int() {
            return Ok(Expected::Integer(n));
        }
        if let Ok(x) = value.as_float() {
            return Ok(Expected::Number(x));
        }
        if let Ok(b) = value.as_bool() {
            return Ok(Expected::Text(b.to_string()));
        }
        if value.is_string() {
            return Ok(Expected::Text(value.into_string().unwrap_or_default()));
        }
        Err(format!("expect must give a number or text, got {}", value.type_name()))
    }

    /// The tolerance for numbers.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// Judges an answer.
    pub fn judge(&self, substitutions: Substitutions<'_>, answer: &str) -> Result<Verdict, String> {
        Ok(match self.expected(substitutions)? {
            Expected::Integer(n) if self.tolerance == 0.0 => checker::compare_integer(n, answer),
            Expected::Integer(n) => checker::compare_number(n as f64, answer, self.tolerance),
            // Without a tolerance a fraction is still compared as a number: a rounding error in the
            // last bits of the expression (`0.1 + 0.2`) must not make the exact answer wrong.
            Expected::Number(x) => checker::compare_number(x, answer, self.tolerance.max(x.abs().max(1.0) * 1e-9)),
            Expected::Text(text) => checker::compare_text(&text, answer, self.case_sensitive),
        })
    }
}

fn script_verdict(script: &Script, substitutions: Substitutions<'_>, answer: &str) -> Result<Verdict, String> {
    let value = script.evaluate(substitutions, Some(answer))?;
    if let Ok(right) = value.as_bool() {
        return Ok(Verdict::from_bool(right));
    }
    if value.is_string() {
        return Ok(Verdict::Invalid(value.into_string().unwrap_or_default()));
    }
    Err(format!("checker script must give true, false or a reason text, got {}", value.type_name()))
}
