//! One suite, run against every store — memory, SQLite and PostgreSQL: the book's persistence
//! tests (13–16) and more.
//!
//! The PostgreSQL tests use the server named by `MASTERY_TEST_POSTGRES` (a URL), each in a schema
//! of its own that it drops at the end. Without the variable they say they were skipped; CI sets
//! it, and there a missing server fails them.

use std::collections::BTreeSet;
use std::sync::Arc;

use mastery_core::{Quiz, Response, SessionEnding, SplitMix64, Timestamp, Verdict, examples};
use mastery_persistence::{
    MemoryStore, NewSession, OfferedQuiz, Place, RegradeRecord, ResponseRecord, ResponseStore, SqliteStore, StoreError,
    StoreErrorKind, SubstitutionValue,
};

/// A store under test; the temporary folder (or PostgreSQL schema) lives as long as the store.
struct Subject {
    store: Arc<dyn ResponseStore>,
    _folder: Option<tempfile::TempDir>,
    _schema: Option<tests::postgres::Schema>,
}

fn memory() -> Subject {
    Subject { store: Arc::new(MemoryStore::default()), _folder: None, _schema: None }
}

fn sqlite() -> Subject {
    let folder = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(folder.path().join("mastery.db")).unwrap();
    Subject { store: Arc::new(store), _folder: Some(folder), _schema: None }
}

/// A PostgreSQL store in a schema of its own; `None` (the test is skipped) when no server was
/// named.
async fn postgres() -> Option<Subject> {
    let schema = tests::postgres::Schema::create().await?;
    let store = mastery_postgres::PgStore::connect_with(schema.config()).await.unwrap();
    Some(Subject { store: Arc::new(store), _folder: None, _schema: Some(schema) })
}

/// Runs a test body against every store.
macro_rules! for_each_store {
    ($($name:ident => $body:expr;)*) => {
        mod memory_store { use super::*; $( #[tokio::test] async fn $name() { let subject = memory(); ($body)(Arc::clone(&subject.store)).await } )* }
        mod sqlite_store { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let subject = sqlite(); ($body)(Arc::clone(&subject.store)).await } )* }
        mod postgres_store { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let Some(subject) = postgres().await else { return }; ($body)(Arc::clone(&subject.store)).await } )* }
    };
}

/// A record for the Math quiz with the given email and answer.
fn record(email: &str, answer: &str) -> ResponseRecord {
    let mut quiz = examples::math_quiz();
    quiz.select_question(&mut SplitMix64::new(1)).unwrap();
    ResponseRecord::from(&Response::new(&quiz, email, answer, Timestamp::from_millis(1_700_000_000_123)).unwrap())
}

/// Plays the quiz with scripted answers ("right", "wrong" or anything else) and returns the
/// records with the quiz as the core left it.
fn play(mut quiz: Quiz, email: &str, answers: &[&str], seed: u64) -> (Vec<ResponseRecord>, Quiz) {
    let mut rng = SplitMix64::new(seed);
    let mut records = Vec::new();
    for (turn, answer) in answers.iter().enumerate() {
        if quiz.current_question().is_none() && quiz.select_question(&mut rng).unwrap().is_none() {
            break;
        }
        let question = quiz.current_question().unwrap();
        let sum: i64 = question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum();
        let text = match *answer {
            "right" => sum.to_string(),
            "wrong" => (sum + 1).to_string(),
            other => other.to_string(),
        };
        let response = Response::new(&quiz, email, text, Timestamp::from_millis(turn as u64)).unwrap();
        records.push(ResponseRecord::from(&response));
        quiz.answer_question(response).unwrap();
    }
    (records, quiz)
}

