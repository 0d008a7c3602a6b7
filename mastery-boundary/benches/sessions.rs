//! Session workers under load, the book's boundary benchmark and more.
//!
//! N sessions; 4 client tasks round-robin over them; one iteration = `select_question` +
//! `answer_question` (2 calls) with the call timeout the API ships and a no-op persistence port.
//! Prints calls/s, latency percentiles, memory per idle session (live heap bytes and resident
//! memory) and per active session, the time to start one session and to end all sessions of a
//! quiz, and a synchronized start of 10k learners.
//!
//! Each sample of a cell runs in a fresh process (this binary again, with `--cell N`), so that
//! resident memory starts from the same place every time; the table gives the median of the
//! samples, with their min and max.
//!
//! The allocator is the system's, as in the shipped `mastery` binary. For comparison only,
//! `--features mastery-boundary/bench-mimalloc` runs the same benchmark on mimalloc; every figure
//! is labelled with the allocator it was taken with.
//!
//! Run: `cargo bench -p mastery-boundary --bench sessions`. Options after `--`: `--quick` (1k and
//! 10k, shorter drive, 3 samples), `--sizes 10000,100000`, `--samples 5`, `--no-timeout`.

use std::alloc::{GlobalAlloc, Layout};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

#[cfg(feature = "bench-mimalloc")]
use mimalloc::MiMalloc as Inner;
#[cfg(not(feature = "bench-mimalloc"))]
use std::alloc::System as Inner;

use mastery_boundary::{Mastery, MasteryConfig, ProctorEvent};
use mastery_core::{Quiz, examples};

/// The allocator every figure of this run is taken with.
const ALLOCATOR: &str = if cfg!(feature = "bench-mimalloc") { "mimalloc" } else { "system malloc" };

