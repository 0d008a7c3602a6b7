//! What each fuzz target does with one input, and what must hold afterwards.
//!
//! The fuzz targets (`fuzz/fuzz_targets/`) and the corpus replay in `cargo test`
//! (`tests/fuzz_corpus.rs`) both call these functions, so that an input that once crashed a target
//! keeps being checked by the very same code. Each function takes arbitrary bytes, must never
//! panic on them, and panics itself only when an invariant breaks.
//!
//! Not part of the API: hidden from the documentation and free to change.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mastery_core::{Checker, Verdict, placeholders};
use mastery_core::{Generator, Quiz, RandomSource, Response, SplitMix64, Substitutions, Template, Timestamp, Value};

use crate::check::self_test;
use crate::quiz_file::parse_quiz_text;
use crate::script::{ScriptLimits, Scripts};
use crate::validate::Validator;

/// How long one script evaluation may take, at most, however slow the machine: the time budget
/// (10 ms by default) plus room for a loaded or instrumented build. A script past this escaped
/// its budget.
pub const EVALUATION_BOUND: Duration = Duration::from_secs(2);

/// What a fuzz target does with one input.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, each with its function: the corpus folders are named after them.
pub const TARGETS: &[(&str, Target)] =
    &[("quiz_file", quiz_file), ("placeholders", placeholders_target), ("answers", answers), ("script", script)];

/// Input bytes as text: invalid UTF-8 is replaced rather than skipped, so every input reaches the
/// code under test (a quiz file that is not UTF-8 is refused before any parsing).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(Validator::default)
}

/// The quiz-file loader: any text is either a quiz or a non-empty list of located problems; a
/// quiz that loads also survives the self-test `mastery check` runs.
pub fn quiz_file(data: &[u8]) {
    let text = text(data);
    let lines = text.lines().count().max(1);
    match parse_quiz_text("fuzz.toml", &text, validator()) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                assert_located(warning.line, warning.column, lines, &warning.to_string());
            }
            // Problems from the self-test are findings about the quiz, not failures: only a panic or
            // a hang is.
            let _ = self_test(&loaded.valid, 2);
        }
        Err(problems) => {
            assert!(!problems.0.is_empty(), "a refused quiz file must say why");
            for problem in &problems.0 {
                assert_located(problem.line, problem.column, lines, &problem.to_string());
                assert!(!problem.message.trim().is_empty(), "a problem without a message: {problem}");
            }
        }
    }
}

fn assert_located(line: usize, column: usize, lines: usize, shown: &str) {
    assert!(line >= 1 && column >= 1, "positions are 1-based: {shown}");
    // One past the last line: a problem at the very end of a file that ends with a newline.
    assert!(line <= lines + 1, "line {line} of a {lines}-line file: {shown}");
}

/// The placeholder compiler: every placeholder found is a `{{ … }}` span of the text, in order,
/// and a template with one generator per name then builds and renders.
pub fn placeholders_target(data: &[u8]) {
    let raw = text(data);
    let Ok(found) = placeholders(&raw) else { return };
    let mut end = 0;
    for placeholder in &found {
        assert!(placeholder.start >= end && placeholder.start < placeholder.end, "{placeholder:?} out of order");
        let span = &raw[placeholder.start..placeholder.end];
        assert!(span.starts_with("{{") && span.ends_with("}}"), "{placeholder:?} is not a placeholder: {span:?}");
        assert!(!placeholder.name.is_empty() && placeholder.name.trim() == placeholder.name, "{placeholder:?}");
        end = placeholder.end;
    }
    let mut names: Vec<&str> = found.iter().map(|p| p.name).collect();
    names.sort_unstable();
    names.dedup();
    let mut builder =
        Template::builder("fuzz").category("fuzz").raw(raw.as_ref()).checker(Checker::new(|_, _| Ok(Verdict::Correct)));
    for name in &names {
        builder = builder.generator(*name, Generator::list([Value::Integer(7)]));
    }
    match builder.build() {
        Ok(template) => {
            let rendered = template.render(&vec![Value::Integer(7); names.len()]);
            let placeholder_bytes: usize = found.iter().map(|p| p.end - p.start).sum();
            assert_eq!(rendered.len(), raw.len() - placeholder_bytes + found.len(), "each placeholder renders as 7");
        }
        Err(error) => assert!(raw.trim().is_empty(), "placeholders were found, yet the template fails: {error}"),
    }
}

/// A quiz file with one template per kind of checker quizzes use: `expect` with an integer, a
/// fraction within a tolerance, case-sensitive text, and `script` checkers that read the answer.
const CHECKER_QUIZ: &str = r#"
title = "Checkers"
mastery = 1

