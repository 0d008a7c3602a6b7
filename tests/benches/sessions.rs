//! Sessions as stored facts, measured: resuming a session of 1,000 stored answers (read and
//! replay), regrading a million stored responses, and — with `MASTERY_TEST_POSTGRES` set — a
//! learner taken over by another server on PostgreSQL.
//!
//! Run: `cargo bench -p tests --bench sessions` (`-- --quick` for 100,000 responses).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mastery_core::{Session, StoredAnswer, Timestamp, examples};
use mastery_persistence::{ResponseStore, SqliteStore};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let sessions = if quick { 100 } else { 1_000 };
    let path = folder.path().join("sessions.db");
    fill(&path, sessions, 1_000);
    let store: Arc<dyn ResponseStore> = Arc::new(SqliteStore::open(&path).unwrap());
    println!("{sessions} sessions of 1,000 answers each ({} responses), SQLite", sessions * 1_000);

    let mut reads = Vec::new();
    let mut replays = Vec::new();
    for learner in 0..25 {
        let email = format!("learner{}@example.com", learner % sessions);
        let start = Instant::now();
        let open = runtime.block_on(store.open_session("Arithmetic", &email)).unwrap().expect("an open session");
        let read = start.elapsed();
        let answers = open.responses.iter().map(|record| StoredAnswer {
            template: &record.template,
            asked: &record.asked,
            answer: &record.answer,
            verdict: record.verdict.kind(),
            at: Timestamp::from_millis(record.answered_at_ms),
        });
        let seed = open.session.seed.unwrap();
        let replay_start = Instant::now();
        let session = Session::resume(examples::arithmetic_quiz(), seed, &email, answers).unwrap();
        replays.push(replay_start.elapsed());
        reads.push(read);
        assert!(session.quiz().current_question().is_some());
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1e3
    };
    let (read, replay) = (median(&mut reads), median(&mut replays));
    println!("resume a session of 1,000 answers: read {read:.2} ms + replay {replay:.2} ms = {:.2} ms", read + replay);
    figure("sessions: resume a session of 1,000 stored answers (read + replay)", read + replay, None, "ms", false);

    let quiz = examples::arithmetic_quiz();
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let outcome = runtime.block_on(mastery_app::regrade(&store, &quiz, 0, false)).unwrap();
        times.push(start.elapsed());
        assert_eq!(outcome.judged, sessions as u64 * 1_000);
    }
    let regrade = median(&mut times);
    println!("regrade {} stored responses (judge again, fold per session): median {regrade:.0} ms", sessions * 1_000);
    figure(&format!("sessions: regrade {} stored responses", sessions * 1_000), regrade, None, "ms", false);
    drop(store);
    runtime.block_on(takeover(quick));
}

