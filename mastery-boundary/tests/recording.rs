//! What a session tells its caller about an answer is what the port did with it: an answer
//! reported as refused is never stored, and one that is stored is always reported as answered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mastery_boundary::{FnPort, Mastery, MasteryConfig, MasteryError, Next, RecordFuture, ResponsePort, Withdrawal};
use mastery_core::{Checker, Generator, Quiz, Response, Template, Value, Verdict, checker, examples};

const EMAIL: &str = "learner@example.com";

/// How a [`SlowPort`] treats a withdrawal.
#[derive(Clone, Copy)]
enum OnWithdrawal {
    /// It was still waiting: the response is dropped, and the port says so.
    Drop,
    /// It had already committed to the write: the response is stored, and the port says so.
    StoreAnyway,
}

/// A port that keeps every response waiting until it is withdrawn.
#[derive(Clone)]
struct SlowPort {
    stored: Arc<Mutex<Vec<String>>>,
    on_withdrawal: OnWithdrawal,
}

impl SlowPort {
    fn new(on_withdrawal: OnWithdrawal) -> Self {
        SlowPort { stored: Arc::default(), on_withdrawal }
    }

    fn stored(&self) -> Vec<String> {
        self.stored.lock().unwrap().clone()
    }
}

impl ResponsePort for SlowPort {
    fn record(&self, _place: mastery_boundary::Place, _response: &Response) -> RecordFuture {
        Box::pin(std::future::pending())
    }

    fn record_withdrawable(
        &self,
        _place: mastery_boundary::Place,
        response: &Response,
        withdrawal: Withdrawal,
    ) -> RecordFuture {
        let (stored, answer, on_withdrawal) =
            (Arc::clone(&self.stored), response.answer().to_string(), self.on_withdrawal);
        Box::pin(async move {
            withdrawal.await;
            // The final word comes a little after the withdrawal, as a commit in flight would.
            tokio::time::sleep(Duration::from_millis(20)).await;
            match on_withdrawal {
                OnWithdrawal::Drop => Err("withdrawn".into()),
                OnWithdrawal::StoreAnyway => {
                    stored.lock().unwrap().push(answer);
                    Ok(())
                }
            }
        })
    }
}

fn config(port: impl ResponsePort) -> MasteryConfig {
    MasteryConfig {
        port_timeout: Duration::from_secs(2),
        call_timeout: Some(Duration::from_secs(5)),
        ..MasteryConfig::with_port(Arc::new(port))
    }
}

async fn math_session(mastery: &Mastery) -> i64 {
    mastery.install_quiz(examples::math_quiz()).await.unwrap();
    mastery.take_quiz_seeded("Math", EMAIL, 3).await.unwrap();
    let question = mastery.select_question("Math", EMAIL).await.unwrap().unwrap();
    question.asked().split(" + ").map(|term| term.parse::<i64>().unwrap()).sum()
}

