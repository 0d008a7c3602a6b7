//! Session workers under load, the book's boundary benchmark and more.
//!
//! N sessions; 4 client tasks round-robin over them; one iteration = `select_question` +
//! `answer_question` (2 calls) with the call timeout the API ships and a no-op persistence port.
//! Prints calls/s, latency percentiles, memory per idle and per active session, the time to start
//! one session and to end all sessions of a quiz, and a synchronized start of 10k learners.
//!
//! Run: `cargo bench -p mastery-boundary --bench sessions` (`-- --quick` for 1k and 10k only).

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc as System;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use mastery_boundary::{Mastery, MasteryConfig, ProctorEvent};
use mastery_core::{Quiz, examples};

/// Counts live bytes over mimalloc, the allocator a server deploying many sessions would pick:
/// spawning and dropping 100k tasks is allocator-bound (about twice as fast as with glibc here).
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts bytes while asked.
#[allow(unsafe_code)] // a global allocator cannot be written without it
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const CLIENTS: usize = 4;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `--sizes 10000,100000` picks the session counts; otherwise 1k to 1M (1k and 10k with --quick).
    let args: Vec<String> = std::env::args().collect();
    let chosen: Option<Vec<usize>> = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|at| args.get(at + 1))
        .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let default: &[usize] = if quick { &[1_000, 10_000] } else { &[1_000, 10_000, 100_000, 1_000_000] };
    let sizes: &[usize] = chosen.as_deref().unwrap_or(default);
    let drive = if quick { Duration::from_millis(500) } else { Duration::from_secs(2) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("sessions benchmark: 2 runtime workers, {CLIENTS} clients, call timeout on, no-op port, {drive:?} drive");
    println!(
        "{:>9} {:>12} {:>8} {:>8} {:>9} {:>11} {:>13} {:>10} {:>12}",
        "sessions", "calls/s", "p50 µs", "p99 µs", "p99.9 µs", "idle B/ses", "active B/ses", "start µs", "end all ms"
    );
    let timeout_off = std::env::args().any(|a| a == "--no-timeout");
    // Everything runs on the runtime's workers, as a server's request handlers would.
    for &sessions in sizes {
        runtime.block_on(async move { tokio::spawn(measure(sessions, drive, timeout_off)).await.unwrap() });
    }
    runtime.block_on(async { tokio::spawn(synchronized_start(10_000)).await.unwrap() });
}

fn quiz() -> Quiz {
    // Wrong answers never master a template, so every session lives through the whole drive.
    let mut quiz = Quiz::new("Bench", 3).unwrap();
    quiz.add_template(examples::single_digit_addition()).unwrap();
    quiz
}

fn email(n: usize) -> String {
    format!("learner{n}@example.com")
}

