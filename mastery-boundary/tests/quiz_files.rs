//! Quiz files: every rule and limit, each reported with its field, line and message.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mastery_boundary::{Limits, Scripts, Validator, check_quiz_file, load_quiz_file, parse_quiz_text};
use mastery_core::{Checker, Generator, Response, SplitMix64, Template, Timestamp, Verdict};
use proptest::prelude::*;

fn testdata(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)
}

/// The problems in `text`, one `LINE:COL: field: message` string each.
fn problems(text: &str) -> Vec<String> {
    problems_with(text, &Validator::default())
}

fn problems_with(text: &str, validator: &Validator) -> Vec<String> {
    let found = parse_quiz_text("quiz.toml", text, validator).expect_err("the text has problems");
    found.0.iter().map(|p| p.to_string().trim_start_matches("quiz.toml:").to_string()).collect()
}

const TEMPLATE: &str = r#"
[[templates]]
name = "sum"
category = "addition"
raw = "{{left}} + {{right}}"
generators = { left = { range = [0, 9] }, right = [1, 2] }
checker = { expect = "left + right" }
"#;

#[test]
fn the_design_example_loads_and_judges_answers() {
    let file = load_quiz_file(&testdata("arithmetic.toml"), &Validator::default()).unwrap();
    let mut quiz = file.valid.quiz;
    assert_eq!((quiz.title(), quiz.mastery()), ("Arithmetic", 3));
    let question = quiz.select_question(&mut SplitMix64::new(3)).unwrap().unwrap();
    let sum: i64 = question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum();
    let judge = |answer: &str| {
        Response::new(&quiz, "a@example.com", answer, Timestamp::from_millis(0)).unwrap().verdict().clone()
    };
    assert_eq!(judge(&sum.to_string()), Verdict::Correct);
    assert_eq!(judge(&format!(" {sum}.0 ")), Verdict::Correct);
    assert_eq!(judge(&(sum + 1).to_string()), Verdict::Incorrect);
    assert_eq!(judge("l2"), Verdict::Invalid("expected a number, got \"l2\"".into()));
}

#[test]
fn every_problem_in_a_file_is_reported_at_once_with_its_location() {
    let found = load_quiz_file(&testdata("many_problems.toml"), &Validator::default()).unwrap_err();
    let file = testdata("many_problems.toml").display().to_string();
    let lines: Vec<String> = found.0.iter().map(|p| p.to_string().replace(&file, "F")).collect();
    assert_eq!(
        lines,
        [
            r#"F:1:1: titel: unknown key "titel" (did you mean "title"?)"#,
            "F:1:1: title: title is required",
            "F:2:11: mastery: mastery must be at least 1, got 0",
            "F:6:12: templates[0].category: category must not be blank",
            r#"F:7:7: templates[0].raw: placeholder {{ middle }} has no generator named "middle""#,
            r#"F:8:23: templates[0].generators.left: generator "left" has an empty list"#,
            "F:8:35: templates[0].generators.right: range [9, 1] has its low end above its high end",
            r#"F:8:35: templates[0].generators.right: warning: generator "right" is not used by any placeholder"#,
            // Past the end of `left +`: at the string's closing quote.
            "F:9:29: templates[0].checker.expect: script does not compile: script is incomplete",
            "F:11:1: templates[1].checker: checker is required",
            r#"F:12:8: templates[1].name: template name "sum" is used more than once"#,
            "F:14:7: templates[1].raw: placeholder opened at byte 0 is never closed with }}",
            "F:18:8: templates[2].name: name must be text, got integer 7",
            "F:21:31: templates[2].generators.a[2]: a[2] must be an integer or text, got float",
            "F:22:39: templates[2].checker.tolerance: tolerance must be a finite number at least 0, got -1",
            r#"F:23:1: templates[2].extra: unknown key "extra""#,
        ]
    );
}

#[test]
fn a_toml_syntax_error_is_reported_once_at_the_first_place_the_parser_lost_its_way() {
    let found = load_quiz_file(&testdata("syntax.toml"), &Validator::default()).unwrap_err();
    let positions: Vec<(usize, usize, &str)> = found.0.iter().map(|p| (p.line, p.column, p.field.as_str())).collect();
    assert_eq!(positions, [(1, 16, "toml")]);
    // A missing `]` used to read as eleven errors, as the parser guessed its way through the rest.
    let file = testdata("missing_bracket.toml");
    let found = load_quiz_file(&file, &Validator::default()).unwrap_err();
    let lines: Vec<String> = found.0.iter().map(|p| p.to_string().replace(&file.display().to_string(), "F")).collect();
    assert_eq!(lines, ["F:7:33: toml: string values must be quoted, expected literal string"]);
}

