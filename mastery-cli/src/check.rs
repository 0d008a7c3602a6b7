//! `mastery check`: validate a quiz file and self-test every template.

use std::path::Path;

use mastery_boundary::{FileProblems, Validator, check_quiz_file};

use crate::Failure;

/// Draws per template in the self-test.
pub const DRAWS: usize = 200;

/// The summary for a clean file, or every problem (one `FILE:LINE:COL: field: message` per line).
pub fn check(path: &Path) -> Result<String, Failure> {
    let checked = check_quiz_file(path, &Validator::default(), DRAWS).map_err(|problems| {
        // The problem list is both check's report and its error: on stderr always, and on stdout
        // too when that goes somewhere else (`mastery check quiz.toml > problems.txt`).
        if !stdout_is_stderr() {
            println!("{problems}");
        }
        problems_failure(&problems)
    })?;
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

/// Every problem on a line of its own, `FILE:LINE:COL: field: message`, and nothing else.
pub fn problems_failure(problems: &FileProblems) -> Failure {
    Failure::located(problems.to_string())
}

/// Whether stdout and stderr are the same terminal, pipe or file (so printing to both would show
/// everything twice).
fn stdout_is_stderr() -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata("/dev/stdout"), std::fs::metadata("/dev/stderr")) {
        (Ok(out), Ok(err)) => out.dev() == err.dev() && out.ino() == err.ino(),
        _ => true,
    }
}
