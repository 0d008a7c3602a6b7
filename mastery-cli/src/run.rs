//! `mastery run`: take a quiz through the `Mastery` API, recording every response.
//!
//! Every line of input gets exactly one reply: an `answer` (after the response is durable), or a
//! `rejected` line for input that is no answer at all, followed by the question again. A script
//! that waits for a reply to each line it writes never waits forever.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mastery_app::{App, AppError, AppOptions};
use mastery_boundary::{
    Clock, Mastery, MasteryConfig, MasteryError, Next, ProctorEvent, QuestionView, TakeOptions, Taken,
};
use mastery_core::Quiz;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::keyboard::{Input, Keyboard};
use crate::output::Output;
use crate::{Failure, Outcome};

/// Everything `mastery run` was asked.
pub struct RunOptions {
    /// A quiz file; the demo quiz when absent.
    pub quiz_file: Option<PathBuf>,
    /// The learner.
    pub email: String,
    /// Fixes the questions.
    pub seed: Option<u64>,
    /// The database.
    pub db: Option<PathBuf>,
    /// The Proctor ends the quiz after this long.
    pub time_limit: Option<Duration>,
    /// JSON events on stdout.
    pub json: bool,
    /// Abandon the learner's open session instead of resuming it.
    pub restart: bool,
    /// Colour the quiz file's warnings on stderr.
    pub colour: bool,
}