/// A learner moving to another server on PostgreSQL: the second server takes the session over by
/// replay (its history read, replayed, a worker started). Skipped without `MASTERY_TEST_POSTGRES`.
async fn takeover(quick: bool) {
    let Some(schema) = tests::postgres::Schema::create().await else { return };
    let (learners, answers) = if quick { (20, 100) } else { (200, 100) };
    let open = || async {
        let options = mastery_app::AppOptions { db: Some(schema.url().into()), ..mastery_app::AppOptions::default() };
        let app = mastery_app::App::connect(options).await.unwrap();
        app.mastery().install_quiz(examples::arithmetic_quiz()).await.unwrap();
        app
    };
    let first = open().await;
    // Learners answer side by side, as a class does, so the writes share commits.
    let mut playing = Vec::new();
    for learner in 0..learners {
        let mastery = first.mastery().clone();
        playing.push(tokio::spawn(async move {
            let email = format!("learner{learner}@example.com");
            mastery.take_quiz_seeded("Arithmetic", &email, learner as u64).await.unwrap();
            for turn in 0..answers {
                let question = mastery.select_question("Arithmetic", &email).await.unwrap().expect("never finished");
                let answer = if turn % 2 == 0 { "-100".to_string() } else { tests::answer_to(question.asked()) };
                mastery.answer_question("Arithmetic", &email, &answer).await.unwrap();
            }
        }));
    }
    for learner in playing {
        learner.await.unwrap();
    }
    let second = open().await;
    let mut times = Vec::new();
    for learner in 0..learners {
        let email = format!("learner{learner}@example.com");
        let start = Instant::now();
        let taken = second.mastery().take_quiz("Arithmetic", &email).await.unwrap();
        times.push(start.elapsed());
        assert_eq!(taken.resumed, Some(answers));
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "takeover by replay on PostgreSQL, {answers}-answer sessions ({learners} learners): p50 {:.2} ms, p99 {:.2} ms",
        at(0.5),
        at(0.99)
    );
    figure(
        &format!("sessions: takeover of a {answers}-answer session on PostgreSQL, p99"),
        at(0.99),
        None,
        "ms",
        false,
    );
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

/// Plays `sessions` learners through the demo quiz with answers right, wrong and unreadable in
/// turn, and stores every answer at its place, as the session workers would.
fn fill(path: &std::path::Path, sessions: usize, answers: usize) {
    drop(SqliteStore::open(path).unwrap());
    let connection = rusqlite::Connection::open(path).unwrap();
    connection.execute_batch("PRAGMA synchronous = OFF; BEGIN").unwrap();
    {
        let mut session_insert = connection
            .prepare("INSERT INTO sessions (id, quiz_title, quiz_version, email, seed, started_at_ms) VALUES (?1, 'Arithmetic', 'arithmetic-1', ?2, ?3, 0)")
            .unwrap();
        let mut insert = connection
            .prepare(
                "INSERT INTO responses (quiz_title, template, asked, substitutions, email, answer, verdict, reason, answered_at_ms, mastery, session_id, position)
                 VALUES ('Arithmetic', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 2, ?9, ?10)",
            )
            .unwrap();
        // Rows are written learner by learner in turn, interleaved as a class answers.
        let mut live: Vec<(Session, String)> = (0..sessions)
            .map(|learner| {
                let email = format!("learner{learner}@example.com");
                session_insert.execute(rusqlite::params![learner as i64 + 1, email, learner as i64]).unwrap();
                (Session::new(examples::arithmetic_quiz(), learner as u64), email)
            })
            .collect();
        for position in 0..answers {
            for (index, (session, email)) in live.iter_mut().enumerate() {
                let question = match session.question().unwrap() {
                    Some(question) => question,
                    None => {
                        // Finished: go on in a fresh quiz so every session has its full count.
                        *session = Session::new(examples::arithmetic_quiz(), session.seed() + 1);
                        session.question().unwrap().unwrap()
                    }
                };
                let answer = match position % 3 {
                    0 => tests::answer_to(question.asked()),
                    1 => "-100".to_string(),
                    _ => "?".to_string(),
                };
                let response =
                    session.respond(email.as_str(), answer, Timestamp::from_millis(position as u64)).unwrap();
                let substitutions = format!(
                    "{{\"left\":{},\"right\":{}}}",
                    question.substitutions().get("left").unwrap(),
                    question.substitutions().get("right").unwrap()
                );
                let reason = match response.verdict() {
                    mastery_core::Verdict::Invalid(reason) => Some(reason.clone()),
                    _ => None,
                };
                insert
                    .execute(rusqlite::params![
                        question.template().name(),
                        question.asked(),
                        substitutions,
                        email.as_str(),
                        response.answer(),
                        response.verdict().kind(),
                        reason,
                        position as i64,
                        index as i64 + 1,
                        position as i64
                    ])
                    .unwrap();
                session.answer(response).unwrap();
            }
        }
    }
    connection.execute_batch("COMMIT").unwrap();
}

/// One line for the workspace's benchmark report (`scripts/bench-report`).
fn figure(name: &str, ours: f64, book: Option<f64>, unit: &str, higher_is_better: bool) {
    let book = book.map_or("-".to_string(), |b| b.to_string());
    println!("REPORT|{name}|{ours}|{book}|{unit}|{higher_is_better}");
}
