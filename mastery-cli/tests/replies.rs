//! Every line a learner or a script sends gets a reply, and what the terminal shows is safe.

mod common;

use std::process::Command;

use common::{Home, solve, testdata};
use serde_json::json;

#[test]
fn every_line_gets_one_reply_while_the_input_stays_open() {
    let home = Home::new();
    let mut run = home.drive(&["--seed", "5"]);
    let question = run.event();
    assert_eq!(question["instructions"], format!("Work out the {}", question["category"].as_str().unwrap()));
    let rejections = [
        ("", "an empty line is no answer"),
        ("   \t", "an empty line is no answer"),
        (&*"7".repeat(5_000), "an answer must be at most 1000 characters"),
        (&*"é".repeat(1_001), "an answer must be at most 1000 characters"),
    ];
    for (line, reason) in rejections {
        run.answer(line);
        assert_eq!(run.event(), json!({"event": "rejected", "reason": reason}), "{:.20}", line);
        assert_eq!(run.event(), question, "the same question follows");
    }
    run.answer("l2");
    let answer = run.event();
    assert_eq!(
        answer,
        json!({"event": "answer", "template": question["template"], "answer": "l2", "correct": false,
               "verdict": "invalid", "streak": 0, "reason": "expected a number, got \"l2\""})
    );
    assert_eq!(run.event(), question);
    run.answer(&solve(question["asked"].as_str().unwrap()).to_string());
    let right = run.event();
    assert!(right.get("reason").is_none(), "only an invalid answer has a reason: {right}");
    run.event();
    run.stdin.take();
    assert_eq!(run.event(), json!({"event": "stopped", "title": "Arithmetic"}));
    assert_eq!(run.close_input(), 0);
}

#[test]
fn a_scripted_text_run_answers_a_blank_line_with_the_question_again() {
    let home = Home::new();
    let (status, stdout, _) = home.run(&["run", "--seed", "5"], "\n");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(status, 0);
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!((lines[1], lines[0]), ("rejected: an empty line is no answer", lines[2]));
}

