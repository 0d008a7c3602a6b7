//! The `mastery` binary as scripts and people use it: every subcommand, event, format and exit
//! status of the command-line contract.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{Home, solve, testdata};
use serde_json::Value;

#[test]
fn the_demo_quiz_runs_to_the_end_with_every_event_in_order() {
    let home = Home::new();
    let mut run = home.drive(&["--seed", "7"]);
    let mut question = run.event();
    let mut streaks = std::collections::HashMap::new();
    let mut mastered = Vec::new();
    loop {
        assert_eq!(question["event"], "question");
        let mut keys: Vec<&str> = question.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["asked", "category", "event", "instructions", "template"],
            "no event carries the expected answer"
        );
        let template = question["template"].as_str().unwrap().to_string();
        run.answer(&solve(question["asked"].as_str().unwrap()).to_string());
        let answer = run.event();
        let streak = streaks.entry(template.clone()).or_insert(0);
        *streak += 1;
        assert_eq!(answer["event"], "answer");
        assert_eq!(
            (answer["template"].as_str(), answer["correct"].as_bool(), answer["verdict"].as_str()),
            (Some(&*template), Some(true), Some("correct"))
        );
        assert_eq!(answer["streak"], *streak);
        let next = run.event();
        if *streak == 2 {
            assert_eq!(next, serde_json::json!({"event": "mastered", "template": template}));
            mastered.push(template);
            question = run.event();
        } else {
            question = next;
        }
        if question["event"] == "finished" {
            break;
        }
    }
    assert_eq!(question, serde_json::json!({"event": "finished", "title": "Arithmetic"}));
    assert_eq!(mastered.len(), 3);
    assert_eq!(run.close_input(), 0);
}

#[test]
fn an_invalid_answer_is_reported_and_the_same_question_asked_again() {
    let home = Home::new();
    let mut run = home.drive(&["--seed", "3"]);
    let question = run.event();
    run.answer("l2");
    let answer = run.event();
    assert_eq!(answer["verdict"], "invalid");
    assert_eq!(
        (answer["correct"].as_bool(), answer["streak"].as_u64(), answer["answer"].as_str()),
        (Some(false), Some(0), Some("l2"))
    );
    assert_eq!(run.event(), question);
    run.answer("-1000");
    let wrong = run.event();
    assert_eq!((wrong["verdict"].as_str(), wrong["streak"].as_u64()), (Some("incorrect"), Some(0)));
    assert_eq!(run.close_input(), 0);
}

#[test]
fn the_same_seed_and_answers_give_the_same_run() {
    let home = Home::new();
    let answers = "1\n2\nx\n3\n4\n5\n";
    let first = home.run(&["run", "--seed", "42", "--json", "--email", "a@example.com"], answers);
    let second = home.run(&["run", "--seed", "42", "--json", "--email", "b@example.com"], answers);
    assert_eq!(first.0, 0);
    assert_eq!(first.1, second.1);
    let other = home.run(&["run", "--seed", "43", "--json"], answers);
    assert_ne!(first.1, other.1);
}

#[test]
fn end_of_input_ends_the_run_normally_with_every_answer_stored() {
    let home = Home::new();
    let (status, stdout, _) = home.run(&["run", "--seed", "5", "--json", "--email", "ada@example.com"], "1\n\n2\nzz\n");
    assert_eq!(status, 0);
    assert_eq!(
        stdout.lines().filter(|l| l.contains("\"event\":\"answer\"")).count(),
        3,
        "a blank line is not an answer"
    );
    let (_, report, _) = home.run(&["report", "Arithmetic", "--format", "json"], "");
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report[0]["email"], "ada@example.com");
    assert_eq!((report[0]["responses"].as_u64(), report[0]["invalid"].as_u64()), (Some(3), Some(1)));
}

