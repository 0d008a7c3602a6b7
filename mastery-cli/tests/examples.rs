//! The example quizzes and the guide that shows them: every file under `examples/` passes
//! `mastery check`, and every TOML block in `docs/quiz-files.md` is one of those files or part of
//! one, so a teacher who copies from the guide copies something that works.

mod common;

use std::path::{Path, PathBuf};

use common::Home;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `examples/*.toml`, by its path from the workspace root, and its text.
fn examples() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(workspace().join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .map(|path| {
            let name = format!("examples/{}", path.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    found.sort();
    found
}

/// Each ```toml block of the guide, with the file the line `File: `examples/NAME.toml`` above it
/// names, if any.
fn guide_blocks() -> Vec<(Option<String>, String)> {
    let guide = std::fs::read_to_string(workspace().join("docs/quiz-files.md")).unwrap();
    let mut blocks = Vec::new();
    let mut named = None;
    let mut block: Option<String> = None;
    for line in guide.lines() {
        match &mut block {
            Some(text) if line == "```" => {
                blocks.push((named.take(), std::mem::take(text)));
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None if line == "```toml" => block = Some(String::new()),
            None if line.starts_with("File: `") => {
                named = line.strip_prefix("File: `").and_then(|rest| rest.strip_suffix('`')).map(String::from);
            }
            None if !line.trim().is_empty() => named = None,
            None => {}
        }
    }
    blocks
}

#[test]
fn every_example_passes_check() {
    let home = Home::new();
    let examples = examples();
    assert!(examples.len() >= 6, "{examples:?}");
    for (name, _) in examples {
        let path = workspace().join(&name).display().to_string();
        let (status, stdout, stderr) = home.run(&["check", &path, "--show", "2"], "");
        assert_eq!(status, 0, "{name}:\n{stdout}{stderr}");
        assert!(stdout.contains(": ok: quiz "), "{name}: {stdout}");
        assert!(stderr.is_empty() && !stdout.contains("warning"), "{name} has warnings:\n{stdout}{stderr}");
    }
}

#[test]
fn every_quiz_in_the_guide_is_an_example_file_word_for_word() {
    let examples = examples();
    let blocks = guide_blocks();
    let full: Vec<_> = blocks.iter().filter(|(_, text)| text.lines().any(|l| l.starts_with("title = "))).collect();
    assert!(full.len() >= 6, "the guide shows {} whole quizzes", full.len());
    for (named, text) in &full {
        let name = named.as_deref().unwrap_or_else(|| panic!("a whole quiz without a `File:` line above it:\n{text}"));
        let (_, file) = examples.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} does not exist"));
        assert_eq!(text, file, "the guide's {name} differs from the file");
    }
    for (name, _) in &examples {
        assert!(full.iter().any(|(named, _)| named.as_deref() == Some(name)), "the guide does not show {name}");
    }
}

#[test]
fn every_snippet_in_the_guide_is_part_of_an_example_file() {
    let examples = examples();
    for (named, text) in guide_blocks() {
        if named.is_none() {
            assert!(examples.iter().any(|(_, file)| file.contains(&text)), "no example file holds:\n{text}");
        }
    }
}

#[test]
fn a_script_checker_is_given_the_trimmed_answer() {
    let home = Home::new();
    let file = workspace().join("examples/scripts.toml").display().to_string();
    let mut run = home.drive(&[&file, "--seed", "1"]);
    loop {
        let event = run.event();
        if event["event"] != "question" {
            continue;
        }
        if event["template"] == "horse" {
            run.answer(" Horse ");
            let answer = run.event();
            assert_eq!((answer["answer"].as_str(), answer["verdict"].as_str()), (Some(" Horse "), Some("correct")));
            return;
        }
        // A number every other template judges wrong (not invalid, which would ask again).
        run.answer("0");
    }
}

#[test]
fn the_check_output_the_guide_shows_is_what_check_prints() {
    let guide = std::fs::read_to_string(workspace().join("docs/quiz-files.md")).unwrap();
    let home = Home::new();
    let mut command = home.mastery(&["check", "examples/arithmetic.toml", "--show", "3"]);
    command.current_dir(workspace());
    let (status, stdout, stderr) = Home::output(command, "");
    assert_eq!(status, 0, "{stderr}");
    let shown: Vec<&str> = guide.split("```text\n").skip(1).filter_map(|block| block.split("```").next()).collect();
    assert_eq!(shown.len(), 2, "the guide shows a summary and samples");
    for block in shown {
        for line in block.lines() {
            assert!(stdout.lines().any(|printed| printed == line), "check does not print {line:?}:\n{stdout}");
        }
    }
}

#[test]
fn the_practice_example_shows_the_expected_answer_after_a_miss_only() {
    let home = Home::new();
    let file = workspace().join("examples/practice.toml").display().to_string();
    let mut run = home.drive(&[&file, "--seed", "1"]);
    let question = run.event();
    let asked = question["asked"].as_str().unwrap().to_string();
    let (a, b) = asked.split_once(" × ").unwrap();
    let product = a.parse::<i64>().unwrap() * b.parse::<i64>().unwrap();
    run.answer("1");
    let missed = run.event();
    assert_eq!(
        (missed["verdict"].as_str(), missed["expected"].as_str()),
        (Some("incorrect"), Some(product.to_string().as_str()))
    );
    let next = run.event();
    let (a, b) = next["asked"].as_str().unwrap().split_once(" × ").unwrap();
    run.answer(&(a.parse::<i64>().unwrap() * b.parse::<i64>().unwrap()).to_string());
    let right = run.event();
    assert_eq!(right["verdict"], "correct");
    assert!(right.get("expected").is_none(), "{right}");
    assert_eq!(run.close_input(), 0);
}
