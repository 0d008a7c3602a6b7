//! `mastery run`: take a quiz through the `Mastery` API, recording every response.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mastery_boundary::{Mastery, MasteryConfig, MasteryError, Next, ProctorEvent, Validator, load_quiz_file};
use mastery_core::{Quiz, examples};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::output::Output;
use crate::wiring::{StorePort, database_path, open_store};
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
}

/// Runs a quiz to its end: finished, time up, end of input or Ctrl-C.
pub fn run(options: RunOptions) -> Result<Outcome, Failure> {
    // A quiz file with problems stops the run before anything, the database included, is touched.
    let quiz = load_quiz(options.quiz_file.as_deref())?;
    mastery_boundary::validate_email(&options.email).map_err(|e| Failure::error(e.to_string()))?;
    let path = database_path(options.db.as_deref()).map_err(Failure::error)?;
    let store = Arc::new(open_store(&path).map_err(Failure::error)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the runtime: {e}")))?;
    let outcome = runtime.block_on(take(quiz, &options, store.clone()));
    drop(runtime);
    // Dropping the store lets its writer finish and join: nothing acknowledged is left behind.
    drop(store);
    outcome
}

fn load_quiz(file: Option<&std::path::Path>) -> Result<Quiz, Failure> {
    let Some(file) = file else { return Ok(examples::arithmetic_quiz()) };
    let loaded = load_quiz_file(file, &Validator::default()).map_err(|p| crate::check::problems_failure(&p))?;
    Ok(loaded.valid.quiz)
}

async fn take(
    quiz: Quiz,
    options: &RunOptions,
    store: Arc<mastery_persistence::SqliteStore>,
) -> Result<Outcome, Failure> {
    let mastery = Mastery::start(MasteryConfig::with_port(Arc::new(StorePort(store))));
    let outcome = drive(&mastery, quiz, options).await;
    let _ = mastery.shutdown().await;
    outcome
}

enum Input {
    Line(String),
    End,
}

async fn drive(mastery: &Mastery, quiz: Quiz, options: &RunOptions) -> Result<Outcome, Failure> {
    let title = quiz.title().to_string();
    let mut output = Output::for_run(&quiz, options.json);
    let interactive = output.interactive;
    let (deadline, mut ended) = open_quiz(mastery, quiz, options).await?;
    // One listener for the whole run, so that a Ctrl-C pressed while an answer is being stored
    // is not lost between two turns of the loop.
    let mut interrupts =
        signal(SignalKind::interrupt()).map_err(|e| Failure::error(format!("cannot listen for Ctrl-C: {e}")))?;
    let Some(mut question) = mastery.select_question(&title, &options.email).await.map_err(api_failure)? else {
        output.finished(&title).map_err(write_failure)?;
        return Ok(Outcome::Finished);
    };
    let time_left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
    output.question(&question, time_left()).map_err(write_failure)?;
    let mut lines = read_lines();
    loop {
        let input = tokio::select! {
            biased;
            // Without a time limit the sender is gone at once: only a message means time is up.
            Some(()) = ended.recv() => {
                output.time_up(&title).map_err(write_failure)?;
                return Ok(Outcome::TimeUp);
            }
            _ = interrupts.recv() => {
                output.stopped().map_err(write_failure)?;
                return Ok(Outcome::Interrupted);
            }
            line = lines.recv() => line.unwrap_or(Input::End),
        };
        let answer = match input {
            Input::End => {
                output.stopped().map_err(write_failure)?;
                return Ok(Outcome::EndOfInput);
            }
            Input::Line(line) if line.trim().is_empty() => {
                if interactive {
                    output.question(&question, time_left()).map_err(write_failure)?;
                }
                continue;
            }
            Input::Line(line) => line,
        };
        let answered = match mastery.answer_question(&title, &options.email, &answer).await {
            Ok(answered) => answered,
            Err(MasteryError::Invalid(problems)) => {
                eprintln!("mastery: {problems}; answer not taken");
                continue;
            }
            // The Proctor ended the session while this answer was on its way.
            Err(MasteryError::NoSession { .. } | MasteryError::SessionStopped { .. }) if deadline.is_some() => {
                output.time_up(&title).map_err(write_failure)?;
                return Ok(Outcome::TimeUp);
            }
            Err(error) => return Err(api_failure(error)),
        };
        output.answered(&answered, answer.trim_end_matches(['\r', '\n'])).map_err(write_failure)?;
        match answered.next {
            Next::Question(next) => question = next,
            Next::Finished => {
                output.finished(&title).map_err(write_failure)?;
                return Ok(Outcome::Finished);
            }
        }
        output.question(&question, time_left()).map_err(write_failure)?;
    }
}

/// Installs the quiz (through the Proctor when there is a time limit) and starts the learner's
/// session; returns the deadline and a receiver that hears when the Proctor closes the quiz.
async fn open_quiz(
    mastery: &Mastery,
    quiz: Quiz,
    options: &RunOptions,
) -> Result<(Option<Instant>, mpsc::UnboundedReceiver<()>), Failure> {
    let title = quiz.title().to_string();
    let (time_up, ended) = mpsc::unbounded_channel();
    let deadline = options.time_limit.map(|limit| Instant::now() + limit);
    match deadline {
        Some(deadline) => {
            let notify: mastery_boundary::Notify = Arc::new(move |event| {
                if matches!(event, ProctorEvent::Stopped { .. }) {
                    let _ = time_up.send(());
                }
            });
            mastery.schedule_built_quiz(quiz, Instant::now(), deadline, Some(notify)).await.map_err(api_failure)?;
        }
        None => mastery.install_quiz(quiz).await.map_err(api_failure)?,
    }
    let seed = options.seed.unwrap_or_else(random_seed);
    mastery.take_quiz_seeded(&title, &options.email, seed).await.map_err(api_failure)?;
    Ok((deadline, ended))
}

/// Reads stdin on a thread of its own, one line at a time; invalid UTF-8 is replaced, not fatal.
fn read_lines() -> mpsc::Receiver<Input> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let input = match stdin.read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => Input::End,
                Ok(_) => Input::Line(String::from_utf8_lossy(&buffer).trim_end_matches(['\n', '\r']).to_string()),
            };
            let ended = matches!(input, Input::End);
            if sender.blocking_send(input).is_err() || ended {
                return;
            }
        }
    });
    receiver
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn api_failure(error: MasteryError) -> Failure {
    Failure::error(error.to_string())
}

/// A closed stdout (the reader of a pipe went away) ends the run quietly.
fn write_failure(error: std::io::Error) -> Failure {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        return Failure::quiet();
    }
    Failure::error(format!("cannot write to stdout: {error}"))
}
