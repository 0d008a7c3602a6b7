//! Sessions are stored facts: a session stopped and taken again goes on exactly where it was,
//! one that no longer replays is abandoned with a reason, and two writers cannot write two
//! histories of one session.

use std::sync::Arc;

use mastery_app::{App, StorePort};
use mastery_boundary::{Mastery, MasteryConfig, MasteryError, Next, QuestionView, RecordErrorKind, TakeOptions};
use mastery_core::{Generator, Quiz, SessionEnding, examples};
use mastery_persistence::{MemoryStore, ResponseStore, SqliteStore};
use proptest::prelude::*;
use tests::*;

/// One step of a learner's run: the question shown, and what the answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    asked: String,
    verdict: &'static str,
    streak: u32,
    mastered: bool,
}

fn mastery_on(store: &Arc<dyn ResponseStore>) -> Mastery {
    Mastery::start(MasteryConfig::with_port(Arc::new(StorePort(Arc::clone(store)))))
}

/// The answer a plan step gives: right (for the demo, worked out from the text), wrong, or no
/// number at all.
fn answer_for(question: &QuestionView, step: u8) -> String {
    match step {
        0 if question.asked().contains(|c| ['+', '-', '×'].contains(&c)) => answer_to(question.asked()),
        0 | 1 => "4".into(),
        2 => "-99".into(),
        _ => "not a number".into(),
    }
}

/// Answers `plan` in the learner's session, returning each step; stops early at the end.
async fn answer_plan(mastery: &Mastery, title: &str, email: &str, plan: &[u8]) -> (Vec<Step>, bool) {
    let mut steps = Vec::new();
    let Some(mut question) = mastery.select_question(title, email).await.unwrap() else { return (steps, true) };
    for &step in plan {
        let answered = mastery.answer_question(title, email, &answer_for(&question, step)).await.unwrap();
        steps.push(Step {
            asked: question.asked().to_string(),
            verdict: answered.verdict.kind(),
            streak: answered.streak,
            mastered: answered.mastered,
        });
        match answered.next {
            Next::Question(next) => question = next,
            Next::Finished => return (steps, true),
            Next::Failed(error) => panic!("{error}"),
        }
    }
    steps.push(Step { asked: question.asked().to_string(), verdict: "", streak: 0, mastered: false });
    (steps, false)
}

