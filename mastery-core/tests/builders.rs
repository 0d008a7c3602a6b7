//! Test builders in the book's manner: fields with sensible defaults, overridden where a test
//! cares, and named setups composed from small steps.
#![allow(dead_code, missing_docs)] // shared by several test files; each uses a subset

use std::sync::Arc;

use mastery_core::{Checker, Generator, Quiz, Response, SplitMix64, Template, Timestamp, Value, Verdict, examples};

pub const EMAIL: &str = "mathy@example.com";

pub struct TemplateFields {
    pub name: String,
    pub category: String,
    pub raw: String,
    pub generators: Vec<(String, Generator)>,
    pub checker: Checker,
}

/// Single-digit addition: `left + right`, both 0..=9, checked as `left + right`.
pub fn template_fields() -> TemplateFields {
    TemplateFields {
        name: "single_digit_addition".into(),
        category: "addition".into(),
        raw: "{{left}} + {{right}}".into(),
        generators: vec![("left".into(), Generator::range(0, 9)), ("right".into(), Generator::range(0, 9))],
        checker: examples::integer_checker(i64::wrapping_add),
    }
}

impl TemplateFields {
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
    pub fn with_category(mut self, category: &str) -> Self {
        self.category = category.into();
        self
    }
    pub fn with_raw(mut self, raw: &str) -> Self {
        self.raw = raw.into();
        self
    }
    pub fn with_generators(mut self, generators: Vec<(&str, Generator)>) -> Self {
        self.generators = generators.into_iter().map(|(n, g)| (n.to_string(), g)).collect();
        self
    }
    pub fn with_checker(mut self, checker: Checker) -> Self {
        self.checker = checker;
        self
    }
    pub fn build(self) -> Arc<Template> {
        let builder = self
            .generators
            .into_iter()
            .fold(Template::builder(self.name).category(self.category).raw(self.raw), |b, (n, g)| b.generator(n, g));
        Arc::new(builder.checker(self.checker).build().expect("test template is valid"))
    }
}

/// Double-digit addition, in the same category as the single-digit one.
pub fn double_digit_addition_fields() -> TemplateFields {
    template_fields()
        .with_name("double_digit_addition")
        .with_generators(vec![("left", Generator::range(10, 99)), ("right", Generator::range(10, 99))])
}

/// A template that always asks "1 + 2".
pub fn one_plus_two() -> Arc<Template> {
    template_fields()
        .with_generators(vec![("left", Generator::list([1i64])), ("right", Generator::list([2i64]))])
        .build()
}

/// A checker that ignores the question: "right" is correct, "wrong" incorrect, anything else invalid.
pub fn scripted_checker() -> Checker {
    Checker::new(|_, answer| {
        Ok(match answer {
            "right" => Verdict::Correct,
            "wrong" => Verdict::Incorrect,
            other => Verdict::Invalid(format!("not a scripted answer: {other}")),
        })
    })
}

/// A template named `name` in `category` answered with "right"/"wrong".
pub fn scripted_template(name: &str, category: &str) -> Arc<Template> {
    template_fields().with_name(name).with_category(category).with_checker(scripted_checker()).build()
}

pub struct QuizFields {
    pub title: String,
    pub mastery: u32,
}

pub fn quiz_fields() -> QuizFields {
    QuizFields { title: "Simple addition".into(), mastery: 3 }
}

impl QuizFields {
    pub fn with_mastery(mut self, mastery: u32) -> Self {
        self.mastery = mastery;
        self
    }
    pub fn build(self) -> Quiz {
        Quiz::new(self.title, self.mastery).expect("test quiz is valid")
    }
    pub fn with_templates(self, templates: impl IntoIterator<Item = Arc<Template>>) -> Quiz {
        let mut quiz = self.build();
        for template in templates {
            quiz.add_template(template).expect("test template names are distinct");
        }
        quiz
    }
}

/// The quiz with both addition templates.
pub fn build_quiz_with_two_templates(fields: QuizFields) -> Quiz {
    fields.with_templates([template_fields().build(), double_digit_addition_fields().build()])
}

/// A quiz whose only template always asks "1 + 2".
pub fn one_plus_two_quiz(mastery: u32) -> Quiz {
    quiz_fields().with_mastery(mastery).with_templates([one_plus_two()])
}

pub fn rng() -> SplitMix64 {
    SplitMix64::new(0x5EED)
}

pub fn respond(quiz: &Quiz, answer: &str) -> Response {
    Response::new(quiz, EMAIL, answer, Timestamp::from_millis(1_700_000_000_000)).expect("a question is current")
}

/// The right answer to the current `left + right` question.
pub fn right_sum(quiz: &Quiz) -> String {
    let question = quiz.current_question().expect("a question is current");
    let sum: i64 = question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum();
    sum.to_string()
}

pub fn int(n: i64) -> Value {
    Value::Integer(n)
}