[[templates]]
name = "sum"
category = "expect"
raw = "{{a}} + {{b}}"
generators = { a = { range = [-1000, 1000] }, b = { range = [-4503599627370496, 4503599627370496] } }
checker = { expect = "a + b" }

[[templates]]
name = "third"
category = "expect"
raw = "{{a}} / 3"
generators = { a = { range = [1, 20] } }
checker = { expect = "a / 3.0", tolerance = 0.01 }

[[templates]]
name = "capital"
category = "expect"
raw = "The capital of {{country}}"
generators = { country = ["France", "Peru"] }
checker = { expect = "if country == \"France\" { \"Paris\" } else { \"Lima\" }", case_sensitive = true }

[[templates]]
name = "even"
category = "script"
raw = "An even number above {{n}}"
generators = { n = [2, 4] }
checker = { script = "let m = parse_int(answer); m > n && m % 2 == 0" }

[[templates]]
name = "word"
category = "script"
raw = "A word with {{letter}}"
generators = { letter = ["é", "x"] }
checker = { script = "if answer.len() == 0 { \"say something\" } else { answer.to_lower().contains(letter) }" }

[[templates]]
name = "count"
category = "script"
raw = "Count the {{c}}s"
generators = { c = ["a"] }
checker = { script = "let n = 0; for ch in answer { if ch == 'a' { n += 1; } } let parts = answer.split(\" \"); n > 1 || parts.len() > 2 || answer / 2 == 1" }
"#;

/// One single-template quiz per checker of [`CHECKER_QUIZ`].
fn checker_quizzes() -> &'static [Quiz] {
    static QUIZZES: OnceLock<Vec<Quiz>> = OnceLock::new();
    QUIZZES.get_or_init(|| {
        let valid = parse_quiz_text("checkers.toml", CHECKER_QUIZ, validator()).expect("the checker quiz is valid");
        valid
            .valid
            .templates
            .iter()
            .map(|template| {
                let mut quiz = Quiz::new(template.template.name(), 1).expect("a title");
                quiz.add_template(Arc::clone(&template.template)).expect("one template");
                quiz
            })
            .collect()
    })
}

/// The `expect` and `script` checkers on an arbitrary answer: every answer gets one of the three
/// verdicts (a checker fault is an invalid answer with its reason), and answering moves the quiz
/// as the verdict says.
pub fn answers(data: &[u8]) {
    let answer = text(data);
    let seed = data.iter().fold(0u64, |h, &b| h.rotate_left(5) ^ u64::from(b));
    for quiz in checker_quizzes() {
        let mut quiz = quiz.clone();
        quiz.select_question(&mut SplitMix64::new(seed)).expect("a question").expect("not finished");
        let response = Response::new(&quiz, "fuzz@example.com", answer.as_ref(), Timestamp::from_millis(0))
            .expect("a current question");
        assert_eq!(response.answer(), answer, "the answer is kept as given");
        match response.verdict() {
            Verdict::Correct | Verdict::Incorrect => {}
            Verdict::Invalid(reason) => assert!(!reason.trim().is_empty(), "an invalid verdict says why"),
        }
        let verdict = response.verdict().clone();
        let outcome = quiz.answer_question(response).expect("the response is to the current question");
        assert_eq!(outcome.mastered, verdict == Verdict::Correct, "mastery is 1: {verdict:?}");
        assert_eq!(quiz.is_finished(), verdict == Verdict::Correct, "{verdict:?}");
        if !quiz.is_finished() {
            let current = quiz.current_question().map(|q| q.asked().to_string());
            assert_eq!(
                current.is_some(),
                matches!(verdict, Verdict::Invalid(_)),
                "an invalid answer keeps the question"
            );
        }
    }
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts::new(ScriptLimits::default()))
}

/// The script engine on arbitrary source: compiled, then run as a checker (with substitutions and
/// an answer in scope) and as a generator, each within [`EVALUATION_BOUND`].
pub fn script(data: &[u8]) {
    let source = text(data);
    let Ok(script) = scripts().compile(&source) else { return };
    let names: Vec<Arc<str>> = vec!["n".into(), "word".into()];
    let values = vec![Value::Integer(7), Value::from("cat")];
    let started = Instant::now();
    let _ = script.evaluate(Substitutions::new(&names, &values), Some(" 42 "));
    let checked = started.elapsed();
    assert!(checked < EVALUATION_BOUND, "the checker ran {checked:?}: {source:?}");
    let started = Instant::now();
    let mut rng = SplitMix64::new(1);
    let _ = script.generate(&mut rng as &mut dyn RandomSource);
    let generated = started.elapsed();
    assert!(generated < EVALUATION_BOUND, "the generator ran {generated:?}: {source:?}");
}
