//! # tests: Mastery's acceptance tests and their little language
//!
//! The tests in `tests/` call the public APIs of every crate the way a user of them would. This
//! library is their DSL, in the manner of the book's `QuizBuilders`: fields with sensible defaults,
//! named setups that compose small steps, and a temporary store wired to the boundary by the same
//! code every front end uses ([`mastery_app::StorePort`]).
//!
//! ```
//! use tests::{one_plus_two_quiz, right_answer};
//! use mastery_core::SplitMix64;
//!
//! let mut quiz = one_plus_two_quiz(2);
//! let question = quiz.select_question(&mut SplitMix64::new(1)).unwrap().unwrap();
//! assert_eq!(right_answer(question), "3");
//! ```

use std::sync::Arc;

use mastery_app::StorePort;
use mastery_boundary::{CheckerSpec, GeneratorSpec, Mastery, MasteryConfig, QuizFields, TemplateFields, ValueSpec};
use mastery_core::{Generator, Question, Quiz, Template, examples};
use mastery_persistence::{ResponseStore, SqliteStore};

pub mod postgres;

/// A learner's email used where the test does not care which.
pub const EMAIL: &str = "mathy@example.com";

/// The single-digit addition template with the two generators replaced.
pub fn addition_with(left: Generator, right: Generator) -> Arc<Template> {
    let template = Template::builder("single_digit_addition")
        .category("addition")
        .instructions("Add the numbers")
        .raw("{{left}} + {{right}}")
        .generator("left", left)
        .generator("right", right)
        .checker(examples::integer_checker(i64::wrapping_add))
        .build()
        .expect("valid template");
    Arc::new(template)
}

/// The book's "Math" quiz whose template always asks "1 + 2".
pub fn one_plus_two_quiz(mastery: u32) -> Quiz {
    let mut quiz = Quiz::new("Math", mastery).expect("valid quiz");
    quiz.add_template(addition_with(Generator::list([1i64]), Generator::list([2i64]))).expect("one template");
    quiz
}

/// The same quiz as untrusted fields, as the Proctor is given them.
pub fn one_plus_two_fields(mastery: i64) -> (QuizFields, Vec<TemplateFields>) {
    let one = |n| GeneratorSpec::List(vec![ValueSpec::Integer(n)]);
    let template = TemplateFields {
        name: Some("single_digit_addition".into()),
        category: Some("addition".into()),
        raw: Some("{{left}} + {{right}}".into()),
        generators: Some([("left".to_string(), one(1)), ("right".to_string(), one(2))].into()),
        checker: Some(CheckerSpec::Expect { expect: "left + right".into(), tolerance: None, case_sensitive: None }),
        ..TemplateFields::default()
    };
    (QuizFields::titled("Math").with_mastery(mastery), vec![template])
}

/// The right answer to a `left OP right` question of the built-in quizzes.
pub fn right_answer(question: &Question) -> String {
    let subs = question.substitutions();
    let term = |name| subs.get(name).and_then(mastery_core::Value::as_integer).expect("integer term");
    let (left, right) = (term("left"), term("right"));
    let value = match question.template().category() {
        "subtraction" => left - right,
        "multiplication" => left * right,
        _ => left + right,
    };
    value.to_string()
}

/// The right answer to a question shown as `LEFT OP RIGHT` (`7 × 8`), as a learner would work it
/// out from the text: the API shows no drawn value.
///
/// ```
/// assert_eq!(tests::answer_to("7 × 8"), "56");
/// assert_eq!(tests::answer_to("3 - 9"), "-6");
/// ```
pub fn answer_to(asked: &str) -> String {
    let terms: Vec<&str> = asked.split(' ').collect();
    let number = |text: &str| text.parse::<i64>().unwrap_or_else(|_| panic!("{asked:?} is not LEFT OP RIGHT"));
    let (left, right) = (number(terms[0]), number(terms[2]));
    let value = match terms[1] {
        "-" => left - right,
        "×" => left * right,
        "+" => left + right,
        other => panic!("unknown operator {other:?} in {asked:?}"),
    };
    value.to_string()
}

/// A SQLite store in a temporary folder that lives as long as this value.
pub struct TempStore {
    /// The store.
    pub store: Arc<SqliteStore>,
    folder: tempfile::TempDir,
}

impl TempStore {
    /// A fresh, empty store.
    pub fn new() -> TempStore {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let store = Arc::new(SqliteStore::open(folder.path().join("mastery.db")).expect("a fresh store"));
        TempStore { store, folder }
    }

    /// The database file.
    pub fn path(&self) -> std::path::PathBuf {
        self.folder.path().join("mastery.db")
    }

    /// The store as the trait object callers hold.
    pub fn dyn_store(&self) -> Arc<dyn ResponseStore> {
        self.store.clone()
    }

    /// A running `Mastery` whose responses go into this store, wired as every front end wires it.
    pub fn mastery(&self) -> Mastery {
        Mastery::start(MasteryConfig::with_port(Arc::new(StorePort(self.dyn_store()))))
    }
}

impl Default for TempStore {
    fn default() -> Self {
        TempStore::new()
    }
}

/// The `mastery` binary of this build, built first if this test run has not built it yet.
pub fn mastery_binary() -> std::path::PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> → target/<profile>/mastery
    let profile = test.parent().and_then(std::path::Path::parent).expect("a target folder");
    let binary = profile.join(format!("mastery{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let release = profile.file_name().is_some_and(|name| name == "release");
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "-q", "-p", "mastery-cli", "--bin", "mastery"]);
        if release {
            build.arg("--release");
        }
        assert!(build.status().expect("cargo runs").success(), "building the mastery binary failed");
    }
    binary
}
