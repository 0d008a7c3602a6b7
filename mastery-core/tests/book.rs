//! The book's core tests (1–10) and the behaviour they imply, through the public API.

mod builders;

use builders::*;
use mastery_core::{Generator, QuizError, Response, Segment, Timestamp, Value, Verdict};
use std::collections::HashSet;
use std::time::SystemTime;

#[test]
fn building_a_template_compiles_its_raw_text() {
    let template = template_fields().build();
    assert_eq!(template.compiled(), &[Segment::Placeholder(0), Segment::Text(" + ".into()), Segment::Placeholder(1)]);
}

#[test]
fn a_question_draws_substitutions_from_the_generators_in_order() {
    let mut quiz = one_plus_two_quiz(2);
    let question = quiz.select_question(&mut rng()).unwrap().unwrap();
    let substitutions: Vec<(String, Value)> =
        question.substitutions().iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    assert_eq!(substitutions, [("left".to_string(), int(1)), ("right".to_string(), int(2))]);
}

#[test]
fn a_function_generator_is_called_and_its_value_used() {
    let template = template_fields()
        .with_generators(vec![("left", Generator::function(|_| Ok(int(42)))), ("right", Generator::list([0i64]))])
        .build();
    let question = mastery_core::Question::new(&template, &mut rng()).unwrap();
    assert_eq!(question.substitutions().get("left"), Some(&int(42)));
    assert_eq!(question.asked(), "42 + 0");
}

#[test]
fn the_asked_text_is_rendered() {
    let mut quiz = one_plus_two_quiz(2);
    assert_eq!(quiz.select_question(&mut rng()).unwrap().unwrap().asked(), "1 + 2");
}

#[test]
fn a_list_generator_draws_every_element_eventually() {
    let template = template_fields()
        .with_generators(vec![("left", Generator::list(1i64..=9)), ("right", Generator::list([0i64]))])
        .build();
    let mut rng = rng();
    let seen: HashSet<i64> = (0..1_000)
        .map(|_| mastery_core::Question::new(&template, &mut rng).unwrap())
        .map(|q| q.substitutions().get("left").and_then(Value::as_integer).unwrap())
        .collect();
    assert!(seen.contains(&1) && seen.contains(&9), "{seen:?}");
    assert!(!seen.contains(&15));
}

#[test]
fn with_two_templates_selection_eventually_picks_both() {
    let mut quiz = build_quiz_with_two_templates(quiz_fields());
    let mut rng = rng();
    let picked: HashSet<String> =
        (0..20).map(|_| quiz.select_question(&mut rng).unwrap().unwrap().template().name().to_string()).collect();
    assert_eq!(picked.len(), 2, "{picked:?}");
}

#[test]
fn templates_are_unique_until_the_cycle_repeats() {
    let mut quiz = build_quiz_with_two_templates(quiz_fields());
    let mut rng = rng();
    let mut next = || quiz.select_question(&mut rng).unwrap().unwrap().template().name().to_string();
    let (first, second, third) = (next(), next(), next());
    assert_ne!(first, second);
    assert!(third == first || third == second);
}

#[test]
fn a_wrong_answer_resets_mastery() {
    let mut quiz = one_plus_two_quiz(2);
    let mut rng = rng();
    for answer in ["3", "2", "3", "3"] {
        assert!(quiz.select_question(&mut rng).unwrap().is_some(), "a question before answering {answer}");
        let response = respond(&quiz, answer);
        quiz.answer_question(response).unwrap();
    }
    assert!(quiz.select_question(&mut rng).unwrap().is_none());
    assert!(quiz.is_finished());
}

#[test]
fn responses_are_checked() {
    let mut quiz = one_plus_two_quiz(2);
    quiz.select_question(&mut rng()).unwrap();
    assert!(respond(&quiz, "3").correct());
    assert!(!respond(&quiz, "2").correct());
    assert_eq!(respond(&quiz, "2").verdict(), &Verdict::Incorrect);
}

#[test]
fn a_response_carries_the_timestamp_it_was_given() {
    let mut quiz = one_plus_two_quiz(2);
    quiz.select_question(&mut rng()).unwrap();
    let now = Timestamp::from(SystemTime::now());
    let response = Response::new(&quiz, EMAIL, "3", now).unwrap();
    assert_eq!(response.timestamp(), now);
    assert!(response.timestamp() <= Timestamp::from(SystemTime::now()));
    assert_eq!(
        (response.quiz_title(), response.template_name(), response.to()),
        ("Simple addition", "single_digit_addition", "1 + 2")
    );
    assert_eq!((response.email(), response.answer()), (EMAIL, "3"));
}

// ---- implied by the book ----

#[test]
fn selecting_from_an_empty_quiz_gives_nothing() {
    let mut quiz = quiz_fields().build();
    assert!(quiz.select_question(&mut rng()).unwrap().is_none());
    assert!(quiz.is_finished());
}

#[test]
fn answering_before_selecting_is_an_error_not_a_crash() {
    let quiz = one_plus_two_quiz(2);
    let error = Response::new(&quiz, EMAIL, "3", Timestamp::from_millis(0)).unwrap_err();
    assert_eq!(error, QuizError::NoCurrentQuestion);
}

