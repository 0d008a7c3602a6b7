//! The book's sixteen tests, in one place, through the public APIs.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use mastery_boundary::{Next, ProctorEvent};
use mastery_core::{Generator, Question, Response, Segment, SplitMix64, Timestamp, Value, examples};
use mastery_persistence::{MemoryStore, ResponseRecord, ResponseStore, StoreError};
use tests::*;
use tokio::time::Instant;

fn rng() -> SplitMix64 {
    SplitMix64::new(2024)
}

// ---- core ----

#[test]
fn t01_building_a_template_compiles_it() {
    let template = examples::single_digit_addition();
    assert_eq!(template.compiled(), &[Segment::Placeholder(0), Segment::Text(" + ".into()), Segment::Placeholder(1)]);
}

#[test]
fn t02_substitutions_come_from_the_generators_in_order() {
    let question = one_plus_two_quiz(2).select_question(&mut rng()).unwrap().unwrap().clone();
    let pairs: Vec<(&str, &Value)> = question.substitutions().iter().collect();
    assert_eq!(pairs, [("left", &Value::Integer(1)), ("right", &Value::Integer(2))]);
}

#[test]
fn t03_a_function_generator_is_called() {
    let template = addition_with(Generator::function(|_| Ok(Value::Integer(42))), Generator::list([0i64]));
    let question = Question::new(&template, &mut rng()).unwrap();
    assert_eq!(question.substitutions().get("left"), Some(&Value::Integer(42)));
}

#[test]
fn t04_the_asked_text_is_rendered() {
    assert_eq!(one_plus_two_quiz(2).select_question(&mut rng()).unwrap().unwrap().asked(), "1 + 2");
}

#[test]
fn t05_a_list_generator_draws_every_element_eventually() {
    let template = addition_with(Generator::list(1i64..=9), Generator::list([0i64]));
    let mut rng = rng();
    let seen: HashSet<i64> = (0..1_000)
        .map(|_| Question::new(&template, &mut rng).unwrap().substitutions().get("left").unwrap().as_integer().unwrap())
        .collect();
    assert!(seen.contains(&1) && seen.contains(&9) && !seen.contains(&15));
}

fn two_template_quiz() -> mastery_core::Quiz {
    let mut quiz = mastery_core::Quiz::new("Addition", 3).unwrap();
    quiz.add_template(examples::single_digit_addition()).unwrap();
    quiz.add_template(examples::double_digit_addition()).unwrap();
    quiz
}

#[test]
fn t06_repeated_selection_eventually_picks_both_templates() {
    let mut quiz = two_template_quiz();
    let mut rng = rng();
    let names: HashSet<String> =
        (0..10).map(|_| quiz.select_question(&mut rng).unwrap().unwrap().template().name().to_string()).collect();
    assert_eq!(names.len(), 2);
}

#[test]
fn t07_templates_are_unique_until_the_cycle_repeats() {
    let mut quiz = two_template_quiz();
    let mut rng = rng();
    let mut next = || quiz.select_question(&mut rng).unwrap().unwrap().template().name().to_string();
    let (q1, q2, q3) = (next(), next(), next());
    assert_ne!(q1, q2);
    assert!(q3 == q1 || q3 == q2);
}

#[test]
fn t08_a_wrong_answer_resets_mastery() {
    let mut quiz = one_plus_two_quiz(2);
    let mut rng = rng();
    for answer in ["3", "2", "3", "3"] {
        assert!(quiz.select_question(&mut rng).unwrap().is_some());
        let response = Response::new(&quiz, EMAIL, answer, Timestamp::from_millis(0)).unwrap();
        quiz.answer_question(response).unwrap();
    }
    assert!(quiz.select_question(&mut rng).unwrap().is_none());
}

#[test]
fn t09_responses_are_checked() {
    let mut quiz = one_plus_two_quiz(2);
    quiz.select_question(&mut rng()).unwrap();
    assert!(Response::new(&quiz, EMAIL, "3", Timestamp::from_millis(0)).unwrap().correct());
    assert!(!Response::new(&quiz, EMAIL, "2", Timestamp::from_millis(0)).unwrap().correct());
}

#[test]
fn t10_a_response_carries_its_timestamp() {
    let mut quiz = one_plus_two_quiz(2);
    quiz.select_question(&mut rng()).unwrap();
    let now = Timestamp::from(SystemTime::now());
    let response = Response::new(&quiz, EMAIL, "3", now).unwrap();
    assert_eq!(response.timestamp(), now);
    assert!(response.timestamp() <= Timestamp::from(SystemTime::now()));
}

// ---- boundary, with the real SQLite store wired as the command line wires it ----

