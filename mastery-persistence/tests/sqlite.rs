//! What only the SQLite store has: files, schema versions, and crash safety.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use mastery_core::{RandomSource, Response, SplitMix64, Timestamp, examples};
use mastery_persistence::{
    ResponseRecord, ResponseStore, SCHEMA_VERSION, SqliteStore, StoreError, create_schema_version,
};

fn record(email: &str, answer: &str) -> ResponseRecord {
    let mut quiz = examples::math_quiz();
    quiz.select_question(&mut SplitMix64::new(1)).unwrap();
    ResponseRecord::from(&Response::new(&quiz, email, answer, Timestamp::from_millis(5)).unwrap())
}

#[tokio::test]
async fn a_fresh_file_gets_the_newest_schema() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("fresh.db");
    drop(SqliteStore::open(&path).unwrap());
    assert_eq!(SqliteStore::schema_version(&path).unwrap(), SCHEMA_VERSION);
}

#[tokio::test]
async fn every_older_schema_upgrades_and_keeps_its_rows() {
    for version in 1..SCHEMA_VERSION as usize {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("old.db");
        create_schema_version(&path, version).unwrap();
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute(
                "INSERT INTO responses (quiz_title, template, asked, substitutions, email, answer, verdict, answered_at_ms)
                 VALUES ('Math', 'single_digit_addition', '1 + 2', '{\"left\":1,\"right\":2}', 'old@example.com', '3', 'correct', 1)",
                [],
            )
            .unwrap();
        drop(connection);
        let store = SqliteStore::open(&path).unwrap();
        let stored = store.responses("Math").await.unwrap();
        assert_eq!(stored.len(), 1, "from version {version}");
        assert_eq!(stored[0].mastery, 3, "rows from version 1 take the book's default mastery");
        drop(store);
        assert_eq!(SqliteStore::schema_version(&path).unwrap(), SCHEMA_VERSION);
    }
}

#[tokio::test]
async fn rows_from_before_sessions_become_one_stopped_session_per_learner_in_order() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("v2.db");
    create_schema_version(&path, 2).unwrap();
    let connection = rusqlite::Connection::open(&path).unwrap();
    for (email, answer, at) in [("b@x.y", "1", 10), ("a@x.y", "2", 11), ("b@x.y", "3", 12), ("b@x.y", "4", 13)] {
        connection
            .execute(
                "INSERT INTO responses (quiz_title, template, asked, substitutions, email, answer, verdict, answered_at_ms, mastery)
                 VALUES ('Math', 'single_digit_addition', '1 + 2', '{\"left\":1,\"right\":2}', ?1, ?2, 'incorrect', ?3, 2)",
                rusqlite::params![email, answer, at],
            )
            .unwrap();
    }
    drop(connection);
    let store = SqliteStore::open(&path).unwrap();
    let sessions = store.sessions("Math").await.unwrap();
    use mastery_core::SessionEnding::Stopped;
    let summary = |index: usize| {
        let session = &sessions[index];
        (session.email.as_str(), session.seed, session.ending, session.ended_at_ms)
    };
    assert_eq!(summary(0), ("b@x.y", None, Some(Stopped), Some(13)));
    assert_eq!(summary(1), ("a@x.y", None, Some(Stopped), Some(11)));
    assert_eq!(sessions.len(), 2);
    let places: Vec<(String, u64, u64)> = store
        .responses("Math")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.answer, r.place.unwrap().session, r.place.unwrap().position))
        .collect();
    let b = sessions[0].id;
    let a = sessions[1].id;
    assert_eq!(places, [("1".into(), b, 0), ("2".into(), a, 0), ("3".into(), b, 1), ("4".into(), b, 2)]);
    assert!(store.open_session("Math", "b@x.y").await.unwrap().is_none(), "a session of unknown seed is not open");
}

#[tokio::test]
async fn sessions_and_offered_quizzes_from_before_exams_have_no_deadline_and_keep_their_window() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("v5.db");
    create_schema_version(&path, 5).unwrap();
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            "INSERT INTO sessions (quiz_title, quiz_version, email, seed, started_at_ms) VALUES ('Math', 'v1', 'a@x.y', 7, 1);
             INSERT INTO offered_quizzes (title, saved_at_ms, opens_at_ms, closes_at_ms) VALUES ('Math', 1, 1, 10);",
        )
        .unwrap();
    drop(connection);
    let store = SqliteStore::open(&path).unwrap();
    let session = store.open_session("Math", "a@x.y").await.unwrap().expect("still open").session;
    assert_eq!((session.due_at_ms, session.closes_at_ms), (None, None));
    let offered = store.offered_quizzes().await.unwrap();
    assert_eq!((offered[0].window, offered[0].exam.as_deref()), (Some((1, 10)), None));
    assert!(store.learner_overrides("Math").await.unwrap().is_empty());
    let place = mastery_persistence::Place { session: session.id, position: 0 };
    let late = ResponseRecord { answered_at_ms: 10, place: Some(place), ..record("a@x.y", "3") };
    let refused = store.record(late).await.unwrap_err();
    assert_eq!(
        refused.kind,
        mastery_persistence::StoreErrorKind::Closed,
        "the quiz's window still closes it: {refused}"
    );
}

