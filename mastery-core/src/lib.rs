//! # mastery-core: the data and functional core
//!
//! Mastery builds quizzes from **templates**: question text with `{{ placeholders }}`, named
//! **generators** that draw a value for each placeholder, and a **checker** that judges an answer.
//! A learner **masters** a template by answering it correctly `mastery` times in a row; the quiz is
//! finished when every template is mastered.
//!
//! This crate is the book's "data" and "functional core" layers. The one idea to hold on to:
//! **everything here is a plain value and a pure function.** Randomness comes in as a
//! [`RandomSource`], time as a [`Timestamp`]; nothing here reads a clock, touches a file, spawns a
//! thread or draws randomness of its own. The same seed and the same answers therefore give the same
//! quiz, question for question — which is what lets a session be rebuilt from its stored responses.
//!
//! The crate depends on nothing but `std`.
//!
//! ```
//! use mastery_core::{Response, SplitMix64, Timestamp, examples};
//!
//! let mut quiz = examples::math_quiz();
//! let mut rng = SplitMix64::new(2024);
//! let question = quiz.select_question(&mut rng)?.expect("a fresh quiz has a question");
//! println!("{}", question.asked()); // e.g. "3 + 4"
//!
//! let response = Response::new(&quiz, "learner@example.com", "not a number", Timestamp::from_millis(0))?;
//! assert_eq!(response.verdict().kind(), "invalid");
//! let outcome = quiz.answer_question(response)?;
//! assert_eq!(outcome.streak, 0);
//! assert!(quiz.current_question().is_some(), "an invalid answer keeps the question current");
//! # Ok::<(), mastery_core::QuizError>(())
//! ```
//!
//! Where to start reading: [`Quiz`] (selection and mastery), then [`Template`] and [`Question`].

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod checker;
mod error;
mod exam;
pub mod examples;
mod generator;
mod history;
mod question;
mod quiz;
mod random;
mod response;
mod session;
mod template;
mod value;

pub use checker::{Checker, ExpectedFn, Verdict};
pub use error::{QuizError, TemplateError};
pub use exam::{Deadline, Exam, ExtraTime, LearnerOverride, NotOpen, Timing, WhenTimeIsUp, Window};
pub use generator::Generator;
pub use history::MasteryFold;
pub use question::Question;
pub use quiz::{AnswerOutcome, DEFAULT_MASTERY, Quiz, Reveal};
pub use random::{RandomSource, SplitMix64};
pub use response::{Response, Timestamp};
pub use session::{Next, ResumeError, Session, SessionEnding, StoredAnswer, Turn};
pub use template::{Placeholder, Segment, Template, TemplateBuilder, placeholders};
pub use value::{Substitutions, Value};
