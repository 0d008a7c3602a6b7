//! The boundary's workers through the `Mastery` API, in tokio's paused time.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mastery_boundary::{
    CheckerSpec, ChildSpec, FnPort, GeneratorSpec, Mastery, MasteryConfig, MasteryError, Next, ProctorEvent,
    QuizFields, RestartIntensity, Supervisor, SupervisorError, TemplateFields, ValueSpec,
};
use mastery_core::{Checker, Generator, Quiz, Response, Template, Verdict, examples};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

const EMAIL: &str = "mathy@example.com";

/// A port that keeps responses in memory, and can be told to fail.
#[derive(Clone, Default)]
struct MemoryPort {
    responses: Arc<Mutex<Vec<Response>>>,
    failing: Arc<AtomicBool>,
}

impl MemoryPort {
    fn config(&self) -> MasteryConfig {
        let port = self.clone();
        MasteryConfig::with_port(Arc::new(FnPort(move |response: &Response| {
            let outcome = if port.failing.load(Ordering::SeqCst) {
                Err("the store is down".into())
            } else {
                port.responses.lock().unwrap().push(response.clone());
                Ok(())
            };
            async move { outcome }
        })))
    }

    fn answers(&self) -> Vec<(String, String, bool)> {
        let responses = self.responses.lock().unwrap();
        responses.iter().map(|r| (r.email().to_string(), r.answer().to_string(), r.correct())).collect()
    }
}

/// Fields for the Math quiz whose template always asks "1 + 2".
fn one_plus_two_fields(mastery: i64) -> (QuizFields, Vec<TemplateFields>) {
    let template = TemplateFields {
        name: Some("single_digit_addition".into()),
        category: Some("addition".into()),
        raw: Some("{{left}} + {{right}}".into()),
        generators: Some(
            [
                ("left".into(), GeneratorSpec::List(vec![ValueSpec::Integer(1)])),
                ("right".into(), GeneratorSpec::List(vec![ValueSpec::Integer(2)])),
            ]
            .into(),
        ),
        checker: Some(CheckerSpec::Expect { expect: "left + right".into(), tolerance: None, case_sensitive: None }),
        ..TemplateFields::default()
    };
    (QuizFields::titled("Math").with_mastery(mastery), vec![template])
}

/// The Proctor's events as a notifier heard them.
struct Events(mpsc::UnboundedReceiver<Result<ProctorEvent, String>>);

impl Events {
    /// The next event; fails the test if what it promised was not so when it was notified.
    async fn recv(&mut self) -> ProctorEvent {
        match self.0.recv().await.expect("the proctor is still notifying") {
            Ok(event) => event,
            Err(broken) => panic!("{broken}"),
        }
    }
}

/// A notifier that checks, at the moment each event is notified, what the event promises — a
/// started quiz can be looked up, a stopped one is gone and has no session left — and forwards
/// the event, or what it found broken, into a channel.
fn events(mastery: &Mastery) -> (mastery_boundary::Notify, Events) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let mastery = mastery.clone();
    let notify = move |event: ProctorEvent| {
        let checked = match &event {
            ProctorEvent::Started { title } => match lookup_now(&mastery, title) {
                Ok(true) => Ok(event),
                Ok(false) => Err(format!("{title:?} was notified started but cannot be looked up yet")),
                Err(error) => Err(error),
            },
            ProctorEvent::Stopped { title, .. } => match lookup_now(&mastery, title) {
                Ok(true) => Err(format!("{title:?} was notified stopped but can still be looked up")),
                Ok(false) if !mastery.active_sessions_for(title).is_empty() => {
                    Err(format!("{title:?} was notified stopped with sessions still live"))
                }
                Ok(false) => Ok(event),
                Err(error) => Err(error),
            },
            other => Err(format!("a quiz's schedule heard of one session's deadline: {other:?}")),
        };
        drop(sender.send(checked));
    };
    (Arc::new(notify), Events(receiver))
}

