//! One template: its texts, its generators, its placeholders against those generators, and its
//! checker spec compiled into a checker.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use mastery_core::{Checker, Generator, Template, TemplateError, Value, placeholders};

use super::checkers::{ExpectChecker, expect_checker, script_checker};
use super::{ValidTemplate, Validator, fail};
use crate::fields::{CheckerSpec, GeneratorSpec, TemplateFields, ValueSpec};
use crate::problem::{Problem, Problems};

impl Validator {
    /// The book's `TemplateValidator`: a template, or every problem.
    pub fn template(&self, fields: &TemplateFields) -> Result<ValidTemplate, Problems> {
        let mut problems = Vec::new();
        let limits = &self.limits;
        let name = self.text(&mut problems, "name", fields.name.as_deref(), limits.max_name_chars);
        let category = self.text(&mut problems, "category", fields.category.as_deref(), limits.max_name_chars);
        self.instructions(&mut problems, fields.instructions.as_deref());
        let raw = self.text(&mut problems, "raw", fields.raw.as_deref(), limits.max_text_chars);
        // Placeholders are checked against the generators' names even when a generator itself is
        // faulty, so that both problems are reported in one run.
        let warnings = match (raw, &fields.generators) {
            (Some(raw), Some(specs)) => placeholder_problems(&mut problems, raw, specs),
            _ => Vec::new(),
        };
        let generators = self.generators(&mut problems, fields.generators.as_ref());
        let (checker, expect) = self.checker(&mut problems, fields.checker.as_ref()).unzip();
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

    /// The warnings of a template, found whether or not it has problems too: a file with errors
    /// still shows what is worth a look, so that one round of fixes settles both.
    pub(crate) fn template_warnings(&self, fields: &TemplateFields) -> Vec<Problem> {
        match (fields.raw.as_deref(), &fields.generators) {
            (Some(raw), Some(specs)) => placeholder_problems(&mut Vec::new(), raw, specs),
            _ => Vec::new(),
        }
    }

    /// Optional, but no longer than `raw` may be.
    fn instructions(&self, problems: &mut Vec<Problem>, instructions: Option<&str>) {
        let max = self.limits.max_text_chars;
        if instructions.is_some_and(|text| text.chars().count() > max) {
            problems.push(Problem::new("instructions", format!("instructions must be at most {max} characters")));
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
                let generator = self.generator(name, spec).map_err(|problem| problems.push(problem.under(&field)));
                Some((name.clone(), generator.ok()?))
            })
            .collect();
        (problems.len() == before).then_some(generators)
    }

    /// The generator, or its problem with the field left empty (the caller puts it under the
    /// generator's own field).
    fn generator(&self, name: &str, spec: &GeneratorSpec) -> Result<Generator, Problem> {
        let problem = |message: String| Problem::new("", message);
        match spec {
            GeneratorSpec::List(values) if values.is_empty() => {
                Err(problem(format!("generator {name:?} has an empty list")))
            }
            GeneratorSpec::List(values) if values.len() > self.limits.max_list_len => Err(problem(format!(
                "generator {name:?} has {} values, more than the {} allowed",
                values.len(),
                self.limits.max_list_len
            ))),
            GeneratorSpec::List(values) => Ok(Generator::list(values.iter().map(|v| match v {
                ValueSpec::Integer(n) => Value::Integer(*n),
                ValueSpec::Text(text) => Value::from(text.as_str()),
            }))),
            GeneratorSpec::Range { range: (lo, hi) } if lo > hi => {
                Err(problem(format!("range [{lo}, {hi}] has its low end above its high end")))
            }
            GeneratorSpec::Range { range: (lo, hi) }
                if i128::from(*hi) - i128::from(*lo) > i128::from(self.limits.max_range_width) =>
            {
                Err(problem(format!("range [{lo}, {hi}] is wider than {}", self.limits.max_range_width)))
            }
            GeneratorSpec::Range { range: (lo, hi) } => Ok(Generator::range(*lo, *hi)),
            GeneratorSpec::Script { script } => {
                let script = self.scripts.compile_located(script).map_err(|error| error.problem(""))?;
                Ok(Generator::function(move |rng| script.generate(rng)))
            }
        }
    }

    /// The checker the spec describes, and the `expect` checker behind it when it is one.
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
                let script = self
                    .scripts
                    .compile_located(expect)
                    .map_err(|error| problems.push(error.problem("checker.expect")));
                let expect = Arc::new(ExpectChecker::new(script.ok()?, tolerance, case_sensitive.unwrap_or(false)));
                (expect_checker(&expect), Some(expect))
            }
            Some(CheckerSpec::Script { script }) => {
                let script = self
                    .scripts
                    .compile_located(script)
                    .map_err(|error| problems.push(error.problem("checker.script")));
                (script_checker(script.ok()?), None)
            }
        };
        Some(compiled)
    }
}

/// Pushes a `raw` problem for each placeholder no generator fills (or for text that is not a
/// valid template) and returns a warning for each generator no placeholder uses.
fn placeholder_problems(
    problems: &mut Vec<Problem>,
    raw: &str,
    generators: &BTreeMap<String, GeneratorSpec>,
) -> Vec<Problem> {
    let found = match placeholders(raw) {
        Ok(found) => found,
        Err(error) => {
            problems.push(template_error_problem(&error));
            return Vec::new();
        }
    };
    let mut reported = HashSet::new();
    let unknown = found.iter().filter(|p| !generators.contains_key(p.name) && reported.insert(p.name));
    problems.extend(
        unknown.map(|p| template_error_problem(&TemplateError::UnknownPlaceholder { name: p.name.to_string() })),
    );
    let used: HashSet<&str> = found.iter().map(|p| p.name).collect();
    let unused = generators.keys().filter(|name| !used.contains(name.as_str()));
    unused
        .map(|name| {
            Problem::new(format!("generators.{name}"), format!("generator {name:?} is not used by any placeholder"))
        })
        .collect()
}

/// A core template error as a problem with the field it is about.
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