async fn measure(sessions: usize, drive: Duration, timeout_off: bool) {
    let config =
        MasteryConfig { call_timeout: (!timeout_off).then_some(Duration::from_secs(5)), ..MasteryConfig::default() };
    let mastery = Mastery::start(config);
    mastery.install_quiz(quiz()).await.unwrap();
    let emails: Arc<Vec<String>> = Arc::new((0..sessions).map(email).collect());

    let before = live_bytes_counting();
    let started = Instant::now();
    for email in emails.iter() {
        mastery.take_quiz("Bench", email).await.unwrap();
    }
    let start_each = started.elapsed().as_secs_f64() * 1e6 / sessions as f64;
    let idle = (LIVE_BYTES.load(Ordering::Relaxed) - before) as f64 / sessions as f64;
    for email in emails.iter() {
        mastery.select_question("Bench", email).await.unwrap();
    }
    let active = (LIVE_BYTES.load(Ordering::Relaxed) - before) as f64 / sessions as f64;
    COUNTING.store(false, Ordering::Relaxed);

    let deadline = Instant::now() + drive;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let mastery = mastery.clone();
            let emails = Arc::clone(&emails);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 20);
                let mut index = client;
                // Each clock read ends one call and starts the next: two reads per iteration.
                let mut t0 = Instant::now();
                while t0 < deadline {
                    let email = &emails[index];
                    mastery.select_question("Bench", email).await.unwrap();
                    let t1 = Instant::now();
                    mastery.answer_question("Bench", email, "-1").await.unwrap();
                    let t2 = Instant::now();
                    latencies.push((t1 - t0).as_nanos() as u32);
                    latencies.push((t2 - t1).as_nanos() as u32);
                    index = (index + CLIENTS) % emails.len();
                    t0 = t2;
                }
                latencies
            })
        })
        .collect();
    let began = Instant::now();
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await.unwrap());
    }
    let calls_per_second = latencies.len() as f64 / began.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1e3;

    let ending = Instant::now();
    mastery.end_sessions_for("Bench");
    while mastery.running_session_tasks() > 0 {
        tokio::task::yield_now().await;
    }
    let end_all = ending.elapsed().as_secs_f64() * 1e3;
    let book = |figures: [f64; 3]| match sessions {
        1_000 => Some(figures[0]),
        10_000 => Some(figures[1]),
        100_000 => Some(figures[2]),
        _ => None,
    };
    let label = |what: &str| format!("sessions: {what} at {sessions}");
    figure(&label("calls/s"), calls_per_second.round(), book([72_000.0, 65_000.0, 52_000.0]), "calls/s", true);
    figure(&label("p50 latency"), at(0.5), book([51.5, 55.0, 59.0]), "µs", false);
    figure(&label("p99 latency"), at(0.99), book([142.0, 157.0, 287.0]), "µs", false);
    figure(&label("p99.9 latency"), at(0.999), None, "µs", false);
    figure(&label("memory per idle session"), idle.round(), book([6_500.0, 6_700.0, 6_600.0]), "bytes", false);
    figure(&label("memory per active session"), active.round(), None, "bytes", false);
    figure(&label("start one session"), start_each, book([14.0, 14.0, 17.0]), "µs", false);
    figure(&label("end all sessions"), end_all, book([15.5, 120.0, 1_500.0]), "ms", false);
    println!(
        "{sessions:>9} {calls_per_second:>12.0} {:>8.2} {:>8.2} {:>9.2} {idle:>11.0} {active:>13.0} {start_each:>10.2} {end_all:>12.1}",
        at(0.5),
        at(0.99),
        at(0.999)
    );
    mastery.shutdown().await.unwrap();
}

fn live_bytes_counting() -> i64 {
    COUNTING.store(true, Ordering::Relaxed);
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// The Proctor opens a quiz and `learners` take it at that instant: time to first question.
async fn synchronized_start(learners: usize) {
    let mastery = Mastery::start(MasteryConfig::default());
    let (opened, _) = tokio::sync::broadcast::channel::<Instant>(1);
    let gate = opened.clone();
    let notify: mastery_boundary::Notify = Arc::new(move |event| {
        if matches!(event, ProctorEvent::Started { .. }) {
            let _ = gate.send(Instant::now());
        }
    });
    let tasks: Vec<_> = (0..learners)
        .map(|n| {
            let mastery = mastery.clone();
            let mut opened = opened.subscribe();
            tokio::spawn(async move {
                let opened_at = opened.recv().await.unwrap();
                let email = email(n);
                mastery.take_quiz("Bench", &email).await.unwrap();
                mastery.select_question("Bench", &email).await.unwrap().unwrap();
                opened_at.elapsed()
            })
        })
        .collect();
    let start_at = tokio::time::Instant::now() + Duration::from_millis(50);
    mastery.schedule_built_quiz(quiz(), start_at, start_at + Duration::from_secs(60), Some(notify)).await.unwrap();
    let mut waits = Vec::new();
    for task in tasks {
        waits.push(task.await.unwrap());
    }
    waits.sort_unstable();
    let at = |q: f64| waits[((waits.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "synchronized start: {learners} learners, time to first question p50 {:.1} ms, p99 {:.1} ms",
        at(0.5),
        at(0.99)
    );
    mastery.shutdown().await.unwrap();
}

/// One line for the workspace's benchmark report (`scripts/bench-report`): name, our figure, the
/// book's figure (or -), the unit, and whether higher is better.
fn figure(name: &str, ours: f64, book: Option<f64>, unit: &str, higher_is_better: bool) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    println!("REPORT|{name}|{ours}|{book}|{unit}|{higher_is_better}");
}
