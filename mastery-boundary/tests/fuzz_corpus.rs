//! Replays the fuzz corpus and every fixed crash through the fuzz targets' own code, so that an
//! input a fuzzer once found stays a regression test in an ordinary `cargo test`.
//!
//! Inputs live in `fuzz/corpus/<target>/` (the seeds) and `fuzz/regressions/<target>/` (inputs that
//! crashed a target before its fix); the quiz-file target also gets every `.toml` fixture.

use std::path::{Path, PathBuf};

use mastery_boundary::fuzzing::TARGETS;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

/// The files directly inside `folder`, sorted; none if it does not exist.
fn files_in(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|entry| entry.expect("a readable folder").path()).filter(|path| path.is_file()).collect();
    files.sort();
    files
}

fn inputs_for(target: &str) -> Vec<PathBuf> {
    let fuzz = root().join("fuzz");
    let mut inputs = files_in(&fuzz.join("corpus").join(target));
    inputs.extend(files_in(&fuzz.join("regressions").join(target)));
    if target == "quiz_file" {
        inputs.extend(files_in(&root().join("mastery-boundary/testdata")));
    }
    inputs
}

/// Runs every input of `target`, naming each one that panics.
fn replay(target: &str) {
    let (_, run) = TARGETS.iter().find(|(name, _)| *name == target).expect("a known target");
    let inputs = inputs_for(target);
    assert!(!inputs.is_empty(), "no corpus for {target}");
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable input");
            std::panic::catch_unwind(|| run(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target} failed on:\n{}", failed.join("\n"));
}

#[test]
fn every_target_has_a_corpus_folder() {
    for (target, _) in TARGETS {
        assert!(root().join("fuzz/corpus").join(target).is_dir(), "fuzz/corpus/{target} is missing");
    }
}

#[test]
fn quiz_file_corpus() {
    replay("quiz_file");
}

#[test]
fn placeholders_corpus() {
    replay("placeholders");
}

#[test]
fn answers_corpus() {
    replay("answers");
}

#[test]
fn script_corpus() {
    replay("script");
}
