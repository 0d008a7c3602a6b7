//! One test per bug of the book's system, named after the bug, so a fix cannot quietly regress.

use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mastery_boundary::{Mastery, MasteryConfig, MasteryError, ProctorEvent, QuizFields, Validator};
use mastery_core::{
    Checker, Generator, Quiz, QuizError, Response, SplitMix64, Template, TemplateError, Timestamp, Verdict,
};
use tests::*;
use tokio::time::Instant;

fn template(name: &str, category: &str) -> std::sync::Arc<Template> {
    let template = Template::builder(name)
        .category(category)
        .raw("{{x}}")
        .generator("x", Generator::list([1i64]))
        .checker(Checker::new(|_, answer| Ok(Verdict::from_bool(answer == "right"))))
        .build()
        .unwrap();
    std::sync::Arc::new(template)
}

#[test]
fn bug_mastering_crashes_when_the_category_holds_other_templates() {
    let mut quiz = Quiz::new("Two in one", 1).unwrap();
    for name in ["a", "b"] {
        quiz.add_template(template(name, "shared")).unwrap();
    }
    let mut rng = SplitMix64::new(1);
    while quiz.select_question(&mut rng).unwrap().is_some() {
        quiz.answer_question(Response::new(&quiz, EMAIL, "right", Timestamp::from_millis(0)).unwrap()).unwrap();
    }
    assert_eq!(quiz.mastered().count(), 2);
}

#[test]
fn bug_answering_before_selecting_crashes() {
    let quiz = one_plus_two_quiz(2);
    assert_eq!(Response::new(&quiz, EMAIL, "3", Timestamp::from_millis(0)).unwrap_err(), QuizError::NoCurrentQuestion);
}

#[test]
fn bug_a_placeholder_without_a_generator_fails_only_when_rendered() {
    let built = Template::builder("t")
        .category("c")
        .raw("{{missing}}")
        .checker(Checker::new(|_, _| Ok(Verdict::Correct)))
        .build();
    assert_eq!(built.unwrap_err(), TemplateError::UnknownPlaceholder { name: "missing".into() });
}

#[test]
fn bug_the_validators_lose_earlier_errors() {
    let problems = Validator::default()
        .quiz(&QuizFields { title: Some(" ".into()), mastery: Some(-2), ..QuizFields::default() })
        .unwrap_err();
    assert_eq!(problems.0.len(), 2, "{problems}");
}

#[test]
fn bug_the_checker_compares_decimal_strings() {
    let mut quiz = one_plus_two_quiz(2);
    quiz.select_question(&mut SplitMix64::new(1)).unwrap();
    for answer in ["03", "3.0", " 3 "] {
        assert!(Response::new(&quiz, EMAIL, answer, Timestamp::from_millis(0)).unwrap().correct(), "{answer}");
    }
}

#[tokio::test(start_paused = true)]
async fn bug_adding_a_template_to_an_unknown_quiz_crashes_the_manager_and_loses_every_quiz() {
    let mastery = Mastery::start(MasteryConfig::default());
    mastery.install_quiz(one_plus_two_quiz(2)).await.unwrap();
    let (_, templates) = one_plus_two_fields(2);
    assert_eq!(mastery.add_template("Nope", templates[0].clone()).await, Err(MasteryError::NoSuchQuiz("Nope".into())));
    assert!(mastery.lookup_quiz_by_title("Math").await.unwrap().is_some());
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn bug_the_proctor_notifies_started_before_the_quiz_exists() {
    let mastery = Mastery::start(MasteryConfig::default());
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let looked_up = mastery.clone();
    // The lookup runs inside the notification, so it sees the quiz as it is at that moment.
    let notify: mastery_boundary::Notify = std::sync::Arc::new(move |event| {
        if let ProctorEvent::Started { title } = &event {
            let mut lookup = std::pin::pin!(looked_up.lookup_quiz_by_title(title));
            let found = match lookup.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(found) => found.map(|quiz| quiz.is_some()).map_err(|e| e.to_string()),
                Poll::Pending => Err("the lookup did not answer at once".to_string()),
            };
            drop(sender.send(found));
        }
    });
    let now = Instant::now();
    mastery
        .schedule_built_quiz(
            one_plus_two_quiz(2),
            now + Duration::from_secs(1),
            now + Duration::from_secs(2),
            Some(notify),
        )
        .await
        .unwrap();
    assert_eq!(events.recv().await, Some(Ok(true)), "the quiz exists when started is notified");
    mastery.take_quiz("Math", EMAIL).await.expect("the quiz exists when started is heard");
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn bug_the_proctor_crashes_on_an_end_time_in_the_past() {
    let mastery = Mastery::start(MasteryConfig::default());
    let now = Instant::now();
    mastery.schedule_built_quiz(one_plus_two_quiz(2), now, now - Duration::from_secs(5), None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    mastery
        .schedule_built_quiz(one_plus_two_quiz(2), now, now + Duration::from_secs(5), None)
        .await
        .expect("the proctor lives");
    mastery.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn bug_the_proctor_only_starts_the_leading_run_of_an_unsorted_schedule() {
    let mastery = Mastery::start(MasteryConfig::default());
    let now = Instant::now();
    let titled = |title: &str| {
        let mut quiz = Quiz::new(title, 1).unwrap();
        quiz.add_template(template("t", "c")).unwrap();
        quiz
    };
    mastery
        .schedule_built_quiz(titled("Later"), now + Duration::from_secs(60), now + Duration::from_secs(90), None)
        .await
        .unwrap();
    mastery
        .schedule_built_quiz(titled("Soon"), now + Duration::from_secs(1), now + Duration::from_secs(90), None)
        .await
        .unwrap();
    mastery
        .schedule_built_quiz(titled("Sooner"), now + Duration::from_millis(10), now + Duration::from_secs(90), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mastery.lookup_quiz_by_title("Soon").await.unwrap().is_some());
    assert!(mastery.lookup_quiz_by_title("Sooner").await.unwrap().is_some());
    assert!(mastery.lookup_quiz_by_title("Later").await.unwrap().is_none());
    mastery.shutdown().await.unwrap();
}
