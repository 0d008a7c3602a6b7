//! Sessions from the command line: a run stopped goes on where it stopped, `--restart` starts
//! anew, reports count mastery within a session, and `regrade` re-judges with fixed checkers.

mod common;

use common::{Home, solve};
use serde_json::{Value, json};

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// Answers every question right, in `--json` events from the run's output so far.
fn right_answers(home: &Home, args: &[&str], count: usize) -> Vec<Value> {
    let mut run = home.drive(args);
    let mut seen = Vec::new();
    let mut answered = 0;
    loop {
        let event = run.event();
        seen.push(event.clone());
        match event["event"].as_str() {
            Some("question") if answered < count => {
                run.answer(&solve(event["asked"].as_str().unwrap()).to_string());
                answered += 1;
            }
            Some("question") | Some("finished") => break,
            _ => {}
        }
    }
    run.close_input();
    seen
}

#[test]
fn a_run_stopped_is_resumed_by_the_next_one_exactly_where_it_stopped() {
    let home = Home::new();
    let whole = right_answers(&home, &["--seed", "4", "--email", "whole@example.com"], 4);

    let first = right_answers(&home, &["--seed", "4", "--email", "split@example.com"], 2);
    // Another seed is for new sessions only: the open one is resumed with its own.
    let second = right_answers(&home, &["--seed", "99", "--email", "split@example.com"], 2);
    assert_eq!(second[0], json!({"event": "resumed", "session": 2, "answers": 2}));
    // The question the first run left open is the first one the second run asks.
    assert_eq!(second[1], *first.last().unwrap());
    let mut joined: Vec<Value> = first[..first.len() - 1].to_vec();
    joined.extend_from_slice(&second[1..]);
    assert_eq!(joined, whole);
}

#[test]
fn a_resumed_run_says_so_on_the_terminal_and_restart_starts_anew() {
    let home = Home::new();
    let (status, _, _) = home.run(&["run", "--seed", "4"], "1\n");
    assert_eq!(status, 0);
    let (_, stdout, _) = home.run(&["run"], "");
    assert!(
        stdout.starts_with("Resuming your session where you stopped: 1 answer so far, mastered 0/3.\n"),
        "{stdout}"
    );

    let fresh = home.run(&["run", "--seed", "4", "--json", "--email", "fresh@example.com"], "").1;
    let (_, restarted, stderr) = home.run(&["run", "--seed", "4", "--json", "--restart"], "");
    assert_eq!(restarted, fresh, "a restart is a new session from its seed");
    assert!(stderr.contains("was not resumed"), "{stderr}");
    let (_, sessions, _) = home.run(&["report", "Arithmetic", "--by", "session", "--format", "json"], "");
    let endings: Vec<Value> = serde_json::from_str::<Value>(&sessions)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ending"].clone())
        .collect();
    assert_eq!(endings, [json!("abandoned"), json!("open"), json!("open")]);
}

#[test]
fn mastery_is_counted_within_a_session_never_across_runs() {
    let home = Home::new();
    // Mastery 2 and three templates: three right answers give each template a streak of 1. Twice,
    // with a restart between: no session mastered anything, and neither does the report.
    let first = right_answers(&home, &["--seed", "1"], 3);
    let second = right_answers(&home, &["--seed", "1", "--restart"], 3);
    assert!(first.iter().chain(&second).all(|e| e["event"] != "mastered"));
    let (_, csv, _) = home.run(&["report", "Arithmetic", "--format", "csv"], "");
    assert_eq!(csv, "email,responses,correct,invalid,mastered\nlearner@localhost,6,6,0,\n");

    // Resumed instead, the fourth right answer is in the same session and masters its template.
    right_answers(&home, &["--seed", "1", "--email", "one@example.com"], 3);
    let fourth = right_answers(&home, &["--email", "one@example.com"], 1);
    let mastered = fourth.iter().find(|e| e["event"] == "mastered").expect("mastered in the resumed session");
    let (_, csv, _) = home.run(&["report", "Arithmetic", "--format", "csv"], "");
    assert!(csv.contains(&format!("one@example.com,4,4,0,{}\n", mastered["template"].as_str().unwrap())), "{csv}");
}

