//! Templates: question text with placeholders, the generators that fill them, and a checker.

use std::sync::Arc;

use crate::checker::Checker;
use crate::error::TemplateError;
use crate::generator::Generator;
use crate::value::Value;

/// One piece of a template's compiled question text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text copied as it is.
    Text(Box<str>),
    /// The value of the generator at this index (in [`Template::generator_names`] order).
    Placeholder(usize),
}

/// A question template.
///
/// `raw` is parsed once, when the template is built: rendering a question then walks a short list
/// of [`Segment`]s. Every placeholder must name a generator — the book only finds out when it
/// renders; Mastery refuses to build the template.
///
/// ```
/// use mastery_core::{Checker, Generator, Template, Verdict};
///
/// let template = Template::builder("capital")
///     .category("geography")
///     .instructions("Name the capital")
///     .raw("The capital of {{ country }}?")
///     .generator("country", Generator::list(["France"]))
///     .checker(Checker::new(|_, answer| Ok(Verdict::from_bool(answer.trim() == "Paris"))))
///     .build()
///     .unwrap();
/// assert_eq!(template.generator_names().len(), 1);
///
/// let broken = Template::builder("broken")
///     .category("geography")
///     .raw("{{ country }} and {{ city }}")
///     .generator("country", Generator::list(["France"]))
///     .checker(Checker::new(|_, _| Ok(Verdict::Correct)))
///     .build();
/// assert_eq!(broken.unwrap_err().to_string(), r#"placeholder {{ city }} has no generator named "city""#);
/// ```
#[derive(Debug)]
pub struct Template {
    name: Arc<str>,
    category: Arc<str>,
    instructions: Arc<str>,
    raw: Arc<str>,
    compiled: Vec<Segment>,
    generator_names: Vec<Arc<str>>,
    generators: Vec<Generator>,
    checker: Checker,
}

impl Template {
    /// Starts building a template named `name`.
    pub fn builder(name: impl Into<String>) -> TemplateBuilder {
        TemplateBuilder { name: name.into(), ..TemplateBuilder::default() }
    }

    /// The template's name, unique within a quiz.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name, shared.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The category the quiz groups it under.
    pub fn category(&self) -> &str {
        &self.category
    }

    /// The category, shared.
    pub fn shared_category(&self) -> &Arc<str> {
        &self.category
    }

    /// What the learner is asked to do (may be empty).
    pub fn instructions(&self) -> &str {
        &self.instructions
    }

    /// The question text as written, with its placeholders.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The compiled form of `raw`.
    pub fn compiled(&self) -> &[Segment] {
        &self.compiled
    }

    /// The generators' names, sorted: the order in which a question draws them.
    pub fn generator_names(&self) -> &[Arc<str>] {
        &self.generator_names
    }

    /// The generators, in [`generator_names`](Template::generator_names) order.
    pub fn generators(&self) -> &[Generator] {
        &self.generators
    }

    /// The checker.
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// The names of generators that no placeholder uses (a checker may still read them).
    pub fn unused_generators(&self) -> impl Iterator<Item = &str> {
        self.generator_names.iter().enumerate().filter_map(|(index, name)| {
            let used = self.compiled.contains(&Segment::Placeholder(index));
            (!used).then_some(&**name)
        })
    }

    /// Renders the question text with one value per generator.
    pub fn render(&self, values: &[Value]) -> String {
        use std::fmt::Write as _;
        let mut asked = String::with_capacity(self.raw.len() + 8);
        for segment in &self.compiled {
            match segment {
                Segment::Text(text) => asked.push_str(text),
                Segment::Placeholder(index) => {
                    // Writing to a String cannot fail.
                    let _ = write!(asked, "{}", values[*index]);
                }
            }
        }
        asked
    }
}

/// Builds a [`Template`]; see [`Template::builder`].
#[derive(Default)]
pub struct TemplateBuilder {
    name: String,
    category: String,
    instructions: String,
    raw: String,
    generators: Vec<(String, Generator)>,
    checker: Option<Checker>,
}

impl TemplateBuilder {
    /// Sets the category.
    pub fn category(mut self, category: impl Into<String>) -> Self {
        self.category = category.into();
        self
    }

    /// Sets the instructions shown with each question.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// Sets the question text, with `{{ name }}` placeholders.
    pub fn raw(mut self, raw: impl Into<String>) -> Self {
        self.raw = raw.into();
        self
    }

    /// Adds a named generator.
    pub fn generator(mut self, name: impl Into<String>, generator: Generator) -> Self {
        self.generators.push((name.into(), generator));
        self
    }

    /// Sets the checker.
    pub fn checker(mut self, checker: Checker) -> Self {
        self.checker = Some(checker);
        self
    }

    /// Validates and compiles the template.
    pub fn build(self) -> Result<Template, TemplateError> {
        for (field, value) in [("name", &self.name), ("category", &self.category), ("raw", &self.raw)] {
            if value.trim().is_empty() {
                return Err(TemplateError::BlankField { field });
            }
        }
        let checker = self.checker.ok_or(TemplateError::MissingChecker)?;
        let mut generators = self.generators;
        generators.sort_by(|a, b| a.0.cmp(&b.0));
        check_generators(&generators)?;
        let generator_names: Vec<Arc<str>> = generators.iter().map(|(name, _)| Arc::from(name.as_str())).collect();
        let compiled = compile(&self.raw, &generator_names)?;
        Ok(Template {
            name: self.name.into(),
            category: self.category.into(),
            instructions: self.instructions.into(),
            raw: self.raw.into(),
            compiled,
            generator_names,
            generators: generators.into_iter().map(|(_, generator)| generator).collect(),
            checker,
        })
    }
}

