//! An answer the learner was told was refused is never found stored, end to end: the boundary
//! wired to the real SQLite store as every front end wires it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use mastery_app::StorePort;
use mastery_boundary::{Mastery, MasteryConfig, MasteryError};
use tests::{EMAIL, TempStore, one_plus_two_quiz};

fn stored_answers(path: &std::path::Path) -> BTreeSet<String> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let mut statement = connection.prepare("SELECT answer FROM responses").unwrap();
    statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bug_a_store_locked_past_the_deadline_commits_an_answer_the_caller_was_told_was_refused() {
    let store = TempStore::new();
    let config = MasteryConfig {
        call_timeout: Some(Duration::from_millis(300)),
        ..MasteryConfig::with_port(Arc::new(StorePort(store.dyn_store())))
    };
    let mastery = Mastery::start(config);
    mastery.install_quiz(one_plus_two_quiz(3)).await.unwrap();
    mastery.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    mastery.select_question("Math", EMAIL).await.unwrap().unwrap();

    // Another process holds the write lock across the caller's deadline.
    let lock = rusqlite::Connection::open(store.path()).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let refused = mastery.answer_question("Math", EMAIL, "3").await.unwrap_err();
    assert!(matches!(refused, MasteryError::Timeout { .. }), "{refused}");
    lock.execute_batch("COMMIT").unwrap();
    drop(lock);

    // The quiz did not move, and the next answer is the first one stored.
    let answered = mastery.answer_question("Math", EMAIL, "4").await.unwrap();
    assert_eq!(answered.streak, 0);
    mastery.shutdown().await.unwrap();
    // The writer works in order: had the refused answer been kept, it would be in before "4".
    assert_eq!(stored_answers(&store.path()), BTreeSet::from(["4".to_string()]), "the refused answer was stored");
}
