//! Problems in quiz files as `check` and `run` show them: cargo's layout with the offending line
//! and a caret, in colour on a terminal, and a `FILE:LINE:COL: field: message` line per problem
//! without colour.

mod common;

use std::process::Command;

use common::{Home, testdata};

const ONE_CAUSE_PLAIN: &str = r#"F:7:23: templates[0].generators.left: left must be a list of values, { range = [lo, hi] } or { script = "..." }, got integer 5
    |
  7 | generators = { left = 5, right = { range = [1] } }
    |                       ^

F:7:44: templates[0].generators.right.range: range must be two integers [lo, hi]
    |
  7 | generators = { left = 5, right = { range = [1] } }
    |                                            ^^^

F:15:22: templates[1].checker.expect: expect must be text, got integer 5
    |
 15 | checker = { expect = 5 }
    |                      ^
"#;

#[test]
fn without_colour_each_problem_is_its_located_line_then_its_excerpt() {
    let home = Home::new();
    let file = testdata("one_cause.toml");
    for args in [vec!["check", &file], vec!["check", &file, "--color", "never"], vec!["run", &file, "--color", "never"]]
    {
        let (status, _, stderr) = home.run(&args, "");
        assert_eq!((status, stderr.replace(&file, "F").as_str()), (1, ONE_CAUSE_PLAIN), "{args:?}");
    }
}

#[test]
fn with_colour_problems_look_like_cargo_s_and_warnings_are_shown_beside_errors() {
    let home = Home::new();
    let file = home.file(
        "quiz.toml",
        "title = \"Sums\"\n[[templates]]\nname = \"sum\"\ncategory = \"addition\"\nraw = \"{{left}}\"\n\
         generators = { left = [1], spare = [2] }\nchecker = { expect = \"left +\" }\n",
    );
    let (status, _, stderr) = home.run(&["check", &file, "--color", "always"], "");
    assert_eq!(status, 1);
    assert_eq!(
        stderr.replace(&file, "F"),
        "\x1b[1;33mwarning:\x1b[0m\x1b[1m templates[0].generators.spare: generator \"spare\" is not used by any placeholder\x1b[0m
  \x1b[1;34m--> F:6:36\x1b[0m
\x1b[1;34m   |\x1b[0m
\x1b[1;34m 6 |\x1b[0m generators = { left = [1], spare = [2] }
\x1b[1;34m   |\x1b[0m                                    \x1b[1;33m^^^\x1b[0m

\x1b[1;31merror:\x1b[0m\x1b[1m templates[0].checker.expect: script does not compile: script is incomplete\x1b[0m
  \x1b[1;34m--> F:7:29\x1b[0m
\x1b[1;34m   |\x1b[0m
\x1b[1;34m 7 |\x1b[0m checker = { expect = \"left +\" }
\x1b[1;34m   |\x1b[0m                             \x1b[1;31m^\x1b[0m
"
    );
}

/// What a terminal shows for `shell_command` run on it, with `TERM` and `NO_COLOR` as given.
#[cfg(unix)]
fn on_a_terminal(shell_command: &str, term: &str, no_color: Option<&str>) -> String {
    let mut command = Command::new("script");
    command.args(["-qec", shell_command, "/dev/null"]).env("TERM", term).env_remove("NO_COLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = command.stdin(std::process::Stdio::null()).output().expect("script(1) from util-linux is available");
    String::from_utf8_lossy(&output.stdout).replace('\r', "")
}

#[cfg(unix)]
#[test]
fn colour_comes_on_by_itself_only_on_a_terminal_that_wants_it() {
    let binary = assert_cmd::cargo::cargo_bin!("mastery").display().to_string();
    let file = testdata("one_cause.toml");
    let check = format!("{binary} check {file}");
    let coloured = |screen: &str| screen.contains("\x1b[1;31merror:");
    let screen = on_a_terminal(&check, "xterm", None);
    assert!(coloured(&screen) && screen.contains(&format!("--> {file}:15:22")), "{screen}");
    assert!(!coloured(&on_a_terminal(&check, "xterm", Some("1"))), "NO_COLOR turns colour off");
    assert!(coloured(&on_a_terminal(&check, "xterm", Some(""))), "an empty NO_COLOR does not");
    assert!(!coloured(&on_a_terminal(&check, "dumb", None)), "TERM=dumb turns colour off");
    assert!(!coloured(&on_a_terminal(&format!("{check} --color never"), "xterm", None)));
    let run = on_a_terminal(&format!("{binary} run {file} --db /dev/null/x.db"), "xterm", None);
    assert!(coloured(&run), "{run}");
    // Into a pipe, auto means no colour, whatever the terminal.
    let (_, _, stderr) = Home::new().run(&["check", &file, "--color", "auto"], "");
    assert!(!stderr.contains('\x1b'), "{stderr}");
}

#[test]
fn run_shows_a_valid_files_warnings_and_runs_it() {
    let home = Home::new();
    let quiz = home.file(
        "warned.toml",
        "title = \"Warned\"\nmastery = 1\n\n[[templates]]\nname = \"add\"\ncategory = \"sums\"\nraw = \"1 + {{a}}\"\ngenerators = { a = [1, 2], unused = [3] }\nchecker = { expect = \"1 + a\" }\n",
    );
    let (status, stdout, stderr) = home.run(&["run", &quiz, "--json", "--color", "never"], "");
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{quiz}:8:37: templates[0].generators.unused: warning: generator \"unused\" is not used"
        )),
        "{stderr}"
    );
    let events: Vec<&str> = stdout.lines().collect();
    assert!(events[0].starts_with("{\"event\":\"question\""), "the warnings stay off stdout: {stdout}");
}

const RUNTIME_FAILURES_PLAIN: &str = r#"F:10:3: templates[0].generators.n: generator "n" of template "halves" failed: script failed: division by zero
    |
 10 | x / (x - x)
    |   ^

F:21:7: templates[1].checker.script: the checker fails on the answer "0" to "Say yes": script failed: shout(text) is not available to quiz scripts
    |
 21 | heard.shout()
    |       ^

F:29:30: templates[2].checker.expect: script failed: list index 4 out of bounds: only 2 elements in list (question "Part of 4")
    |
 29 | checker = { expect = "[1, 2][n]" }
    |                              ^
"#;

#[test]
fn a_script_that_fails_while_running_is_shown_at_the_failing_spot_of_the_file() {
    let home = Home::new();
    let file = testdata("runtime_failures.toml");
    let (status, _, stderr) = home.run(&["check", &file, "--color", "never"], "");
    assert_eq!((status, stderr.replace(&file, "F").as_str()), (1, RUNTIME_FAILURES_PLAIN));
}