fn scripted_quiz() -> Quiz {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scripts.toml");
    mastery_app::load_quiz_file(&path).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn a_session_stopped_and_resumed_goes_on_question_for_question_as_one_never_stopped(
        seed: u64,
        scripted: bool,
        plan in prop::collection::vec(0u8..4, 1..40),
        stop_at in 0usize..40,
    ) {
        let stop_at = stop_at.min(plan.len());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let quiz = if scripted { scripted_quiz() } else { examples::arithmetic_quiz() };
            let title = quiz.title().to_string();
            let store: Arc<dyn ResponseStore> = Arc::new(MemoryStore::default());

            let mastery = mastery_on(&store);
            mastery.install_quiz(quiz.clone()).await.unwrap();
            mastery.take_quiz_seeded(&title, "whole@example.com", seed).await.unwrap();
            let (whole, _) = answer_plan(&mastery, &title, "whole@example.com", &plan).await;

            mastery.take_quiz_seeded(&title, "split@example.com", seed).await.unwrap();
            let (mut before, finished) = answer_plan(&mastery, &title, "split@example.com", &plan[..stop_at]).await;
            mastery.shutdown().await.unwrap();
            if finished {
                prop_assert_eq!(before, whole);
                return Ok(());
            }
            before.pop();
            let answered = before.len();

            // Another process, another seed: the stored session is resumed, not restarted.
            let mastery = mastery_on(&store);
            mastery.install_quiz(quiz).await.unwrap();
            let taken = mastery.take_quiz_seeded(&title, "split@example.com", seed ^ 0xdead_beef).await.unwrap();
            prop_assert_eq!(taken.resumed, Some(answered));
            let (after, _) = answer_plan(&mastery, &title, "split@example.com", &plan[answered..]).await;
            before.extend(after);
            prop_assert_eq!(before, whole);
            mastery.shutdown().await.unwrap();
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn a_session_of_another_quiz_version_is_abandoned_with_the_reason_and_a_new_one_starts() {
    let store: Arc<dyn ResponseStore> = Arc::new(MemoryStore::default());
    let mastery = mastery_on(&store);
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    let first = mastery.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    answer_plan(&mastery, "Math", EMAIL, &[2, 3]).await;
    mastery.shutdown().await.unwrap();

    let mastery = mastery_on(&store);
    let mut changed = examples::math_quiz();
    changed.set_version("math-2");
    mastery.install_quiz(changed).await.unwrap();
    let taken = mastery.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    assert_eq!(taken.resumed, None);
    let abandoned = taken.abandoned.expect("the old session is abandoned");
    assert_eq!(abandoned.session, first.session);
    assert!(abandoned.reason.contains("math-1 then, math-2 now"), "{}", abandoned.reason);
    let sessions = store.sessions("Math").await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].ending, Some(SessionEnding::Abandoned));
    assert_eq!(sessions[0].ending_reason.as_deref(), Some(abandoned.reason.as_str()));
    assert!(sessions[1].is_open());
    mastery.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_history_that_no_longer_replays_is_refused_with_where_it_parts_and_nothing_half_rebuilt() {
    let store: Arc<dyn ResponseStore> = Arc::new(MemoryStore::default());
    let mastery = mastery_on(&store);
    let quiz = |right: i64| {
        let mut quiz = Quiz::new("Math", 2).unwrap();
        quiz.add_template(addition_with(Generator::list([1i64]), Generator::list([right]))).unwrap();
        // The same version over different content: the author forgot to change it.
        quiz.set_version("v1");
        quiz
    };
    mastery.install_quiz(quiz(2)).await.unwrap();
    mastery.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    answer_plan(&mastery, "Math", EMAIL, &[2]).await;
    mastery.shutdown().await.unwrap();

    let mastery = mastery_on(&store);
    mastery.install_quiz(quiz(5)).await.unwrap();
    let taken = mastery.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    let reason = taken.abandoned.expect("abandoned").reason;
    assert_eq!(reason, "stored answer 1 does not replay: \"1 + 2\" was asked then, \"1 + 5\" now");
    let question = mastery.select_question("Math", EMAIL).await.unwrap().unwrap();
    assert_eq!(question.asked(), "1 + 5");
    let answered = mastery.answer_question("Math", EMAIL, "6").await.unwrap();
    assert_eq!(answered.streak, 1, "the new session starts from nothing");
    mastery.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_processes_resuming_one_session_cannot_write_two_histories() {
    let folder = tempfile::tempdir().unwrap();
    let store: Arc<dyn ResponseStore> = Arc::new(SqliteStore::open(folder.path().join("m.db")).unwrap());
    let first = mastery_on(&store);
    first.install_quiz(one_plus_two_quiz(3)).await.unwrap();
    first.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    answer_plan(&first, "Math", EMAIL, &[2]).await;
    first.shutdown().await.unwrap();

    let (a, b) = (mastery_on(&store), mastery_on(&store));
    for mastery in [&a, &b] {
        mastery.install_quiz(one_plus_two_quiz(3)).await.unwrap();
        assert_eq!(mastery.take_quiz("Math", EMAIL).await.unwrap().resumed, Some(1));
        mastery.select_question("Math", EMAIL).await.unwrap();
    }
    assert_eq!(a.answer_question("Math", EMAIL, "3").await.unwrap().streak, 1);
    match b.answer_question("Math", EMAIL, "2").await {
        Err(MasteryError::NotRecorded(error)) => {
            assert_eq!(error.kind, RecordErrorKind::Conflict, "{error}");
            assert!(error.reason.contains("already has an answer at position 2"), "{error}");
        }
        other => panic!("the second writer must be refused, got {other:?}"),
    }
    // The retry of an answer already stored at that place counts once.
    assert_eq!(b.answer_question("Math", EMAIL, "3").await.unwrap().streak, 1);
    let history = store.responses("Math").await.unwrap();
    let positions: Vec<u64> = history.iter().map(|r| r.place.unwrap().position).collect();
    assert_eq!(positions, [0, 1]);
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn restart_abandons_the_open_session_and_endings_are_stored() {
    let store: Arc<dyn ResponseStore> = Arc::new(MemoryStore::default());
    let app = App::with_store(Arc::clone(&store), MasteryConfig::default());
    let mastery = app.mastery();
    mastery.install_quiz(one_plus_two_quiz(1)).await.unwrap();
    mastery.take_quiz_seeded("Math", EMAIL, 1).await.unwrap();
    mastery.select_question("Math", EMAIL).await.unwrap();
    assert!(matches!(mastery.answer_question("Math", EMAIL, "3").await.unwrap().next, Next::Finished));

    // A finished session is not resumed: taking the quiz again starts anew.
    assert_eq!(mastery.take_quiz_seeded("Math", EMAIL, 2).await.unwrap().resumed, None);
    mastery.end_sessions(&[("Math".into(), EMAIL.into())]);
    let restarted = mastery.take_quiz_with("Math", "other@example.com", TakeOptions { seed: 3, restart: true });
    restarted.await.unwrap();
    mastery.take_quiz_seeded("Math", "other@example.com", 3).await.unwrap_err();
    app.shutdown().await.unwrap();

    let endings: Vec<Option<SessionEnding>> =
        store.sessions("Math").await.unwrap().iter().map(|session| session.ending).collect();
    assert_eq!(endings, [Some(SessionEnding::Finished), Some(SessionEnding::Stopped), None]);
}
