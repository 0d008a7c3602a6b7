//! What only the SQLite store has: files, schema versions, and crash safety.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mastery_core::{Response, SplitMix64, Timestamp, examples};
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

#[test]
fn a_file_from_a_newer_version_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("newer.db");
    rusqlite::Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    let error = SqliteStore::open(&path).err().expect("a newer file is refused");
    assert_eq!(error, StoreError::NewerSchema { path: path.clone(), found: 99, supported: SCHEMA_VERSION });
    assert!(error.to_string().contains("newer.db"), "{error}");
}

#[test]
fn a_corrupt_file_is_a_clear_error_naming_the_path() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("corrupt.db");
    std::fs::write(&path, vec![0x5A; 8192]).unwrap();
    let error = SqliteStore::open(&path).err().expect("garbage is refused");
    assert_eq!(error, StoreError::Corrupt { path: path.clone() });
    assert_eq!(error.to_string(), format!("database {} is corrupt or not a Mastery database", path.display()));
}

#[test]
fn a_missing_folder_is_a_clear_error_naming_the_path() {
    let path = std::path::Path::new("/nonexistent-mastery-folder/x/y.db");
    let error = SqliteStore::open(path).err().expect("cannot create a file in a missing folder");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("/nonexistent-mastery-folder/x/y.db"), "{error}");
}

const CHILD: &str = "MASTERY_KILL_TEST_DB";

/// In the child: record responses forever, printing each one's answer once it is acknowledged.
#[tokio::test]
async fn kill_test_child() {
    let Ok(path) = std::env::var(CHILD) else { return };
    let store = SqliteStore::open(&path).unwrap();
    for n in 0u64.. {
        store.record(record("killed@example.com", &n.to_string())).await.unwrap();
        println!("acknowledged {n}");
    }
}

#[test]
fn a_killed_writer_loses_no_acknowledged_response() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("killed.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill_test_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acknowledged.len() < 300 {
        let line = lines.next().expect("the child is still writing").unwrap();
        if let Some(n) = line.strip_prefix("acknowledged ") {
            acknowledged.push(n.parse::<u64>().unwrap());
        }
    }
    // SIGKILL: no destructor, no flush, no chance to finish the transaction in flight.
    child.kill().unwrap();
    child.wait().unwrap();

    let connection = rusqlite::Connection::open(&path).unwrap();
    let check: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mut statement = connection.prepare("SELECT answer FROM responses").unwrap();
    let stored: std::collections::HashSet<u64> =
        statement.query_map([], |row| row.get::<_, String>(0)).unwrap().map(|a| a.unwrap().parse().unwrap()).collect();
    let lost: Vec<_> = acknowledged.iter().filter(|n| !stored.contains(n)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