#[tokio::test(start_paused = true)]
async fn an_answer_the_port_withdrew_is_refused_and_the_quiz_stays_put() {
    let port = SlowPort::new(OnWithdrawal::Drop);
    let mastery = Mastery::start(config(port.clone()));
    let sum = math_session(&mastery).await;
    let error = mastery.answer_question("Math", EMAIL, &sum.to_string()).await.unwrap_err();
    assert_eq!(error, MasteryError::NotRecorded("the store did not answer within 2s".into()));
    assert!(port.stored().is_empty());
    // The session is still there, on the same question.
    assert!(mastery.active_sessions_for("Math").contains(&EMAIL.to_string()));
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_answer_stored_after_its_time_ran_out_is_reported_as_answered() {
    let port = SlowPort::new(OnWithdrawal::StoreAnyway);
    let mastery = Mastery::start(config(port.clone()));
    let sum = math_session(&mastery).await;
    let answered = mastery.answer_question("Math", EMAIL, &sum.to_string()).await.unwrap();
    assert_eq!((answered.verdict, answered.streak), (Verdict::Correct, 1));
    assert_eq!(port.stored(), [sum.to_string()]);
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn when_the_callers_deadline_runs_out_first_the_record_is_withdrawn_too() {
    let port = SlowPort::new(OnWithdrawal::Drop);
    let config = MasteryConfig {
        call_timeout: Some(Duration::from_millis(100)),
        port_timeout: Duration::from_secs(60),
        ..config(port.clone())
    };
    let mastery = Mastery::start(config);
    let sum = math_session(&mastery).await;
    let error = mastery.answer_question("Math", EMAIL, &sum.to_string()).await.unwrap_err();
    assert!(matches!(error, MasteryError::Timeout { after, .. } if after == Duration::from_millis(100)), "{error}");
    assert!(port.stored().is_empty());
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_port_that_stays_silent_after_a_withdrawal_ends_the_session_rather_than_guess() {
    let silent = FnPort(|_: &Response| std::future::pending::<Result<(), mastery_boundary::RecordError>>());
    let mastery = Mastery::start(config(silent));
    let sum = math_session(&mastery).await;
    let error = mastery.answer_question("Math", EMAIL, &sum.to_string()).await.unwrap_err();
    let expected = MasteryError::RecordUnknown {
        title: "Math".into(),
        email: EMAIL.into(),
        waited: Duration::from_secs(2) + MasteryConfig::default().port_grace,
    };
    assert_eq!(error, expected);
    assert!(error.to_string().contains("it may have been stored"), "{error}");
    // Gone at once: whoever hears the error finds no session to go on with.
    assert!(mastery.active_sessions_for("Math").is_empty());
    let next = mastery.select_question("Math", EMAIL).await.unwrap_err();
    assert!(matches!(next, MasteryError::NoSession { .. }), "{next}");
    mastery.shutdown().await.unwrap();
}

/// A quiz whose one template draws fine on the first and third draws and fails on the others.
fn quiz_whose_second_draw_fails(draws: Arc<AtomicUsize>) -> Quiz {
    let flaky = Generator::function(move |_| match draws.fetch_add(1, Ordering::SeqCst) {
        0 | 2 => Ok(Value::Integer(1)),
        _ => Err("the generator failed".to_string()),
    });
    let template = Template::builder("one")
        .category("numbers")
        .raw("type {{n}}")
        .generator("n", flaky)
        .checker(Checker::new(|_, answer| Ok(checker::compare_integer(1, answer))))
        .build()
        .unwrap();
    let mut quiz = Quiz::new("Flaky", 3).unwrap();
    quiz.add_template(template).unwrap();
    quiz
}

#[tokio::test(start_paused = true)]
async fn a_stored_answer_is_reported_even_when_the_next_question_cannot_be_made() {
    let stored = Arc::new(Mutex::new(Vec::new()));
    let port = {
        let stored = Arc::clone(&stored);
        FnPort(move |response: &Response| {
            stored.lock().unwrap().push(response.answer().to_string());
            async { Ok(()) }
        })
    };
    let mastery = Mastery::start(config(port));
    let draws = Arc::new(AtomicUsize::new(0));
    mastery.install_quiz(quiz_whose_second_draw_fails(Arc::clone(&draws))).await.unwrap();
    mastery.take_quiz("Flaky", EMAIL).await.unwrap();
    mastery.select_question("Flaky", EMAIL).await.unwrap().unwrap();
    let answered = mastery.answer_question("Flaky", EMAIL, "1").await.unwrap();
    assert_eq!((answered.verdict, answered.streak), (Verdict::Correct, 1));
    assert!(
        matches!(&answered.next, Next::Failed(MasteryError::Quiz(error)) if error.to_string().contains("the generator failed")),
        "{:?}",
        answered.next
    );
    assert_eq!(*stored.lock().unwrap(), ["1"]);
    // The session goes on: asking again draws again, and the streak is kept.
    let question = mastery.select_question("Flaky", EMAIL).await.unwrap().unwrap();
    assert_eq!(question.asked(), "type 1");
    assert_eq!(mastery.answer_question("Flaky", EMAIL, "1").await.unwrap().streak, 2);
    mastery.shutdown().await.unwrap();
}