#[test]
fn one_cause_gives_one_problem() {
    let file = testdata("one_cause.toml");
    let found = load_quiz_file(&file, &Validator::default()).unwrap_err();
    let lines: Vec<String> = found.0.iter().map(|p| p.to_string().replace(&file.display().to_string(), "F")).collect();
    assert_eq!(
        lines,
        [
            // Not also "placeholder {{ left }} has no generator named \"left\"", nor for `right`.
            r#"F:7:23: templates[0].generators.left: left must be a list of values, { range = [lo, hi] } or { script = "..." }, got integer 5"#,
            "F:7:44: templates[0].generators.right.range: range must be two integers [lo, hi]",
            // Not also "a checker needs expect or script", nor "checker is required".
            "F:15:22: templates[1].checker.expect: expect must be text, got integer 5",
        ]
    );
}

#[test]
fn a_script_s_mistake_is_located_at_its_character_in_the_file() {
    let file = testdata("script_positions.toml");
    let found = load_quiz_file(&file, &Validator::default()).unwrap_err();
    let lines: Vec<String> = found.0.iter().map(|p| p.to_string().replace(&file.display().to_string(), "F")).collect();
    assert_eq!(
        lines,
        [
            // `"left + right +"` opens at column 22: the script's column 15 is the file's 22 + 15.
            "F:8:37: templates[0].checker.expect: script does not compile: script is incomplete",
            // The script's column 19, after two `\"` that are one character of the script but two of
            // the file: 22 + 19 + 2.
            "F:15:43: templates[1].checker.script: script does not compile: unexpected '&'",
            // A multi-line string: the script's line 2 is the file's line 23.
            "F:23:4: templates[2].generators.n: script does not compile: unexpected '*'",
        ]
    );
    let escaped = &found.0[1];
    assert_eq!(&escaped.source_line[escaped.column - 1..escaped.end_column - 1], "&");
}

#[test]
fn warnings_are_shown_beside_errors() {
    let text = format!("title = \"\"\n{}", TEMPLATE.replace("right = [1, 2]", "right = [1, 2], spare = [0]"));
    assert_eq!(
        problems(&text),
        [
            "1:9: title: title must not be blank",
            r#"7:67: templates[0].generators.spare: warning: generator "spare" is not used by any placeholder"#,
        ]
    );
}

#[test]
fn a_problem_knows_the_line_it_is_on_and_where_its_text_ends() {
    let found = load_quiz_file(&testdata("many_problems.toml"), &Validator::default()).unwrap_err();
    let empty = found.0.iter().find(|p| p.field == "templates[0].generators.left").unwrap();
    assert_eq!(empty.source_line, "generators = { left = [], right = { range = [9, 1] } }");
    assert_eq!((empty.line, empty.column, empty.end_line, empty.end_column), (8, 23, 8, 25));
}

