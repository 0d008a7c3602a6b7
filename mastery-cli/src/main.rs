//! # mastery: the command line
//!
//! A front end and nothing more: it reads arguments, talks to the terminal and prints. Everything
//! it assembles — the store behind the boundary, quiz loading, the JSON it writes — comes from
//! `mastery-app`, which every front end shares.
//!
//! ```text
//! mastery run [QUIZ_FILE] [--email EMAIL] [--seed N] [--db PATH] [--time-limit 5m] [--json] [--color WHEN]
//! mastery check QUIZ_FILE [--show N] [--color WHEN]
//! mastery report TITLE [--db PATH] [--format table|json|csv]
//! mastery completions bash|zsh|fish
//! ```

mod check;
mod diagnostics;
mod keyboard;
mod output;
mod regrade;
mod report;
mod run;
mod serve;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use mastery_boundary::FileProblems;

use diagnostics::ColorChoice;

/// How a run ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every template mastered.
    Finished,
    /// The time limit ended the quiz.
    TimeUp,
    /// Standard input ended.
    EndOfInput,
    /// Ctrl-C.
    Interrupted,
}

/// An error that ends the command: the message for stderr (if any) and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What to print on stderr; nothing when empty.
    pub message: String,
    /// The exit status.
    pub status: u8,
    /// Problems in quiz files, shown as diagnostics in place of the message.
    pub problems: Option<FileProblems>,
}

impl Failure {
    /// An error: exit status 1.
    pub fn error(message: impl Into<String>) -> Self {
        Failure { message: message.into(), status: 1, problems: None }
    }

    /// Problems in quiz files, each shown with its place in the file: exit status 1.
    pub fn located(problems: FileProblems) -> Self {
        Failure { message: String::new(), status: 1, problems: Some(problems) }
    }

    /// A stop with nothing to say (stdout closed under us).
    pub fn quiet() -> Self {
        Failure { message: String::new(), status: 1, problems: None }
    }
}

#[derive(Parser)]
#[command(
    name = "mastery",
    version,
    about = "Take, script, check and report mastery quizzes",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Take a quiz: the built-in demo without a file.
    #[command(
        after_help = "Examples:\n  mastery run\n  mastery run quiz.toml --email ada@example.com --time-limit 5m\n  printf '3\\n7\\n' | mastery run --seed 1 --json"
    )]
    Run {
        /// The quiz file (TOML); the demo quiz `Arithmetic` when absent.
        quiz_file: Option<PathBuf>,
        /// Who is taking the quiz.
        #[arg(long, default_value = "learner@localhost")]
        email: String,
        /// Fixes the questions of a new session: the same seed and answers give the same run.
        #[arg(long)]
        seed: Option<u64>,
        /// The database (default: $MASTERY_DB, else mastery.db in your data folder).
        #[arg(long)]
        db: Option<PathBuf>,
        /// End the quiz after this long: 90s, 5m, 1h30m.
        #[arg(long, value_parser = mastery_boundary::parse_duration)]
        time_limit: Option<std::time::Duration>,
        /// Write one JSON event per line instead of text.
        #[arg(long)]
        json: bool,
        /// Start a new session instead of resuming your open one (which is then abandoned).
        #[arg(long)]
        restart: bool,
        /// Colour problems in the quiz file: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
        #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
        color: ColorChoice,
    },
    /// Validate a quiz file and self-test every template.
    #[command(after_help = "Examples:\n  mastery check quiz.toml\n  mastery check quiz.toml --show 3")]
    Check {
        /// The quiz file (TOML).
        quiz_file: PathBuf,
        /// Also print N sample questions per template with the answer each checker expects.
        #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u16).range(..=1000))]
        show: u16,
        /// Colour the problems: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
        #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
        color: ColorChoice,
    },
    /// Show a quiz's results per learner, session or template; without a title, list the quizzes.
    #[command(
        after_help = "Examples:\n  mastery report\n  mastery report Arithmetic\n  mastery report Arithmetic --by template\n  mastery report Arithmetic --format csv > results.csv"
    )]
    Report {
        /// The quiz's title; without it, the quizzes in the store are listed.
        title: Option<String>,
        /// The database (default: $MASTERY_DB, else mastery.db in your data folder).
        #[arg(long)]
        db: Option<PathBuf>,
        /// How to print it.
        #[arg(long, value_enum, default_value = "table")]
        format: report::Format,
        /// One row per learner (email), per session, or per template (item statistics).
        #[arg(long, value_enum, default_value = "email", requires = "title")]
        by: report::By,
    },
    /// Judge a quiz's stored answers again with the checkers of a quiz file.
    #[command(
        after_help = "Examples:\n  mastery regrade capitals.toml\n  mastery regrade capitals.toml --apply\n  mastery regrade capitals.toml --format json"
    )]
    Regrade {
        /// The quiz file (TOML) whose checkers judge; its title names the quiz.
        quiz_file: PathBuf,
        /// The database (default: $MASTERY_DB, else mastery.db in your data folder).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Store the regrade, so that reports count its verdicts; without it nothing is stored.
        #[arg(long)]
        apply: bool,
        /// How to print it.
        #[arg(long, value_enum, default_value = "table")]
        format: regrade::Format,
        /// Colour problems in the quiz file: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
        #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
        color: ColorChoice,
    },
    /// Serve a class over HTTP: a JSON API, a learner page at / and a teacher page at /teach.
    #[command(
        after_help = "Examples:\n  mastery serve\n  mastery serve --listen 0.0.0.0:8080 --quizzes quizzes/\n  MASTERY_TEACHER_TOKEN=secret mastery serve --listen 127.0.0.1:0"
    )]
    Serve {
        /// Where to listen, HOST:PORT (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:4000")]
        listen: String,
        /// The database (default: $MASTERY_DB, else mastery.db in your data folder).
        #[arg(long)]
        db: Option<PathBuf>,
        /// A folder whose *.toml quiz files are offered beside the demo.
        #[arg(long)]
        quizzes: Option<PathBuf>,
    },
    /// Print shell completions.
    #[command(after_help = "Example:\n  mastery completions bash > ~/.local/share/bash-completion/completions/mastery")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The environment variables the command reads, and where the database is on this machine.