/// Counts live bytes over the allocator under test while asked to.
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards every call unchanged to the inner allocator; only counts bytes while asked.
#[allow(unsafe_code)] // a global allocator cannot be written without it
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { Inner.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { Inner.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { Inner.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const CLIENTS: usize = 4;
const SYNCHRONIZED_LEARNERS: usize = 10_000;

/// One figure of a cell: how it is labelled, and the book's figure at 1k, 10k and 100k sessions.
struct Metric {
    label: &'static str,
    column: &'static str,
    unit: &'static str,
    book: Option<[f64; 3]>,
    higher_is_better: bool,
    decimals: usize,
}

const fn metric(label: &'static str, column: &'static str, unit: &'static str, book: Option<[f64; 3]>) -> Metric {
    Metric { label, column, unit, book, higher_is_better: false, decimals: 2 }
}

/// The figures of a cell, in the order a `--cell` process prints them.
const METRICS: [Metric; 9] = [
    Metric {
        higher_is_better: true,
        decimals: 0,
        ..metric("calls/s", "calls/s", "calls/s", Some([72_000.0, 65_000.0, 52_000.0]))
    },
    metric("p50 latency", "p50 µs", "µs", Some([51.5, 55.0, 59.0])),
    metric("p99 latency", "p99 µs", "µs", Some([142.0, 157.0, 287.0])),
    metric("p99.9 latency", "p99.9 µs", "µs", None),
    Metric {
        decimals: 0,
        ..metric("memory per idle session (live heap)", "idle heap B", "bytes", Some([6_500.0, 6_700.0, 6_600.0]))
    },
    Metric {
        decimals: 0,
        ..metric("memory per idle session (resident)", "idle RSS B", "bytes", Some([6_500.0, 6_700.0, 6_600.0]))
    },
    Metric { decimals: 0, ..metric("memory per active session (live heap)", "active heap B", "bytes", None) },
    metric("start one session", "start µs", "µs", Some([14.0, 14.0, 17.0])),
    metric("end all sessions", "end all ms", "ms", Some([15.5, 120.0, 1_500.0])),
];

/// Samples of one figure; `None` where it could not be measured (resident memory off Linux).
type Samples = Vec<Option<f64>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|at| args.get(at + 1)).cloned();
    let quick = args.iter().any(|a| a == "--quick");
    let timeout_off = args.iter().any(|a| a == "--no-timeout");
    let drive = if quick { Duration::from_millis(500) } else { Duration::from_secs(2) };
    if let Some(sessions) = value("--cell") {
        let sessions = sessions.parse().expect("--cell takes a number of sessions");
        let figures = in_runtime(measure(sessions, drive, timeout_off));
        println!(
            "CELL|{}",
            figures.iter().map(|f| f.map_or("n/a".to_string(), |v| v.to_string())).collect::<Vec<_>>().join("|")
        );
        return;
    }
    if args.iter().any(|a| a == "--synchronized") {
        let [p50, p99] = in_runtime(synchronized_start(SYNCHRONIZED_LEARNERS));
        println!("CELL|{p50}|{p99}");
        return;
    }

    // `--sizes 10000,100000` picks the session counts; otherwise 1k to 1M (1k and 10k with --quick).
    let chosen: Option<Vec<usize>> =
        value("--sizes").map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let default: &[usize] = if quick { &[1_000, 10_000] } else { &[1_000, 10_000, 100_000, 1_000_000] };
    let sizes: &[usize] = chosen.as_deref().unwrap_or(default);
    let samples: usize = value("--samples").map_or(if quick { 3 } else { 5 }, |n| n.parse().expect("--samples N"));
    assert!(samples > 0, "--samples must be at least 1");

    println!(
        "sessions benchmark: allocator {ALLOCATOR}, 2 runtime workers, {CLIENTS} clients, call timeout {}, no-op \
         port, {drive:?} drive; {samples} samples per cell, each in a fresh process",
        if timeout_off { "off" } else { "on" }
    );
    print!("{:>9} {:>7}", "sessions", "");
    for metric in &METRICS {
        print!(" {:>w$}", metric.column, w = column_width(metric));
    }
    println!();
    for &sessions in sizes {
        let runs: Vec<Vec<Option<f64>>> =
            (0..samples).map(|_| child(&args, &["--cell".to_string(), sessions.to_string()], METRICS.len())).collect();
        let per_metric: Vec<Samples> = (0..METRICS.len()).map(|m| runs.iter().map(|run| run[m]).collect()).collect();
        let stats: Vec<Option<Stats>> = per_metric.iter().map(|samples| Stats::of(samples)).collect();
        for (row, pick) in [("median", 0), ("min", 1), ("max", 2)] {
            print!("{:>9} {row:>7}", if pick == 0 { sessions.to_string() } else { String::new() });
            for (metric, stats) in METRICS.iter().zip(&stats) {
                let shown = stats
                    .as_ref()
                    .map_or("n/a".to_string(), |s| format!("{:.*}", metric.decimals, [s.median, s.min, s.max][pick]));
                print!(" {shown:>w$}", w = column_width(metric));
            }
            println!();
        }
        for (metric, stats) in METRICS.iter().zip(&stats) {
            let book = metric.book.and_then(|b| match sessions {
                1_000 => Some(b[0]),
                10_000 => Some(b[1]),
                100_000 => Some(b[2]),
                _ => None,
            });
            let name = format!("sessions ({ALLOCATOR}): {} at {sessions}", metric.label);
            figure(&name, stats.as_ref(), book, metric.unit, metric.higher_is_better);
        }
    }

    let runs: Vec<Vec<Option<f64>>> = (0..samples).map(|_| child(&args, &["--synchronized".to_string()], 2)).collect();
    let p50 = Stats::of(&runs.iter().map(|run| run[0]).collect::<Vec<_>>());
    let p99 = Stats::of(&runs.iter().map(|run| run[1]).collect::<Vec<_>>());
    if let (Some(p50), Some(p99)) = (&p50, &p99) {
        println!(
            "synchronized start: {SYNCHRONIZED_LEARNERS} learners, time to first question p50 {:.1} ms ({:.1}–{:.1}), \
             p99 {:.1} ms ({:.1}–{:.1}); median of {samples} samples",
            p50.median, p50.min, p50.max, p99.median, p99.min, p99.max
        );
    }
    let label = |q: &str| {
        format!("sessions ({ALLOCATOR}): synchronized start of {SYNCHRONIZED_LEARNERS} learners, {q} to first question")
    };
    figure(&label("p50"), p50.as_ref(), None, "ms", false);
    figure(&label("p99"), p99.as_ref(), None, "ms", false);
}

fn column_width(metric: &Metric) -> usize {
    metric.column.chars().count().max(9)
}

/// Runs one sample in a fresh process of this benchmark and returns its figures.
fn child(args: &[String], mode: &[String], expected: usize) -> Vec<Option<f64>> {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let output = Command::new(exe)
        .args(args)
        .args(mode)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the benchmark can run itself");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the sample {} failed ({}); its output:\n{stdout}", mode.join(" "), output.status);
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("CELL|")).expect("a CELL line");
    let figures: Vec<Option<f64>> = line.split('|').map(|v| v.parse().ok()).collect();
    assert_eq!(figures.len(), expected, "a CELL line with every figure: {line}");
    figures
}

