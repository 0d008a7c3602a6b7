//! A store's answer is the truth: what it acknowledges is stored, and what it refuses or lets the
//! caller withdraw is never found stored later.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use mastery_core::{Response, SplitMix64, Timestamp, examples};
use mastery_persistence::{ResponseRecord, ResponseStore, SqliteOptions, SqliteStore, StoreError, Withdrawal};
use rusqlite::Connection;

fn record(email: &str, answer: &str) -> ResponseRecord {
    let mut quiz = examples::math_quiz();
    quiz.select_question(&mut SplitMix64::new(1)).unwrap();
    ResponseRecord::from(&Response::new(&quiz, email, answer, Timestamp::from_millis(1)).unwrap())
}

/// The answers stored in the file, read after the store is closed.
fn stored_answers(path: &std::path::Path) -> BTreeSet<String> {
    let connection = Connection::open(path).unwrap();
    let mut statement = connection.prepare("SELECT answer FROM responses").unwrap();
    statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
}

/// A withdrawal that fires when the sender is dropped or used.
fn withdrawal() -> (tokio::sync::oneshot::Sender<()>, Withdrawal) {
    let (fire, fired) = tokio::sync::oneshot::channel::<()>();
    (fire, Box::pin(async move { drop(fired.await) }))
}

/// Holds the database's write lock from another connection until dropped.
struct WriteLock(Connection);

impl WriteLock {
    fn take(path: &std::path::Path) -> WriteLock {
        let connection = Connection::open(path).unwrap();
        connection.execute_batch("BEGIN IMMEDIATE").unwrap();
        WriteLock(connection)
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_withdrawn_while_the_database_is_locked_is_never_stored() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("locked.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let lock = WriteLock::take(&path);
    let (fire, withdrawn) = withdrawal();
    let pending = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.record_withdrawable(record("late@example.com", "withdrawn"), withdrawn).await }
    });
    // Give the writer time to take the request and wait on the lock; the outcome must not
    // depend on whether it did.
    tokio::time::sleep(Duration::from_millis(100)).await;
    fire.send(()).unwrap();
    assert_eq!(pending.await.unwrap(), Err(StoreError::withdrawn()));
    drop(lock);
    // The writer goes on once the lock is free, and a later record is stored as usual.
    store.record(record("next@example.com", "stored")).await.unwrap();
    drop(Arc::into_inner(store).unwrap());
    assert_eq!(stored_answers(&path), BTreeSet::from(["stored".to_string()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_lock_contention_every_answer_matches_what_was_stored() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("contended.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let mut told = Vec::new();
    for round in 0..20u64 {
        let lock = (round % 2 == 0).then(|| WriteLock::take(&path));
        let mut tasks = Vec::new();
        for n in 0..25u64 {
            let answer = format!("{round}-{n}");
            let (fire, withdrawn) = withdrawal();
            let store = Arc::clone(&store);
            let recording = {
                let answer = answer.clone();
                tokio::spawn(
                    async move { store.record_withdrawable(record("crowd@example.com", &answer), withdrawn).await },
                )
            };
            // Withdraw about half of them, at different moments.
            let withdraw_after = (n % 2 == 0).then(|| Duration::from_micros(50 * ((round * 25 + n) % 40)));
            tasks.push((answer, recording, fire, withdraw_after));
        }
        let mut fires = Vec::new();
        for (answer, recording, fire, withdraw_after) in tasks {
            match withdraw_after {
                Some(after) => {
                    tokio::time::sleep(after).await;
                    let _ = fire.send(());
                }
                None => fires.push(fire),
            }
            told.push((answer, recording));
        }
        drop(lock);
        drop(fires);
    }
    let mut acknowledged = BTreeSet::new();
    for (answer, recording) in told {
        match recording.await.unwrap() {
            Ok(()) => drop(acknowledged.insert(answer)),
            Err(error) if error == StoreError::withdrawn() => {}
            Err(other) => panic!("unexpected outcome for {answer}: {other}"),
        }
    }
    drop(Arc::into_inner(store).unwrap());
    assert!(!acknowledged.is_empty());
    assert_eq!(stored_answers(&path), acknowledged, "stored answers differ from acknowledged ones");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fills_the_disk_stores_exactly_what_it_acknowledges() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("full.db");
    let options = SqliteOptions { max_size: Some(256 * 1024), ..SqliteOptions::default() };
    let store = Arc::new(SqliteStore::open_with(&path, options).unwrap());
    let padding = "x".repeat(3_000);
    let tasks: Vec<_> = (0..400)
        .map(|n| {
            let store = Arc::clone(&store);
            let answer = format!("{n} {padding}");
            tokio::spawn(async move {
                let outcome = store.record(record("full@example.com", &answer)).await;
                (answer, outcome)
            })
        })
        .collect();
    let (mut acknowledged, mut refused) = (BTreeSet::new(), 0);
    for task in tasks {
        let (answer, outcome) = task.await.unwrap();
        match outcome {
            Ok(()) => drop(acknowledged.insert(answer)),
            Err(_) => refused += 1,
        }
    }
    drop(Arc::into_inner(store).unwrap());
    assert!(refused > 0, "the cap was never reached");
    assert_eq!(stored_answers(&path), acknowledged, "stored answers differ from acknowledged ones");
}
