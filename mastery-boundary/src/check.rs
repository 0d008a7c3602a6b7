//! The self-test behind `mastery check`: draw many questions from every template and make sure
//! each renders fully and its checker works, before any learner sees it.
//!
//! A checker works when it accepts its own value, rejects a wrong one, and *judges* whatever a
//! learner may type: an empty answer, a word where a number is due, an answer as long as the
//! answer limit. A checker that fails on one of those would leave that learner's answer unjudged.

use std::collections::HashSet;

use mastery_core::{Question, QuizError, SplitMix64, Verdict};

use crate::problem::Problem;
use crate::validate::{ValidQuiz, ValidTemplate};

/// What the self-test saw of one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSummary {
    /// The template's name.
    pub name: String,
    /// Distinct question texts among the draws: a template that can only ask 3 questions shows 3.
    pub distinct_questions: usize,
    /// Questions drawn.
    pub draws: usize,
}

/// Draws `draws` questions (seeds `0..draws`) from every template. Returns what was seen, or every
/// problem found (at most one per template, under `templates[i]`).
pub fn self_test(valid: &ValidQuiz, draws: usize) -> Result<Vec<TemplateSummary>, Vec<Problem>> {
    let mut summaries = Vec::new();
    let mut problems = Vec::new();
    let long = "x".repeat(valid.max_answer_chars);
    for (index, template) in valid.templates.iter().enumerate() {
        match test_template(template, draws, &long) {
            Ok(summary) => summaries.push(summary),
            Err(problem) => problems.push(problem.under(&format!("templates[{index}]"))),
        }
    }
    if problems.is_empty() { Ok(summaries) } else { Err(problems) }
}

fn test_template(valid: &ValidTemplate, draws: usize, long: &str) -> Result<TemplateSummary, Problem> {
    let template = &valid.template;
    let mut asked = HashSet::new();
    for seed in 0..draws as u64 {
        let question = Question::new(template, &mut SplitMix64::new(seed))
            .map_err(|error| Problem::new("generators", error.to_string()))?;
        if question.asked().contains("{{") {
            return Err(Problem::new("raw", format!("question {:?} still holds a placeholder", question.asked())));
        }
        match &valid.expect {
            Some(expect) => {
                let expected = expect
                    .expected(question.substitutions())
                    .map_err(|m| Problem::new("checker.expect", format!("{m} (question {:?})", question.asked())))?;
                let right = expected.answer_text();
                let wrong = expected.wrong_answer_text(expect.tolerance());
                expect_verdict(&question, &right, Verdict::Correct, "accept its own value")?;
                expect_verdict(&question, &wrong, Verdict::Incorrect, "reject a wrong answer")?;
                for answer in ["", "twelve", long] {
                    judged(&question, answer, "checker.expect")?;
                }
            }
            // A script checker has no value of its own to try: a number, then the non-answers.
            None => {
                for answer in ["0", "", "twelve", long] {
                    judged(&question, answer, "checker.script")?;
                }
            }
        }
        asked.insert(question.asked().to_string());
    }
    Ok(TemplateSummary { name: template.name().to_string(), distinct_questions: asked.len(), draws })
}

fn expect_verdict(question: &Question, answer: &str, wanted: Verdict, duty: &str) -> Result<(), Problem> {
    let verdict = judged(question, answer, "checker.expect")?;
    if verdict == wanted {
        return Ok(());
    }
    let message =
        format!("the checker does not {duty}: answer {answer:?} to {:?} was judged {verdict}", question.asked());
    Err(Problem::new("checker", message))
}

/// The checker's verdict on `answer`, or a problem naming the answer and the question when the
/// checker fails on it.
fn judged(question: &Question, answer: &str, field: &str) -> Result<Verdict, Problem> {
    question.check(answer).map_err(|fault| {
        let reason = match fault {
            QuizError::Checker { message, .. } => message,
            other => other.to_string(),
        };
        let message = format!("the checker fails on the answer {} to {:?}: {reason}", shown(answer), question.asked());
        Problem::new(field, message)
    })
}

/// An answer as a problem names it: quoted, or by its length when it is long.
fn shown(answer: &str) -> String {
    match answer.chars().count() {
        n if n > 40 => format!("of {n} characters"),
        _ => format!("{answer:?}"),
    }
}
