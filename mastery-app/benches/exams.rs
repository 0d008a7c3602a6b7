//! Exams at class scale, with the durable SQLite store: prints a table.
//!
//! - what watching learners' own deadlines costs: resident memory per exam learner beside a
//!   practice learner, and the CPU the process uses while 10,000 learners wait for 10,000
//!   different deadlines (the Proctor keeps one heap and one timer, so it should be what an idle
//!   process uses);
//! - the end of an exam for 10,000 learners at one instant: from the close until every session
//!   has stored its `time_up` ending.
//!
//! Run: `cargo bench -p mastery-app --bench exams` (`-- --quick` for 1,000 learners).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use mastery_app::App;
use mastery_boundary::{Mastery, MasteryConfig};
use mastery_core::{Exam, ExtraTime, LearnerOverride, Quiz, SessionEnding, Timestamp, Window};
use mastery_persistence::{ResponseStore, SqliteStore};

/// The allocator the `mastery` binary ships with, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run(if quick { 1_000 } else { 10_000 }));
}

/// The demo's templates under `title`, with `exam` settings (or none).
fn quiz(title: &str, exam: Option<Exam>) -> Quiz {
    let demo = mastery_app::demo_quiz();
    let mut quiz = Quiz::new(title, demo.mastery()).unwrap();
    for template in demo.templates() {
        quiz.add_template(Arc::clone(template)).unwrap();
    }
    quiz.set_version(format!("{title}-1")).set_exam(exam);
    quiz
}

/// Starts `learners` sessions of `title` at once, 64 at a time in flight per worker.
async fn start_all(mastery: &Mastery, title: &str, learners: usize) {
    let tasks: Vec<_> = (0..128)
        .map(|lane| {
            let (mastery, title) = (mastery.clone(), title.to_string());
            tokio::spawn(async move {
                for learner in (lane..learners).step_by(128) {
                    mastery.take_quiz(&title, &format!("{title}-{learner}@example.com")).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn now() -> Timestamp {
    Timestamp::from(SystemTime::now())
}

async fn run(learners: usize) {
    let folder = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(folder.path().join("exams.db")).unwrap());
    let app = App::with_store(Arc::clone(&store) as Arc<dyn ResponseStore>, MasteryConfig::default());
    let mastery = app.mastery().clone();
    let ended = Arc::new(AtomicUsize::new(0));
    let heard = Arc::clone(&ended);
    mastery.on_session_deadlines(Arc::new(move |_| {
        heard.fetch_add(1, Ordering::Relaxed);
    }));
    println!("exams with SQLite synchronous=FULL, 2 runtime workers, {learners} learners");

    // Memory: practice learners, then exam learners each with a deadline of their own.
    mastery.install_quiz(quiz("Practice", None)).await.unwrap();
    let hour = Exam { time_limit: Some(Duration::from_secs(3_600)), ..Exam::default() };
    mastery.install_quiz(quiz("Timed", Some(hour))).await.unwrap();
    for learner in 0..learners {
        // Extra time of `learner` seconds: every deadline differs.
        let own = LearnerOverride {
            extra_time: Some(ExtraTime::Duration(Duration::from_secs(learner as u64))),
            window: None,
        };
        mastery.set_learner_override("Timed", &format!("Timed-{learner}@example.com"), Some(own)).await.unwrap();
    }
    // A first class warms the allocator up, so that neither measured class pays for the heap's
    // first growth.
    mastery.install_quiz(quiz("Warm-up", None)).await.unwrap();
    start_all(&mastery, "Warm-up", learners).await;
    let before = resident_kib();
    start_all(&mastery, "Practice", learners).await;
    let practice = resident_kib();
    start_all(&mastery, "Timed", learners).await;
    let timed = resident_kib();
    if let (Some(before), Some(practice), Some(timed)) = (before, practice, timed) {
        let per = |kib: u64| kib as f64 * 1024.0 / learners as f64;
        let (practice, exam) = (per(practice.saturating_sub(before)), per(timed.saturating_sub(practice)));
        println!("resident bytes per live learner: practice {practice:.0}, exam with its own deadline {exam:.0}");
        figure("exams: resident bytes per live exam learner", exam, "bytes", false);
        figure("exams: resident bytes per live practice learner", practice, "bytes", false);
    }

    // CPU while every learner waits for a deadline an hour away.
    let idle = Duration::from_secs(2);
    let cpu_before = cpu_ms();
    tokio::time::sleep(idle).await;
    let waiting = cpu_ms().zip(cpu_before).map(|(after, before)| (after - before) as f64 / idle.as_secs_f64());
    for title in ["Timed", "Practice", "Warm-up"] {
        mastery.end_sessions_for(title);
    }
    while mastery.running_session_tasks() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu_before = cpu_ms();
    tokio::time::sleep(idle).await;
    let quiet = cpu_ms().zip(cpu_before).map(|(after, before)| (after - before) as f64 / idle.as_secs_f64());
    if let (Some(waiting), Some(quiet)) = (waiting, quiet) {
        println!("CPU ms per second: {waiting:.1} with {learners} learners waiting, {quiet:.1} with none");
        figure(&format!("exams: CPU ms/s while {learners} learners wait for their deadlines"), waiting, "ms/s", false);
        figure("exams: CPU ms/s of the same process with no learner", quiet, "ms/s", false);
    }

    // The end of an exam: every learner's deadline is the window's close.
    let close_in = Duration::from_secs(if learners > 1_000 { 8 } else { 3 });
    let opened = now();
    let closes_at = Timestamp::from_millis(opened.as_millis() + close_in.as_millis() as u64);
    let window = Window { opens_at: Timestamp::from_millis(opened.as_millis() - 1_000), closes_at };
    mastery.install_quiz(quiz("Final", Some(Exam { window: Some(window), ..Exam::default() }))).await.unwrap();
    ended.store(0, Ordering::Relaxed);
    let started = Instant::now();
    start_all(&mastery, "Final", learners).await;
    let start_took = started.elapsed();
    assert!(start_took < close_in, "starting {learners} learners took {start_took:?}: make the window longer");
    let close = Instant::now() + Duration::from_millis(closes_at.as_millis().saturating_sub(now().as_millis()));
    tokio::time::sleep_until(close.into()).await;
    while mastery.running_session_tasks() > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let ending = close.elapsed();
    let stored = store.sessions("Final").await.unwrap();
    let timed_out = stored.iter().filter(|session| session.ending == Some(SessionEnding::TimeUp)).count();
    assert_eq!((timed_out, ended.load(Ordering::Relaxed)), (learners, learners), "every learner's time is up");
    println!(
        "end of an exam for {learners} learners at one instant: {:.0} ms until every ending was stored",
        ending.as_secs_f64() * 1e3
    );
    figure(
        &format!("exams: end of an exam for {learners} learners at one instant"),
        ending.as_secs_f64() * 1e3,
        "ms",
        false,
    );
    app.shutdown().await.unwrap();
}

/// One line for the workspace's benchmark report (`scripts/bench-report`).
fn figure(name: &str, ours: f64, unit: &str, higher_is_better: bool) {
    println!("REPORT|{name}|{ours}|-|{unit}|{higher_is_better}");
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time the process has used (user and system), in milliseconds.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let (user, system): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    // Clock ticks of 10 ms: the kernel's USER_HZ on Linux is 100.
    Some((user + system) * 10)
}
