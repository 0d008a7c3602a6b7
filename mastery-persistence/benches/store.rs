//! Durable responses per second and acknowledgement latency, with group commit and with one
//! transaction per response (the book's way), in the same run; then the report over 1M rows.
//!
//! Run: `cargo bench -p mastery-persistence --bench store` (`-- --quick` for a short run). With
//! `MASTERY_TEST_POSTGRES` set to a server's URL, PostgreSQL is measured too, at 1,000 writers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mastery_core::{Response, SplitMix64, Timestamp, examples};
use mastery_persistence::{NewSession, Place, ResponseRecord, ResponseStore, SqliteOptions, SqliteStore};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let drive = if quick { Duration::from_millis(300) } else { Duration::from_secs(2) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let folder = tempfile::tempdir().unwrap();
    println!("SQLite store, synchronous=FULL (durable against power loss), {:?} per cell", drive);
    println!(
        "{:>8} {:>12} {:>16} {:>10} {:>10} {:>16} {:>10}",
        "writers", "mode", "responses/s", "p50 µs", "p99 µs", "per-response/s", "ratio"
    );
    for writers in [1usize, 16, 256, 1_000] {
        let single = measure(&runtime, folder.path(), writers, 1, drive);
        let grouped = measure(&runtime, folder.path(), writers, SqliteOptions::default().max_batch, drive);
        let label = |what: &str| format!("store: {what}, {writers} writers, vs one transaction each");
        figure(&label("durable responses/s"), grouped.rate.round(), Some(single.rate.round()), "responses/s", true);
        figure(&label("p50 acknowledgement"), grouped.p50, Some(single.p50), "µs", false);
        figure(&label("p99 acknowledgement"), grouped.p99, Some(single.p99), "µs", false);
        println!(
            "{writers:>8} {:>12} {:>16.0} {:>10.0} {:>10.0} {:>16.0} {:>9.1}x",
            "group",
            grouped.rate,
            grouped.p50,
            grouped.p99,
            single.rate,
            grouped.rate / single.rate
        );
        println!("{writers:>8} {:>12} {:>16.0} {:>10.0} {:>10.0}", "per-response", single.rate, single.p50, single.p99);
    }
    report_over(&runtime, folder.path(), if quick { 100_000 } else { 1_000_000 });
    match std::env::var("MASTERY_TEST_POSTGRES") {
        Ok(url) => postgres(&runtime, &url, drive),
        Err(_) => println!("PostgreSQL: skipped (set MASTERY_TEST_POSTGRES to a server's URL)"),
    }
}

/// Group commit against one transaction per response on PostgreSQL, 1,000 writers, each store in
/// a database of its own, made and dropped here.
fn postgres(runtime: &tokio::runtime::Runtime, url: &str, drive: Duration) {
    use mastery_postgres::{PgOptions, PgStore};
    let server: tokio_postgres::Config = url.parse().expect("MASTERY_TEST_POSTGRES is a PostgreSQL URL");
    let admin = runtime.block_on(async {
        let (client, connection) = server.connect(tokio_postgres::NoTls).await.expect("the server takes connections");
        tokio::spawn(connection);
        client
    });
    let writers = 1_000;
    let cell = |max_batch: usize| {
        let database = format!("mastery_bench_{}_{max_batch}", std::process::id());
        runtime.block_on(admin.batch_execute(&format!("CREATE DATABASE {database}"))).unwrap();
        let mut config = server.clone();
        config.dbname(&database);
        let options = PgOptions { max_batch };
        let store: Arc<dyn ResponseStore> =
            Arc::new(runtime.block_on(PgStore::connect_with_options(config, options)).unwrap());
        let measured = drive_writers(runtime, Arc::clone(&store), writers, drive);
        drop(store);
        // FORCE ends the store's connections, which close as their tasks see it dropped.
        let drop_it = format!("DROP DATABASE {database} WITH (FORCE)");
        runtime.block_on(admin.batch_execute(&drop_it)).unwrap();
        measured
    };
    let single = cell(1);
    let grouped = cell(PgOptions::default().max_batch);
    let label = |what: &str| format!("store (PostgreSQL): {what}, {writers} writers, vs one transaction each");
    figure(&label("durable responses/s"), grouped.rate.round(), Some(single.rate.round()), "responses/s", true);
    figure(&label("p99 acknowledgement"), grouped.p99, Some(single.p99), "µs", false);
    println!(
        "PostgreSQL, synchronous_commit=on, {writers} writers: group {:.0}/s (p50 {:.0} µs, p99 {:.0} µs), \
         one transaction each {:.0}/s: {:.1}x",
        grouped.rate,
        grouped.p50,
        grouped.p99,
        single.rate,
        grouped.rate / single.rate
    );
}

struct Cell {
    rate: f64,
    p50: f64,
    p99: f64,
}

fn sample_record(n: u64) -> ResponseRecord {
    let mut quiz = examples::math_quiz();
    quiz.select_question(&mut SplitMix64::new(n)).unwrap();
    let email = format!("learner{}@example.com", n % 1_000);
    ResponseRecord::from(&Response::new(&quiz, email, "7", Timestamp::from_millis(n)).unwrap())
}

