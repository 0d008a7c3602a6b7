//! The self-test behind `mastery check`: draw many questions from every template and make sure
//! each renders fully and its checker works, before any learner sees it.
//!
//! A checker works when it accepts its own value, rejects a wrong one, and *judges* whatever a
//! learner may type: an empty answer, a word where a number is due, an answer as long as the
//! answer limit. A checker that fails on one of those would leave that learner's answer unjudged.

use std::collections::HashSet;

use mastery_core::{Generator, Question, QuizError, SplitMix64, Template, Verdict, checker};

use crate::problem::Problem;
use crate::script::split_position;
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
    /// How many questions the template can ask in all, when every generator a placeholder uses is
    /// a list or a range: the product of their numbers of distinct values, saturating at
    /// `u128::MAX`. `None` when a script generator draws, since a script's values cannot be
    /// counted without running it; then `distinct_questions` is all there is to go on.
    pub questions_in_all: Option<u128>,
}

/// A question drawn for the author, with the answer its checker expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The question's text.
    pub asked: String,
    /// The answer an `expect` checker wants, as a learner would type it; `None` for a `script`
    /// checker, which judges each answer itself and has no single expected value.
    pub expected: Option<String>,
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
        let question = Question::new(template, &mut SplitMix64::new(seed)).map_err(generator_problem)?;
        if question.asked().contains("{{") {
            return Err(Problem::new("raw", format!("question {:?} still holds a placeholder", question.asked())));
        }
        match &valid.expect {
            Some(expect) => {
                let expected = expect.expected(question.substitutions()).map_err(|failure| {
                    let (message, position) = split_position(&failure);
                    Problem::new("checker.expect", format!("{message} (question {:?})", question.asked()))
                        .in_script(position)
                })?;
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
    Ok(TemplateSummary {
        name: template.name().to_string(),
        distinct_questions: asked.len(),
        draws,
        questions_in_all: questions_in_all(template),
    })
}

/// The product of the sizes of the generators the question text shows, or `None` when one of
/// them is a script. A list counts its distinct texts: `[1, "1"]` asks one question.
fn questions_in_all(template: &Template) -> Option<u128> {
    let unused: HashSet<&str> = template.unused_generators().collect();
    let shown =
        template.generator_names().iter().zip(template.generators()).filter(|(name, _)| !unused.contains(&***name));
    shown.map(|(_, generator)| generator_size(generator)).try_fold(1u128, |all, size| Some(all.saturating_mul(size?)))
}

fn generator_size(generator: &Generator) -> Option<u128> {
    match generator {
        Generator::List(values) => Some(values.iter().map(ToString::to_string).collect::<HashSet<_>>().len() as u128),
        other => other.known_size(),
    }
}

/// The expected answer as the author reads it: a number with its tolerance, when it has one (a
/// tolerance only applies to numbers, and an expected number always reads as one).
fn expected_text(answer: &str, tolerance: f64) -> String {
    match checker::parse_number(answer) {
        Some(_) if tolerance > 0.0 => format!("{answer} (± {tolerance})"),
        _ => answer.to_string(),
    }
}

/// Up to `n` distinct questions of a template, with the answer its checker expects. Seeds 0, 1, …
/// draw them, so the same file always shows the same samples; a template that can ask fewer than
/// `n` questions shows those it found within `n + 200` draws.
pub fn samples(valid: &ValidTemplate, n: usize) -> Result<Vec<Sample>, String> {
    let mut seen = HashSet::new();
    let mut samples = Vec::new();
    for seed in 0..n.saturating_add(200) as u64 {
        if samples.len() == n {
            break;
        }
        let question = Question::new(&valid.template, &mut SplitMix64::new(seed)).map_err(|e| e.to_string())?;
        if !seen.insert(question.asked().to_string()) {
            continue;
        }
        let expected = match &valid.expect {
            Some(expect) => {
                Some(expected_text(&expect.expected(question.substitutions())?.answer_text(), expect.tolerance()))
            }
            None => None,
        };
        samples.push(Sample { asked: question.asked().to_string(), expected });
    }
    Ok(samples)
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
        let (reason, position) = split_position(&reason);
        let message = format!("the checker fails on the answer {} to {:?}: {reason}", shown(answer), question.asked());
        Problem::new(field, message).in_script(position)
    })
}