#[test]
fn reports_in_every_format_are_sorted_by_email() {
    let home = Home::new();
    for (email, answers) in [("zed@example.com", "1\n"), ("amy@example.com", "x\n2\n")] {
        assert_eq!(home.run(&["run", "--seed", "1", "--email", email], answers).0, 0);
    }
    let (status, table, _) = home.run(&["report", "Arithmetic"], "");
    assert_eq!(status, 0);
    assert_eq!(
        table,
        "EMAIL            RESPONSES  CORRECT  INVALID  MASTERED\namy@example.com          2        0        1  -\nzed@example.com          1        0        0  -\n"
    );
    let (_, csv, _) = home.run(&["report", "Arithmetic", "--format", "csv"], "");
    assert_eq!(csv, "email,responses,correct,invalid,mastered\namy@example.com,2,0,1,\nzed@example.com,1,0,0,\n");
    let (_, json, _) = home.run(&["report", "Arithmetic", "--format", "json"], "");
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"email": "amy@example.com", "responses": 2, "correct": 0, "invalid": 1, "mastered": []},
            {"email": "zed@example.com", "responses": 1, "correct": 0, "invalid": 0, "mastered": []}
        ])
    );
}

#[test]
fn the_report_lists_mastered_templates() {
    let home = Home::new();
    let mut run = home.drive(&["--seed", "9", "--email", "pro@example.com"]);
    let mut event = run.event();
    let mut answered = 0;
    while event["event"] != "finished" {
        if event["event"] == "question" {
            run.answer(&solve(event["asked"].as_str().unwrap()).to_string());
            answered += 1;
        }
        event = run.event();
    }
    assert_eq!(run.close_input(), 0);
    let (_, csv, _) = home.run(&["report", "Arithmetic", "--format", "csv"], "");
    assert_eq!(
        csv,
        format!(
            "email,responses,correct,invalid,mastered\npro@example.com,{answered},{answered},0,single_digit_addition;single_digit_multiplication;single_digit_subtraction\n"
        )
    );
}

#[test]
fn a_quiz_file_runs_and_a_broken_one_is_refused_before_anything_is_stored() {
    let home = Home::new();
    let (status, stdout, _) = home.run(&["run", &testdata("arithmetic.toml"), "--seed", "1", "--json"], "");
    assert_eq!(status, 0);
    assert!(
        stdout.starts_with("{\"event\":\"question\",\"template\":\"single_digit_addition\",\"category\":\"addition\""),
        "{stdout}"
    );

    let other = Home::new();
    let file = testdata("many_problems.toml");
    let (status, stdout, stderr) = other.run(&["run", &file, "--json"], "1\n");
    assert_eq!((status, stdout.as_str()), (1, ""));
    assert!(
        stderr.starts_with(&format!("{file}:1:1: titel: unknown key \"titel\" (did you mean \"title\"?)\n")),
        "{stderr}"
    );
    // Fifteen errors and the warning beside them, each with its excerpt under it.
    let located = stderr.lines().filter(|line| line.starts_with(&format!("{file}:"))).count();
    assert_eq!(located, 16, "{stderr}");
    assert!(
        stderr.lines().all(|line| line.is_empty() || line.starts_with(&format!("{file}:")) || line.starts_with(' '))
    );
    assert!(!other.db().exists(), "a quiz file with errors writes nothing to the store");
}