/// Runs a quiz to its end: finished, time up, end of input or Ctrl-C.
pub fn run(options: RunOptions) -> Result<Outcome, Failure> {
    // A quiz file with problems stops the run before anything, the database included, is touched.
    let quiz = load_quiz(options.quiz_file.as_deref(), options.colour)?;
    mastery_boundary::validate_email(&options.email).map_err(|e| Failure::error(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the runtime: {e}")))?;
    let app = AppOptions { db: options.db.clone().map(PathBuf::into_os_string), config: MasteryConfig::default() };
    runtime.block_on(take(quiz, &options, app))
}

/// The quiz to take; a file's warnings (it runs in spite of them) are shown on stderr first.
fn load_quiz(file: Option<&std::path::Path>, colour: bool) -> Result<Quiz, Failure> {
    let Some(file) = file else { return Ok(mastery_app::demo_quiz()) };
    let (quiz, warnings) = mastery_app::load_quiz_file_with_warnings(file).map_err(app_failure)?;
    if !warnings.is_empty() {
        let text = format!("{}\n", crate::diagnostics::render(&warnings, colour));
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
    }
    Ok(quiz)
}

async fn take(quiz: Quiz, options: &RunOptions, app: AppOptions) -> Result<Outcome, Failure> {
    let max_answer_chars = app.config.max_answer_chars;
    let app = App::connect(app).await.map_err(app_failure)?;
    let outcome = Run::open(app.mastery(), quiz, options).await;
    let outcome = match outcome {
        Ok(run) => {
            let keyboard = Keyboard::open(run.output.interactive, max_answer_chars);
            run.drive(keyboard, max_answer_chars).await
        }
        Err(failure) => Err(failure),
    };
    // Every answer reported so far is stored; shutting down lets the store's writer finish.
    let _ = app.shutdown().await;
    outcome
}

/// What one answer led to.
enum Step {
    Ask(QuestionView),
    /// The answer was refused before it was judged; the same question stands.
    Reject(String),
    End(Outcome),
}

/// One learner's run of one quiz.
struct Run<'a> {
    mastery: &'a Mastery,
    output: Output,
    title: String,
    email: &'a str,
    deadline: Option<Instant>,
    /// Hears when the Proctor closes the quiz; without a time limit its sender is gone at once.
    time_up: mpsc::UnboundedReceiver<()>,
    /// The session taken: new, or resumed.
    taken: Taken,
}

impl<'a> Run<'a> {
    /// Installs the quiz (through the Proctor when there is a time limit) and starts the
    /// learner's session.
    async fn open(mastery: &'a Mastery, quiz: Quiz, options: &'a RunOptions) -> Result<Run<'a>, Failure> {
        let title = quiz.title().to_string();
        let output = Output::for_run(&quiz, options.json);
        let (notify_time_up, time_up) = mpsc::unbounded_channel();
        let notify_exam_time_up = notify_time_up.clone();
        let deadline = match options.time_limit {
            Some(limit) => Some(
                Instant::now()
                    .checked_add(limit)
                    .ok_or_else(|| Failure::error(format!("the time limit {limit:?} is too long")))?,
            ),
            None => None,
        };
        match deadline {
            Some(deadline) => {
                let notify: mastery_boundary::Notify = Arc::new(move |event| {
                    if matches!(event, ProctorEvent::Stopped { .. }) {
                        let _ = notify_time_up.send(());
                    }
                });
                mastery.schedule_built_quiz(quiz, Instant::now(), deadline, Some(notify)).await.map_err(api_failure)?;
            }
            None => mastery.install_quiz(quiz).await.map_err(api_failure)?,
        }
        // An exam's own deadline for this learner: the Proctor says when it has passed.
        let exam_time_up = notify_exam_time_up.clone();
        let (exam_title, exam_email) = (title.clone(), options.email.clone());
        mastery.on_session_deadlines(Arc::new(move |event| {
            if let ProctorEvent::SessionTimeUp { title, email, .. } = event
                && title == exam_title
                && email == exam_email
            {
                let _ = exam_time_up.send(());
            }
        }));
        let take = TakeOptions { seed: options.seed.unwrap_or_else(random_seed), restart: options.restart };
        let taken = mastery.take_quiz_with(&title, &options.email, take).await.map_err(api_failure)?;
        let deadline = match taken.deadline {
            // The sooner of the two: the exam's deadline for this learner, or --time-limit.
            Some(exam) => {
                let left = exam.due_at.as_millis().saturating_sub(mastery_boundary::SystemClock.now().as_millis());
                let exam_due = Instant::now() + Duration::from_millis(left);
                Some(deadline.map_or(exam_due, |limit| limit.min(exam_due)))
            }
            None => deadline,
        };
        Ok(Run { mastery, output, title, email: &options.email, deadline, time_up, taken })
    }

    fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Shows `question`; on a terminal the line editor shows its prompt and reads the answer.
    fn ask(&self, question: &QuestionView, keyboard: &Keyboard) -> Result<(), Failure> {
        let prompt = self.output.question(question, self.time_left()).map_err(write_failure)?;
        match prompt {
            Some(prompt) if keyboard.edits() => keyboard.ask(prompt),
            Some(prompt) => self.output.prompt(&prompt).map_err(write_failure)?,
            None => {}
        }
        Ok(())
    }

    /// Asks, reads and answers until the quiz ends one way or another.
    async fn drive(mut self, mut keyboard: Keyboard, max_answer_chars: usize) -> Result<Outcome, Failure> {
        let selected = self.mastery.select_question(&self.title, self.email).await.map_err(api_failure)?;
        let Some(mut question) = selected else {
            self.output.finished(&self.title).map_err(write_failure)?;
            return Ok(Outcome::Finished);
        };
        self.output.banner(&self.title).map_err(write_failure)?;
        self.output.taken(&self.taken).map_err(write_failure)?;
        self.ask(&question, &keyboard)?;
        // One listener for the whole run, so that a Ctrl-C pressed while an answer is being
        // stored is not lost between two turns of the loop.
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        loop {
            let input = tokio::select! {
                biased;
                Some(()) = self.time_up.recv() => return self.end(Outcome::TimeUp),
                listening = &mut interrupted => {
                    listening.map_err(|e| Failure::error(format!("cannot listen for Ctrl-C: {e}")))?;
                    return self.end(Outcome::Interrupted);
                }
                line = keyboard.next() => line,
            };
            let rejected = match input {
                Input::End => return self.end(Outcome::EndOfInput),
                Input::Interrupted => return self.end(Outcome::Interrupted),
                Input::TooLong => format!("an answer must be at most {max_answer_chars} characters"),
                Input::Line(line) if line.trim().is_empty() => "an empty line is no answer".to_string(),
                Input::Line(answer) => match self.answer(&answer).await? {
                    Step::Ask(next) => {
                        question = next;
                        self.ask(&question, &keyboard)?;
                        continue;
                    }
                    Step::Reject(reason) => reason,
                    Step::End(outcome) => return self.end(outcome),
                },
            };
            self.output.rejected(&rejected).map_err(write_failure)?;
            self.ask(&question, &keyboard)?;
        }
    }

    /// Sends one answer; prints what it did once it is stored.
    async fn answer(&mut self, answer: &str) -> Result<Step, Failure> {
        let answered = match self.mastery.answer_question(&self.title, self.email, answer).await {
            Ok(answered) => answered,
            Err(MasteryError::Invalid(problems)) => return Ok(Step::Reject(problems.to_string())),
            // The Proctor ended the session while this answer was on its way.
            Err(MasteryError::NoSession { .. } | MasteryError::SessionStopped { .. }) if self.deadline.is_some() => {
                return Ok(Step::End(Outcome::TimeUp));
            }
            Err(MasteryError::TimeUp { .. }) => return Ok(Step::End(Outcome::TimeUp)),
            Err(error) => return Err(api_failure(error)),
        };
        self.output.answered(&answered, answer).map_err(write_failure)?;
        match answered.next {
            Next::Question(next) => Ok(Step::Ask(next)),
            Next::Finished => Ok(Step::End(Outcome::Finished)),
            // The answer is stored and was reported; the failure comes after it.
            Next::Failed(error) => Err(api_failure(error)),
        }
    }

    /// Prints how the run ended.
    fn end(&self, outcome: Outcome) -> Result<Outcome, Failure> {
        let printed = match outcome {
            Outcome::Finished => self.output.finished(&self.title),
            Outcome::TimeUp => self.output.time_up(&self.title),
            Outcome::EndOfInput | Outcome::Interrupted => self.output.stopped(&self.title),
        };
        printed.map_err(write_failure)?;
        Ok(outcome)
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn api_failure(error: MasteryError) -> Failure {
    Failure::error(error.to_string())
}

/// Quiz-file problems are printed as they are, one located problem per line; anything else is
/// one sentence.
pub fn app_failure(error: AppError) -> Failure {
    match error {
        AppError::QuizFiles(problems) => crate::check::problems_failure(&problems),
        error => Failure::error(error.to_string()),
    }
}

/// A closed stdout (the reader of a pipe went away) ends the run quietly.
fn write_failure(error: std::io::Error) -> Failure {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        return Failure::quiet();
    }
    Failure::error(format!("cannot write to stdout: {error}"))
}
