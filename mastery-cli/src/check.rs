//! `mastery check`: validate a quiz file and self-test every template.

use std::path::Path;

use mastery_boundary::{FileProblems, Validator, check_quiz_file};

use crate::Failure;

/// Draws per template in the self-test.
pub const DRAWS: usize = 200;

/// The summary for a clean file, or every problem (one `FILE:LINE:COL: field: message` per line).
pub fn check(path: &Path) -> Result<String, Failure> {
    let checked = check_quiz_file(path, &Validator::default(), DRAWS).map_err(|p| problems_failure(path, &p))?;
    let quiz = &checked.quiz_file.valid.quiz;
    let mut lines: Vec<String> = checked.quiz_file.warnings.iter().map(ToString::to_string).collect();
    let count = checked.templates.len();
    lines.push(format!(
        "{}: ok: quiz {:?}, mastery {}, {count} template{}",
        path.display(),
        quiz.title(),
        quiz.mastery(),
        if count == 1 { "" } else { "s" }
    ));
    for template in &checked.templates {
        lines.push(format!(
            "  {}: {} distinct question{} in {} draws",
            template.name,
            template.distinct_questions,
            if template.distinct_questions == 1 { "" } else { "s" },
            template.draws
        ));
    }
    Ok(lines.join("\n"))
}

/// Every problem on a line of its own, then a count naming the file.
pub fn problems_failure(path: &Path, problems: &FileProblems) -> Failure {
    let count = problems.0.len();
    let noun = if count == 1 { "problem" } else { "problems" };
    Failure::error(format!("{problems}\n{}: {count} {noun}", path.display()))
}
