//! Mastery on PostgreSQL through the same assembly every front end uses (`App::connect` with a
//! `postgres://` URL): a session stopped in one process resumes in another, and a process that
//! kept a stale copy of a session is refused by the store rather than writing a second history.
//!
//! Each test runs in a schema of its own on the server `MASTERY_TEST_POSTGRES` names, and says it
//! was skipped when there is none (CI names one).

use mastery_app::{App, AppOptions, demo_quiz};
use mastery_boundary::{MasteryError, RecordErrorKind, TakeOptions};
use tests::answer_to;
use tests::postgres::Schema;

const EMAIL: &str = "ada@example.com";

async fn app(schema: &Schema) -> App {
    let options = AppOptions { db: Some(schema.url().into()), ..AppOptions::default() };
    let app = App::connect(options).await.expect("the test server takes connections");
    app.mastery().install_quiz(demo_quiz()).await.unwrap();
    app
}

/// Answers the current question right and gives the question asked.
async fn answer_right(app: &App) -> Result<String, MasteryError> {
    let question = app.mastery().select_question("Arithmetic", EMAIL).await?.expect("a question");
    app.mastery().answer_question("Arithmetic", EMAIL, &answer_to(question.asked())).await?;
    Ok(question.asked().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stopped_in_one_process_resumes_in_another_at_the_same_question() {
    let Some(schema) = Schema::create().await else { return };
    let first = app(&schema).await;
    first.mastery().take_quiz_with("Arithmetic", EMAIL, TakeOptions { seed: 7, restart: false }).await.unwrap();
    answer_right(&first).await.unwrap();
    answer_right(&first).await.unwrap();
    let next = first.mastery().select_question("Arithmetic", EMAIL).await.unwrap().unwrap();
    first.shutdown().await.unwrap();

    let second = app(&schema).await;
    let taken = second.mastery().take_quiz("Arithmetic", EMAIL).await.unwrap();
    assert_eq!(taken.resumed, Some(2), "both stored answers were replayed");
    let resumed = second.mastery().select_question("Arithmetic", EMAIL).await.unwrap().unwrap();
    assert_eq!(resumed.asked(), next.asked(), "the question that stood when the first process stopped");
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_holding_a_stale_session_is_refused_and_no_second_history_is_written() {
    let Some(schema) = Schema::create().await else { return };
    let (a, b) = (app(&schema).await, app(&schema).await);
    a.mastery().take_quiz_with("Arithmetic", EMAIL, TakeOptions { seed: 3, restart: false }).await.unwrap();
    answer_right(&a).await.unwrap();
    // B takes the learner over by replay and answers; A still holds the session as it was.
    assert_eq!(b.mastery().take_quiz("Arithmetic", EMAIL).await.unwrap().resumed, Some(1));
    answer_right(&b).await.unwrap();
    // The very answer B gave would count once, as a retry; another answer is a second history.
    a.mastery().select_question("Arithmetic", EMAIL).await.unwrap();
    match a.mastery().answer_question("Arithmetic", EMAIL, "-100").await {
        Err(MasteryError::NotRecorded(error)) => assert_eq!(error.kind, RecordErrorKind::Conflict, "{error}"),
        other => panic!("a stale process must be refused, got {other:?}"),
    }
    let positions: Vec<u64> = a
        .store()
        .responses("Arithmetic")
        .await
        .unwrap()
        .iter()
        .map(|record| record.place.expect("in a session").position)
        .collect();
    assert_eq!(positions, [0, 1], "one history, its positions contiguous");
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_in_an_answer_is_refused_at_the_boundary_and_by_the_store_alone_not_with_its_batch() {
    let Some(schema) = Schema::create().await else { return };
    let app = app(&schema).await;
    app.mastery().take_quiz_with("Arithmetic", EMAIL, TakeOptions { seed: 3, restart: false }).await.unwrap();
    app.mastery().select_question("Arithmetic", EMAIL).await.unwrap();
    let refused = app.mastery().answer_question("Arithmetic", EMAIL, "4\u{0}").await.unwrap_err();
    assert!(matches!(refused, MasteryError::Invalid(_)), "{refused}");

    // Straight to the store, beside another learner's answer that may share its commit.
    let store = app.store();
    let mut quiz = demo_quiz();
    quiz.select_question(&mut mastery_core::SplitMix64::new(1)).unwrap();
    let response = |email: &str, answer: &str| {
        let at = mastery_core::Timestamp::from_millis(1);
        mastery_persistence::ResponseRecord::from(&mastery_core::Response::new(&quiz, email, answer, at).unwrap())
    };
    let (nul, plain) = tokio::join!(
        store.record(response("nul@example.com", "4\u{0}")),
        store.record(response("bo@example.com", "4"))
    );
    assert_eq!(nul.unwrap_err().kind, mastery_persistence::StoreErrorKind::Refused);
    plain.unwrap();
    app.shutdown().await.unwrap();
}
