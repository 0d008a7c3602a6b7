//! Core throughput: one op = `select_question` + `Response::new` + `answer_question` on the book's
//! Math quiz, one thread, restarting the quiz when it finishes (the book's own workload).
//!
//! Run: `cargo bench -p mastery-core --bench core`. Prints a table; `--quick` runs shorter.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mastery_core::{Question, Quiz, Response, SplitMix64, Timestamp, examples};

/// Counts allocations so the table can show allocations per op.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
#[allow(unsafe_code)] // a global allocator cannot be written without it
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const BOOK_OPS_PER_SECOND: f64 = 58_000.0;
const BOOK_WRONG_OPS_PER_SECOND: f64 = 57_000.0;
const BOOK_QUESTIONS_PER_SECOND: f64 = 68_000.0;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, per_round) = if quick { (3, 200_000) } else { (9, 2_000_000) };
    println!("mastery-core benchmark ({rounds} rounds of {per_round} ops, median reported)");
    println!("{:<34} {:>14} {:>10} {:>12} {:>10}", "workload", "ops/s", "ns/op", "allocs/op", "vs book");
    report("select+response+answer (right)", rounds, per_round, BOOK_OPS_PER_SECOND, |n| drive_quiz(n, true));
    report("select+response+answer (wrong)", rounds, per_round, BOOK_WRONG_OPS_PER_SECOND, |n| drive_quiz(n, false));
    report("Question::new", rounds, per_round, BOOK_QUESTIONS_PER_SECOND, make_questions);
}

fn report(name: &str, rounds: usize, per_round: u64, book: f64, mut run: impl FnMut(u64) -> Duration) {
    run(per_round / 10); // warm up
    let mut samples = Vec::with_capacity(rounds);
    let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..rounds {
        samples.push(run(per_round));
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    samples.sort();
    let median = samples[rounds / 2];
    let ops_per_second = per_round as f64 / median.as_secs_f64();
    figure(&format!("core: {name}"), ops_per_second.round(), Some(book), "ops/s", true);
    figure(
        &format!("core: {name} allocations"),
        allocations as f64 / (rounds as u64 * per_round) as f64,
        None,
        "allocs/op",
        false,
    );
    println!(
        "{name:<34} {ops_per_second:>14.0} {:>10.1} {:>12.2} {:>9.0}x",
        1e9 / ops_per_second,
        allocations as f64 / (rounds as u64 * per_round) as f64,
        ops_per_second / book
    );
}

fn drive_quiz(ops: u64, right: bool) -> Duration {
    let mut rng = SplitMix64::new(1);
    let email: std::sync::Arc<str> = "mathy@example.com".into();
    // Restarting shares the compiled template, as a session does; only the quiz is new.
    let template = examples::single_digit_addition();
    let title: std::sync::Arc<str> = "Math".into();
    let fresh_quiz = || {
        let mut quiz = Quiz::new(title.clone(), 2).expect("valid title and mastery");
        quiz.add_template(template.clone()).expect("one template");
        quiz
    };
    let mut quiz = fresh_quiz();
    let start = Instant::now();
    for op in 0..ops {
        let question = match quiz.select_question(&mut rng).expect("the Math quiz never fails") {
            Some(question) => question,
            None => {
                quiz = fresh_quiz();
                quiz.select_question(&mut rng).expect("the Math quiz never fails").expect("a fresh quiz has a question")
            }
        };
        let answer = if right { answer_to(question) } else { "-1".to_string() };
        let response =
            Response::new(&quiz, email.clone(), answer, Timestamp::from_millis(op)).expect("a question is current");
        black_box(quiz.answer_question(response).expect("the response is current"));
    }
    black_box(&quiz);
    start.elapsed()
}

fn answer_to(question: &Question) -> String {
    let sum: i64 = question.substitutions().iter().filter_map(|(_, value)| value.as_integer()).sum();
    sum.to_string()
}

fn make_questions(count: u64) -> Duration {
    let template = examples::single_digit_addition();
    let mut rng = SplitMix64::new(2);
    let start = Instant::now();
    for _ in 0..count {
        black_box(Question::new(&template, &mut rng).expect("the template never fails"));
    }
    start.elapsed()
}

/// One line for the workspace's benchmark report (`scripts/bench-report`): name, our figure, the
/// book's figure (or -), the unit, and whether higher is better.
fn figure(name: &str, ours: f64, book: Option<f64>, unit: &str, higher_is_better: bool) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    println!("REPORT|{name}|{ours}|{book}|{unit}|{higher_is_better}");
}