/// Rejects duplicate names, empty lists and inverted ranges; `generators` is sorted by name.
fn check_generators(generators: &[(String, Generator)]) -> Result<(), TemplateError> {
    if let Some(pair) = generators.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(TemplateError::DuplicateGenerator { name: pair[0].0.clone() });
    }
    for (name, generator) in generators {
        match generator {
            Generator::List(values) if values.is_empty() => {
                return Err(TemplateError::EmptyList { generator: name.clone() });
            }
            Generator::Range { lo, hi } if lo > hi => {
                return Err(TemplateError::InvertedRange { generator: name.clone(), lo: *lo, hi: *hi });
            }
            _ => {}
        }
    }
    Ok(())
}

/// A placeholder found in `raw`: its name and the byte range of the whole `{{ … }}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// The trimmed name between the braces.
    pub name: &'a str,
    /// Byte offset of the opening `{{`.
    pub start: usize,
    /// Byte offset just past the closing `}}`.
    pub end: usize,
}

/// Finds every placeholder in `raw`, in order; an unterminated or empty one is an error.
///
/// Exposed so that a validator can report every placeholder problem with its position.
pub fn placeholders(raw: &str) -> Result<Vec<Placeholder<'_>>, TemplateError> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = raw[from..].find("{{").map(|at| from + at) {
        let inner_start = open + 2;
        let close = raw[inner_start..]
            .find("}}")
            .map(|at| inner_start + at)
            .ok_or(TemplateError::UnterminatedPlaceholder { offset: open })?;
        let name = raw[inner_start..close].trim();
        if name.is_empty() {
            return Err(TemplateError::EmptyPlaceholder { offset: open });
        }
        if name.contains("{{") {
            return Err(TemplateError::UnterminatedPlaceholder { offset: open });
        }
        found.push(Placeholder { name, start: open, end: close + 2 });
        from = close + 2;
    }
    Ok(found)
}

fn compile(raw: &str, generator_names: &[Arc<str>]) -> Result<Vec<Segment>, TemplateError> {
    let mut compiled = Vec::new();
    let mut text_from = 0;
    for placeholder in placeholders(raw)? {
        let index = generator_names
            .iter()
            .position(|name| **name == *placeholder.name)
            .ok_or_else(|| TemplateError::UnknownPlaceholder { name: placeholder.name.to_string() })?;
        if placeholder.start > text_from {
            compiled.push(Segment::Text(raw[text_from..placeholder.start].into()));
        }
        compiled.push(Segment::Placeholder(index));
        text_from = placeholder.end;
    }
    if text_from < raw.len() {
        compiled.push(Segment::Text(raw[text_from..].into()));
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn with_raw(raw: &str) -> Result<Template, TemplateError> {
        Template::builder("t")
            .category("c")
            .raw(raw)
            .generator("left", Generator::range(0, 9))
            .generator("right", Generator::range(0, 9))
            .checker(Checker::new(|_, _| Ok(Verdict::Correct)))
            .build()
    }

    #[test]
    fn raw_is_compiled_into_text_and_placeholders() {
        let template = with_raw("{{left}} + {{ right }}=").unwrap();
        assert_eq!(
            template.compiled(),
            &[Segment::Placeholder(0), Segment::Text(" + ".into()), Segment::Placeholder(1), Segment::Text("=".into())]
        );
        assert_eq!(template.render(&[Value::Integer(1), Value::Integer(2)]), "1 + 2=");
    }

    #[test]
    fn placeholder_errors_name_the_offending_value() {
        assert_eq!(
            with_raw("{{left}} + {{middle}}").unwrap_err(),
            TemplateError::UnknownPlaceholder { name: "middle".into() }
        );
        assert_eq!(with_raw("a {{left").unwrap_err(), TemplateError::UnterminatedPlaceholder { offset: 2 });
        assert_eq!(with_raw("{{  }}").unwrap_err(), TemplateError::EmptyPlaceholder { offset: 0 });
        assert_eq!(with_raw("{{left {{right}}").unwrap_err(), TemplateError::UnterminatedPlaceholder { offset: 0 });
    }

    #[test]
    fn blank_fields_and_bad_generators_are_rejected() {
        assert_eq!(with_raw("  ").unwrap_err(), TemplateError::BlankField { field: "raw" });
        let no_checker = Template::builder("t").category("c").raw("x").build();
        assert_eq!(no_checker.unwrap_err(), TemplateError::MissingChecker);
        let inverted = Template::builder("t")
            .category("c")
            .raw("{{a}}")
            .generator("a", Generator::range(5, 1))
            .checker(Checker::new(|_, _| Ok(Verdict::Correct)))
            .build();
        assert_eq!(inverted.unwrap_err(), TemplateError::InvertedRange { generator: "a".into(), lo: 5, hi: 1 });
        let twice = Template::builder("t")
            .category("c")
            .raw("{{a}}")
            .generator("a", Generator::range(1, 5))
            .generator("a", Generator::range(1, 5))
            .checker(Checker::new(|_, _| Ok(Verdict::Correct)))
            .build();
        assert_eq!(twice.unwrap_err(), TemplateError::DuplicateGenerator { name: "a".into() });
    }

    #[test]
    fn unused_generators_are_listed() {
        let template = with_raw("{{left}} only").unwrap();
        assert_eq!(template.unused_generators().collect::<Vec<_>>(), ["right"]);
    }

    #[test]
    fn lone_closing_braces_are_plain_text() {
        let template = with_raw("}} {{left}}").unwrap();
        assert_eq!(template.render(&[Value::Integer(4), Value::Integer(0)]), "}} 4");
    }
}
