//! Reading a store changes nothing: no migration, no writer, and no file created beside it.

use std::collections::BTreeSet;
use std::path::Path;

use mastery_core::{Response, SplitMix64, Timestamp, examples};
use mastery_persistence::{
    ResponseRecord, ResponseStore, SCHEMA_VERSION, SqliteStore, StoreError, StoreErrorKind, create_schema_version,
};

fn record(email: &str) -> ResponseRecord {
    let mut quiz = examples::math_quiz();
    quiz.select_question(&mut SplitMix64::new(1)).unwrap();
    ResponseRecord::from(&Response::new(&quiz, email, "3", Timestamp::from_millis(1)).unwrap())
}

fn files_in(folder: &Path) -> BTreeSet<String> {
    std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[tokio::test]
async fn a_closed_database_is_read_without_creating_anything() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("quiz.db");
    let writer = SqliteStore::open(&path).unwrap();
    writer.record(record("ada@example.com")).await.unwrap();
    drop(writer);
    let before = files_in(folder.path());
    assert_eq!(before, BTreeSet::from(["quiz.db".to_string()]));
    let reader = SqliteStore::open_read_only(&path).unwrap();
    let report = reader.report("Math").await.unwrap();
    assert_eq!(report.iter().map(|row| row.email.as_str()).collect::<Vec<_>>(), ["ada@example.com"]);
    drop(reader);
    assert_eq!(files_in(folder.path()), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_in_use_is_read_with_everything_its_writer_committed() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("quiz.db");
    let writer = SqliteStore::open(&path).unwrap();
    writer.record(record("ada@example.com")).await.unwrap();
    let reader = SqliteStore::open_read_only(&path).unwrap();
    writer.record(record("bob@example.com")).await.unwrap();
    assert_eq!(reader.responses("Math").await.unwrap().len(), 2);
}

#[tokio::test]
async fn recording_through_a_reader_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("quiz.db");
    drop(SqliteStore::open(&path).unwrap());
    let reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.record(record("ada@example.com")).await, Err(StoreError::opened_for_reading(&path)));
}

#[test]
fn a_missing_or_older_database_is_a_clear_error_and_stays_as_it_was() {
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("missing.db");
    let error = SqliteStore::open_read_only(&missing).err().unwrap();
    assert_eq!(error, StoreError::missing(&missing));
    assert_eq!(error.kind, StoreErrorKind::Unavailable);
    assert!(!missing.exists());

    let old = folder.path().join("old.db");
    create_schema_version(&old, 1).unwrap();
    let error = SqliteStore::open_read_only(&old).err().unwrap();
    assert_eq!(error, StoreError::older_schema(&old, 1, SCHEMA_VERSION));
    assert_eq!(error.kind, StoreErrorKind::OlderSchema);
    assert!(error.to_string().contains("mastery run"), "{error}");
    assert_eq!(SqliteStore::schema_version(&old).unwrap(), 1, "reading did not migrate it");
}

#[tokio::test]
async fn a_misspelt_verdict_in_the_file_is_an_error_naming_the_row_not_a_wrong_answer() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("quiz.db");
    let writer = SqliteStore::open(&path).unwrap();
    writer.record(record("ada@example.com")).await.unwrap();
    drop(writer);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE responses SET verdict = 'corect'").unwrap();
    drop(connection);
    let reader = SqliteStore::open_read_only(&path).unwrap();
    let expected = StoreError::bad_row(&path, 1, "unknown verdict \"corect\"");
    assert_eq!(expected.kind, StoreErrorKind::Corrupt);
    assert_eq!(reader.report("Math").await, Err(expected.clone()));
    assert_eq!(reader.responses("Math").await, Err(expected));
}
