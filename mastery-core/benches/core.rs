//! Core throughput: one op = `select_question` + `Response::new` + `answer_question` on the book's
//! Math quiz, one thread, restarting the quiz when it finishes (the book's own workload).
//!
//! The book's `Response.new` reads the clock, so the op compared with the book reads it too
//! (`SystemTime::now()`, converted with `Timestamp::from`); the same op with a constant timestamp
//! is reported beside it, to show what the clock read costs.
//!
//! Run: `cargo bench -p mastery-core --bench core`. Prints a table; `--quick` runs shorter.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

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
    println!(
        "{:<48} {:>12} {:>12} {:>12} {:>8} {:>10} {:>8}",
        "workload", "ops/s", "min", "max", "ns/op", "allocs/op", "vs book"
    );
    let workloads = [
        ("select+response+answer (right, clock read)", BOOK_OPS_PER_SECOND, true, Clock::System),
        ("select+response+answer (right, constant time)", BOOK_OPS_PER_SECOND, true, Clock::Constant),
        ("select+response+answer (wrong, clock read)", BOOK_WRONG_OPS_PER_SECOND, false, Clock::System),
        ("select+response+answer (wrong, constant time)", BOOK_WRONG_OPS_PER_SECOND, false, Clock::Constant),
    ];
    for (name, book, right, clock) in workloads {
        report(name, rounds, per_round, book, |n| drive_quiz(n, right, clock));
    }
    report("Question::new", rounds, per_round, BOOK_QUESTIONS_PER_SECOND, make_questions);
}

/// Where a response's timestamp comes from.
#[derive(Clone, Copy)]
enum Clock {
    /// `SystemTime::now()` for every response, as the book's `Response.new` and our sessions do.
    System,
    /// A counter: no clock read.
    Constant,
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
    let rate = |sample: Duration| (per_round as f64 / sample.as_secs_f64()).round();
    let (ops_per_second, slowest, fastest) = (rate(samples[rounds / 2]), rate(samples[rounds - 1]), rate(samples[0]));
    let allocations_per_op = allocations as f64 / (rounds as u64 * per_round) as f64;
    figure(&format!("core: {name}"), ops_per_second, Some(book), "ops/s", true, Some((slowest, fastest)));
    figure(&format!("core: {name} allocations"), allocations_per_op, None, "allocs/op", false, None);
    println!(
        "{name:<48} {ops_per_second:>12.0} {slowest:>12.0} {fastest:>12.0} {:>8.1} {allocations_per_op:>10.2} {:>7.0}x",
        1e9 / ops_per_second,
        ops_per_second / book
    );
}

fn drive_quiz(ops: u64, right: bool, clock: Clock) -> Duration {
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
        let at = match clock {
            Clock::System => Timestamp::from(SystemTime::now()),
            Clock::Constant => Timestamp::from_millis(op),
        };
        let response = Response::new(&quiz, email.clone(), answer, at).expect("a question is current");
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

/// One line for the workspace's benchmark report (`scripts/bench-report`): name, our figure (the
/// median), the book's figure (or -), the unit, whether higher is better, and the smallest and
/// largest of the samples when there are several.
fn figure(name: &str, ours: f64, book: Option<f64>, unit: &str, higher_is_better: bool, range: Option<(f64, f64)>) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    let range = range.map_or(String::new(), |(min, max)| format!("|{min}|{max}"));
    println!("REPORT|{name}|{ours}|{book}|{unit}|{higher_is_better}{range}");
}
