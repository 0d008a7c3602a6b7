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

    the_latest_attempt_is_read_in_one_call_with_answers_only_while_it_is_open => |store: Arc<dyn ResponseStore>| async move {
        assert_eq!(store.latest_attempt("Math", "ada@example.com").await.unwrap(), None);
        let first = store.start_session(new_session("ada@example.com")).await.unwrap();
        store.end_session(first, SessionEnding::Finished, 5, None).await.unwrap();
        let id = store.start_session(new_session("ada@example.com")).await.unwrap();
        store.record(at(record("ada@example.com", "3"), id, 0)).await.unwrap();
        let open = store.latest_attempt("Math", "ada@example.com").await.unwrap().expect("the open one");
        assert_eq!((open.session.id, open.responses.len()), (id, 1));
        assert_eq!(store.open_session("Math", "ada@example.com").await.unwrap(), Some(open));
        store.end_session(id, SessionEnding::TimeUp, 9, None).await.unwrap();
        let ended = store.latest_attempt("Math", "ada@example.com").await.unwrap().expect("the ended one");
        assert_eq!((ended.session.id, ended.session.ending, ended.responses.len()), (id, Some(SessionEnding::TimeUp), 0));
        assert_eq!(store.open_session("Math", "ada@example.com").await.unwrap(), None);
    };

    open_sessions_with_a_deadline_are_found_for_a_starting_server_to_watch => |store: Arc<dyn ResponseStore>| async move {
        store.start_session(new_session("plain@example.com")).await.unwrap();
        let ended = store.start_session(exam_session("ended@example.com", Some(1_000), Some(2_000))).await.unwrap();
        store.end_session(ended, SessionEnding::Finished, 1_500, None).await.unwrap();
        let open = store.start_session(exam_session("open@example.com", Some(1_000), Some(2_000))).await.unwrap();
        let timed = store.timed_open_sessions().await.unwrap();
        let found: Vec<(u64, Option<u64>)> = timed.iter().map(|session| (session.id, session.closes_at_ms)).collect();
        assert_eq!(found, [(open, Some(2_000))]);
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

    a_session_keeps_its_own_deadline_and_a_teacher_moves_it_only_while_it_is_open => |store: Arc<dyn ResponseStore>| async move {
        let plain = store.start_session(new_session("bo@example.com")).await.unwrap();
        let id = store.start_session(exam_session("ada@example.com", Some(1_000), Some(2_000))).await.unwrap();
        let deadline = |session: &mastery_persistence::SessionRecord| (session.due_at_ms, session.closes_at_ms);
        assert_eq!(store.session(id).await.unwrap().as_ref().map(deadline), Some((Some(1_000), Some(2_000))));
        assert_eq!(store.session(plain).await.unwrap().as_ref().map(deadline), Some((None, None)));
        let all: Vec<_> =
            store.sessions("Math").await.unwrap().iter().map(|s| (s.id, deadline(s))).collect();
        assert_eq!(all, [(plain, (None, None)), (id, (Some(1_000), Some(2_000)))]);
        let open = store.open_session("Math", "ada@example.com").await.unwrap().expect("open");
        assert_eq!((open.session.id, deadline(&open.session)), (id, (Some(1_000), Some(2_000))));
        let newest = latest(&store, "Math", "ada@example.com").await.expect("latest");
        assert_eq!((newest.id, deadline(&newest), newest.ending), (id, (Some(1_000), Some(2_000)), None));
        assert_eq!(latest(&store, "Math", "nobody@example.com").await, None);
        assert_eq!(latest(&store, "Other", "ada@example.com").await, None);

        // More time, while the exam runs.
        assert!(store.set_session_deadline(id, Some(5_000), Some(6_000)).await.unwrap());
        assert_eq!(store.session(id).await.unwrap().as_ref().map(deadline), Some((Some(5_000), Some(6_000))));
        let open = store.open_session("Math", "ada@example.com").await.unwrap().expect("still open");
        assert_eq!(deadline(&open.session), (Some(5_000), Some(6_000)));
        assert_eq!(store.session(plain).await.unwrap().as_ref().map(deadline), Some((None, None)), "only that session");
        // A deadline can be taken away, and given to a session that had none.
        assert!(store.set_session_deadline(id, None, None).await.unwrap());
        assert_eq!(store.session(id).await.unwrap().as_ref().map(deadline), Some((None, None)));
        assert!(store.set_session_deadline(plain, Some(7_000), None).await.unwrap());
        assert_eq!(store.session(plain).await.unwrap().as_ref().map(deadline), Some((Some(7_000), None)));

        assert!(store.set_session_deadline(id, Some(8_000), Some(9_000)).await.unwrap());
        assert!(store.end_session(id, SessionEnding::TimeUp, 9_000, None).await.unwrap());
        assert!(!store.set_session_deadline(id, Some(1), Some(2)).await.unwrap(), "an ended session keeps its deadline");
        let ended = store.session(id).await.unwrap().expect("stored");
        assert_eq!((deadline(&ended), ended.ending), ((Some(8_000), Some(9_000)), Some(SessionEnding::TimeUp)));
        assert_eq!(latest(&store, "Math", "ada@example.com").await, Some(ended), "ended, still the latest");
        assert!(store.open_session("Math", "ada@example.com").await.unwrap().is_none());
        let again = store.start_session(new_session("ada@example.com")).await.unwrap();
        assert_eq!(latest(&store, "Math", "ada@example.com").await.map(|s| s.id), Some(again));
        assert!(!store.set_session_deadline(id + plain + 100, Some(1), Some(2)).await.unwrap(), "no such session");
        let all: Vec<(Option<u64>, Option<u64>)> = store.sessions("Math").await.unwrap().iter().map(deadline).collect();
        assert_eq!(all, [(Some(7_000), None), (Some(8_000), Some(9_000)), (None, None)]);
    };

    a_session_s_own_close_refuses_later_answers_and_replaces_its_quiz_s_window => |store: Arc<dyn ResponseStore>| async move {
        let closes = ANSWERED + 1_000;
        let id = store.start_session(exam_session("ada@example.com", Some(ANSWERED - 1_000), Some(closes))).await.unwrap();
        // Overdue, but before the close: taken.
        store.record(answered("ada@example.com", "3", id, 0, ANSWERED)).await.unwrap();
        store.record(answered("ada@example.com", "4", id, 1, closes - 1)).await.unwrap();
        let refused = store.record(answered("ada@example.com", "5", id, 2, closes)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "at the close: {refused}");
        assert!(refused.reason.contains("time was up"), "{refused}");
        assert!(refused.reason.contains(&closes.to_string()), "{refused}");
        let refused = store.record(answered("ada@example.com", "5", id, 2, closes + 60_000)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "after the close: {refused}");
        // The very answer stored before the close, sent again after it, still counts once.
        store.record(answered("ada@example.com", "4", id, 1, closes + 5)).await.unwrap();
        assert_eq!(answers_in(&*store, id).await, ["3", "4"]);

        // The quiz's window closes before a learner's own close, after another's.
        let window_closes = ANSWERED + 2_000;
        store.schedule_offered("Math", 1_600_000_000_000, window_closes).await.unwrap();
        let later = store.start_session(exam_session("late@example.com", None, Some(ANSWERED + 10_000))).await.unwrap();
        let plain = store.start_session(new_session("plain@example.com")).await.unwrap();
        let early = store.start_session(exam_session("early@example.com", None, Some(ANSWERED + 500))).await.unwrap();
        store.record(answered("late@example.com", "6", later, 0, window_closes + 5_000)).await.unwrap();
        let refused = store.record(answered("plain@example.com", "7", plain, 0, window_closes)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "a session without a deadline keeps its quiz's window: {refused}");
        assert!(refused.reason.contains("\"Math\" closed before the answer came"), "{refused}");
        store.record(answered("plain@example.com", "8", plain, 0, window_closes - 1)).await.unwrap();
        let refused = store.record(answered("early@example.com", "9", early, 0, ANSWERED + 500)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "an earlier own close is kept too: {refused}");
        let refused =
            store.record(answered("late@example.com", "10", later, 1, ANSWERED + 10_000)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "{refused}");

        // A teacher who extends the first session lets its learner answer again; taking the
        // deadline away gives the session back to its quiz's window, which has closed.
        assert!(store.set_session_deadline(id, None, Some(window_closes + 20_000)).await.unwrap());
        store.record(answered("ada@example.com", "11", id, 2, window_closes + 10_000)).await.unwrap();
        assert!(store.set_session_deadline(id, None, None).await.unwrap());
        let refused = store.record(answered("ada@example.com", "12", id, 3, window_closes + 10_000)).await.unwrap_err();
        assert_eq!(refused.kind, StoreErrorKind::Closed, "{refused}");
        assert!(refused.reason.contains("\"Math\" closed before the answer came"), "{refused}");

        assert_eq!(answers_in(&*store, id).await, ["3", "4", "11"]);
        assert_eq!(answers_in(&*store, later).await, ["6"]);
        assert_eq!(answers_in(&*store, plain).await, ["8"]);
        assert!(answers_in(&*store, early).await.is_empty());
    };

    learner_overrides_are_set_replaced_and_removed_and_an_offer_clears_the_quiz_s_exam => |store: Arc<dyn ResponseStore>| async move {
        assert!(store.learner_overrides("Math").await.unwrap().is_empty());
        for (email, settings) in [("b@x.y", "{\"extra_ms\":60000}"), ("a@x.y", "{\"extra_ms\":1}"), ("Z@x.y", "{}")] {
            store.set_learner_override("Math", email, Some(settings.into())).await.unwrap();
        }
        store.set_learner_override("Other", "a@x.y", Some("{\"other\":true}".into())).await.unwrap();
        store.set_learner_override("Math", "a@x.y", Some("{\"extra_ms\":2}".into())).await.unwrap();
        let overrides = store.learner_overrides("Math").await.unwrap();
        let expected = [("Z@x.y", "{}"), ("a@x.y", "{\"extra_ms\":2}"), ("b@x.y", "{\"extra_ms\":60000}")];
        let expected: Vec<(String, String)> = expected.iter().map(|(e, s)| (e.to_string(), s.to_string())).collect();
        assert_eq!(overrides, expected, "sorted by email, byte by byte; the last settings given win");
        store.set_learner_override("Math", "b@x.y", None).await.unwrap();
        store.set_learner_override("Math", "nobody@x.y", None).await.unwrap();
        assert_eq!(store.learner_overrides("Math").await.unwrap(), expected[..2]);
        assert_eq!(store.learner_overrides("Other").await.unwrap(), [("a@x.y".to_string(), "{\"other\":true}".to_string())]);

        // A quiz's exam, on a quiz offered with a file and on one every server loads itself.
        let exam = "{\"minutes\":30,\"grace_minutes\":5}";
        let offer = OfferedQuiz {
            title: "Apple".into(),
            version: Some("v1".into()),
            source: Some("one".into()),
            saved_at_ms: 5,
            window: None,
            exam: Some("given with the file".into()),
        };
        store.offer_quiz(offer.clone()).await.unwrap();
        store.set_offered_exam("Math", Some(exam.into())).await.unwrap();
        let offered = store.offered_quizzes().await.unwrap();
        let shown: Vec<(&str, Option<&str>, Option<&str>)> =
            offered.iter().map(|q| (q.title.as_str(), q.source.as_deref(), q.exam.as_deref())).collect();
        assert_eq!(shown, [("Apple", Some("one"), None), ("Math", None, Some(exam))], "an offer starts without an exam");
        assert_eq!(offered[1].window, None);
        store.set_offered_exam("Apple", Some(exam.into())).await.unwrap();
        store.schedule_offered("Apple", 100, 200).await.unwrap();
        let apple = store.offered_quizzes().await.unwrap().into_iter().find(|q| q.title == "Apple").unwrap();
        assert_eq!((apple.exam.as_deref(), apple.window, apple.source.as_deref()), (Some(exam), Some((100, 200)), Some("one")));
        store.offer_quiz(OfferedQuiz { source: Some("two".into()), ..offer }).await.unwrap();
        let apple = store.offered_quizzes().await.unwrap().into_iter().find(|q| q.title == "Apple").unwrap();
        assert_eq!((apple.exam, apple.window, apple.source.as_deref()), (None, None, Some("two")), "a new offer clears both");
        store.set_offered_exam("Math", None).await.unwrap();
        let exams: Vec<Option<String>> = store.offered_quizzes().await.unwrap().into_iter().map(|q| q.exam).collect();
        assert_eq!(exams, [None, None]);
    };

    a_session_report_counts_the_answers_after_the_session_s_due_time => |store: Arc<dyn ResponseStore>| async move {
        let due = ANSWERED + 10;
        let exam = store.start_session(exam_session("ada@example.com", Some(due), Some(due + 1_000))).await.unwrap();
        let plain = store.start_session(new_session("bo@example.com")).await.unwrap();
        let ahead = store.start_session(exam_session("cy@example.com", Some(due + 500), None)).await.unwrap();
        for (position, at) in [due - 10, due, due + 1, due + 999].into_iter().enumerate() {
            store.record(answered("ada@example.com", &position.to_string(), exam, position as u64, at)).await.unwrap();
            store.record(answered("bo@example.com", &position.to_string(), plain, position as u64, at)).await.unwrap();
            store.record(answered("cy@example.com", &position.to_string(), ahead, position as u64, at)).await.unwrap();
        }
        let report = store.session_report("Math").await.unwrap();
        let rows: Vec<(u64, u64, u64, Option<u64>)> =
            report.iter().map(|row| (row.session.id, row.responses, row.overdue, row.session.due_at_ms)).collect();
        assert_eq!(rows, [(exam, 4, 2, Some(due)), (plain, 4, 0, None), (ahead, 4, 1, Some(due + 500))]);
    };

    an_offered_quiz_keeps_its_source_and_window_and_a_new_offer_replaces_both => |store: Arc<dyn ResponseStore>| async move {
        assert!(store.offered_quizzes().await.unwrap().is_empty());
        let offer = |title: &str, source: &str| OfferedQuiz {
            title: title.into(),
            version: Some(format!("v-{source}")),
            source: Some(source.into()),
            saved_at_ms: 5,
            window: None,
            exam: None,
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

/// The learner's latest session of the quiz, open or ended, without its responses.
async fn latest(
    store: &Arc<dyn ResponseStore>,
    title: &str,
    email: &str,
) -> Option<mastery_persistence::SessionRecord> {
    store.latest_attempt(title, email).await.unwrap().map(|stored| stored.session)
}

fn new_session(email: &str) -> NewSession {
    NewSession {
        quiz_title: "Math".into(),
        quiz_version: "v1".into(),
        email: email.into(),
        seed: 7,
        started_at_ms: 1,
        due_at_ms: None,
        closes_at_ms: None,
    }
}

/// A session of the Math quiz with a deadline of its own.
fn exam_session(email: &str, due_at_ms: Option<u64>, closes_at_ms: Option<u64>) -> NewSession {
    NewSession { due_at_ms, closes_at_ms, ..new_session(email) }
}

/// When `record` answers.
const ANSWERED: u64 = 1_700_000_000_123;

/// `record(email, answer)` at `place` in `session`, answered at `answered_at_ms`.
fn answered(email: &str, answer: &str, session: u64, position: u64, answered_at_ms: u64) -> ResponseRecord {
    ResponseRecord { answered_at_ms, ..at(record(email, answer), session, position) }
}

/// The answers stored in `session`, by position.
async fn answers_in(store: &dyn ResponseStore, session: u64) -> Vec<String> {
    let mut stored: Vec<ResponseRecord> = store
        .responses("Math")
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.place.is_some_and(|place| place.session == session))
        .collect();
    stored.sort_by_key(|r| r.place.map(|place| place.position));
    stored.into_iter().map(|r| r.answer).collect()
}

/// PostgreSQL's text holds no NUL: exam settings with one are refused before they are sent, alone,
/// and the writer goes on (the server's own refusal would fail every write of the batch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_exam_settings_holding_a_nul_before_sending_them() {
    let Some(subject) = postgres().await else { return };
    let store = Arc::clone(&subject.store);
    let refused = store.set_learner_override("Math", "a@x.y", Some("{\"note\":\"a\0b\"}".into())).await.unwrap_err();
    assert_eq!(refused.kind, StoreErrorKind::Refused, "{refused}");
    assert!(refused.reason.contains("NUL"), "{refused}");
    let refused = store.set_learner_override("Math", "a\0@x.y", None).await.unwrap_err();
    assert_eq!(refused.kind, StoreErrorKind::Refused, "{refused}");
    let refused = store.set_offered_exam("Math", Some("\0".into())).await.unwrap_err();
    assert_eq!(refused.kind, StoreErrorKind::Refused, "{refused}");
    let refused = store.set_offered_exam("Ma\0th", None).await.unwrap_err();
    assert_eq!(refused.kind, StoreErrorKind::Refused, "{refused}");
    store.set_learner_override("Math", "a@x.y", Some("{}".into())).await.unwrap();
    assert_eq!(store.learner_overrides("Math").await.unwrap(), [("a@x.y".to_string(), "{}".to_string())]);
    assert!(store.offered_quizzes().await.unwrap().is_empty(), "nothing refused was stored");
}

fn at(record: ResponseRecord, session: u64, position: u64) -> ResponseRecord {
    ResponseRecord { place: Some(Place { session, position }), ..record }
}
