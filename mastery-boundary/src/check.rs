//! The self-test behind `mastery check`: draw many questions from every template and make sure
//! each renders fully and its checker works, before any learner sees it.

use std::collections::HashSet;

use mastery_core::{Question, SplitMix64, Verdict};

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
    for (index, template) in valid.templates.iter().enumerate() {
        match test_template(template, draws) {
            Ok(summary) => summaries.push(summary),
            Err(problem) => problems.push(problem.under(&format!("templates[{index}]"))),
        }
    }
    if problems.is_empty() { Ok(summaries) } else { Err(problems) }
}

fn test_template(valid: &ValidTemplate, draws: usize) -> Result<TemplateSummary, Problem> {
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
            }
            None => {
                question
                    .check("0")
                    .map_err(|e| Problem::new("checker.script", format!("{e} (question {:?})", question.asked())))?;
            }
        }
        asked.insert(question.asked().to_string());
    }
    Ok(TemplateSummary { name: template.name().to_string(), distinct_questions: asked.len(), draws })
}

fn expect_verdict(question: &Question, answer: &str, wanted: Verdict, duty: &str) -> Result<(), Problem> {
    let verdict = question
        .check(answer)
        .map_err(|e| Problem::new("checker.expect", format!("{e} (question {:?})", question.asked())))?;
    if verdict == wanted {
        return Ok(());
    }
    let message =
        format!("the checker does not {duty}: answer {answer:?} to {:?} was judged {verdict}", question.asked());
    Err(Problem::new("checker", message))
}