#[test]
fn report_lists_quizzes_and_an_unknown_title_names_the_closest() {
    let home = Home::new();
    let (status, stdout, _) = home.run(&["report"], "");
    assert_eq!((status, stdout.as_str()), (0, "TITLE  LEARNERS  SESSIONS  RESPONSES  LAST ACTIVITY\n(no quizzes)\n"));
    let (status, _, stderr) = home.run(&["report", "Nothing"], "");
    assert_eq!(status, 1);
    assert!(stderr.contains("no quiz titled \"Nothing\"") && stderr.contains("holds no quizzes yet"), "{stderr}");
    assert!(!home.db().exists(), "reading creates no database");

    for email in ["a@example.com", "b@example.com"] {
        home.run(&["run", "--seed", "2", "--email", email], "1\nx\n");
    }
    let (_, json, _) = home.run(&["report", "--format", "json"], "");
    let quizzes: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (&quizzes[0]["title"], &quizzes[0]["learners"], &quizzes[0]["sessions"], &quizzes[0]["responses"]),
        (&json!("Arithmetic"), &json!(2), &json!(2), &json!(4))
    );
    let (status, _, stderr) = home.run(&["report", "arithmetik"], "");
    assert_eq!(status, 1);
    assert!(
        stderr.contains(&format!("in the store {}: did you mean \"Arithmetic\"?", home.db().display())),
        "{stderr}"
    );
}

#[test]
fn report_by_template_gives_item_statistics() {
    let home = Home::new();
    // The same first question twice: once unreadable then right, once right at the first try.
    for email in ["a@example.com", "b@example.com"] {
        home.run(&["run", "--seed", "7", "--email", email], "");
    }
    let (_, first, _) = home.run(&["run", "--seed", "7", "--json", "--email", "c@example.com"], "");
    let asked = events(&first)[0]["asked"].as_str().unwrap().to_string();
    let right = solve(&asked).to_string();
    home.run(&["run", "--email", "a@example.com"], &format!("x\n{right}\n"));
    home.run(&["run", "--email", "b@example.com"], &format!("{right}\n"));
    let (_, json, _) = home.run(&["report", "Arithmetic", "--by", "template", "--format", "json"], "");
    let rows: Value = serde_json::from_str(&json).unwrap();
    let row = rows.as_array().unwrap().iter().find(|row| row["answers"] == 3).expect("the template answered");
    assert_eq!((&row["asked"], &row["facility"], &row["invalid"]), (&json!(2), &json!(0.5), &json!(0.333)));
    assert_eq!((&row["learners"], &row["mastered_by"], &row["discrimination"]), (&json!(2), &json!(0), &Value::Null));
}

const WRONG_CHECKER: &str = r#"title = "Capitals"
mastery = 2

[[templates]]
name = "france"
category = "europe"
raw = "Capital of {{country}}?"
generators = { country = ["France"] }
checker = { expect = '"Lyon"' }

[[templates]]
name = "spain"
category = "europe"
raw = "Capital of {{country}}?"
generators = { country = ["Spain"] }
checker = { expect = '"Madrid"' }
"#;

