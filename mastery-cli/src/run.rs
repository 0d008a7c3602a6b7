//! `mastery run`: take a quiz through the `Mastery` API, recording every response.
//!
//! Every line of input gets exactly one reply: an `answer` (after the response is durable), or a
//! `rejected` line for input that is no answer at all, followed by the question again. A script
//! that waits for a reply to each line it writes never waits forever.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mastery_app::{App, AppError, AppOptions};
use mastery_boundary::{Mastery, MasteryConfig, MasteryError, Next, ProctorEvent, QuestionView, TakeOptions, Taken};
use mastery_core::Quiz;
use tokio::sync::mpsc;
use tokio::time::Instant;

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
    let app = App::open(app).map_err(app_failure)?;
    let outcome = Run::open(app.mastery(), quiz, options).await;
    let outcome = match outcome {
        Ok(run) => run.drive(read_lines(max_answer_chars), max_answer_chars).await,
        Err(failure) => Err(failure),
    };
    // Every answer reported so far is stored; shutting down lets the store's writer finish.
    let _ = app.shutdown().await;
    outcome
}

/// A line of standard input, as the reader thread hands it over.
enum Input {
    Line(String),
    /// A line longer than the answer limit; only its first part was kept in memory.
    TooLong,
    End,
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
        let take = TakeOptions { seed: options.seed.unwrap_or_else(random_seed), restart: options.restart };
        let taken = mastery.take_quiz_with(&title, &options.email, take).await.map_err(api_failure)?;
        Ok(Run { mastery, output, title, email: &options.email, deadline, time_up, taken })
    }

    fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    fn ask(&self, question: &QuestionView) -> Result<(), Failure> {
        self.output.question(question, self.time_left()).map_err(write_failure)
    }

    /// Asks, reads and answers until the quiz ends one way or another.
    async fn drive(mut self, mut lines: mpsc::Receiver<Input>, max_answer_chars: usize) -> Result<Outcome, Failure> {
        let selected = self.mastery.select_question(&self.title, self.email).await.map_err(api_failure)?;
        let Some(mut question) = selected else {
            self.output.finished(&self.title).map_err(write_failure)?;
            return Ok(Outcome::Finished);
        };
        self.output.banner(&self.title).map_err(write_failure)?;
        self.output.taken(&self.taken).map_err(write_failure)?;
        self.ask(&question)?;
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
                line = lines.recv() => line.unwrap_or(Input::End),
            };
            let rejected = match input {
                Input::End => return self.end(Outcome::EndOfInput),
                Input::TooLong => format!("an answer must be at most {max_answer_chars} characters"),
                Input::Line(line) if line.trim().is_empty() => "an empty line is no answer".to_string(),
                Input::Line(answer) => match self.answer(&answer).await? {
                    Step::Ask(next) => {
                        question = next;
                        self.ask(&question)?;
                        continue;
                    }
                    Step::Reject(reason) => reason,
                    Step::End(outcome) => return self.end(outcome),
                },
            };
            self.output.rejected(&rejected).map_err(write_failure)?;
            self.ask(&question)?;
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

/// Reads stdin on a thread of its own, one line at a time. Invalid UTF-8 is replaced, not fatal;
/// a line over `max_answer_chars` is read past, never held whole in memory.
fn read_lines(max_answer_chars: usize) -> mpsc::Receiver<Input> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let input = read_line(&mut stdin, max_answer_chars);
            let ended = matches!(input, Input::End);
            if sender.blocking_send(input).is_err() || ended {
                return;
            }
        }
    });
    receiver
}

/// Reads one line, keeping at most enough bytes for `max_chars` characters (four bytes each at
/// most) and one more, and discarding the rest of a longer line.
fn read_line(reader: &mut impl BufRead, max_chars: usize) -> Input {
    let keep = max_chars.saturating_add(1).saturating_mul(4);
    let mut line = Vec::new();
    let mut overflowed = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Input::End,
        };
        if chunk.is_empty() {
            // End of input: a last line without a newline still counts.
            return match (line.is_empty(), overflowed) {
                (true, false) => Input::End,
                _ => finish_line(line, overflowed, max_chars),
            };
        }
        let (part, newline) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], true),
            None => (chunk, false),
        };
        let room = keep.saturating_sub(line.len());
        overflowed |= part.len() > room;
        line.extend_from_slice(&part[..part.len().min(room)]);
        let used = part.len() + usize::from(newline);
        reader.consume(used);
        if newline {
            return finish_line(line, overflowed, max_chars);
        }
    }
}

fn finish_line(line: Vec<u8>, overflowed: bool, max_chars: usize) -> Input {
    let text = String::from_utf8_lossy(&line);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    if overflowed || text.chars().count() > max_chars {
        return Input::TooLong;
    }
    Input::Line(text.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max_chars: usize) -> Vec<String> {
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let mut seen = Vec::new();
        loop {
            match read_line(&mut reader, max_chars) {
                Input::Line(line) => seen.push(line),
                Input::TooLong => seen.push("<too long>".into()),
                Input::End => return seen,
            }
        }
    }

    #[test]
    fn lines_are_split_and_trimmed_of_their_line_ends() {
        assert_eq!(lines(b"3\n 7 \r\n\nlast", 10), ["3", " 7 ", "", "last"]);
    }

    #[test]
    fn an_overlong_line_is_one_rejection_and_the_next_line_is_read_whole() {
        let mut input = vec![b'9'; 100_000];
        input.extend_from_slice(b"\n42\n");
        assert_eq!(lines(&input, 10), ["<too long>", "42"]);
        assert_eq!(lines("ééééé\nééééééééééé\n".as_bytes(), 10), ["ééééé", "<too long>"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(lines(b"4\xff2\n", 10), ["4\u{fffd}2"]);
    }
}