#[test]
fn an_all_correct_math_run_ends_after_exactly_mastery_answers() {
    let mut quiz = mastery_core::examples::math_quiz();
    let mut rng = rng();
    let mut answers = 0;
    while quiz.select_question(&mut rng).unwrap().is_some() {
        let response = respond(&quiz, &right_sum(&quiz));
        quiz.answer_question(response).unwrap();
        answers += 1;
    }
    assert_eq!(answers, quiz.mastery());
}

#[test]
fn mastering_a_template_whose_category_holds_others_does_not_crash() {
    // The book's bug: mastering removed the template from a list it assumed it was in.
    let mut quiz = quiz_fields().with_mastery(1).with_templates([
        scripted_template("a", "one"),
        scripted_template("b", "one"),
        scripted_template("c", "two"),
    ]);
    let mut rng = rng();
    let mut mastered = Vec::new();
    while quiz.select_question(&mut rng).unwrap().is_some() {
        let outcome = quiz.answer_question(respond(&quiz, "right")).unwrap();
        assert!(outcome.mastered);
        mastered.push(quiz.last_response().unwrap().template_name().to_string());
    }
    mastered.sort();
    assert_eq!(mastered, ["a", "b", "c"]);
}

#[test]
fn an_invalid_answer_keeps_the_question_and_the_streak() {
    let mut quiz = one_plus_two_quiz(2);
    let mut rng = rng();
    quiz.select_question(&mut rng).unwrap();
    quiz.answer_question(respond(&quiz, "3")).unwrap();
    quiz.select_question(&mut rng).unwrap();
    let asked_before = quiz.current_question().unwrap().clone();
    let outcome = quiz.answer_question(respond(&quiz, "l2")).unwrap();
    assert_eq!(outcome.streak, 1);
    assert!(std::sync::Arc::ptr_eq(quiz.current_question().unwrap(), &asked_before));
    assert_eq!(quiz.streak("single_digit_addition"), Some(1));
    assert_eq!(
        quiz.answer_question(respond(&quiz, "3")).unwrap(),
        mastery_core::AnswerOutcome { streak: 2, mastered: true }
    );
}

#[test]
fn a_decisive_answer_uses_the_question_up() {
    let mut quiz = one_plus_two_quiz(3);
    quiz.select_question(&mut rng()).unwrap();
    let response = respond(&quiz, "3");
    quiz.answer_question(response.clone()).unwrap();
    assert_eq!(quiz.answer_question(response).unwrap_err(), QuizError::NoCurrentQuestion);
}

#[test]
fn a_response_to_an_abandoned_question_is_stale() {
    let mut quiz = build_quiz_with_two_templates(quiz_fields());
    let mut rng = rng();
    quiz.select_question(&mut rng).unwrap();
    let stale = respond(&quiz, "0");
    quiz.select_question(&mut rng).unwrap();
    assert!(matches!(quiz.answer_question(stale), Err(QuizError::StaleResponse { .. })));
}

#[test]
fn the_same_seed_and_answers_give_the_same_questions() {
    let run = |seed| {
        let mut quiz = mastery_core::examples::arithmetic_quiz();
        let mut rng = mastery_core::SplitMix64::new(seed);
        let mut asked = Vec::new();
        let mut turn = 0;
        while let Some(question) = quiz.select_question(&mut rng).unwrap() {
            asked.push(question.asked().to_string());
            // Alternate wrong and invalid answers with right ones so every path is exercised.
            let answer = match turn % 4 {
                0 => "nonsense".to_string(),
                1 => "-100".to_string(),
                _ => expected(&quiz),
            };
            quiz.answer_question(respond(&quiz, &answer)).unwrap();
            turn += 1;
        }
        asked
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

fn expected(quiz: &mastery_core::Quiz) -> String {
    let question = quiz.current_question().unwrap();
    let subs = question.substitutions();
    let (left, right) =
        (subs.get("left").unwrap().as_integer().unwrap(), subs.get("right").unwrap().as_integer().unwrap());
    let value = match question.template().category() {
        "addition" => left + right,
        "subtraction" => left - right,
        _ => left * right,
    };
    value.to_string()
}

#[test]
fn quiz_and_template_errors_name_the_value() {
    assert_eq!(mastery_core::Quiz::new("Math", 0).unwrap_err().to_string(), "mastery must be at least 1, got 0");
    assert_eq!(mastery_core::Quiz::new("  ", 1).unwrap_err(), QuizError::BlankTitle);
    let mut quiz = one_plus_two_quiz(1);
    let error = quiz.add_template(one_plus_two()).unwrap_err();
    assert_eq!(error.to_string(), "template \"single_digit_addition\" is already in the quiz");
}

#[test]
fn a_failing_generator_leaves_the_quiz_unchanged() {
    let failing = template_fields()
        .with_generators(vec![
            ("left", Generator::function(|_| Err("out of operations".into()))),
            ("right", Generator::list([1i64])),
        ])
        .build();
    let mut quiz = quiz_fields().with_templates([failing]);
    let error = quiz.select_question(&mut rng()).unwrap_err();
    assert_eq!(error.to_string(), "generator \"left\" of template \"single_digit_addition\" failed: out of operations");
    assert_eq!(quiz.categories().map(|(_, names)| names.len()).sum::<usize>(), 1);
    assert_eq!(quiz.used().count(), 0);
}