fn measure(
    runtime: &tokio::runtime::Runtime,
    folder: &std::path::Path,
    writers: usize,
    max_batch: usize,
    drive: Duration,
) -> Cell {
    let path = folder.join(format!("bench-{writers}-{max_batch}.db"));
    let options = SqliteOptions { max_batch, ..SqliteOptions::default() };
    let store: Arc<dyn ResponseStore> = Arc::new(SqliteStore::open_with(&path, options).unwrap());
    drive_writers(runtime, store, writers, drive)
}

/// `writers` learners answering as fast as their answers are acknowledged, for `drive`.
fn drive_writers(
    runtime: &tokio::runtime::Runtime,
    store: Arc<dyn ResponseStore>,
    writers: usize,
    drive: Duration,
) -> Cell {
    let record = sample_record(1);
    let (count, mut latencies) = runtime.block_on(async {
        // Each writer is one learner answering in a session of their own, as in a class: every
        // response carries its place, under the unique (session, position) key.
        let mut sessions = Vec::new();
        for writer in 0..writers {
            let session = NewSession {
                quiz_title: "Math".into(),
                quiz_version: "math-1".into(),
                email: format!("learner{writer}@example.com"),
                seed: writer as u64,
                started_at_ms: 0,
                due_at_ms: None,
                closes_at_ms: None,
            };
            sessions.push(store.start_session(session).await.unwrap());
        }
        let deadline = Instant::now() + drive;
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|session| {
                let store = Arc::clone(&store);
                let record = record.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut position = 0;
                    while Instant::now() < deadline {
                        let start = Instant::now();
                        let place = Some(Place { session, position });
                        store.record(ResponseRecord { place, ..record.clone() }).await.unwrap();
                        latencies.push(start.elapsed().as_secs_f64() * 1e6);
                        position += 1;
                    }
                    latencies
                })
            })
            .collect();
        let start = Instant::now();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        let elapsed = start.elapsed();
        (all.len() as f64 / elapsed.as_secs_f64(), all)
    });
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(f64::NAN);
    Cell { rate: count, p50: at(0.5), p99: at(0.99) }
}

fn report_over(runtime: &tokio::runtime::Runtime, folder: &std::path::Path, rows: u64) {
    let path = folder.join("report.db");
    drop(SqliteStore::open(&path).unwrap());
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute_batch("BEGIN").unwrap();
    {
        // 1,000 learners, one session each, their answers interleaved as a class gives them.
        let mut session = connection
            .prepare("INSERT INTO sessions (id, quiz_title, quiz_version, email, seed, started_at_ms) VALUES (?1, 'Math', 'math-1', ?2, ?1, 0)")
            .unwrap();
        for learner in 0..1_000_i64 {
            session.execute(rusqlite::params![learner + 1, format!("learner{learner}@example.com")]).unwrap();
        }
        let mut insert = connection
            .prepare("INSERT INTO responses (quiz_title, template, asked, substitutions, email, answer, verdict, answered_at_ms, mastery, session_id, position) VALUES ('Math', ?1, '1 + 2', '{\"left\":1,\"right\":2}', ?2, '3', ?3, ?4, 2, ?5, ?6)")
            .unwrap();
        for n in 0..rows {
            let verdict = ["correct", "correct", "incorrect", "invalid"][(n % 4) as usize];
            insert
                .execute(rusqlite::params![
                    format!("t{}", n % 7),
                    format!("learner{}@example.com", n % 1_000),
                    verdict,
                    n as i64,
                    (n % 1_000 + 1) as i64,
                    (n / 1_000) as i64
                ])
                .unwrap();
        }
    }
    connection.execute_batch("COMMIT").unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let median = median_ms(|_| assert_eq!(runtime.block_on(store.report("Math")).unwrap().len(), 1_000));
    figure(&format!("store: report over {rows} responses"), median, None, "ms", false);
    println!("report over {rows} responses (1,000 learners): median {median:.0} ms");
    let median = median_ms(|_| assert_eq!(runtime.block_on(store.template_report("Math")).unwrap().len(), 7));
    figure(&format!("store: report by template over {rows} responses"), median, None, "ms", false);
    println!("report by template over {rows} responses (7 templates, 1,000 learners): median {median:.0} ms");
    let median = median_ms(|learner| {
        let open = runtime.block_on(store.open_session("Math", &format!("learner{learner}@example.com"))).unwrap();
        assert_eq!(open.unwrap().responses.len() as u64, rows / 1_000);
    });
    figure(&format!("store: read one session of {} answers among {rows}", rows / 1_000), median, None, "ms", false);
    println!("read one learner's open session ({} answers among {rows}): median {median:.2} ms", rows / 1_000);
}

/// The median of five runs of `run` (given the run's number), in milliseconds.
fn median_ms(mut run: impl FnMut(usize)) -> f64 {
    let mut times: Vec<Duration> = (0..5)
        .map(|n| {
            let start = Instant::now();
            run(n);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[2].as_secs_f64() * 1e3
}

/// One line for the workspace's benchmark report (`scripts/bench-report`): name, our figure, the
/// book's figure (or -), the unit, and whether higher is better.
fn figure(name: &str, ours: f64, book: Option<f64>, unit: &str, higher_is_better: bool) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    println!("REPORT|{name}|{ours}|{book}|{unit}|{higher_is_better}");
}