#[test]
fn check_reports_a_clean_file_with_its_distinct_questions() {
    let home = Home::new();
    let file = testdata("text_and_scripts.toml");
    let (status, stdout, stderr) = home.run(&["check", &file], "");
    assert_eq!((status, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        format!(
            "{file}: ok: quiz \"Capitals and more\", mastery 1, 3 templates\n  capital: 1 distinct question in 200 draws (of 1 in all)\n  double: 50 distinct questions in 200 draws (a sample: script generators)\n  third: 20 distinct questions in 200 draws (of 20 in all)\n"
        )
    );
}

#[test]
fn check_show_prints_sample_questions_with_their_expected_answers() {
    let home = Home::new();
    let file = testdata("text_and_scripts.toml");
    let (status, stdout, stderr) = home.run(&["check", &file, "--show", "2"], "");
    assert_eq!((status, stderr.as_str()), (0, ""));
    let (summary, samples) = stdout.split_once("sample questions").unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(summary.lines().count(), 4, "the summary comes first, unchanged:\n{stdout}");
    let lines: Vec<&str> = samples.lines().skip(1).collect();
    assert_eq!(lines.len(), 5, "2 per template, and capital has only 1 question:\n{stdout}");
    assert_eq!(lines[0], "  capital: What is the capital of France? → Paris");
    for line in &lines[1..3] {
        assert!(
            line.starts_with("  double: Double ") && line.ends_with(" → (script checker: no single expected value)"),
            "{line}"
        );
    }
    for line in &lines[3..5] {
        let (asked, expected) = line.strip_prefix("  third: ").and_then(|l| l.split_once(" → ")).unwrap();
        let a: f64 = asked.strip_suffix(" / 3 to two places").unwrap().parse().unwrap();
        assert_eq!(expected, format!("{} (± 0.01)", a / 3.0), "{line}");
    }
    let (_, again, _) = home.run(&["check", &file, "--show", "2"], "");
    assert_eq!(again, stdout, "the samples are the same every time");
}

#[test]
fn check_without_show_prints_no_samples_and_show_is_bounded() {
    let home = Home::new();
    let file = testdata("text_and_scripts.toml");
    let (_, plain, _) = home.run(&["check", &file], "");
    let (_, zero, _) = home.run(&["check", &file, "--show", "0"], "");
    assert_eq!(plain, zero);
    assert!(!plain.contains("sample questions"), "{plain}");
    let (status, _, stderr) = home.run(&["check", &file, "--show", "1001"], "");
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--show"), "{stderr}");
}

#[test]
fn check_lists_every_problem_with_its_location_and_exits_1() {
    let home = Home::new();
    let file = testdata("hostile.toml");
    let (status, stdout, stderr) = home.run(&["check", &file], "");
    assert_eq!(status, 1);
    // An endless loop stops on its operation limit, or on its time budget on a loaded machine.
    let first = "script ran too long (";
    let stopped = stderr.find(first).map(|at| at + first.len()).unwrap_or_default();
    let stderr = format!("{}LIMIT{}", &stderr[..stopped], &stderr[stopped + stderr[stopped..].find(')').unwrap()..]);
    // Each problem's first line is `FILE:LINE:COL: field: message`; the excerpt under it starts with spaces.
    let expected = format!(
        r#"{file}:7:20: templates[0].generators.n: generator "n" of template "spin" failed: script ran too long (LIMIT)
    |
  7 | generators = {{ n = {{ script = "loop {{ }}" }} }}
    |                    ^^^^^^^^^^^^^^^^^^^^^^^

{file}:14:20: templates[1].generators.n: generator "n" of template "deep" failed: script recursed too deeply
    |
 14 | generators = {{ n = {{ script = "fn f(x) {{ f(x + 1) }} f(0)" }} }}
    |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

{file}:22:22: templates[2].checker.script: the checker fails on the answer "0" to "1": script built a text too large
    |
 22 | checker = {{ script = "let s = \"x\"; loop {{ s += s; }}" }}
    |                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

{file}:28:20: templates[3].generators.n: generator "n" of template "huge_array" failed: script built a list too large
    |
 28 | generators = {{ n = {{ script = "let a = [1]; loop {{ a += a; }}" }} }}
    |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
"#
    );
    assert_eq!(stderr, expected);
    let stdout = format!("{}LIMIT{}", &stdout[..stopped], &stdout[stopped + stdout[stopped..].find(')').unwrap()..]);
    assert_eq!(stdout, stderr, "the report also reaches stdout when it goes elsewhere");
}

#[test]
fn exit_statuses_follow_the_contract() {
    let home = Home::new();
    assert_eq!(home.run(&["run", "--bogus"], "").0, 2);
    assert_eq!(home.run(&["frobnicate"], "").0, 2);
    assert_eq!(home.run(&["run", "--seed", "minus one"], "").0, 2);
    assert_eq!(home.run(&["run", "--time-limit", "soon"], "").0, 2);
    assert_eq!(home.run(&["report", "--by", "template"], "").0, 2, "--by needs a title");
    let (status, _, stderr) = home.run(&["check", "no/such/file.toml"], "");
    assert_eq!((status, stderr.as_str()), (1, "no/such/file.toml:1:1: file: cannot read the file: no such file\n"));
    let (status, _, stderr) = home.run(&["run", "--email", "not-an-email"], "");
    assert_eq!(
        (status, stderr.as_str()),
        (1, "mastery: invalid input: email: email must look like name@domain, got \"not-an-email\"\n")
    );
    let (status, _, stderr) = home.run(&["run", "--db", "/proc/forbidden/x.db"], "");
    assert_eq!(status, 1);
    assert!(stderr.starts_with("mastery: cannot create the database folder /proc/forbidden"), "{stderr}");
}

#[test]
fn help_version_and_completions() {
    let home = Home::new();
    let (status, version, _) = home.run(&["--version"], "");
    assert_eq!((status, version.trim()), (0, format!("mastery {}", env!("CARGO_PKG_VERSION")).as_str()));
    for subcommand in ["run", "check", "report", "completions"] {
        let (status, help, _) = home.run(&[subcommand, "--help"], "");
        assert_eq!(status, 0);
        assert!(help.contains("Example"), "{subcommand} --help has an example");
    }
    for shell in ["bash", "zsh", "fish"] {
        let (status, script, _) = home.run(&["completions", shell], "");
        assert!(status == 0 && script.contains("mastery") && script.contains("time-limit"), "{shell}");
    }
}

#[test]
fn the_time_limit_ends_the_quiz_with_time_up() {
    let home = Home::new();
    let mut run = home.drive(&["--seed", "1", "--time-limit", "300ms"]);
    let question = run.event();
    run.answer(&solve(question["asked"].as_str().unwrap()).to_string());
    assert_eq!(run.event()["event"], "answer");
    assert_eq!(run.event()["event"], "question");
    // No more answers: the Proctor closes the quiz.
    assert_eq!(run.event(), serde_json::json!({"event": "time_up", "title": "Arithmetic"}));
    assert_eq!(run.child.wait().unwrap().code(), Some(0));
}

#[test]
fn hostile_input_never_panics() {
    let home = Home::new();
    let huge = format!("{}\n", "9".repeat(1 << 20));
    let (status, stdout, stderr) = home.run(&["run", "--seed", "1", "--json"], &huge);
    assert_eq!(status, 0, "{stderr}");
    let events: Vec<serde_json::Value> = stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(events.len(), 4, "question, rejected, the same question, stopped: {stdout}");
    assert_eq!(
        events[1],
        serde_json::json!({"event": "rejected", "reason": "an answer must be at most 1000 characters"})
    );
    assert_eq!((&events[0], &events[3]["event"]), (&events[2], &serde_json::json!("stopped")));

    let mut child = home
        .mastery(&["run", "--seed", "1", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\xff\xfe\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("\"answer\":\"\u{fffd}\u{fffd}\",\"correct\":false,\"verdict\":\"invalid\""), "{stdout}");

    // A reader that goes away: the run stops without a panic.
    let mut child = home
        .mastery(&["run", "--seed", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let _ = child.stdin.take().unwrap().write_all(b"1\n2\n3\n");
    let output = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

/// Rounds of the kill test, and runs answering at once in each.
const KILL_ROUNDS: usize = 6;
const RUNS_PER_ROUND: usize = 3;

/// Several runs on one database answer as fast as they can, their answers streaming in without
/// waiting for replies; all are killed (SIGKILL) just as one of them prints an answer event, round
/// after round. Every answer event any run printed must be in the store.
///
/// The test keeps the database open throughout, as another learner's run would. SQLite then does
/// not recover a transaction that a killed run had written but not yet made visible, so an answer
/// event printed before its commit completed shows up as a lost answer.
#[test]
fn sigkill_during_a_scripted_run_loses_no_printed_answer() {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, RandomState};
    use std::sync::mpsc;

    use mastery_core::{RandomSource, SplitMix64};
    use mastery_persistence::{ResponseStore, SqliteStore};

    // On the build's disk rather than in a temporary folder that may live in memory: a commit
    // there takes long enough for a kill to land inside it.
    let folder = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let db = folder.path().join("killed.db");
    let open_elsewhere = SqliteStore::open(&db).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let stored = |store: &SqliteStore| -> HashSet<(String, String)> {
        let responses = runtime.block_on(store.responses("Arithmetic")).unwrap();
        responses.into_iter().map(|response| (response.email, response.answer)).collect()
    };
    let seed = RandomState::new().hash_one(std::process::id());
    let mut random = SplitMix64::new(seed);
    let mut printed: Vec<(String, String)> = Vec::new();
    for round in 0..KILL_ROUNDS {
        let (answered, heard) = mpsc::channel();
        let mut runs = Vec::new();
        let mut threads = Vec::new();
        for run in 0..RUNS_PER_ROUND {
            let email = format!("killed{round}.{run}@example.com");
            let mut child = Command::new(assert_cmd::cargo::cargo_bin!("mastery"))
                .args(["run", "--json", "--email", &email, "--db"])
                .arg(&db)
                .env_remove("MASTERY_LOG")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Numbers no demo question has for an answer, each naming its answer event.
            let mut stdin = child.stdin.take().unwrap();
            threads.push(std::thread::spawn(move || {
                for n in 1_000u64.. {
                    if writeln!(stdin, "-{n}").is_err() {
                        return;
                    }
                }
            }));
            let stdout = BufReader::new(child.stdout.take().unwrap());
            let answered = answered.clone();
            threads.push(std::thread::spawn(move || {
                for line in stdout.lines().map_while(Result::ok) {
                    let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
                    if event["event"] == "answer" {
                        let answer = event["answer"].as_str().expect("an answer event names its answer");
                        let _ = answered.send((email.clone(), answer.to_string()));
                    }
                }
            }));
            runs.push(child);
        }
        drop(answered);
        let kill_after = random.integer_in(1, 20);
        for _ in 0..kill_after {
            printed.push(heard.recv().expect("the runs are still answering"));
        }
        for run in &mut runs {
            run.kill().unwrap();
        }
        for run in &mut runs {
            run.wait().unwrap();
        }
        for thread in threads {
            thread.join().unwrap();
        }
        // What the runs printed before they died was acknowledged too.
        printed.extend(heard.try_iter());

        let stored = stored(&open_elsewhere);
        let lost: Vec<_> = printed.iter().filter(|answer| !stored.contains(*answer)).collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}, killed after {kill_after} answer events): printed but not stored: {lost:?}"
        );
    }
    drop(open_elsewhere);
    let reopened = stored(&SqliteStore::open(&db).unwrap());
    assert!(printed.iter().all(|answer| reopened.contains(answer)), "reopened, the store lost answers");
}

#[test]
fn an_interactive_terminal_run_prompts_and_shows_the_verdict() {
    let home = Home::new();
    let (mut child, mut stdin, mut stdout) = home.terminal("--seed 7");
    // The question comes with its instructions and a prompt.
    let seen = read_until(&mut stdout, "›");
    // A banner first: the quiz, its size and rule, and how to stop.
    let banner =
        ["Arithmetic", "3 templates; answer each one right 2 times in a row to master it.", "Ctrl-D or Ctrl-C stops"];
    let at: Vec<usize> =
        banner.iter().map(|line| seen.find(line).unwrap_or_else(|| panic!("{line:?} in {seen:?}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]) && at[2] < seen.find("Work out the").unwrap(), "{seen:?}");
    stdin.write_all(b"-1000\n").unwrap();
    let verdict = read_until(&mut stdout, "streak");
    assert!(verdict.contains("\x1b[31m✗ incorrect"), "a red verdict on a terminal: {verdict:?}");
    // Ctrl-D ends the run cleanly, once the terminal has taken the answer.
    stdin.write_all(b"\x04").unwrap();
    let rest = read_until(&mut stdout, "mastered.");
    assert!(rest.contains("Stopped; every answer so far is saved"), "{rest:?}");
    assert!(rest.contains("1 answer, 0 correct; 0/3 templates mastered."), "one answer, in the singular: {rest:?}");
    drop(stdin);
    child.wait().unwrap();
    let (_, json, _) = home.run(&["report", "Arithmetic", "--format", "json"], "");
    assert!(json.contains("\"responses\": 1"), "{json}");
}

#[test]
fn ctrl_c_on_a_terminal_stops_cleanly_with_every_answer_stored() {
    let home = Home::new();
    let (mut child, mut stdin, mut stdout) = home.terminal("--seed 3");
    read_until(&mut stdout, "›");
    stdin.write_all(b"l2\n").unwrap();
    read_until(&mut stdout, "try again");
    stdin.write_all(b"\x03").unwrap();
    let rest = read_until(&mut stdout, "saved");
    assert!(rest.contains("Stopped; every answer so far is saved"), "{rest:?}");
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(130), "the shell's convention for an interrupt");
    let (_, csv, _) = home.run(&["report", "Arithmetic", "--format", "csv"], "");
    assert_eq!(csv, "email,responses,correct,invalid,mastered\nlearner@localhost,1,0,1,\n");
}

#[test]
fn on_a_terminal_an_answer_is_edited_with_the_arrow_keys_and_earlier_answers_come_back() {
    let home = Home::new();
    let (mut child, mut stdin, mut stdout) = home.terminal("--seed 7");
    read_until(&mut stdout, "›");
    // A typing slip fixed before sending: "13", left arrow, backspace (the "1" goes), "2", End
    // and "4" send "234".
    stdin.write_all(b"13\x1b[D\x7f2\x1b[F4\r").unwrap();
    read_until(&mut stdout, "streak");
    read_until(&mut stdout, "›");
    // Up brings back the answer just sent; Home and a "-" in front edit it to "-234".
    stdin.write_all(b"\x1b[A\x1b[H-\r").unwrap();
    read_until(&mut stdout, "streak");
    read_until(&mut stdout, "›");
    // Up twice goes further back, Down comes forward again: "-234" is sent once more.
    stdin.write_all(b"\x1b[A\x1b[A\x1b[B\r").unwrap();
    read_until(&mut stdout, "streak");
    read_until(&mut stdout, "›");
    stdin.write_all(b"\x04").unwrap();
    read_until(&mut stdout, "mastered.");
    drop(stdin);
    child.wait().unwrap();

    use mastery_persistence::{ResponseStore, SqliteStore};
    let store = SqliteStore::open(home.db()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let answers: Vec<String> =
        runtime.block_on(store.responses("Arithmetic")).unwrap().into_iter().map(|response| response.answer).collect();
    assert_eq!(answers, ["234", "-234", "-234"]);
}

/// Reads the terminal's output until `marker` appears (or the output ends).
fn read_until(stdout: &mut impl std::io::Read, marker: &str) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains(marker) {
        if stdout.read(&mut byte).unwrap() == 0 {
            break;
        }
        seen.push(byte[0]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}
