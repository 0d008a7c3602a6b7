//! Exams through the public API, in tokio's paused time: each learner's own deadline, extra time,
//! a grace period with overdue answers, extensions while the exam runs, one attempt, idle
//! sessions, and many learners ending in the order of their deadlines.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mastery_app::App;
use mastery_boundary::{Mastery, MasteryConfig, MasteryError, Notify, ProctorEvent, TokioClock};
use mastery_core::{Deadline, Exam, ExtraTime, LearnerOverride, SessionEnding, Timestamp, WhenTimeIsUp, Window};
use mastery_persistence::{MemoryStore, ResponseStore};
use tests::one_plus_two_quiz;

const MINUTE: u64 = 60_000;
/// The clock's reading when each test starts: 2026-12-01T09:00:00Z.
const T0: u64 = 1_796_115_600_000;

fn at(minutes: u64) -> Timestamp {
    Timestamp::from_millis(T0 + minutes * MINUTE)
}

fn minutes(n: u64) -> Duration {
    Duration::from_millis(n * MINUTE)
}

/// Lets `n` minutes pass at once (sleeping through them would wake every 5 ms tick of the
/// sessions' coarse clock), then lets the woken workers run.
async fn wait(n: u64) {
    tokio::time::advance(minutes(n)).await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// An app on a memory store whose clock follows tokio's paused time, with the "Math" quiz (1 + 2,
/// mastered after three right answers) given as an exam.
async fn exam_app(exam: Exam) -> (App, Arc<MemoryStore>, Events) {
    let store = Arc::new(MemoryStore::default());
    let config = MasteryConfig { clock: Arc::new(TokioClock::starting_at(at(0))), ..MasteryConfig::default() };
    let app = App::with_store(Arc::clone(&store) as Arc<dyn ResponseStore>, config);
    let mut quiz = one_plus_two_quiz(3);
    quiz.set_version("math-exam").set_exam(Some(exam));
    app.mastery().install_quiz(quiz).await.unwrap();
    let events = Events::default();
    app.mastery().on_session_deadlines(events.notify());
    (app, store, events)
}

/// What the Proctor told of learners' deadlines, in order.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<ProctorEvent>>>);

impl Events {
    fn notify(&self) -> Notify {
        let heard = Arc::clone(&self.0);
        Arc::new(move |event| heard.lock().unwrap().push(event))
    }

    fn time_ups(&self) -> Vec<String> {
        let heard = self.0.lock().unwrap();
        heard
            .iter()
            .filter_map(|event| match event {
                ProctorEvent::SessionTimeUp { email, .. } => Some(email.clone()),
                _ => None,
            })
            .collect()
    }

    fn all(&self) -> Vec<ProctorEvent> {
        self.0.lock().unwrap().clone()
    }
}

fn timed(limit: u64) -> Exam {
    Exam { time_limit: Some(minutes(limit)), ..Exam::default() }
}

fn extra(extra_time: ExtraTime) -> Option<LearnerOverride> {
    Some(LearnerOverride { extra_time: Some(extra_time), window: None })
}

async fn deadline_of(mastery: &Mastery, email: &str) -> Deadline {
    mastery.take_quiz_seeded("Math", email, 1).await.unwrap().deadline.expect("an exam session has a deadline")
}

async fn ending_of(store: &MemoryStore, email: &str) -> Option<SessionEnding> {
    let sessions = store.sessions("Math").await.unwrap();
    sessions.into_iter().rev().find(|session| session.email == email).and_then(|session| session.ending)
}

#[tokio::test(start_paused = true)]
async fn extra_time_as_minutes_and_as_a_percentage_gives_each_learner_their_own_deadline() {
    let (app, store, _) = exam_app(timed(60)).await;
    let mastery = app.mastery();
    mastery.set_learner_override("Math", "minutes@example.com", extra(ExtraTime::Duration(minutes(15)))).await.unwrap();
    mastery.set_learner_override("Math", "percent@example.com", extra(ExtraTime::Percent(50))).await.unwrap();
    wait(10).await;
    assert_eq!(deadline_of(mastery, "plain@example.com").await.due_at, at(70));
    assert_eq!(deadline_of(mastery, "minutes@example.com").await.due_at, at(85));
    assert_eq!(deadline_of(mastery, "percent@example.com").await.due_at, at(100));
    // The deadline is stored with the session, where every answer is checked against it.
    let sessions = store.sessions("Math").await.unwrap();
    let stored: Vec<Option<u64>> = sessions.iter().map(|session| session.due_at_ms).collect();
    assert_eq!(stored, [Some(at(70).as_millis()), Some(at(85).as_millis()), Some(at(100).as_millis())]);
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_time_limit_shorter_than_the_window_counts_from_the_start_and_one_reaching_past_it_stops_at_the_close() {
    let window = Window { opens_at: at(5), closes_at: at(120) };
    let (app, _store, _) = exam_app(Exam { window: Some(window), ..timed(45) }).await;
    let mastery = app.mastery();
    let early = mastery.take_quiz("Math", "early@example.com").await.unwrap_err();
    assert!(
        matches!(early, MasteryError::NotOpen { opens_at: Some(opens), .. } if opens == at(5)),
        "a learner before the window opens is told when it opens: {early}"
    );
    assert!(early.to_string().contains("2026-12-01T09:05:00Z"), "{early}");
    wait(10).await;
    assert_eq!(deadline_of(mastery, "on-time@example.com").await.due_at, at(55));
    wait(90).await;
    // A learner starting late gets what is left of the window, not the whole time limit.
    assert_eq!(deadline_of(mastery, "late@example.com").await.due_at, at(120));
    wait(30).await;
    let closed = mastery.take_quiz("Math", "too-late@example.com").await.unwrap_err();
    assert!(matches!(closed, MasteryError::NotOpen { closed_at: Some(closed), .. } if closed == at(120)), "{closed}");
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn in_the_grace_period_answers_are_stored_as_overdue_and_after_it_the_session_is_ended() {
    let exam = Exam { when_time_is_up: WhenTimeIsUp::Grace(minutes(5)), ..timed(10) };
    let (app, store, events) = exam_app(exam).await;
    let mastery = app.mastery();
    let email = "graced@example.com";
    let deadline = deadline_of(mastery, email).await;
    assert_eq!(deadline, Deadline { due_at: at(10), closes_at: at(15) });
    mastery.select_question("Math", email).await.unwrap();
    wait(9).await;
    assert!(!mastery.answer_question("Math", email, "3").await.unwrap().overdue);
    wait(2).await;
    let late = mastery.answer_question("Math", email, "3").await.unwrap();
    assert!(late.overdue, "an answer in the grace period is marked overdue");
    assert!(
        matches!(events.all().as_slice(), [ProctorEvent::SessionOverdue { closes_at, .. }] if *closes_at == at(15))
    );
    wait(5).await;
    assert_eq!(events.time_ups(), [email]);
    let refused = mastery.answer_question("Math", email, "3").await.unwrap_err();
    assert!(matches!(refused, MasteryError::NoSession { .. }), "{refused}");
    assert_eq!(ending_of(&store, email).await, Some(SessionEnding::TimeUp));
    let report = store.session_report("Math").await.unwrap();
    assert_eq!((report[0].responses, report[0].overdue), (2, 1));
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_a_grace_period_an_answer_after_the_deadline_is_refused_and_never_stored() {
    let (app, store, _) = exam_app(timed(10)).await;
    let mastery = app.mastery();
    let email = "strict@example.com";
    deadline_of(mastery, email).await;
    mastery.select_question("Math", email).await.unwrap();
    // The learner's session is let go from memory (an idle release): nothing here watches it
    // until the learner comes back, and the Proctor ends it in the store.
    mastery.release_sessions(&[("Math".to_string(), email.to_string())]);
    wait(11).await;
    assert_eq!(ending_of(&store, email).await, Some(SessionEnding::TimeUp));
    // Coming back after the deadline is no second attempt with a fresh clock.
    let again = mastery.take_quiz("Math", email).await.unwrap_err();
    assert!(matches!(again, MasteryError::AttemptUsed { ending: SessionEnding::TimeUp, .. }), "{again}");
    assert!(store.responses("Math").await.unwrap().is_empty());
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_teacher_extends_a_learners_time_while_the_exam_runs() {
    let (app, store, events) = exam_app(timed(10)).await;
    let mastery = app.mastery();
    let email = "extended@example.com";
    assert_eq!(deadline_of(mastery, email).await.due_at, at(10));
    mastery.select_question("Math", email).await.unwrap();
    wait(8).await;
    let moved = mastery.set_learner_override("Math", email, extra(ExtraTime::Duration(minutes(10)))).await.unwrap();
    assert_eq!(moved.map(|deadline| deadline.due_at), Some(at(20)), "the new deadline counts from the start");
    assert_eq!(mastery.session_status("Math", email).await.unwrap().deadline.map(|d| d.due_at), Some(at(20)));
    let stored = store.sessions("Math").await.unwrap();
    assert_eq!(stored[0].due_at_ms, Some(at(20).as_millis()), "the extension is stored with the session");
    wait(4).await;
    let answered = mastery.answer_question("Math", email, "3").await.unwrap();
    assert!(!answered.overdue);
    assert!(events.time_ups().is_empty(), "the old deadline passed without ending the session");
    wait(10).await;
    assert_eq!(events.time_ups(), [email]);
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_learners_own_window_wins_over_the_quizs_and_lets_them_start_after_it_closed() {
    let window = Window { opens_at: at(0), closes_at: at(60) };
    let (app, _store, _) = exam_app(Exam { window: Some(window), ..timed(30) }).await;
    let mastery = app.mastery();
    let own = LearnerOverride {
        extra_time: Some(ExtraTime::Percent(50)),
        window: Some(Window { opens_at: at(90), closes_at: at(200) }),
    };
    mastery.set_learner_override("Math", "own@example.com", Some(own)).await.unwrap();
    wait(30).await;
    let before = mastery.take_quiz("Math", "own@example.com").await.unwrap_err();
    assert!(matches!(before, MasteryError::NotOpen { opens_at: Some(opens), .. } if opens == at(90)), "{before}");
    wait(60).await;
    assert!(mastery.take_quiz("Math", "other@example.com").await.is_err(), "the quiz's own window has closed");
    // 30 minutes and half again, from their own start in their own window.
    assert_eq!(deadline_of(mastery, "own@example.com").await.due_at, at(135));
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn many_learners_with_different_deadlines_end_in_the_order_of_their_deadlines() {
    let (app, store, events) = exam_app(timed(20)).await;
    let mastery = app.mastery();
    // Extra time in reverse order of starting, so that neither start order nor email order is
    // the order of the deadlines.
    let learners: Vec<(String, u64)> = (0..30).map(|i| (format!("learner{i:02}@example.com"), (i * 7) % 30)).collect();
    for (email, extra_minutes) in &learners {
        let extra_time = extra(ExtraTime::Duration(minutes(*extra_minutes)));
        mastery.set_learner_override("Math", email, extra_time).await.unwrap();
        mastery.take_quiz(email.as_str(), email).await.unwrap_err();
        mastery.take_quiz("Math", email).await.unwrap();
    }
    wait(60).await;
    let mut expected = learners.clone();
    expected.sort_by_key(|(_, extra_minutes)| *extra_minutes);
    let expected: Vec<String> = expected.into_iter().map(|(email, _)| email).collect();
    assert_eq!(events.time_ups(), expected);
    assert_eq!(mastery.session_count(), 0);
    for (email, _) in &learners {
        assert_eq!(ending_of(&store, email).await, Some(SessionEnding::TimeUp), "{email}");
    }
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_session_without_an_answer_for_the_idle_limit_is_ended_as_abandoned() {
    let (app, store, events) = exam_app(Exam { idle_limit: Some(minutes(5)), ..Exam::default() }).await;
    let mastery = app.mastery();
    let email = "idle@example.com";
    let taken = mastery.take_quiz("Math", email).await.unwrap();
    assert_eq!(taken.deadline, None, "an idle limit alone sets no deadline");
    mastery.select_question("Math", email).await.unwrap();
    wait(3).await;
    mastery.answer_question("Math", email, "3").await.unwrap();
    wait(4).await;
    assert_eq!(mastery.session_count(), 1, "seven minutes since the start, but only four since the answer");
    wait(2).await;
    assert_eq!(mastery.session_count(), 0);
    assert!(matches!(events.all().as_slice(), [ProctorEvent::SessionIdle { email: idle, .. }] if idle == email));
    assert_eq!(ending_of(&store, email).await, Some(SessionEnding::Abandoned));
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_exam_cannot_be_restarted_and_a_finished_one_cannot_be_taken_again() {
    let (app, _store, _) = exam_app(timed(30)).await;
    let mastery = app.mastery();
    let email = "once@example.com";
    mastery.take_quiz("Math", email).await.unwrap();
    mastery.release_sessions(&[("Math".to_string(), email.to_string())]);
    let options = mastery_boundary::TakeOptions { seed: 9, restart: true };
    let restart = mastery.take_quiz_with("Math", email, options).await.unwrap_err();
    assert!(matches!(&restart, MasteryError::Invalid(problems) if problems.0[0].field == "restart"), "{restart}");
    // Resuming is no new attempt: the deadline is the one it started with.
    wait(5).await;
    let resumed = mastery.take_quiz("Math", email).await.unwrap();
    assert_eq!((resumed.resumed, resumed.deadline.map(|d| d.due_at)), (Some(0), Some(at(30))));
    mastery.select_question("Math", email).await.unwrap();
    for _ in 0..3 {
        mastery.answer_question("Math", email, "3").await.unwrap();
    }
    let again = mastery.take_quiz("Math", email).await.unwrap_err();
    assert!(matches!(again, MasteryError::AttemptUsed { ending: SessionEnding::Finished, .. }), "{again}");
    app.shutdown().await.unwrap();
}

/// A clock moved by hand: ahead of tokio's time, the Proctor has not woken yet when an answer
/// comes, so the session itself must refuse it.
struct HandClock(std::sync::atomic::AtomicU64);

impl mastery_boundary::Clock for HandClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[tokio::test(start_paused = true)]
async fn the_session_itself_refuses_an_answer_after_its_close_before_the_proctor_wakes() {
    let clock = Arc::new(HandClock(std::sync::atomic::AtomicU64::new(at(0).as_millis())));
    let store = Arc::new(MemoryStore::default());
    let config =
        MasteryConfig { clock: Arc::clone(&clock) as Arc<dyn mastery_boundary::Clock>, ..MasteryConfig::default() };
    let app = App::with_store(Arc::clone(&store) as Arc<dyn ResponseStore>, config);
    let mut quiz = one_plus_two_quiz(3);
    quiz.set_version("math-exam").set_exam(Some(timed(10)));
    app.mastery().install_quiz(quiz).await.unwrap();
    let mastery = app.mastery();
    let email = "hasty@example.com";
    mastery.take_quiz("Math", email).await.unwrap();
    mastery.select_question("Math", email).await.unwrap();
    clock.0.store(at(10).as_millis(), std::sync::atomic::Ordering::SeqCst);
    let refused = mastery.answer_question("Math", email, "3").await.unwrap_err();
    assert_eq!(
        refused,
        MasteryError::TimeUp { title: "Math".into(), email: email.into(), closed_at: at(10) },
        "{refused}"
    );
    assert!(refused.to_string().contains("2026-12-01T09:10:00Z"), "{refused}");
    assert!(store.responses("Math").await.unwrap().is_empty());
    assert_eq!(mastery.session_count(), 0, "the session ended with its refusal");
    assert_eq!(ending_of(&store, email).await, Some(SessionEnding::TimeUp));
    app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn practice_before_a_quiz_became_an_exam_does_not_use_up_its_one_attempt() {
    let (app, _store, _) = exam_app(Exam::default()).await;
    let mastery = app.mastery();
    let email = "practised@example.com";
    // An exam without a time limit or a window bounds nothing: a practice session.
    mastery.take_quiz("Math", email).await.unwrap();
    mastery.select_question("Math", email).await.unwrap();
    for _ in 0..3 {
        mastery.answer_question("Math", email, "3").await.unwrap();
    }
    let mut exam = one_plus_two_quiz(3);
    exam.set_version("math-exam").set_exam(Some(timed(30)));
    mastery.install_quiz(exam).await.unwrap();
    let taken = mastery.take_quiz("Math", email).await.unwrap();
    assert_eq!(taken.deadline.map(|deadline| deadline.due_at), Some(at(30)));
    app.shutdown().await.unwrap();
}
