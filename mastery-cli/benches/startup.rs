//! Start-up: how long `mastery run` takes to show its first question, end to end (process start,
//! opening the SQLite database, starting the workers or resuming the session, the first question
//! on stdout).
//!
//! Run: `cargo bench -p mastery-cli --bench startup`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 5 } else { 31 };
    let folder = std::env::temp_dir().join(format!("mastery-startup-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let db = folder.join("startup.db");
    let mut samples: Vec<Duration> = (0..runs).map(|_| first_question(&db)).collect();
    samples.sort();
    let ms = |sample: Duration| sample.as_secs_f64() * 1e3;
    // For `scripts/bench-report`: name, median, the book's figure (none), unit, higher is better, min, max.
    println!(
        "REPORT|cli: mastery run to first question (median of {runs})|{}|-|ms|false|{}|{}",
        ms(samples[runs / 2]),
        ms(samples[0]),
        ms(samples[runs - 1])
    );
    println!(
        "mastery run: first question after {:.1} ms median ({:.1} min, {:.1} max, {runs} runs)",
        samples[runs / 2].as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[runs - 1].as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(folder);
}

fn first_question(db: &std::path::Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mastery"))
        .args(["run", "--json", "--seed", "1", "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Runs after the first resume the learner's open session: a `resumed` event comes first.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first_question =
        lines.by_ref().take(2).map(Result::unwrap).find(|line| line.contains("\"event\":\"question\""));
    let elapsed = start.elapsed();
    assert!(first_question.is_some(), "no question among the first two events");
    drop(child.stdin.take());
    child.wait().unwrap();
    elapsed
}
