//! # mastery-boundary: where untrusted input, time and concurrency meet the core
//!
//! The book's boundary layer and its "big, loud worker-bees". This crate turns untrusted input
//! into core values ([`Validator`], [`load_quiz_file`]), and runs the processes that hold state:
//!
//! - the **quiz manager** keeps the quizzes learners can take;
//! - one **session** worker per (quiz title, email) holds that learner's [`mastery_core::Quiz`],
//!   started by a dynamic supervisor and found through a registry;
//! - the **Proctor** opens and closes quizzes on a schedule;
//! - a one-for-one [`Supervisor`] starts, restarts and stops all three.
//!
//! The one idea: **a worker is a task that owns its state; everyone else holds a handle with a
//! bounded mailbox and makes calls** (a message carrying a reply channel, waited for with a
//! timeout). Overload slows callers down; a dead worker is an error at once, never a hang.
//!
//! Persistence enters as a port ([`ResponsePort`]): this crate never knows which store is behind
//! it. A response is recorded *before* the session's quiz advances.
//!
//! ```
//! use mastery_boundary::{Mastery, MasteryConfig, Next};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mastery = Mastery::start(MasteryConfig::default());
//! mastery.install_quiz(mastery_core::examples::math_quiz()).await?;
//! mastery.take_quiz("Math", "learner@example.com").await?;
//! let mut question = mastery.select_question("Math", "learner@example.com").await?.unwrap();
//! loop {
//!     // The API shows what a learner sees — here "3 + 5" — never the drawn values or the answer.
//!     let sum: i64 = question.asked().split(" + ").map(|term| term.parse::<i64>().unwrap()).sum();
//!     let answered = mastery.answer_question("Math", "learner@example.com", &sum.to_string()).await?;
//!     match answered.next {
//!         Next::Question(next) => question = next,
//!         Next::Finished => break,
//!         Next::Failed(error) => return Err(error.into()),
//!     }
//! }
//! assert!(mastery.active_sessions_for("Math").is_empty(), "a finished session is gone");
//! mastery.shutdown().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! **API Boundary:** everything [`Mastery`] exports is async or immediate, returns `Result` where
//! it can fail, and accepts untrusted input only through the validators.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod call;
mod check;
mod coarse_clock;
mod duration;
mod error;
mod fields;
#[doc(hidden)]
pub mod fuzzing;
mod manager;
mod mastery;
mod port;
mod problem;
mod proctor;
mod quiz_file;
mod registry;
mod rfc3339;
mod script;
mod session;
mod supervisor;
mod validate;
mod view;

pub use check::{Sample, TemplateSummary, samples, self_test};
pub use duration::{MAX_DURATION, parse_duration};
pub use error::MasteryError;
pub use fields::{
    CheckerSpec, ExamFields, GeneratorSpec, LearnerOverrideFields, QuizFields, TemplateFields, ValueSpec,
};
pub use mastery::{Mastery, MasteryConfig, validate_email};
pub use port::{
    Clock, EndedAttempt, FnPort, LatestSession, NoPersistence, OpenSession, Place, PortFuture, RecordError,
    RecordErrorKind, RecordFuture, ResponsePort, SessionStart, StoredTurn, SystemClock, TokioClock, Withdrawal,
};
pub use problem::{Problem, Problems};
pub use proctor::{Notify, ProctorEvent};
pub use quiz_file::{
    CheckedQuiz, FileProblem, FileProblems, QuizFile, check_quiz_file, edit_distance, load_quiz_file, parse_quiz_text,
};
pub use rfc3339::{format_rfc3339, parse_rfc3339};
pub use script::{ScriptLimits, Scripts};
pub use session::{Abandoned, Answered, Next, SessionStatus, TakeOptions, Taken};
pub use supervisor::{ChildSpec, RestartIntensity, StartChild, Supervisor, SupervisorError};
pub use validate::{ExpectChecker, Limits, ValidQuiz, ValidTemplate, Validator};
pub use view::{Progress, QuestionView};
