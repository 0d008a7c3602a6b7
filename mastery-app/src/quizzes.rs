//! Quizzes a front end offers: a file, a folder of files, or the built-in demo.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mastery_boundary::{FileProblem, FileProblems, Validator};
use mastery_core::{Quiz, examples};

use crate::error::AppError;

/// The built-in demo: `Arithmetic`, mastery 2, single-digit `+`, `-` and `×`.
pub fn demo_quiz() -> Quiz {
    examples::arithmetic_quiz()
}

/// Reads and validates the quiz file at `path`. A file with problems gives every one of them
/// ([`AppError::QuizFiles`]); warnings do not stop the quiz and are left out (see
/// [`load_quiz_file_with_warnings`]).
pub fn load_quiz_file(path: &Path) -> Result<Quiz, AppError> {
    load_quiz_file_with_warnings(path).map(|(quiz, _)| quiz)
}

/// Like [`load_quiz_file`], with the file's warnings (located, like its problems), for a front
/// end that shows them before the quiz starts.
pub fn load_quiz_file_with_warnings(path: &Path) -> Result<(Quiz, Vec<FileProblem>), AppError> {
    let loaded = mastery_boundary::load_quiz_file(path, &Validator::default())?;
    Ok((loaded.valid.quiz, loaded.warnings))
}

/// Reads every `*.toml` file in `folder` (not its subfolders), in name order, as quizzes.
///
/// The problems of all files come together, so one look shows everything to fix; two files
/// with the same title are a problem too, since one quiz would silently replace the other. An
/// empty folder gives no quiz.
///
/// ```
/// let folder = tempfile::tempdir().unwrap();
/// std::fs::write(folder.path().join("broken.toml"), "title = \"\"\n").unwrap();
/// std::fs::write(folder.path().join("notes.txt"), "not a quiz").unwrap();
/// let problems = mastery_app::load_quiz_folder(folder.path()).unwrap_err().to_string();
/// assert!(problems.starts_with(&format!("{}:1:", folder.path().join("broken.toml").display())), "{problems}");
/// ```
pub fn load_quiz_folder(folder: &Path) -> Result<Vec<Quiz>, AppError> {
    let validator = Validator::default();
    let mut quizzes = Vec::new();
    let mut problems = Vec::new();
    let mut titles: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in quiz_files(folder)? {
        match mastery_boundary::load_quiz_file(&path, &validator) {
            Ok(loaded) => {
                let quiz = loaded.valid.quiz;
                if let Some(first) = titles.get(quiz.title()) {
                    let message = format!("the quiz {:?} is also in {}", quiz.title(), first.display());
                    problems.push(FileProblem::at_start(&path.display().to_string(), "title", message));
                    continue;
                }
                titles.insert(quiz.title().to_string(), path);
                quizzes.push(quiz);
            }
            Err(FileProblems(found)) => problems.extend(found),
        }
    }
    match problems.is_empty() {
        true => Ok(quizzes),
        false => Err(AppError::QuizFiles(FileProblems(problems))),
    }
}

/// The `*.toml` files directly in `folder`, sorted by name so that problems and quizzes always
/// come in the same order.
fn quiz_files(folder: &Path) -> Result<Vec<PathBuf>, AppError> {
    let unreadable = |source| AppError::QuizFolder { path: folder.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|extension| extension == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMS: &str = r#"
title = "Sums"
mastery = 2

[[templates]]
name = "sum"
category = "addition"
raw = "{{a}} + {{b}}"
generators = { a = [1, 2], b = { range = [0, 9] } }
checker = { expect = "a + b" }
"#;

    fn quiz_text(title: &str) -> String {
        SUMS.replace("\"Sums\"", &format!("{title:?}"))
    }

    #[test]
    fn a_folder_gives_its_quizzes_in_name_order() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("b.toml"), quiz_text("Second")).unwrap();
        std::fs::write(folder.path().join("a.toml"), quiz_text("First")).unwrap();
        std::fs::write(folder.path().join("README.md"), "# not a quiz").unwrap();
        std::fs::create_dir(folder.path().join("old.toml")).unwrap();
        let titles: Vec<String> =
            load_quiz_folder(folder.path()).unwrap().iter().map(|quiz| quiz.title().to_string()).collect();
        assert_eq!(titles, ["First", "Second"]);
    }

    #[test]
    fn the_problems_of_every_file_come_together() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("a.toml"), "title = \"\"\n").unwrap();
        std::fs::write(folder.path().join("b.toml"), quiz_text("Sums")).unwrap();
        std::fs::write(folder.path().join("c.toml"), "mastery = 0\n").unwrap();
        std::fs::write(folder.path().join("d.toml"), quiz_text("Sums")).unwrap();
        let Err(AppError::QuizFiles(FileProblems(problems))) = load_quiz_folder(folder.path()) else {
            panic!("problems expected");
        };
        let files: std::collections::BTreeSet<String> = problems.iter().map(|p| p.file.clone()).collect();
        let named = |name: &str| folder.path().join(name).display().to_string();
        assert_eq!(files, [named("a.toml"), named("c.toml"), named("d.toml")].into());
        let duplicate = problems.last().unwrap();
        assert_eq!(
            duplicate.to_string(),
            format!("{}:1:1: title: the quiz \"Sums\" is also in {}", named("d.toml"), named("b.toml"))
        );
    }

    #[test]
    fn a_missing_folder_is_named() {
        let error = load_quiz_folder(Path::new("/no/such/quizzes")).unwrap_err();
        assert!(error.to_string().starts_with("cannot read the quiz folder /no/such/quizzes: "), "{error}");
    }

    #[test]
    fn a_file_with_problems_gives_them_all() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("quiz.toml");
        std::fs::write(&path, "title = \"\"\nmastery = 0\n").unwrap();
        let Err(AppError::QuizFiles(problems)) = load_quiz_file(&path) else { panic!("problems expected") };
        assert!(problems.0.len() >= 2, "{problems}");
        assert_eq!(load_quiz_file(&path.with_file_name("none.toml")).unwrap_err().to_string().lines().count(), 1);
    }

    #[test]
    fn the_demo_is_arithmetic() {
        assert_eq!((demo_quiz().title(), demo_quiz().mastery()), ("Arithmetic", 2));
    }
}