#[tokio::test(start_paused = true)]
async fn t11_a_quiz_can_be_scheduled() {
    let store = TempStore::new();
    let mastery = store.mastery();
    let (fields, templates) = one_plus_two_fields(2);
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let notify: mastery_boundary::Notify = std::sync::Arc::new(move |event| drop(sender.send(event)));
    let now = Instant::now();
    let (start, end) = (now + Duration::from_millis(50), now + Duration::from_millis(100));
    mastery.schedule_quiz(fields, templates, start, end, Some(notify)).await.unwrap();
    assert!(mastery.take_quiz("Math", EMAIL).await.is_err(), "not before the start");
    assert!(matches!(events.recv().await, Some(ProctorEvent::Started { .. })));
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    assert!(matches!(events.recv().await, Some(ProctorEvent::Stopped { .. })));
    assert!(mastery.active_sessions_for("Math").is_empty());
    mastery.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t12_take_a_quiz_manage_the_lifecycle_and_persist_responses() {
    let store = TempStore::new();
    let mastery = store.mastery();
    let (fields, templates) = one_plus_two_fields(2);
    let now = Instant::now();
    mastery.schedule_quiz(fields, templates, now, now + Duration::from_secs(60), None).await.unwrap();
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    assert_eq!(mastery.select_question("Math", EMAIL).await.unwrap().unwrap().asked(), "1 + 2");
    let wrong = mastery.answer_question("Math", EMAIL, "2").await.unwrap();
    assert!(!wrong.verdict.is_correct() && matches!(&wrong.next, Next::Question(q) if q.asked() == "1 + 2"));
    let right = mastery.answer_question("Math", EMAIL, "3").await.unwrap();
    assert!(right.verdict.is_correct() && matches!(&right.next, Next::Question(q) if q.asked() == "1 + 2"));
    assert_eq!(store.dyn_store().responses("Math").await.unwrap().len(), 2);
    let last = mastery.answer_question("Math", EMAIL, "3").await.unwrap();
    assert!(matches!(last.next, Next::Finished));
    assert!(mastery.active_sessions_for("Math").is_empty());
    let stored = store.dyn_store().responses("Math").await.unwrap();
    assert_eq!(stored.iter().map(|r| r.answer.as_str()).collect::<Vec<_>>(), ["2", "3", "3"]);
    mastery.shutdown().await.unwrap();
}

// ---- persistence, against both stores ----

fn record(email: &str) -> ResponseRecord {
    let mut quiz = one_plus_two_quiz(2);
    quiz.select_question(&mut rng()).unwrap();
    ResponseRecord::from(&Response::new(&quiz, email, "3", Timestamp::from_millis(0)).unwrap())
}

async fn for_both_stores(test: impl AsyncFn(std::sync::Arc<dyn ResponseStore>)) {
    test(std::sync::Arc::new(MemoryStore::default())).await;
    let sqlite = TempStore::new();
    test(sqlite.dyn_store()).await;
}

#[tokio::test]
async fn t13_a_response_is_recorded() {
    for_both_stores(async |store| {
        assert_eq!(store.responses("Math").await.unwrap().len(), 0);
        store.record(record(EMAIL)).await.unwrap();
        let stored = store.responses("Math").await.unwrap();
        assert_eq!((stored.len(), stored[0].email.as_str()), (1, EMAIL));
    })
    .await;
}

#[tokio::test]
async fn t14_a_function_runs_in_the_saving_transaction_and_returns_its_value() {
    for_both_stores(async |store| {
        assert_eq!(store.record_response_with(record(EMAIL), || Ok("advanced")).await.unwrap(), "advanced");
    })
    .await;
}

#[tokio::test]
async fn t15_a_failure_in_that_function_rolls_the_save_back() {
    for_both_stores(async |store| {
        let failed = store.record_response_with(record(EMAIL), || Err::<(), _>("no".to_string())).await;
        assert_eq!(failed, Err(StoreError::rejected("no")));
        assert!(store.responses("Math").await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn t16_simple_reporting() {
    for_both_stores(async |store| {
        for email in ["a@example.com", "a@example.com", "b@example.com"] {
            store.record(record(email)).await.unwrap();
        }
        let counts = store.responses_per_email("Math").await.unwrap();
        assert_eq!((counts["a@example.com"], counts["b@example.com"]), (2, 1));
    })
    .await;
}

// ---- implied by the book ----

#[test]
fn selecting_from_an_empty_quiz_gives_nothing() {
    assert!(mastery_core::Quiz::new("Empty", 1).unwrap().select_question(&mut rng()).unwrap().is_none());
}

#[test]
fn an_all_correct_math_run_ends_after_exactly_mastery_answers() {
    let mut quiz = examples::math_quiz();
    let mut rng = rng();
    let mut answers = 0;
    while let Some(question) = quiz.select_question(&mut rng).unwrap() {
        let answer = right_answer(question);
        quiz.answer_question(Response::new(&quiz, EMAIL, answer, Timestamp::from_millis(0)).unwrap()).unwrap();
        answers += 1;
    }
    assert_eq!(answers, 2);
}

// Real time: the SQLite writer answers on its own thread, which paused time would race past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_twice_is_already_started_and_a_finished_session_is_gone() {
    let store = TempStore::new();
    let mastery = store.mastery();
    mastery.install_quiz(one_plus_two_quiz(1)).await.unwrap();
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    assert!(matches!(
        mastery.take_quiz("Math", EMAIL).await,
        Err(mastery_boundary::MasteryError::AlreadyStarted { .. })
    ));
    mastery.select_question("Math", EMAIL).await.unwrap();
    assert!(matches!(mastery.answer_question("Math", EMAIL, "3").await.unwrap().next, Next::Finished));
    assert!(matches!(
        mastery.select_question("Math", EMAIL).await,
        Err(mastery_boundary::MasteryError::NoSession { .. })
    ));
    mastery.shutdown().await.unwrap();
}