for_each_store! {
    a_response_is_recorded => |store: Arc<dyn ResponseStore>| async move {
        assert!(store.responses("Math").await.unwrap().is_empty());
        store.record(record("mathy@example.com", "3")).await.unwrap();
        let stored = store.responses("Math").await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].email, "mathy@example.com");
    };

    a_function_runs_in_the_saving_transaction_and_its_value_is_returned => |store: Arc<dyn ResponseStore>| async move {
        let value = store.record_response_with(record("a@example.com", "3"), || Ok(7 * 6)).await.unwrap();
        assert_eq!(value, 42);
        assert_eq!(store.responses("Math").await.unwrap().len(), 1);
    };

    a_failing_function_rolls_the_save_back => |store: Arc<dyn ResponseStore>| async move {
        let failed = store.record_response_with(record("a@example.com", "3"), || Err::<(), _>("boom".to_string())).await;
        assert_eq!(failed.unwrap_err(), StoreError::rejected("boom"));
        assert!(store.responses("Math").await.unwrap().is_empty());
        // The store keeps working after a rejected save.
        store.record(record("a@example.com", "3")).await.unwrap();
        assert_eq!(store.responses("Math").await.unwrap().len(), 1);
    };

    simple_reporting_counts_responses_per_email => |store: Arc<dyn ResponseStore>| async move {
        for (email, answer) in [("a@example.com", "3"), ("a@example.com", "4"), ("b@example.com", "3")] {
            store.record(record(email, answer)).await.unwrap();
        }
        let counts = store.responses_per_email("Math").await.unwrap();
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), [("a@example.com".to_string(), 2), ("b@example.com".to_string(), 1)]);
        assert!(store.responses_per_email("Unknown").await.unwrap().is_empty());
    };

    every_field_survives_the_round_trip => |store: Arc<dyn ResponseStore>| async move {
        let original = record("mathy@example.com", "  l2 ");
        assert!(matches!(original.verdict, Verdict::Invalid(_)));
        store.record(original.clone()).await.unwrap();
        let stored = store.responses("Math").await.unwrap();
        assert_eq!(stored, std::slice::from_ref(&original));
        assert_eq!(stored[0].answered_at_ms, 1_700_000_000_123);
        assert_eq!(stored[0].mastery, 2);
        assert!(matches!(stored[0].substitutions[0], (ref name, SubstitutionValue::Integer(_)) if name == "left"));
    };

    the_report_agrees_with_the_core_on_who_mastered_what => |store: Arc<dyn ResponseStore>| async move {
        let (alice, alice_quiz) = play(examples::arithmetic_quiz(), "alice@example.com",
            &["right", "right", "x", "wrong", "right", "right", "right", "right", "right"], 5);
        let (bob, bob_quiz) = play(examples::arithmetic_quiz(), "bob@example.com", &["right", "wrong", "right", "l2"], 6);
        for record in alice.iter().chain(&bob) {
            store.record(record.clone()).await.unwrap();
        }
        let report = store.report("Arithmetic").await.unwrap();
        assert_eq!(report.len(), 2);
        for (row, (records, quiz)) in report.iter().zip([(&alice, &alice_quiz), (&bob, &bob_quiz)]) {
            let mastered: BTreeSet<&str> = quiz.mastered().collect();
            assert_eq!(row.mastered.iter().map(String::as_str).collect::<BTreeSet<_>>(), mastered, "{}", row.email);
            assert_eq!(row.responses, records.len() as u64);
            assert_eq!(row.correct, records.iter().filter(|r| r.verdict == Verdict::Correct).count() as u64);
            assert_eq!(row.invalid, records.iter().filter(|r| r.verdict.kind() == "invalid").count() as u64);
        }
        assert_eq!(report[0].email, "alice@example.com");
        assert!(!report[0].mastered.is_empty());
    };

    concurrent_writers_store_every_acknowledged_response_exactly_once => |store: Arc<dyn ResponseStore>| async move {
        let mut tasks = Vec::new();
        for writer in 0..100 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                for n in 0..20 {
                    store.record(record(&format!("w{writer}@example.com"), &format!("{n}"))).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let stored = store.responses("Math").await.unwrap();
        assert_eq!(stored.len(), 2_000);
        let distinct: BTreeSet<(String, String)> = stored.into_iter().map(|r| (r.email, r.answer)).collect();
        assert_eq!(distinct.len(), 2_000);
    };

    a_session_is_stored_with_its_answers_in_order_and_ended_once => |store: Arc<dyn ResponseStore>| async move {
        let id = store.start_session(new_session("ada@example.com")).await.unwrap();
        for position in 0..3 {
            store.record(at(record("ada@example.com", &position.to_string()), id, position)).await.unwrap();
        }
        let open = store.open_session("Math", "ada@example.com").await.unwrap().expect("open");
        assert_eq!((open.session.id, open.session.seed, open.session.quiz_version.as_deref()), (id, Some(7), Some("v1")));
        let answers: Vec<&str> = open.responses.iter().map(|r| r.answer.as_str()).collect();
        assert_eq!(answers, ["0", "1", "2"]);
        assert!(store.open_session("Math", "bob@example.com").await.unwrap().is_none());

        assert!(store.end_session(id, SessionEnding::TimeUp, 9, None).await.unwrap());
        assert!(!store.end_session(id, SessionEnding::Finished, 10, None).await.unwrap(), "an ending is never replaced");
        assert!(store.open_session("Math", "ada@example.com").await.unwrap().is_none());
        let sessions = store.sessions("Math").await.unwrap();
        assert_eq!((sessions[0].ending, sessions[0].ended_at_ms), (Some(SessionEnding::TimeUp), Some(9)));
        let late = store.record(at(record("ada@example.com", "late"), id, 3)).await.unwrap_err();
        assert_eq!(late.kind, StoreErrorKind::Conflict, "{late}");
        assert_eq!(store.responses("Math").await.unwrap().len(), 3);
    };

    one_place_holds_one_answer_and_a_retry_of_it_counts_once => |store: Arc<dyn ResponseStore>| async move {
        let id = store.start_session(new_session("ada@example.com")).await.unwrap();
        store.record(at(record("ada@example.com", "3"), id, 0)).await.unwrap();
        store.record(at(record("ada@example.com", "3"), id, 0)).await.unwrap();
        let second = store.record(at(record("ada@example.com", "4"), id, 0)).await.unwrap_err();
        assert_eq!(second.kind, StoreErrorKind::Conflict, "{second}");
        let answers: Vec<String> = store.responses("Math").await.unwrap().into_iter().map(|r| r.answer).collect();
        assert_eq!(answers, ["3"]);
    };

    two_answers_sent_at_once_for_one_place_make_one_history => |store: Arc<dyn ResponseStore>| async move {
        let id = store.start_session(new_session("ada@example.com")).await.unwrap();
        // Sent together, they can share one commit: still one goes in and the other is refused.
        let (first, second) =
            tokio::join!(store.record(at(record("ada@example.com", "3"), id, 0)), store.record(at(record("ada@example.com", "4"), id, 0)));
        let refused: Vec<StoreErrorKind> = [first, second].into_iter().filter_map(|outcome| outcome.err().map(|e| e.kind)).collect();
        assert_eq!(refused, [StoreErrorKind::Conflict]);
        // The very same answer twice at once is one answer.
        let (first, second) =
            tokio::join!(store.record(at(record("ada@example.com", "5"), id, 1)), store.record(at(record("ada@example.com", "5"), id, 1)));
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(store.responses("Math").await.unwrap().len(), 2);
    };

    an_answer_after_the_stored_window_closed_is_never_taken => |store: Arc<dyn ResponseStore>| async move {
        // `record` answers at 1_700_000_000_123 ms; the window closes a second later.
        let closes = 1_700_000_001_123;
        store.schedule_offered("Math", 1_600_000_000_000, closes).await.unwrap();
        let id = store.start_session(new_session("ada@example.com")).await.unwrap();
        store.record(at(record("ada@example.com", "3"), id, 0)).await.unwrap();
        let late = |answer: &str, position: u64| {
            let mut late = at(record("ada@example.com", answer), id, position);
            late.answered_at_ms = closes;
            late
        };
        // The very answer stored before the close, sent again, still counts once.
        store.record(ResponseRecord { answered_at_ms: closes, ..at(record("ada@example.com", "3"), id, 0) }).await.unwrap();
        let refused = store.record(late("4", 1)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "{refused}");
        assert!(refused.reason.contains("\"Math\" closed before the answer came"), "{refused}");
        let outside = store.record(ResponseRecord { answered_at_ms: closes, ..record("bo@example.com", "5") }).await;
        assert_eq!(outside.unwrap_err().kind, StoreErrorKind::Closed, "outside a session too");
        let answers: Vec<String> = store.responses("Math").await.unwrap().into_iter().map(|r| r.answer).collect();
        assert_eq!(answers, ["3"]);
    };

    reports_fold_each_session_on_its_own_and_read_the_latest_regrade => |store: Arc<dyn ResponseStore>| async move {
        // Mastery 2: one right answer in each of two sessions masters nothing.
        let (records, _) = play(examples::math_quiz(), "ada@example.com", &["right", "right"], 1);
        for (position, record) in records.into_iter().enumerate() {
            let id = store.start_session(new_session("ada@example.com")).await.unwrap();
            store.record(at(record, id, 0)).await.unwrap();
            let _ = position;
        }
        assert!(store.report("Math").await.unwrap()[0].mastered.is_empty());
        let sessions = store.session_report("Math").await.unwrap();
        assert_eq!(sessions.iter().map(|s| s.correct).collect::<Vec<_>>(), [1, 1]);

        let first = sessions[0].session.id;
        let regrade = RegradeRecord {
            quiz_title: "Math".into(),
            quiz_version: "v2".into(),
            regraded_at_ms: 5,
            changed: vec![(Place { session: first, position: 0 }, Verdict::Incorrect)],
        };
        store.record_regrade(regrade).await.unwrap();
        assert_eq!(store.report("Math").await.unwrap()[0].correct, 1);
        assert_eq!(store.template_report("Math").await.unwrap()[0].correct, 1);
        let quizzes = store.quizzes().await.unwrap();
        assert_eq!((quizzes.len(), quizzes[0].sessions, quizzes[0].responses), (1, 2, 2));
    };

    a_setting_keeps_the_value_stored_first_and_a_roster_finds_its_learner_by_hash => |store: Arc<dyn ResponseStore>| async move {
        assert_eq!(store.setting_or_init("secret", "one".into()).await.unwrap(), "one");
        assert_eq!(store.setting_or_init("secret", "two".into()).await.unwrap(), "one");
        store.set_roster("Math", vec![("b@x.y".into(), "hash-b".into()), ("a@x.y".into(), "hash-a".into())]).await.unwrap();
        assert_eq!(store.roster("Math").await.unwrap(), [("a@x.y".to_string(), "hash-a".to_string()), ("b@x.y".into(), "hash-b".into())]);
        assert_eq!(store.joined("hash-b").await.unwrap(), Some(("Math".to_string(), "b@x.y".to_string())));
        store.set_roster("Math", vec![("a@x.y".into(), "hash-a1".into()), ("a@x.y".into(), "hash-a2".into())]).await.unwrap();
        assert_eq!(store.roster("Math").await.unwrap(), [("a@x.y".to_string(), "hash-a2".to_string())], "the last token given wins");
        assert_eq!(store.joined("hash-b").await.unwrap(), None, "a new roster replaces the old one");
        assert!(store.roster("Other").await.unwrap().is_empty());
        let id = store.start_session(new_session("a@x.y")).await.unwrap();
        assert_eq!(store.session(id).await.unwrap().map(|s| s.email), Some("a@x.y".to_string()));
        assert_eq!(store.session(id + 100).await.unwrap(), None);
    };

    an_offered_quiz_keeps_its_source_and_window_and_a_new_offer_replaces_both => |store: Arc<dyn ResponseStore>| async move {
        assert!(store.offered_quizzes().await.unwrap().is_empty());
        let offer = |title: &str, source: &str| OfferedQuiz {
            title: title.into(),
            version: Some(format!("v-{source}")),
            source: Some(source.into()),
            saved_at_ms: 5,
            window: None,
        };
        store.offer_quiz(offer("Zebra", "title = \"Zebra\"")).await.unwrap();
        store.offer_quiz(offer("Apple", "one")).await.unwrap();
        store.schedule_offered("Apple", 100, 200).await.unwrap();
        // A quiz every server loads itself shares only its window.
        store.schedule_offered("Arithmetic", 300, 400).await.unwrap();
        let offered = store.offered_quizzes().await.unwrap();
        let titles: Vec<&str> = offered.iter().map(|q| q.title.as_str()).collect();
        let sources: Vec<Option<&str>> = offered.iter().map(|q| q.source.as_deref()).collect();
        let windows: Vec<Option<(u64, u64)>> = offered.iter().map(|q| q.window).collect();
        assert_eq!(titles, ["Apple", "Arithmetic", "Zebra"]);
        assert_eq!(sources, [Some("one"), None, Some("title = \"Zebra\"")]);
        assert_eq!(windows, [Some((100, 200)), Some((300, 400)), None]);
        store.offer_quiz(offer("Apple", "two")).await.unwrap();
        let apple = store.offered_quizzes().await.unwrap().into_iter().find(|q| q.title == "Apple").unwrap();
        assert_eq!((apple.source.as_deref(), apple.version.as_deref(), apple.window), (Some("two"), Some("v-two"), None));
    };
}

fn new_session(email: &str) -> NewSession {
    NewSession { quiz_title: "Math".into(), quiz_version: "v1".into(), email: email.into(), seed: 7, started_at_ms: 1 }
}

fn at(record: ResponseRecord, session: u64, position: u64) -> ResponseRecord {
    ResponseRecord { place: Some(Place { session, position }), ..record }
}