#[test]
fn a_file_from_a_newer_version_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("newer.db");
    rusqlite::Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    let error = SqliteStore::open(&path).err().expect("a newer file is refused");
    assert_eq!(error, StoreError::newer_schema(&path, 99, SCHEMA_VERSION));
    assert!(error.to_string().contains("newer.db"), "{error}");
}

#[test]
fn a_corrupt_file_is_a_clear_error_naming_the_path() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("corrupt.db");
    std::fs::write(&path, vec![0x5A; 8192]).unwrap();
    let error = SqliteStore::open(&path).err().expect("garbage is refused");
    assert_eq!(error, StoreError::corrupt(&path));
    assert_eq!(error.to_string(), format!("database {} is corrupt or not a Mastery database", path.display()));
}

#[test]
fn a_missing_folder_is_a_clear_error_naming_the_path() {
    let path = std::path::Path::new("/nonexistent-mastery-folder/x/y.db");
    let error = SqliteStore::open(path).err().expect("cannot create a file in a missing folder");
    assert_eq!(error.kind, mastery_persistence::StoreErrorKind::Unavailable, "{error:?}");
    assert!(error.to_string().contains("/nonexistent-mastery-folder/x/y.db"), "{error}");
}

const CHILD: &str = "MASTERY_KILL_TEST_DB";
const CHILD_ROUND: &str = "MASTERY_KILL_TEST_ROUND";
/// Writers recording at once in each child, so that batches of many responses are in flight.
const WRITERS: usize = 16;
/// Children killed per test; each round goes on with the file the last one left.
const ROUNDS: usize = 10;

/// In the child: many writers record responses at once, as fast as the store takes them; each
/// response's answer is printed, and flushed, as soon as it is acknowledged.
#[tokio::test]
async fn kill_test_child() {
    let Ok(path) = std::env::var(CHILD) else { return };
    let round = std::env::var(CHILD_ROUND).unwrap();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (store, round) = (Arc::clone(&store), round.clone());
            tokio::spawn(async move {
                for n in 0u64.. {
                    let answer = format!("{round}.{writer}.{n}");
                    store.record(record("killed@example.com", &answer)).await.unwrap();
                    let mut stdout = std::io::stdout().lock();
                    writeln!(stdout, "acknowledged {answer}").unwrap();
                    stdout.flush().unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

/// Round after round, a child of many writers is killed (SIGKILL) just as it reports an
/// acknowledgement, with the writes of the others in flight; every response any child reported
/// acknowledged must be in the file.
///
/// The test keeps the database open throughout, as another learner's process would. SQLite then
/// does not recover a transaction that the killed writer had written but not yet made visible,
/// so an acknowledgement given before the commit completed shows up as a lost response.
#[test]
fn a_killed_writer_loses_no_acknowledged_response() {
    // On the build's disk rather than in a temporary folder that may live in memory: a commit
    // there takes long enough for a kill to land inside it.
    let folder = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = folder.path().join("killed.db");
    let open_elsewhere = SqliteStore::open(&path).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let stored = |store: &SqliteStore| -> HashSet<String> {
        runtime.block_on(store.responses("Math")).unwrap().into_iter().map(|r| r.answer).collect()
    };
    let seed = RandomState::new().hash_one(std::process::id());
    let mut random = SplitMix64::new(seed);
    let mut acknowledged = Vec::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "kill_test_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // The first acknowledgement shares its line with the test harness's own words.
        let acknowledged_answer = |line: String| line.split_once("acknowledged ").map(|(_, answer)| answer.to_string());
        let kill_after = random.integer_in(1, 100) as usize;
        let mut heard = 0;
        while heard < kill_after {
            let line = lines.next().expect("the child is still writing").unwrap();
            if let Some(answer) = acknowledged_answer(line) {
                acknowledged.push(answer);
                heard += 1;
            }
        }
        // SIGKILL: no destructor, no flush, no chance to finish the transaction in flight.
        child.kill().unwrap();
        child.wait().unwrap();
        // What the child printed before it died was acknowledged too.
        acknowledged.extend(lines.map_while(Result::ok).filter_map(acknowledged_answer));

        let stored = stored(&open_elsewhere);
        let lost: Vec<_> = acknowledged.iter().filter(|answer| !stored.contains(*answer)).collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}, killed after {kill_after} acknowledgements): {} acknowledged but lost: {lost:?}",
            lost.len()
        );
    }

    drop(open_elsewhere);
    let connection = rusqlite::Connection::open(&path).unwrap();
    let check: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(connection);
    let reopened = stored(&SqliteStore::open(&path).unwrap());
    assert!(acknowledged.iter().all(|answer| reopened.contains(answer)), "reopened, the file lost responses");
}