/// Whether the quiz titled `title` can be looked up at this very moment: the lookup must answer
/// on its first poll, without waiting for any worker.
fn lookup_now(mastery: &Mastery, title: &str) -> Result<bool, String> {
    let mut lookup = std::pin::pin!(mastery.lookup_quiz_by_title(title));
    match lookup.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(found)) => Ok(found.is_some()),
        Poll::Ready(Err(error)) => Err(format!("looking {title:?} up failed: {error}")),
        Poll::Pending => Err(format!("looking {title:?} up did not answer at once")),
    }
}

#[tokio::test(start_paused = true)]
async fn a_quiz_can_be_scheduled() {
    let mastery = Mastery::start(MasteryConfig::default());
    let (fields, templates) = one_plus_two_fields(2);
    let (notify, mut events) = events(&mastery);
    let now = Instant::now();
    mastery
        .schedule_quiz(
            fields,
            templates,
            now + Duration::from_millis(50),
            now + Duration::from_millis(100),
            Some(notify),
        )
        .await
        .unwrap();
    assert_eq!(mastery.take_quiz("Math", EMAIL).await, Err(MasteryError::NoSuchQuiz("Math".into())));

    assert_eq!(events.recv().await, ProctorEvent::Started { title: "Math".into() });
    assert!(Instant::now() >= now + Duration::from_millis(50));
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    assert_eq!(mastery.active_sessions_for("Math"), [EMAIL]);

    assert_eq!(events.recv().await, ProctorEvent::Stopped { title: "Math".into(), sessions_ended: 1 });
    assert!(mastery.active_sessions_for("Math").is_empty());
    assert_eq!(mastery.lookup_quiz_by_title("Math").await.unwrap().map(|q| q.title().to_string()), None);
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn take_a_quiz_manage_the_lifecycle_and_persist_responses() {
    let store = MemoryPort::default();
    let mastery = Mastery::start(store.config());
    let (fields, templates) = one_plus_two_fields(2);
    let now = Instant::now();
    mastery.schedule_quiz(fields, templates, now, now + Duration::from_secs(60), None).await.unwrap();
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    let question = mastery.select_question("Math", EMAIL).await.unwrap().unwrap();
    assert_eq!(question.asked(), "1 + 2");

    let answer = |text: &'static str| {
        let mastery = mastery.clone();
        async move { mastery.answer_question("Math", EMAIL, text).await.unwrap() }
    };
    let wrong = answer("wrong").await;
    assert_eq!(wrong.verdict.kind(), "invalid");
    let wrong = answer("2").await;
    assert!(matches!((&wrong.verdict, &wrong.next), (Verdict::Incorrect, Next::Question(q)) if q.asked() == "1 + 2"));
    let right = answer("3").await;
    assert!(matches!((&right.verdict, &right.next), (Verdict::Correct, Next::Question(q)) if q.asked() == "1 + 2"));
    assert_eq!(store.answers().len(), 3);
    let last = answer("3").await;
    assert!(last.mastered && matches!(last.next, Next::Finished));
    assert_eq!(last.streak, 2);
    assert_eq!(
        store.answers().iter().map(|(_, a, c)| (a.as_str(), *c)).collect::<Vec<_>>(),
        [("wrong", false), ("2", false), ("3", true), ("3", true)]
    );
    assert!(mastery.active_sessions_for("Math").is_empty());
    let gone = mastery.select_question("Math", EMAIL).await.unwrap_err();
    assert_eq!(gone, MasteryError::NoSession { title: "Math".into(), email: EMAIL.into() });
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_quiz_scheduled_to_start_now_is_available_when_scheduling_returns() {
    let mastery = Mastery::start(MasteryConfig::default());
    let now = Instant::now();
    mastery.schedule_built_quiz(examples::math_quiz(), now, now + Duration::from_secs(1), None).await.unwrap();
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_end_time_in_the_past_is_clamped_not_a_crash() {
    let mastery = Mastery::start(MasteryConfig::default());
    let (notify, mut events) = events(&mastery);
    let now = Instant::now();
    mastery.schedule_built_quiz(examples::math_quiz(), now, now - Duration::from_secs(60), Some(notify)).await.unwrap();
    assert_eq!(events.recv().await, ProctorEvent::Started { title: "Math".into() });
    assert_eq!(events.recv().await, ProctorEvent::Stopped { title: "Math".into(), sessions_ended: 0 });
    assert_eq!(Instant::now(), now, "closed at once, at its start");
    // The Proctor is still serving.
    mastery.schedule_built_quiz(examples::math_quiz(), now, now + Duration::from_secs(1), None).await.unwrap();
    assert!(mastery.lookup_quiz_by_title("Math").await.unwrap().is_some());
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn taking_twice_is_already_started_and_an_unknown_title_is_no_such_quiz() {
    let mastery = Mastery::start(MasteryConfig::default());
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    mastery.take_quiz("Math", EMAIL).await.unwrap();
    assert_eq!(
        mastery.take_quiz("Math", EMAIL).await,
        Err(MasteryError::AlreadyStarted { title: "Math".into(), email: EMAIL.into() })
    );
    assert_eq!(mastery.take_quiz("Nope", EMAIL).await, Err(MasteryError::NoSuchQuiz("Nope".into())));
    let invalid = mastery.take_quiz("Math", "not an email").await.unwrap_err();
    assert_eq!(
        invalid.to_string(),
        "invalid input: email: email must not contain spaces or control characters, got \"not an email\""
    );
    assert!(matches!(
        mastery.answer_question("Math", EMAIL, "3").await,
        Err(MasteryError::Quiz(mastery_core::QuizError::NoCurrentQuestion))
    ));
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn adding_a_template_to_an_unknown_quiz_is_an_error_and_the_manager_keeps_every_quiz() {
    let mastery = Mastery::start(MasteryConfig::default());
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    let (_, templates) = one_plus_two_fields(2);
    assert_eq!(mastery.add_template("Nope", templates[0].clone()).await, Err(MasteryError::NoSuchQuiz("Nope".into())));
    assert!(mastery.lookup_quiz_by_title("Math").await.unwrap().is_some());
    let invalid =
        mastery.build_quiz(QuizFields { title: None, mastery: Some(0), ..QuizFields::default() }).await.unwrap_err();
    assert_eq!(
        invalid.to_string(),
        "invalid input: title: title is required; mastery: mastery must be at least 1, got 0"
    );
    mastery.shutdown().await.unwrap();
}

fn panicking_quiz() -> Quiz {
    let template = Template::builder("boom")
        .category("c")
        .raw("{{x}}")
        .generator("x", Generator::list([1i64]))
        .checker(Checker::new(|_, answer| if answer == "panic" { panic!("checker bug") } else { Ok(Verdict::Correct) }))
        .build()
        .unwrap();
    let mut quiz = Quiz::new("Fragile", 5).unwrap();
    quiz.add_template(template).unwrap();
    quiz
}

#[tokio::test(start_paused = true)]
async fn a_panicking_checker_kills_only_its_session() {
    let mastery = Mastery::start(MasteryConfig::default());
    mastery.install_quiz(panicking_quiz()).await.unwrap();
    for email in ["a@example.com", "b@example.com"] {
        mastery.take_quiz("Fragile", email).await.unwrap();
        mastery.select_question("Fragile", email).await.unwrap();
    }
    let crashed = mastery.answer_question("Fragile", "a@example.com", "panic").await.unwrap_err();
    assert_eq!(crashed, MasteryError::SessionStopped { title: "Fragile".into(), email: "a@example.com".into() });
    tokio::task::yield_now().await;
    assert_eq!(mastery.active_sessions_for("Fragile"), ["b@example.com"]);
    let fine = mastery.answer_question("Fragile", "b@example.com", "ok").await.unwrap();
    assert_eq!(fine.verdict, Verdict::Correct);
    // The crashed learner can start again.
    mastery.take_quiz("Fragile", "a@example.com").await.unwrap();
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failing_port_rejects_the_answer_and_leaves_the_quiz_where_it_was() {
    let store = MemoryPort::default();
    let mastery = Mastery::start(store.config());
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    mastery.take_quiz_seeded("Math", EMAIL, 3).await.unwrap();
    let question = mastery.select_question("Math", EMAIL).await.unwrap().unwrap();
    let sum: i64 = question.asked().split(" + ").map(|term| term.parse::<i64>().unwrap()).sum();
    store.failing.store(true, Ordering::SeqCst);
    let refused = mastery.answer_question("Math", EMAIL, &sum.to_string()).await.unwrap_err();
    assert_eq!(refused, MasteryError::NotRecorded("the store is down".into()));
    store.failing.store(false, Ordering::SeqCst);
    // The same question is still current, and its streak did not move.
    let answered = mastery.answer_question("Math", EMAIL, &sum.to_string()).await.unwrap();
    assert!(answered.question.is_same_question(&question));
    assert_eq!((answered.streak, store.answers().len()), (1, 1));
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn many_quizzes_at_overlapping_times_start_and_stop_in_order() {
    let mastery = Mastery::start(MasteryConfig::default());
    let (notify, mut events) = events(&mastery);
    let now = Instant::now();
    // (title, start ms, end ms), scheduled out of order.
    let plan = [("C", 30, 60), ("A", 10, 50), ("B", 20, 40), ("D", 30, 35)];
    for (title, start, end) in plan {
        let mut quiz = Quiz::new(title, 1).unwrap();
        quiz.add_template(examples::single_digit_addition()).unwrap();
        let at = |ms| now + Duration::from_millis(ms);
        mastery.schedule_built_quiz(quiz, at(start), at(end), Some(Arc::clone(&notify))).await.unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 8 {
        let event = events.recv().await;
        let elapsed = Instant::now().duration_since(now).as_millis();
        seen.push(match event {
            ProctorEvent::Started { title } => format!("+{title}@{elapsed}"),
            ProctorEvent::Stopped { title, .. } => format!("-{title}@{elapsed}"),
            other => format!("unexpected {other:?}"),
        });
    }
    assert_eq!(seen, ["+A@10", "+B@20", "+C@30", "+D@30", "-D@35", "-B@40", "-A@50", "-C@60"]);
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn end_sessions_ends_exactly_the_named_sessions() {
    let mastery = Mastery::start(MasteryConfig::default());
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    for email in ["a@x.org", "b@x.org", "c@x.org"] {
        mastery.take_quiz("Math", email).await.unwrap();
    }
    let ended = mastery.end_sessions(&[("Math".into(), "b@x.org".into()), ("Math".into(), "nobody@x.org".into())]);
    assert_eq!(ended, 1);
    assert_eq!(mastery.active_sessions_for("Math"), ["a@x.org", "c@x.org"]);
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_leaves_no_task_running() {
    let mastery = Mastery::start(MasteryConfig::default());
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    for n in 0..50 {
        mastery.take_quiz("Math", &format!("learner{n}@example.com")).await.unwrap();
    }
    assert_eq!(mastery.running_session_tasks(), 50);
    mastery.shutdown().await.unwrap();
    assert_eq!(mastery.running_session_tasks(), 0);
    assert_eq!(mastery.session_count(), 0);
    assert_eq!(mastery.take_quiz("Math", EMAIL).await, Err(MasteryError::ShutDown));
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_keeps_failing_trips_the_restart_limit() {
    let starts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&starts);
    let failing = ChildSpec::new("flaky", move |_cancel| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { panic!("always fails") }
    });
    let steady =
        ChildSpec::new("steady", |cancel: tokio_util::sync::CancellationToken| async move { cancel.cancelled().await });
    let intensity = RestartIntensity { max_restarts: 3, within: Duration::from_secs(5) };
    let mut supervisor = Supervisor::start(vec![steady, failing], intensity);
    let outcome = supervisor.wait().await;
    assert_eq!(
        outcome,
        Err(SupervisorError::TooManyRestarts { child: "flaky", max_restarts: 3, within: Duration::from_secs(5) })
    );
    assert_eq!(starts.load(Ordering::SeqCst), 4, "the first start and three restarts");
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_fails_now_and_then_is_restarted() {
    let starts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&starts);
    let child = ChildSpec::new("sometimes", move |cancel: tokio_util::sync::CancellationToken| {
        let run = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            sleep(Duration::from_secs(10)).await;
            if run < 2 {
                panic!("transient failure");
            }
            cancel.cancelled().await;
        }
    });
    let supervisor = Supervisor::start(vec![child], RestartIntensity::default());
    sleep(Duration::from_secs(35)).await;
    assert_eq!(starts.load(Ordering::SeqCst), 3);
    assert!(!supervisor.is_finished());
    assert_eq!(supervisor.shutdown().await, Ok(()));
}
