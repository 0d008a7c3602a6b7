//! File-defined quizzes: the design example (range generators, an `expect` checker run in the
//! sandbox for every answer) driven like the core benchmark (the clock read for every response,
//! as the book does), plus the cost of one script check and of loading and checking a quiz of
//! 1,000 templates.
//!
//! Run: `cargo bench -p mastery-boundary --bench quiz_file` (`-- --quick` for a short run).

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use mastery_boundary::{Validator, parse_quiz_text, self_test};
use mastery_core::{Question, Quiz, Response, SplitMix64, Timestamp};

const DESIGN_EXAMPLE: &str = r#"
title = "Arithmetic"
mastery = 3

[[templates]]
name = "single_digit_addition"
category = "addition"
instructions = "Add the numbers"
raw = "{{left}} + {{right}}"
generators = { left = { range = [0, 9] }, right = { range = [0, 9] } }
checker = { expect = "left + right" }
"#;

const BOOK_OPS_PER_SECOND: f64 = 58_000.0;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, ops) = if quick { (3, 50_000) } else { (7, 500_000) };
    let validator = Validator::default();
    let quiz = parse_quiz_text("bench.toml", DESIGN_EXAMPLE, &validator).unwrap().valid.quiz;

    let mut samples: Vec<Duration> = (0..rounds).map(|_| drive(&quiz, ops)).collect();
    samples.sort();
    let rate = ops as f64 / samples[rounds / 2].as_secs_f64();
    figure("quiz file: select+response+answer", rate.round(), Some(BOOK_OPS_PER_SECOND), "ops/s", true);
    println!(
        "file-defined quiz, select+response+answer (right answers): {rate:.0} ops/s ({:.0}x the book)",
        rate / BOOK_OPS_PER_SECOND
    );

    let template = quiz.templates().next().unwrap().clone();
    let question = Question::new(&template, &mut SplitMix64::new(1)).unwrap();
    let checks = ops * 2;
    let start = Instant::now();
    for _ in 0..checks {
        black_box(question.check(black_box("7")).unwrap());
    }
    let check = start.elapsed().as_secs_f64() * 1e6 / checks as f64;
    figure("quiz file: one sandboxed expect check", check, None, "µs", false);
    println!("one sandboxed expect check: {check:.2} µs");

    let big = thousand_templates();
    let start = Instant::now();
    let loaded = parse_quiz_text("big.toml", &big, &validator).unwrap();
    let loaded_in = start.elapsed();
    let start = Instant::now();
    let summaries = self_test(&loaded.valid, 200).unwrap();
    figure("quiz file: load and validate 1,000 templates", loaded_in.as_secs_f64() * 1e3, None, "ms", false);
    figure("quiz file: self-test 1,000 templates x 200 draws", start.elapsed().as_secs_f64() * 1e3, None, "ms", false);
    println!(
        "quiz of {} templates ({} KiB): load and validate {:.1} ms; self-test of 200 draws each {:.0} ms",
        summaries.len(),
        big.len() / 1024,
        loaded_in.as_secs_f64() * 1e3,
        start.elapsed().as_secs_f64() * 1e3
    );
}

fn drive(quiz: &Quiz, ops: u64) -> Duration {
    let mut rng = SplitMix64::new(7);
    let email: std::sync::Arc<str> = "learner@example.com".into();
    let mut current = quiz.clone();
    let start = Instant::now();
    for _ in 0..ops {
        let question = match current.select_question(&mut rng).unwrap() {
            Some(question) => question,
            None => {
                current = quiz.clone();
                current.select_question(&mut rng).unwrap().unwrap()
            }
        };
        let sum: i64 = question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum();
        let response =
            Response::new(&current, email.clone(), sum.to_string(), Timestamp::from(SystemTime::now())).unwrap();
        black_box(current.answer_question(response).unwrap());
    }
    start.elapsed()
}

fn thousand_templates() -> String {
    let mut text = String::from("title = \"Big\"\nmastery = 2\n");
    for n in 0..1_000 {
        text.push_str(&format!(
            "\n[[templates]]\nname = \"t{n}\"\ncategory = \"c{}\"\nraw = \"{{{{a}}}} + {{{{b}}}} + {n}\"\ngenerators = {{ a = {{ range = [0, 99] }}, b = [1, 2, 3] }}\nchecker = {{ expect = \"a + b + {n}\" }}\n",
            n % 10
        ));
    }
    text
}

/// One line for the workspace's benchmark report (`scripts/bench-report`): name, our figure, the
/// book's figure (or -), the unit, and whether higher is better.
fn figure(name: &str, ours: f64, book: Option<f64>, unit: &str, higher_is_better: bool) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    println!("REPORT|{name}|{ours}|{book}|{unit}|{higher_is_better}");
}