#[test]
fn unknown_keys_suggest_the_close_known_key() {
    let text = format!("title = \"T\"\n{}", TEMPLATE.replace("category =", "categroy ="));
    let found = problems(&text);
    assert_eq!(found[0], "3:1: templates[0].category: category is required");
    assert_eq!(found[1], r#"5:1: templates[0].categroy: unknown key "categroy" (did you mean "category"?)"#);
}

#[test]
fn a_generator_no_placeholder_uses_is_a_warning_not_an_error() {
    let text = format!("title = \"T\"\n{}", TEMPLATE.replace("right = [1, 2]", "right = [1, 2], spare = [0]"));
    let file = parse_quiz_text("quiz.toml", &text, &Validator::default()).unwrap();
    let warnings: Vec<String> = file.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [r#"quiz.toml:7:67: templates[0].generators.spare: warning: generator "spare" is not used by any placeholder"#]
    );
}

#[test]
fn text_and_script_checkers_work_as_specified() {
    let checked = check_quiz_file(&testdata("text_and_scripts.toml"), &Validator::default(), 200).unwrap();
    let distinct: Vec<(String, usize)> =
        checked.templates.iter().map(|t| (t.name.clone(), t.distinct_questions)).collect();
    assert_eq!(distinct, [("capital".into(), 1), ("double".into(), 50), ("third".into(), 20)]);
    let templates = &checked.quiz_file.valid.templates;
    let capital = mastery_core::Question::new(&templates[0].template, &mut SplitMix64::new(1)).unwrap();
    assert_eq!(capital.check("  paris ").unwrap(), Verdict::Correct);
    assert_eq!(capital.check("Lyon").unwrap(), Verdict::Incorrect);
    let double = mastery_core::Question::new(&templates[1].template, &mut SplitMix64::new(1)).unwrap();
    let n = double.substitutions().get("n").unwrap().as_integer().unwrap();
    assert_eq!(double.check(&(n * 2).to_string()).unwrap(), Verdict::Correct);
    assert_eq!(double.check("").unwrap(), Verdict::Invalid("say a number".into()));
    let third = mastery_core::Question::new(&templates[2].template, &mut SplitMix64::new(1)).unwrap();
    let a = third.substitutions().get("a").unwrap().as_integer().unwrap() as f64;
    assert_eq!(third.check(&format!("{:.2}", a / 3.0)).unwrap(), Verdict::Correct);
    assert_eq!(third.check(&format!("{:.2}", a / 3.0 + 0.05)).unwrap(), Verdict::Incorrect);
}

#[test]
fn case_sensitive_text_comparison_is_an_option() {
    let text = "title = \"T\"\n[[templates]]\nname = \"c\"\ncategory = \"g\"\nraw = \"{{x}}\"\ngenerators = { x = [\"a\"] }\nchecker = { expect = \"\\\"Paris\\\"\", case_sensitive = true }\n";
    let file = parse_quiz_text("quiz.toml", text, &Validator::default()).unwrap();
    let question = mastery_core::Question::new(&file.valid.templates[0].template, &mut SplitMix64::new(1)).unwrap();
    assert_eq!(question.check("Paris").unwrap(), Verdict::Correct);
    assert_eq!(question.check("paris").unwrap(), Verdict::Incorrect);
}

/// Only catches a hang: the machine running the tests may be slow and noisy.
const HANG: Duration = Duration::from_secs(10);

/// The fields and messages of the problems `mastery check` finds in a test file, checked against
/// `expected` (field, part of the message) pairs.
fn assert_checked_problems(file: &str, expected: &[(&str, &str)]) {
    let start = Instant::now();
    let found = check_quiz_file(&testdata(file), &Validator::default(), 200).unwrap_err();
    assert!(start.elapsed() < HANG, "took {:?}", start.elapsed());
    let messages: Vec<(&str, &str)> = found.0.iter().map(|p| (p.field.as_str(), p.message.as_str())).collect();
    assert_eq!(messages.len(), expected.len(), "{messages:?}");
    for ((field, message), (wanted_field, wanted)) in messages.iter().zip(expected) {
        assert_eq!(field, wanted_field, "{message}");
        assert!(message.contains(wanted), "{field}: {message}");
    }
}

#[test]
fn hostile_scripts_are_stopped_within_a_bound() {
    assert_checked_problems(
        "hostile.toml",
        &[
            // The operation limit or the time budget, whichever comes first on this machine.
            ("templates[0].generators.n", "script ran too long"),
            ("templates[1].generators.n", "script recursed too deeply"),
            ("templates[2].checker.script", "script built a text too large"),
            ("templates[3].generators.n", "script built a list too large"),
        ],
    );
}

#[test]
fn scripts_find_no_clock_no_sleep_and_stop_on_deep_or_long_work() {
    assert_checked_problems(
        "hostile_sandbox.toml",
        &[
            ("templates[0].checker.script", "script failed: sleep(integer) is not available to quiz scripts"),
            ("templates[1].generators.n", "script failed: timestamp() is not available to quiz scripts"),
            ("templates[2].generators.n", "script failed: sleep(decimal number) is not available to quiz scripts"),
            ("templates[3].checker.script", "script recursed too deeply"),
            ("templates[4].generators.n", "script ran too long"),
        ],
    );
}

#[test]
fn hostile_checkers_at_run_time_give_invalid_verdicts_not_errors() {
    let hostile = load_quiz_file(&testdata("hostile.toml"), &Validator::default()).unwrap();
    let sandbox = load_quiz_file(&testdata("hostile_sandbox.toml"), &Validator::default()).unwrap();
    let checkers = [&hostile.valid.templates[2], &sandbox.valid.templates[0], &sandbox.valid.templates[3]];
    let start = Instant::now();
    for (index, template) in checkers.into_iter().enumerate() {
        let mut quiz = mastery_core::Quiz::new("One", 1).unwrap();
        quiz.add_template(Arc::clone(&template.template)).unwrap();
        quiz.select_question(&mut SplitMix64::new(1)).unwrap().unwrap();
        let response = Response::new(&quiz, "a@example.com", "1", Timestamp::from_millis(0)).unwrap();
        let Verdict::Invalid(reason) = response.verdict() else { panic!("{index}: {:?}", response.verdict()) };
        assert!(reason.starts_with("the checker could not judge this answer: script "), "{reason}");
        quiz.answer_question(response).unwrap();
        assert!(quiz.current_question().is_some(), "the quiz goes on");
    }
    assert!(start.elapsed() < HANG, "took {:?}", start.elapsed());
}

#[test]
fn a_checker_that_fails_on_some_answers_judges_them_invalid_and_the_quiz_goes_on() {
    let file = load_quiz_file(&testdata("fragile.toml"), &Validator::default()).unwrap();
    let mut quiz = mastery_core::Quiz::new("Sum", 1).unwrap();
    quiz.add_template(Arc::clone(&file.valid.templates[0].template)).unwrap();
    let question = Arc::clone(quiz.select_question(&mut SplitMix64::new(1)).unwrap().unwrap());
    let sum: i64 = question.substitutions().iter().filter_map(|(_, v)| v.as_integer()).sum();
    let answer = |quiz: &mut mastery_core::Quiz, text: &str| {
        let response = Response::new(quiz, "a@example.com", text, Timestamp::from_millis(0)).unwrap();
        let verdict = response.verdict().clone();
        quiz.answer_question(response).unwrap();
        verdict
    };
    let reason = "the checker could not judge this answer: script failed: error parsing integer number 'twelve': \
                  invalid digit found in string (script line 1, column 1)";
    assert_eq!(answer(&mut quiz, "twelve"), Verdict::Invalid(reason.into()));
    assert_eq!(answer(&mut quiz, &sum.to_string()), Verdict::Correct);
    assert!(quiz.is_finished());
}

#[test]
fn the_self_test_reports_a_checker_that_fails_on_a_non_answer() {
    let found = check_quiz_file(&testdata("fragile.toml"), &Validator::default(), 20).unwrap_err();
    let messages: Vec<String> = found.0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with(r#"templates[0].checker.script: the checker fails on the answer "" to "#)
            && messages[0].contains("script failed: error parsing integer number ''"),
        "{}",
        messages[0]
    );
    let long =
        r#"templates[1].checker.script: the checker fails on the answer of 1000 characters to "A word of 3 letters""#;
    assert!(messages[1].starts_with(&format!("{long}: script ran too long")), "{}", messages[1]);
}

#[test]
fn the_self_test_tries_non_answers_on_expect_checkers_too() {
    let text = format!("title = \"T\"\n{TEMPLATE}");
    let mut valid = parse_quiz_text("quiz.toml", &text, &Validator::default()).unwrap().valid;
    assert!(mastery_boundary::self_test(&valid, 50).is_ok());
    // The same expect checker, made to fail on one non-answer.
    let expect = Arc::clone(valid.templates[0].expect.as_ref().unwrap());
    let fragile = Checker::new(move |subs, answer: &str| match answer {
        "twelve" => Err("cannot read \"twelve\"".into()),
        _ => expect.judge(subs, answer),
    });
    let template = Template::builder("sum")
        .category("addition")
        .raw("{{left}} + {{right}}")
        .generator("left", Generator::range(0, 9))
        .generator("right", Generator::list([1i64, 2]))
        .checker(fragile)
        .build()
        .unwrap();
    valid.templates[0].template = Arc::new(template);
    let found = mastery_boundary::self_test(&valid, 50).unwrap_err();
    let messages: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].starts_with(r#"templates[0].checker.expect: the checker fails on the answer "twelve" to "#)
            && messages[0].ends_with(r#": cannot read "twelve""#),
        "{}",
        messages[0]
    );
}

#[test]
fn a_quiz_with_no_template_is_a_problem() {
    let message = "templates: a quiz needs at least one template ([[templates]])";
    assert_eq!(problems("title = \"Empty\"\n"), [format!("1:1: {message}")]);
    assert_eq!(problems("title = \"Empty\"\ntemplates = []\n"), [format!("2:13: {message}")]);
}

#[test]
fn division_in_expect_is_exact_and_fractions_compare_as_numbers() {
    let half = TEMPLATE.replace("left + right", "left / right").replace("{ range = [0, 9] }", "[7]");
    let text = format!("title = \"T\"\n{half}");
    let file = parse_quiz_text("quiz.toml", &text, &Validator::default()).unwrap();
    let template = &file.valid.templates[0].template;
    let mut rng = SplitMix64::new(0);
    let questions: Vec<_> = (0..20).map(|_| mastery_core::Question::new(template, &mut rng).unwrap()).collect();
    let halves = questions.iter().find(|q| q.asked() == "7 + 2").expect("7 / 2 is drawn");
    assert_eq!(halves.check("3.5").unwrap(), Verdict::Correct);
    assert_eq!(halves.check(" 3.50 ").unwrap(), Verdict::Correct);
    assert_eq!(halves.check("3").unwrap(), Verdict::Incorrect);
    let whole = questions.iter().find(|q| q.asked() == "7 + 1").expect("7 / 1 is drawn");
    assert_eq!(whole.check("7").unwrap(), Verdict::Correct);
    assert!(mastery_boundary::self_test(&file.valid, 20).is_ok());

    let sum = TEMPLATE.replace("left + right", "0.1 + 0.2");
    let file = parse_quiz_text("quiz.toml", &format!("title = \"T\"\n{sum}"), &Validator::default()).unwrap();
    let question = mastery_core::Question::new(&file.valid.templates[0].template, &mut rng).unwrap();
    assert_eq!(question.check("0.3").unwrap(), Verdict::Correct);
    assert_eq!(question.check("0.31").unwrap(), Verdict::Incorrect);
}

#[test]
fn a_hostile_generator_at_run_time_is_an_error_for_that_question_not_a_hang() {
    let file = load_quiz_file(&testdata("hostile.toml"), &Validator::default()).unwrap();
    let mut quiz = file.valid.quiz;
    let mut rng = SplitMix64::new(1);
    let start = Instant::now();
    let outcomes: Vec<bool> = (0..8).map(|_| quiz.select_question(&mut rng).is_err()).collect();
    assert!(outcomes.iter().any(|failed| *failed));
    assert!(start.elapsed() < HANG);
}

#[test]
fn limits_are_clear_errors() {
    let tight = Validator::new(
        Scripts::default(),
        Limits {
            max_title_chars: 5,
            max_templates: 1,
            max_list_len: 2,
            max_range_width: 100,
            max_file_bytes: 4_000,
            ..Limits::default()
        },
    );
    assert_eq!(
        problems_with(&format!("title = \"Too long\"\n{TEMPLATE}"), &tight),
        ["1:9: title: title must be at most 5 characters, got 8"]
    );
    let two = format!("title = \"T\"\n{TEMPLATE}{}", TEMPLATE.replace("\"sum\"", "\"other\""));
    assert_eq!(problems_with(&two, &tight), ["3:1: templates: a quiz may have at most 1 templates, got 2"]);
    let long_list = format!("title = \"T\"\n{}", TEMPLATE.replace("[1, 2]", "[1, 2, 3]"));
    assert_eq!(
        problems_with(&long_list, &tight),
        [r#"7:51: templates[0].generators.right: generator "right" has 3 values, more than the 2 allowed"#]
    );
    let wide = format!("title = \"T\"\n{}", TEMPLATE.replace("[0, 9]", "[0, 1000]"));
    assert_eq!(problems_with(&wide, &tight), ["7:23: templates[0].generators.left: range [0, 1000] is wider than 100"]);
    let big = format!("title = \"T\"\n# {}\n", "x".repeat(5_000));
    assert_eq!(problems_with(&big, &tight), ["1:1: file: the file is 5015 bytes, more than the 4000 allowed"]);
}

#[test]
fn a_missing_or_unreadable_file_names_the_file() {
    let found = load_quiz_file(Path::new("no/such/quiz.toml"), &Validator::default()).unwrap_err();
    assert_eq!(found.to_string(), "no/such/quiz.toml:1:1: file: cannot read the file: no such file");
    let folder = std::env::temp_dir().join(format!("mastery-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let binary = folder.join("binary.toml");
    std::fs::write(&binary, b"title = \"\xff\"").unwrap();
    let found = load_quiz_file(&binary, &Validator::default()).unwrap_err();
    assert!(found.to_string().ends_with("file: the file is not UTF-8 text (byte 9)"), "{found}");
}

#[test]
fn wrong_types_are_reported_with_what_was_expected() {
    let text = "title = 5\nmastery = \"three\"\ntemplates = 1\n";
    assert_eq!(
        problems(text),
        [
            "1:9: title: title must be text, got integer 5",
            "2:11: mastery: mastery must be an integer, got string",
            "3:13: templates: templates must be an array of tables ([[templates]]), got integer 1",
        ]
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_loader(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_quiz_text("fuzz.toml", &text, &Validator::default());
    }

    #[test]
    fn arbitrary_toml_shapes_never_panic_the_loader(
        keys in prop::collection::vec(prop::sample::select(vec!["title", "mastery", "name", "raw", "generators", "checker", "range", "script", "expect", "x"]), 1..8),
        values in prop::collection::vec(prop::sample::select(vec!["1", "-5", "\"{{a}}\"", "[]", "[1, \"a\"]", "{ range = [2, 1] }", "{ script = \"loop {}\" }", "{ expect = \"a\" }", "true", "1.5", "{}"]), 1..8),
    ) {
        let mut text = String::new();
        for (key, value) in keys.iter().zip(values.iter()) {
            text.push_str(&format!("{key} = {value}\n"));
        }
        text.push_str("[[templates]]\n");
        for (key, value) in keys.iter().zip(values.iter().rev()) {
            text.push_str(&format!("{key} = {value}\n"));
        }
        let result = parse_quiz_text("fuzz.toml", &text, &Validator::default());
        if let Err(problems) = result {
            prop_assert!(!problems.0.is_empty());
            prop_assert!(problems.0.iter().all(|p| p.line >= 1 && p.column >= 1));
        }
    }
}

#[test]
fn an_exam_table_sets_the_window_time_limit_grace_and_idle_limit_and_leaves_the_version_alone() {
    let exam = r#"title = "Final"
[exam]
opens_at = 2026-12-01T09:00:00Z
closes_at = "2026-12-01T11:00:00+01:00"
time_limit = "45m"
grace_period = "5m"
idle_limit = "20m"
"#;
    let file = parse_quiz_text("quiz.toml", &format!("{exam}{TEMPLATE}"), &Validator::default()).unwrap();
    let quiz = file.valid.quiz;
    let settings = quiz.exam().expect("an exam");
    let window = settings.window.expect("a window");
    // A TOML date-time and an RFC 3339 string with an offset are the same kind of instant.
    assert_eq!(window.opens_at, Timestamp::from_millis(1_796_115_600_000));
    assert_eq!(window.closes_at, Timestamp::from_millis(1_796_115_600_000 + 3_600_000));
    assert_eq!(settings.time_limit, Some(Duration::from_secs(45 * 60)));
    assert_eq!(settings.when_time_is_up, mastery_core::WhenTimeIsUp::Grace(Duration::from_secs(300)));
    assert_eq!(settings.idle_limit, Some(Duration::from_secs(20 * 60)));
    let practice = parse_quiz_text("quiz.toml", &format!("title = \"Final\"\n{TEMPLATE}"), &Validator::default());
    assert_eq!(practice.unwrap().valid.quiz.version(), quiz.version(), "exam settings are not the quiz's content");
}

#[test]
fn every_exam_problem_is_located_and_named() {
    let exam = r#"title = "Final"
[exam]
opens_at = "tomorrow"
time_limit = "45 minutes"
grace_perod = "5m"
"#;
    let found = problems(&format!("{exam}{TEMPLATE}"));
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("3:12: exam.opens_at: opens_at: \"tomorrow\" is not an RFC 3339"), "{found:#?}");
    assert!(found[1].starts_with("4:14: exam.time_limit: time_limit must be a duration such as 45m"), "{found:#?}");
    assert_eq!(found[2], "5:1: exam.grace_perod: unknown key \"grace_perod\" (did you mean \"grace_period\"?)");
    let half = problems(&format!("title = \"Final\"\n[exam]\ncloses_at = \"2026-12-01T11:00:00Z\"\n{TEMPLATE}"));
    assert_eq!(half, ["3:13: exam.closes_at: closes_at needs an opens_at"]);
}
