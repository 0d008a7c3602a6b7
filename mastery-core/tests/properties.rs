//! The quiz's rules stated as properties over random quizzes and random answer sequences.

mod builders;

use std::collections::HashSet;

use builders::*;
use mastery_core::{Generator, Quiz, SplitMix64};
use proptest::prelude::*;

/// A quiz of `categories.len()` scripted templates, template `i` in category `categories[i]`.
fn scripted_quiz(mastery: u32, categories: &[u8]) -> Quiz {
    let templates = categories.iter().enumerate().map(|(i, c)| scripted_template(&format!("t{i}"), &format!("c{c}")));
    quiz_fields().with_mastery(mastery).with_templates(templates)
}

/// Every non-mastered template is in exactly one category list or `used`; mastered ones in none.
fn assert_each_template_in_one_place(quiz: &Quiz) {
    let mut places: Vec<&str> = quiz.used().collect();
    let in_categories: Vec<Vec<&str>> = quiz.categories().map(|(_, names)| names).collect();
    places.extend(in_categories.iter().flatten());
    let mastered: HashSet<&str> = quiz.mastered().collect();
    for template in quiz.templates() {
        let count = places.iter().filter(|&&name| name == template.name()).count();
        let expected = usize::from(!mastered.contains(template.name()));
        assert_eq!(count, expected, "template {} is in {count} places", template.name());
    }
}

fn answer_word(kind: u8) -> &'static str {
    ["right", "wrong", "huh"][usize::from(kind % 3)]
}

proptest! {
    #[test]
    fn within_a_cycle_no_template_repeats(categories in prop::collection::vec(0u8..4, 1..12), seed: u64) {
        let mut quiz = scripted_quiz(3, &categories);
        let mut rng = SplitMix64::new(seed);
        for _cycle in 0..3 {
            let mut seen = HashSet::new();
            for _ in 0..categories.len() {
                let name = quiz.select_question(&mut rng).unwrap().unwrap().template().name().to_string();
                prop_assert!(seen.insert(name.clone()), "{} repeated within a cycle", name);
                quiz.answer_question(respond(&quiz, "wrong")).unwrap();
            }
        }
    }

    #[test]
    fn every_unmastered_template_is_in_exactly_one_place(
        categories in prop::collection::vec(0u8..4, 1..10),
        answers in prop::collection::vec(0u8..3, 0..80),
        mastery in 1u32..4,
        seed: u64,
    ) {
        let mut quiz = scripted_quiz(mastery, &categories);
        let mut rng = SplitMix64::new(seed);
        assert_each_template_in_one_place(&quiz);
        for kind in answers {
            if quiz.current_question().is_none() && quiz.select_question(&mut rng).unwrap().is_none() {
                break;
            }
            assert_each_template_in_one_place(&quiz);
            quiz.answer_question(respond(&quiz, answer_word(kind))).unwrap();
            assert_each_template_in_one_place(&quiz);
        }
    }

    #[test]
    fn a_template_is_mastered_exactly_after_mastery_right_answers_in_a_row(
        answers in prop::collection::vec(0u8..3, 1..60),
        mastery in 1u32..5,
        seed: u64,
    ) {
        let mut quiz = scripted_quiz(mastery, &[0]);
        let mut rng = SplitMix64::new(seed);
        let mut model_streak = 0;
        for kind in answers {
            if quiz.current_question().is_none() && quiz.select_question(&mut rng).unwrap().is_none() {
                break;
            }
            let word = answer_word(kind);
            match word {
                "right" => model_streak += 1,
                "wrong" => model_streak = 0,
                _ => {}
            }
            let outcome = quiz.answer_question(respond(&quiz, word)).unwrap();
            prop_assert_eq!(outcome.mastered, model_streak == mastery);
            prop_assert_eq!(outcome.streak, model_streak);
            prop_assert_eq!(quiz.mastered().count(), usize::from(model_streak == mastery));
        }
    }

    #[test]
    fn an_all_correct_run_finishes_after_mastery_times_templates_answers(
        categories in prop::collection::vec(0u8..5, 1..15),
        mastery in 1u32..5,
        seed: u64,
    ) {
        let mut quiz = scripted_quiz(mastery, &categories);
        let mut rng = SplitMix64::new(seed);
        let mut answers = 0usize;
        while quiz.select_question(&mut rng).unwrap().is_some() {
            quiz.answer_question(respond(&quiz, "right")).unwrap();
            answers += 1;
        }
        prop_assert_eq!(answers, mastery as usize * categories.len());
        prop_assert_eq!(quiz.mastered().count(), categories.len());
    }

    #[test]
    fn invalid_answers_never_change_a_streak(
        categories in prop::collection::vec(0u8..3, 1..6),
        answers in prop::collection::vec(0u8..3, 0..60),
        seed: u64,
    ) {
        let mut quiz = scripted_quiz(4, &categories);
        let mut rng = SplitMix64::new(seed);
        for kind in answers {
            if quiz.current_question().is_none() && quiz.select_question(&mut rng).unwrap().is_none() {
                break;
            }
            let before: Vec<(String, u32)> = quiz.record().map(|(n, s)| (n.to_string(), s)).collect();
            let word = answer_word(kind);
            quiz.answer_question(respond(&quiz, word)).unwrap();
            if word == "huh" {
                let after: Vec<(String, u32)> = quiz.record().map(|(n, s)| (n.to_string(), s)).collect();
                prop_assert_eq!(before, after);
                prop_assert!(quiz.current_question().is_some());
            }
        }
    }

    #[test]
    fn rendering_never_leaves_a_placeholder(
        pieces in prop::collection::vec(("[ +=?.,]{0,6}", 0usize..3, 0u8..3), 0..8),
        seed: u64,
    ) {
        let names = ["alpha", "beta", "gamma"];
        let raw: String = pieces
            .iter()
            .map(|(text, name, spaces)| format!("{text}{{{{{pad}{}{pad}}}}}", names[*name], pad = " ".repeat(usize::from(*spaces))))
            .collect::<String>() + "?";
        let template = template_fields()
            .with_raw(&raw)
            .with_generators(vec![
                ("alpha", Generator::range(-5, 5)),
                ("beta", Generator::list(["x", "y"])),
                ("gamma", Generator::range(100, 200)),
            ])
            .build();
        let question = mastery_core::Question::new(&template, &mut SplitMix64::new(seed)).unwrap();
        prop_assert!(!question.asked().contains("{{"), "{}", question.asked());
        prop_assert!(!names.iter().any(|n| question.asked().contains(n)));
    }
}
