//! `mastery check`: validate a quiz file and self-test every template.

use std::path::Path;

use mastery_boundary::{FileProblems, Validator, check_quiz_file, samples};

use crate::Failure;
use crate::diagnostics::{ColorChoice, render};

/// Draws per template in the self-test.
pub const DRAWS: usize = 200;

/// The summary for a clean file, with `show` sample questions per template and their expected
/// answers, or every problem (without colour, each starts with its `FILE:LINE:COL: field: message`
/// line); warnings are shown either way.
pub fn check(path: &Path, show: usize, color: ColorChoice) -> Result<String, Failure> {
    let checked = check_quiz_file(path, &Validator::default(), DRAWS).map_err(|problems| {
        // The problem list is both check's report (stdout) and its error (stderr), but a person
        // reads it once: where both reach the same place, or stdout is piped on to the terminal
        // stderr shows, it goes to one of them and the other gets at most a one-line count.
        let count = problems.0.len();
        let listed = render(&problems.0, color.for_stdout());
        match destinations() {
            Destinations::Same => problems_failure(&problems),
            Destinations::StdoutForTheTerminal => {
                println!("{listed}");
                let warnings = problems.0.iter().filter(|p| p.is_warning()).count();
                let of_them = match warnings {
                    0 => String::new(),
                    1 => ", 1 of them a warning".into(),
                    n => format!(", {n} of them warnings"),
                };
                Failure::error(format!("{}: {count} problem{}{of_them}", path.display(), plural(count)))
            }
            Destinations::Apart => {
                println!("{listed}");
                problems_failure(&problems)
            }
        }
    })?;
    let quiz = &checked.quiz_file.valid.quiz;
    let warnings = &checked.quiz_file.warnings;
    let mut lines: Vec<String> = Vec::new();
    if !warnings.is_empty() {
        // A blank line ends the last excerpt before the summary.
        lines.push(format!("{}\n", render(warnings, color.for_stdout())));
    }
    let count = checked.templates.len();
    lines.push(format!(
        "{}: ok: quiz {:?}, mastery {}, {count} template{}",
        path.display(),
        quiz.title(),
        quiz.mastery(),
        plural(count)
    ));
    for template in &checked.templates {
        lines.push(format!(
            "  {}: {} distinct question{} in {} draws ({})",
            template.name,
            template.distinct_questions,
            if template.distinct_questions == 1 { "" } else { "s" },
            template.draws,
            in_all(template.questions_in_all)
        ));
    }
    if show > 0 {
        lines.push("sample questions and the answers their checkers expect (for the author only):".into());
        for valid in &checked.quiz_file.valid.templates {
            let name = valid.template.name();
            let drawn = samples(valid, show).map_err(|e| Failure::error(format!("template {name:?}: {e}")))?;
            for sample in drawn {
                let expected = sample.expected.unwrap_or_else(|| "(script checker: no single expected value)".into());
                lines.push(format!("  {name}: {} → {expected}", sample.asked));
            }
        }
    }
    Ok(lines.join("\n"))
}

/// How the distinct count compares with all there is: every question a template can ask, or a
/// note that the draws are a sample of an unknown whole.
fn in_all(questions_in_all: Option<u128>) -> String {
    match questions_in_all {
        Some(u128::MAX) => "of more than 10^38 in all".into(),
        Some(all) => format!("of {all} in all"),
        None => "a sample: script generators".into(),
    }
}

/// The problems, shown as diagnostics on stderr.
pub fn problems_failure(problems: &FileProblems) -> Failure {
    Failure::located(problems.clone())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Where stdout and stderr lead, as far as a person reading them is concerned.
enum Destinations {
    /// The same terminal, pipe or file: printing to both would show everything twice.
    Same,
    /// stderr is a terminal and stdout is not: stdout is most likely piped on to that terminal
    /// (`| less`, `| cat`), and a person sees both.
    StdoutForTheTerminal,
    /// Different places (a file and a terminal, two pipes): each reader gets the whole list.
    Apart,
}

fn destinations() -> Destinations {
    use std::io::IsTerminal;
    let (out, err) = (std::io::stdout(), std::io::stderr());
    match (out.is_terminal(), err.is_terminal()) {
        (true, true) => Destinations::Same,
        (false, true) => Destinations::StdoutForTheTerminal,
        _ if same_file(&out, &err) => Destinations::Same,
        _ => Destinations::Apart,
    }
}

/// Whether two handles are the same open file (`2>&1` into one pipe or file).
#[cfg(unix)]
fn same_file(out: &std::io::Stdout, err: &std::io::Stderr) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let metadata = |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().map(std::fs::File::from)?.metadata();
    match (metadata(out.as_fd()), metadata(err.as_fd())) {
        (Ok(out), Ok(err)) => out.dev() == err.dev() && out.ino() == err.ino(),
        _ => true,
    }
}

/// Elsewhere the two are taken to differ: a list shown twice beats a list lost.
#[cfg(not(unix))]
fn same_file(_out: &std::io::Stdout, _err: &std::io::Stderr) -> bool {
    false
}