#[test]
fn regrade_with_a_fixed_checker_changes_exactly_the_affected_verdicts_and_masteries() {
    let home = Home::new();
    let quiz = home.file("capitals.toml", WRONG_CHECKER);
    let answer = |asked: &str| if asked.contains("France") { "Paris" } else { "Madrid" };
    // Four answers: each template twice, France's judged wrong by the broken checker.
    let mut run = home.drive(&[&quiz, "--seed", "3", "--email", "ada@example.com"]);
    let mut answers = 0;
    while answers < 4 {
        let event = run.event();
        if event["event"] == "question" {
            run.answer(answer(event["asked"].as_str().unwrap()));
            answers += 1;
        }
    }
    run.close_input();
    let (_, before, _) = home.run(&["report", "Capitals", "--format", "csv"], "");
    assert_eq!(before, "email,responses,correct,invalid,mastered\nada@example.com,4,2,0,spain\n");

    let fixed = home.file("fixed.toml", &WRONG_CHECKER.replace("Lyon", "Paris"));
    let (status, preview, stderr) = home.run(&["regrade", &fixed, "--format", "json"], "");
    assert_eq!(status, 0, "{stderr}");
    let preview: Value = serde_json::from_str(&preview).unwrap();
    assert_eq!((&preview["judged"], &preview["changed"], &preview["applied"]), (&json!(4), &json!(2), &Value::Null));
    let learner = &preview["learners"][0];
    assert_eq!(
        (&learner["email"], &learner["gained"], &learner["lost"]),
        (&json!("ada@example.com"), &json!(["france"]), &json!([]))
    );
    assert!(
        learner["changed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["template"] == "france" && c["before"] == "incorrect" && c["after"] == "correct")
    );
    assert_eq!(home.run(&["report", "Capitals", "--format", "csv"], "").1, before, "nothing stored without --apply");

    let (status, applied, _) = home.run(&["regrade", &fixed, "--apply"], "");
    assert_eq!(status, 0);
    assert!(applied.contains("gains mastery of france") && applied.contains("Stored as regrade 1"), "{applied}");
    let (_, after, _) = home.run(&["report", "Capitals", "--format", "csv"], "");
    assert_eq!(after, "email,responses,correct,invalid,mastered\nada@example.com,4,4,0,france;spain\n");

    // The same checkers again change nothing further.
    let (_, again, _) = home.run(&["regrade", &fixed, "--format", "json"], "");
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap()["changed"], 0);
}

#[test]
fn regrade_says_when_there_is_nothing_to_judge() {
    let home = Home::new();
    let quiz = home.file("capitals.toml", WRONG_CHECKER);
    let (status, _, stderr) = home.run(&["regrade", &quiz], "");
    assert_eq!(status, 1);
    assert!(stderr.contains("no database at"), "{stderr}");
    home.run(&["run", "--seed", "1"], "1\n");
    let (status, _, stderr) = home.run(&["regrade", &quiz], "");
    assert_eq!(status, 1);
    assert!(stderr.contains("holds no answers to the quiz \"Capitals\""), "{stderr}");
}

/// The example exam: ten minutes from each learner's start, two more of grace, the answer 3.
const EXAM: &str = include_str!("../../examples/exam.toml");

#[test]
fn an_exam_run_has_its_own_deadline_the_report_shows_it_and_a_closed_exam_says_when_it_closed() {
    let home = Home::new();
    let exam = home.file("exam.toml", EXAM);
    let (status, stdout, stderr) = home.run(&["run", &exam, "--email", "ada@example.com", "--json"], "3\n");
    assert_eq!(status, 0, "{stderr}");
    let answer = events(&stdout).into_iter().find(|event| event["event"] == "answer").expect("an answer");
    assert_eq!(answer.get("overdue"), None, "an answer on time carries no overdue field: {answer}");
    let (_, sessions, _) = home.run(&["report", "Exam", "--by", "session", "--format", "csv"], "");
    let mut lines = sessions.lines();
    assert!(lines.next().unwrap().ends_with(",mastered,due_at,overdue"), "{sessions}");
    let row = lines.next().unwrap();
    assert!(row.contains("ada@example.com") && row.ends_with("Z,0"), "a deadline and no overdue answer: {row}");
    // The run stopped at the end of input: the session is open and the next run resumes it.
    let (status, stdout, _) = home.run(&["run", &exam, "--email", "ada@example.com", "--json"], "3\n3\n");
    assert_eq!(status, 0);
    assert_eq!(events(&stdout).last().unwrap()["event"], "finished");
    let (status, _, stderr) = home.run(&["run", &exam, "--email", "ada@example.com"], "");
    assert_eq!(status, 1, "one attempt");
    assert!(
        stderr.contains("ada@example.com has already taken the exam \"Exam\" (the attempt ended: finished)"),
        "{stderr}"
    );

    let closed =
        EXAM.replace("[exam]\n", "[exam]\nopens_at = \"2020-01-01T09:00:00Z\"\ncloses_at = \"2020-01-01T10:00:00Z\"\n");
    let closed = home.file("closed.toml", &closed.replace("title = \"Exam\"", "title = \"Closed\""));
    let (status, _, stderr) = home.run(&["run", &closed, "--email", "bo@example.com"], "");
    assert_eq!(status, 1);
    assert!(
        stderr.contains("the exam \"Closed\" is not open for bo@example.com: it closed at 2020-01-01T10:00:00Z"),
        "{stderr}"
    );
}