fn in_runtime<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Everything runs on the runtime's workers, as a server's request handlers would.
    runtime.block_on(async move { tokio::spawn(work).await.unwrap() })
}

/// Median, min and max of samples; `None` if any sample is missing.
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(samples: &[Option<f64>]) -> Option<Stats> {
        let mut values: Vec<f64> = samples.iter().copied().collect::<Option<_>>()?;
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        Some(Stats { median: values[values.len() / 2], min: values[0], max: values[values.len() - 1] })
    }
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

/// Resident memory of this process in bytes (`VmRSS`), or `None` where there is no `/proc`.
fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One sample of one cell: the figures of [`METRICS`], in order.
async fn measure(sessions: usize, drive: Duration, timeout_off: bool) -> Vec<Option<f64>> {
    let config =
        MasteryConfig { call_timeout: (!timeout_off).then_some(Duration::from_secs(5)), ..MasteryConfig::default() };
    let mastery = Mastery::start(config);
    mastery.install_quiz(quiz()).await.unwrap();
    let emails: Arc<Vec<String>> = Arc::new((0..sessions).map(email).collect());

    let resident_before = resident_bytes();
    let before = live_bytes_counting();
    let started = Instant::now();
    for email in emails.iter() {
        mastery.take_quiz("Bench", email).await.unwrap();
    }
    let start_each = started.elapsed().as_secs_f64() * 1e6 / sessions as f64;
    let idle = (LIVE_BYTES.load(Ordering::Relaxed) - before) as f64 / sessions as f64;
    let idle_resident = resident_before
        .zip(resident_bytes())
        .map(|(before, after)| ((after - before) as f64 / sessions as f64).round());
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
    mastery.shutdown().await.unwrap();
    vec![
        Some(calls_per_second.round()),
        Some(at(0.5)),
        Some(at(0.99)),
        Some(at(0.999)),
        Some(idle.round()),
        idle_resident,
        Some(active.round()),
        Some(start_each),
        Some(end_all),
    ]
}

fn live_bytes_counting() -> i64 {
    COUNTING.store(true, Ordering::Relaxed);
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// The Proctor opens a quiz and `learners` take it at that instant: time to first question, p50
/// and p99, in ms.
async fn synchronized_start(learners: usize) -> [f64; 2] {
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
    mastery.shutdown().await.unwrap();
    [at(0.5), at(0.99)]
}

/// One line for the workspace's benchmark report (`scripts/bench-report`): name, our figure (the
/// median of the samples, or n/a), the book's figure (or -), the unit, whether higher is better,
/// and the smallest and largest sample.
fn figure(name: &str, ours: Option<&Stats>, book: Option<f64>, unit: &str, higher_is_better: bool) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    match ours {
        Some(s) => println!("REPORT|{name}|{}|{book}|{unit}|{higher_is_better}|{}|{}", s.median, s.min, s.max),
        None => println!("REPORT|{name}|n/a|{book}|{unit}|{higher_is_better}"),
    }
}