/// A generator that failed, as a problem with that generator (at the failing spot of its script,
/// when it is a script and the spot is known).
fn generator_problem(error: QuizError) -> Problem {
    let field = match &error {
        QuizError::Generator { generator, .. } => format!("generators.{generator}"),
        _ => "generators".to_string(),
    };
    let (message, position) = split_position(&error.to_string());
    Problem::new(field, message).in_script(position)
}

/// An answer as a problem names it: quoted, or by its length when it is long.
fn shown(answer: &str) -> String {
    match answer.chars().count() {
        n if n > 40 => format!("of {n} characters"),
        _ => format!("{answer:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{ScriptLimits, Scripts};
    use crate::{Limits, Validator, parse_quiz_text};
    use mastery_core::Substitutions;

    /// A quiz of one template whose `generators` and `checker` lines are given.
    fn template(generators: &str, checker: &str) -> ValidTemplate {
        let raw = generators.split('=').next().unwrap().trim_start_matches(['{', ' ']).trim();
        let text = format!(
            "title = \"T\"\n[[templates]]\nname = \"t\"\ncategory = \"c\"\nraw = \"q {{{{{raw}}}}}\"\ngenerators = {generators}\nchecker = {checker}\n"
        );
        let quiz = parse_quiz_text("t.toml", &text, &Validator::default()).unwrap_or_else(|p| panic!("{text}\n{p}"));
        quiz.valid.templates.into_iter().next().unwrap()
    }

    fn summary(valid: &ValidTemplate) -> TemplateSummary {
        test_template(valid, 200, "x").unwrap()
    }

    #[test]
    fn lists_and_ranges_count_every_question_there_is_and_scripts_make_it_a_sample() {
        let both = template("{ a = [1, 2, 3], b = { range = [0, 9] } }", "{ expect = \"a + b\" }");
        // One placeholder shows `a`; `b` fills a second one added below.
        assert_eq!(both.template.unused_generators().collect::<Vec<_>>(), ["b"]);
        assert_eq!(summary(&both).questions_in_all, Some(3), "an unused generator does not multiply the questions");
        let text = "title = \"T\"\n[[templates]]\nname = \"t\"\ncategory = \"c\"\nraw = \"{{a}} + {{b}}\"\ngenerators = { a = [1, 2, 3], b = { range = [0, 9] } }\nchecker = { expect = \"a + b\" }\n";
        let quiz = parse_quiz_text("t.toml", text, &Validator::default()).unwrap();
        let seen = summary(&quiz.valid.templates[0]);
        assert_eq!((seen.questions_in_all, seen.distinct_questions), (Some(30), 30));
        let repeated = template("{ a = [1, \"1\", 2] }", "{ expect = \"a\" }");
        assert_eq!(summary(&repeated).questions_in_all, Some(2), "1 and \"1\" ask the same question");
        let scripted = template("{ a = { script = \"rand(1, 5)\" } }", "{ expect = \"a\" }");
        assert_eq!(summary(&scripted).questions_in_all, None);
    }

    #[test]
    fn the_count_saturates_instead_of_overflowing() {
        let text = "title = \"T\"\n[[templates]]\nname = \"t\"\ncategory = \"c\"\nraw = \"{{a}}{{b}}{{c}}\"\ngenerators = { a = { range = [0, 9007199254740992] }, b = { range = [0, 9007199254740992] }, c = { range = [0, 9007199254740992] } }\nchecker = { expect = \"1\" }\n";
        let quiz = parse_quiz_text("t.toml", text, &Validator::default()).unwrap();
        assert_eq!(questions_in_all(&quiz.valid.templates[0].template), Some(u128::MAX));
    }

    #[test]
    fn samples_are_distinct_reproducible_and_carry_the_expected_answer() {
        let half = template("{ n = { range = [1, 20] } }", "{ expect = \"n / 2\" }");
        let drawn = samples(&half, 5).unwrap();
        assert_eq!(drawn, samples(&half, 5).unwrap(), "fixed seeds");
        assert_eq!(drawn.len(), 5);
        assert_eq!(drawn.iter().map(|s| &s.asked).collect::<HashSet<_>>().len(), 5);
        for sample in &drawn {
            let n: f64 = sample.asked.trim_start_matches("q ").parse().unwrap();
            assert_eq!(sample.expected.as_deref(), Some((n / 2.0).to_string().as_str()), "{sample:?}");
        }
        let seven = Sample { asked: "q 7".into(), expected: Some("3.5".into()) };
        assert!(samples(&half, 20).unwrap().contains(&seven));
    }

    #[test]
    fn a_template_with_fewer_questions_shows_those_it_has() {
        let one = template("{ w = [\"cheval\"] }", "{ expect = \"\\\"horse\\\"\" }");
        assert_eq!(samples(&one, 3).unwrap(), [Sample { asked: "q cheval".into(), expected: Some("horse".into()) }]);
    }

    #[test]
    fn a_script_checker_has_no_expected_value_and_a_tolerance_is_shown() {
        let script = template("{ n = [4] }", "{ script = \"answer == to_string(n)\" }");
        assert_eq!(samples(&script, 1).unwrap()[0].expected, None);
        let third = template("{ n = [1] }", "{ expect = \"n / 3.0\", tolerance = 0.01 }");
        assert_eq!(samples(&third, 1).unwrap()[0].expected.as_deref(), Some("0.3333333333333333 (± 0.01)"));
        let text = template("{ n = [1] }", "{ expect = \"\\\"one\\\"\", tolerance = 0.5 }");
        assert_eq!(samples(&text, 1).unwrap()[0].expected.as_deref(), Some("one"), "a tolerance is for numbers");
    }

    #[test]
    fn a_script_checker_receives_the_trimmed_answer() {
        let horse = template("{ w = [\"cheval\"] }", "{ script = \"answer == \\\"Horse\\\"\" }");
        let question = Question::new(&horse.template, &mut SplitMix64::new(0)).unwrap();
        for answer in ["Horse", " Horse", "Horse ", "\tHorse\n"] {
            assert_eq!(question.check(answer), Ok(Verdict::Correct), "{answer:?}");
        }
        assert_eq!(question.check("horse"), Ok(Verdict::Incorrect));
    }

    fn guide() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/quiz-files.md");
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The lines of every fenced block of `language` in the guide.
    fn blocks<'a>(guide: &'a str, language: &str) -> Vec<&'a str> {
        let fence = format!("```{language}");
        let mut lines = Vec::new();
        let mut inside = false;
        for line in guide.lines() {
            match (inside, line.trim_end()) {
                (false, open) if open == fence => inside = true,
                (true, "```") => inside = false,
                (true, line) => lines.push(line),
                _ => {}
            }
        }
        lines
    }

    /// Every `script // value` line of the guide's script examples gives that value: the guide
    /// cannot promise a function the sandbox does not have.
    #[test]
    fn every_script_example_in_the_guide_gives_the_value_it_shows() {
        let guide = guide();
        let examples = blocks(&guide, "rhai");
        assert!(examples.len() > 80, "the guide shows {} script examples", examples.len());
        let scripts = Scripts::default();
        let mut wrong = Vec::new();
        for line in examples {
            let (source, shown) = line.rsplit_once("//").unwrap_or_else(|| panic!("no `// value` in {line:?}"));
            let shown = shown.trim();
            let result = match scripts.compile(source) {
                Ok(script) => script.evaluate(Substitutions::new(&[], &[]), None).map_err(|e| format!("{e:?}")),
                Err(error) => Err(format!("{error:?}")),
            };
            let matches = match (&result, shown) {
                (Err(_), "error") => true,
                (Ok(value), text) if text.starts_with('"') => {
                    value.is_string() && format!("{:?}", value.to_string()) == text
                }
                (Ok(value), number) => !value.is_string() && value.to_string() == number,
                _ => false,
            };
            if !matches {
                wrong.push(format!("{source} gives {result:?}, the guide says {shown}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_guide_states_the_limits_in_force() {
        let guide = guide();
        let (script, quiz) = (ScriptLimits::default(), Limits::default());
        let thousands = |n: usize| {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, digit) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(digit);
            }
            out
        };
        let rows = [
            format!("| operations per evaluation | {} |", thousands(script.max_operations as usize)),
            format!("| time per evaluation | {} ms |", script.time_budget.as_millis()),
            format!("| nested function calls | {} |", script.max_call_levels),
            format!("| expression nesting | {} |", script.max_expr_depth),
            format!("| bytes in any text a script builds | {} |", thousands(script.max_string_size)),
            format!("| elements in any array or map | {} |", thousands(script.max_array_size)),
            format!("| characters of script source | {} |", thousands(script.max_source_len)),
            format!("A learner's answer is at most {} characters", thousands(quiz.max_answer_chars)),
            format!("at most {} generators", quiz.max_generators),
            format!("at most {} values", thousands(quiz.max_list_len)),
        ];
        for row in rows {
            assert!(guide.contains(&row), "the guide does not say {row:?}");
        }
    }
}
