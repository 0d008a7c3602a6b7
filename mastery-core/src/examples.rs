//! Ready-made templates and quizzes: the book's Math quiz and the command line's demo.

use std::sync::Arc;

use crate::checker::{Checker, compare_integer};
use crate::generator::Generator;
use crate::quiz::Quiz;
use crate::template::Template;
use crate::value::{Substitutions, Value};

/// The title of the demo quiz that `mastery run` takes without a quiz file.
pub const DEMO_TITLE: &str = "Arithmetic";

/// A checker for `left OP right` questions: the answer must be `combine(left, right)`.
pub fn integer_checker(combine: fn(i64, i64) -> i64) -> Checker {
    let expected = move |substitutions: Substitutions<'_>| {
        let term = |name: &str| {
            substitutions
                .get(name)
                .and_then(Value::as_integer)
                .ok_or_else(|| format!("substitution {name:?} is not an integer"))
        };
        Ok::<_, String>(combine(term("left")?, term("right")?))
    };
    Checker::new(move |substitutions: Substitutions<'_>, answer: &str| {
        Ok(compare_integer(expected(substitutions)?, answer))
    })
    .with_expected(move |substitutions| expected(substitutions).ok().map(|value| value.to_string()))
}

/// A `{{left}} OP {{right}}` template with both terms drawn from inclusive ranges.
pub fn binary_operation(
    name: &str,
    category: &str,
    symbol: &str,
    left: (i64, i64),
    right: (i64, i64),
    combine: fn(i64, i64) -> i64,
) -> Arc<Template> {
    let template = Template::builder(name)
        .category(category)
        .instructions(format!("Work out the {category}"))
        .raw(format!("{{{{left}}}} {symbol} {{{{right}}}}"))
        .generator("left", Generator::range(left.0, left.1))
        .generator("right", Generator::range(right.0, right.1))
        .checker(integer_checker(combine))
        .build();
    // The inputs above are fixed and valid: a failure here is a bug in this module.
    Arc::new(template.expect("example templates are valid"))
}

/// The book's single-digit addition template: `left + right`, both 0 to 9.
pub fn single_digit_addition() -> Arc<Template> {
    binary_operation("single_digit_addition", "addition", "+", (0, 9), (0, 9), i64::wrapping_add)
}

/// The book's double-digit addition template, in the same category.
pub fn double_digit_addition() -> Arc<Template> {
    binary_operation("double_digit_addition", "addition", "+", (10, 99), (10, 99), i64::wrapping_add)
}

/// The book's Math quiz: single-digit addition, mastery 2.
pub fn math_quiz() -> Quiz {
    let mut quiz = Quiz::new("Math", 2).expect("the Math quiz is valid");
    quiz.add_template(single_digit_addition()).expect("one template cannot clash");
    // A quiz built in Rust names its own version: change it when the templates change.
    quiz.set_version("math-1");
    quiz
}

/// The command line's demo quiz: title `Arithmetic`, mastery 2, one template in each of the
/// categories addition, subtraction and multiplication (`×`).
pub fn arithmetic_quiz() -> Quiz {
    let mut quiz = Quiz::new(DEMO_TITLE, 2).expect("the demo quiz is valid");
    let templates = [
        single_digit_addition(),
        binary_operation("single_digit_subtraction", "subtraction", "-", (0, 9), (0, 9), i64::wrapping_sub),
        binary_operation("single_digit_multiplication", "multiplication", "×", (0, 9), (0, 9), i64::wrapping_mul),
    ];
    for template in templates {
        quiz.add_template(template).expect("demo template names are distinct");
    }
    quiz.set_version("arithmetic-1");
    quiz
}