#[cfg(unix)]
#[test]
fn ctrl_c_in_a_json_run_says_stopped_and_exits_130() {
    let home = Home::new();
    let mut run = home.drive(&["--seed", "5"]);
    let question = run.event();
    // The run listens for Ctrl-C from its first prompt on: one answer makes sure it is listening.
    run.answer(&solve(question["asked"].as_str().unwrap()).to_string());
    assert_eq!(run.event()["event"], "answer");
    run.event();
    let sent = Command::new("kill").args(["-INT", &run.child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    assert_eq!(run.event(), json!({"event": "stopped", "title": "Arithmetic"}));
    assert_eq!(run.child.wait().unwrap().code(), Some(130));
}

const FRAGILE: &str = r#"
title = "Fragile"
mastery = 1

[[templates]]
name = "double"
category = "numbers"
instructions = "Double it"
raw = "Double {{n}}"
generators = { n = [4] }
checker = { script = "parse_int(answer) == n * 2" }
"#;

#[test]
fn a_checker_that_fails_on_an_answer_judges_it_invalid_and_the_quiz_goes_on() {
    let home = Home::new();
    let quiz = home.file("fragile.toml", FRAGILE);
    let mut run = home.drive(&[&quiz]);
    assert_eq!(run.event()["asked"], "Double 4");
    run.answer("twelve");
    let answer = run.event();
    assert_eq!((&answer["verdict"], &answer["streak"]), (&json!("invalid"), &json!(0)), "{answer}");
    assert!(answer["reason"].as_str().unwrap().contains("twelve"), "the reason says what failed: {answer}");
    assert_eq!(run.event()["asked"], "Double 4");
    run.answer("8");
    assert_eq!(run.event()["verdict"], "correct");
    assert_eq!(run.event(), json!({"event": "mastered", "template": "double"}));
    assert_eq!(run.event(), json!({"event": "finished", "title": "Fragile"}));
    assert_eq!(run.close_input(), 0);
}

#[test]
fn text_from_a_quiz_file_reaches_the_terminal_escaped() {
    let home = Home::new();
    let quiz = home.file(
        "escapes.toml",
        r#"
title = "Escapes"
[[templates]]
name = "paint"
category = "colours"
raw = "\u001b[2J\u001b[31mred {{n}}\u0007"
generators = { n = [1] }
checker = { expect = "n" }
"#,
    );
    let (status, stdout, stderr) = home.run(&["run", &quiz], "");
    assert_eq!(status, 0, "{stderr}");
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'), "{stdout:?}");
    assert_eq!(stdout.lines().next(), Some(r"\u{1b}[2J\u{1b}[31mred 1\u{7}"));
}

#[test]
fn a_time_limit_too_long_for_any_clock_is_a_usage_error() {
    let home = Home::new();
    for limit in ["18446744073709551615", "9999999h"] {
        let (status, _, stderr) = home.run(&["run", "--time-limit", limit], "");
        assert_eq!(status, 2, "{stderr}");
        assert!(stderr.contains("366 days") && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn logs_in_a_pipe_carry_no_colour_codes() {
    let home = Home::new();
    let mut command = home.mastery(&["run", "--seed", "1"]);
    command.env("MASTERY_LOG", "debug").env_remove("NO_COLOR");
    let (status, _, stderr) = Home::output(command, "1\n");
    assert_eq!(status, 0);
    assert!(stderr.contains("session"), "debug logs were written: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// Runs `shell_command` on a pseudo-terminal and returns what the screen showed.
#[cfg(unix)]
fn on_a_terminal(shell_command: &str) -> String {
    let output = Command::new("script")
        .args(["-qec", shell_command, "/dev/null"])
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) from util-linux is available");
    String::from_utf8_lossy(&output.stdout).replace('\r', "")
}

#[cfg(unix)]
#[test]
fn check_piped_on_to_the_terminal_shows_each_problem_once() {
    let binary = assert_cmd::cargo::cargo_bin!("mastery").display().to_string();
    let file = testdata("many_problems.toml");
    let screen = on_a_terminal(&format!("{binary} check {file} | cat"));
    let problems: Vec<&str> = screen.lines().filter(|line| line.starts_with(&file)).collect();
    assert!(problems.len() > 1, "{screen}");
    let distinct: std::collections::BTreeSet<&&str> = problems.iter().collect();
    assert_eq!(distinct.len(), problems.len(), "a problem shown twice:\n{screen}");
    assert!(screen.contains(&format!("mastery: {file}: {} problems", problems.len())), "{screen}");
}

#[test]
fn help_names_the_environment_and_where_the_database_is() {
    let home = Home::new();
    let (status, help, _) = home.run(&["--help"], "");
    assert_eq!(status, 0);
    for variable in ["MASTERY_DB", "MASTERY_LOG", "NO_COLOR"] {
        assert!(help.contains(variable), "{variable} in {help}");
    }
    assert!(help.contains(&format!("(here: {})", home.db().display())), "{help}");
}

const REVEALING: &str = r#"
title = "Doubles"
mastery = 1
reveal = "after_incorrect"

[[templates]]
name = "double"
category = "numbers"
raw = "Double {{n}}"
generators = { n = [21] }
checker = { expect = "n * 2" }
"#;

#[test]
fn a_quiz_that_reveals_shows_the_expected_answer_after_a_miss_only() {
    let home = Home::new();
    let quiz = home.file("doubles.toml", REVEALING);
    let mut run = home.drive(&[&quiz]);
    run.event();
    run.answer("l2");
    assert!(run.event().get("expected").is_none(), "an invalid answer reveals nothing");
    run.event();
    run.answer("41");
    let missed = run.event();
    assert_eq!((&missed["verdict"], &missed["expected"]), (&json!("incorrect"), &json!("42")), "{missed}");
    run.event();
    run.answer("42");
    assert!(run.event().get("expected").is_none(), "a right answer needs no reveal");
    assert_eq!(run.close_input(), 0);

    // On a terminal-less text run the miss shows the answer too.
    let (_, text, _) = home.run(&["run", &quiz, "--email", "text@example.com"], "41\n");
    assert!(text.contains("the answer was 42"), "{text}");
}

#[test]
fn by_default_no_answer_is_ever_revealed() {
    let home = Home::new();
    let quiz = home.file("quiet.toml", &REVEALING.replace("reveal = \"after_incorrect\"\n", ""));
    let mut run = home.drive(&[&quiz]);
    run.event();
    run.answer("41");
    let missed = run.event();
    assert_eq!(missed["verdict"], "incorrect");
    assert!(missed.get("expected").is_none(), "{missed}");
    assert_eq!(run.close_input(), 0);
}

#[test]
fn a_misspelt_reveal_is_a_problem_naming_the_value() {
    let home = Home::new();
    let quiz = home.file("typo.toml", &REVEALING.replace("after_incorrect", "always"));
    let (status, _, stderr) = home.run(&["check", &quiz], "");
    assert_eq!(status, 1);
    assert!(stderr.contains("reveal: reveal must be \"never\" or \"after_incorrect\", got \"always\""), "{stderr}");
}