fn environment_help() -> String {
    let database = match mastery_app::database_location(None) {
        Ok(location) => location.to_string(),
        Err(error) => format!("none found ({error})"),
    };
    format!(
        "Environment:\n  MASTERY_DB   the database, unless --db is given (here: {database})\n  \
         MASTERY_LOG  log filter for stderr, e.g. MASTERY_LOG=debug\n  \
         MASTERY_TEACHER_TOKEN  the teacher token of mastery serve (else one kept in the database)\n  \
         NO_COLOR     set to anything to turn colour off\n\n\
         Examples:\n  mastery run\n  mastery check quiz.toml\n  mastery report Arithmetic --format csv\n  mastery regrade quiz.toml --apply"
    )
}

/// Runs the command line and returns the exit status.
/// See the dependency's comment in Cargo.toml: measured on a class starting at once.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Clap exits 2 on a usage error and 0 for --help and --version, as the contract asks.
    let parsed = Cli::command()
        .after_help(environment_help())
        .try_get_matches_from(std::env::args_os())
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging();
    let color = cli.command.color();
    let result = match cli.command {
        Command::Run { quiz_file, email, seed, db, time_limit, json, restart, .. } => {
            let colour = color.for_stderr();
            run::run(run::RunOptions { quiz_file, email, seed, db, time_limit, json, restart, colour }).map(|outcome| {
                match outcome {
                    Outcome::Interrupted => 130,
                    _ => 0,
                }
            })
        }
        Command::Check { quiz_file, show, .. } => check::check(&quiz_file, usize::from(show), color).and_then(print),
        Command::Report { title, db, format, by } => {
            report::report(title.as_deref(), db.as_deref(), format, by).and_then(print)
        }
        Command::Regrade { quiz_file, db, apply, format, .. } => {
            regrade::regrade(&quiz_file, db.as_deref(), apply, format).and_then(print)
        }
        Command::Serve { listen, db, quizzes } => serve::serve(serve::ServeOptions { listen, db, quizzes }),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mastery", &mut std::io::stdout());
            Ok(0)
        }
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            let text = match (&failure.problems, failure.message.is_empty()) {
                (Some(problems), _) => format!("{}\n", diagnostics::render(&problems.0, color.for_stderr())),
                (None, true) => String::new(),
                (None, false) => format!("mastery: {}\n", failure.message),
            };
            // One write: on a terminal shared with another writer (`| cat`), the message stays whole.
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
            ExitCode::from(failure.status)
        }
    }
}

impl Command {
    /// How the command colours problems in quiz files (only `run` and `check` read quiz files).
    fn color(&self) -> ColorChoice {
        match self {
            Command::Run { color, .. } | Command::Check { color, .. } | Command::Regrade { color, .. } => *color,
            _ => ColorChoice::Auto,
        }
    }
}

/// Writes `text` and a newline to stdout; a closed pipe is a quiet stop.
fn print(text: String) -> Result<u8, Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::quiet()),
        Err(e) => Err(Failure::error(format!("cannot write to stdout: {e}"))),
    }
}

/// Logs go to stderr, and only when asked for with `MASTERY_LOG` (e.g. `MASTERY_LOG=debug`);
/// coloured only on a terminal, and never with `NO_COLOR` set.
fn init_logging() {
    use std::io::IsTerminal;
    let Ok(filter) = std::env::var("MASTERY_LOG") else { return };
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}
