//! # mastery-app: Mastery assembled, for every front end
//!
//! The boundary ([`mastery_boundary`]) never knows which store keeps its responses, and the store
//! ([`mastery_persistence`]) never knows who calls it. Something has to plug one into the other,
//! and every front end — the `mastery` command line, a web server, the acceptance tests — needs
//! the same plug. This crate is that plug, and the only place where the two meet:
//!
//! - **the port**: [`StorePort`] records the boundary's responses into any
//!   [`ResponseStore`];
//! - **the store**: where it is ([`database_location`]: a `--db` flag, else `$MASTERY_DB`, else
//!   `mastery.db` in the user's data folder; a path or a `postgres://` URL), opened for recording
//!   ([`connect_store`]; a SQLite file with private files) or for reading only
//!   ([`connect_store_for_reading`]);
//! - **the quizzes**: a file ([`load_quiz_file`]), a folder of files ([`load_quiz_folder`]) or the
//!   built-in demo ([`demo_quiz`]);
//! - **the JSON** front ends share: the events of a run ([`Event`]) and the rows of a report
//!   ([`ReportRow`]);
//! - **one start and one stop** for the whole application ([`App`]): the workers and the store
//!   come up together and go down in order, so that nothing acknowledged is left unwritten.
//!
//! What stays in a front end is what makes it that front end: its arguments, its terminal or its
//! HTTP, and how it prints.
//!
//! ```
//! use mastery_app::{App, AppOptions, Event, demo_quiz};
//! use mastery_boundary::Next;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir()?;
//! let app = App::open(AppOptions { db: Some(folder.path().join("mastery.db").into()), ..AppOptions::default() })?;
//! let mastery = app.mastery();
//! mastery.install_quiz(demo_quiz()).await?;
//! mastery.take_quiz_seeded("Arithmetic", "ada@example.com", 1).await?;
//! let question = mastery.select_question("Arithmetic", "ada@example.com").await?.expect("a question");
//! let shown = serde_json::to_string(&Event::question(&question))?;
//! assert!(shown.starts_with(r#"{"event":"question","template":"#), "{shown}");
//!
//! // "?" is no number: the answer is stored as invalid and the same question stands.
//! let answered = mastery.answer_question("Arithmetic", "ada@example.com", "?").await?;
//! let events: Vec<String> = Event::answered(&answered, "?").map(|e| serde_json::to_string(&e).unwrap()).collect();
//! assert_eq!(events.len(), 1);
//! assert!(events[0].contains(r#""verdict":"invalid""#), "{}", events[0]);
//! assert!(matches!(answered.next, Next::Question(ref same) if same.is_same_question(&question)));
//!
//! app.shutdown().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod json;
mod port;
mod quizzes;
mod regrade;
mod reports;
mod store;

use std::ffi::OsString;
use std::sync::Arc;

use mastery_boundary::{Mastery, MasteryConfig};
use mastery_persistence::ResponseStore;

pub use error::AppError;
pub use json::{Event, ReportRow};
pub use port::StorePort;
pub use quizzes::{demo_quiz, load_quiz_file, load_quiz_file_with_warnings, load_quiz_folder};
pub use regrade::{ChangedVerdict, LearnerRegrade, Regrade, regrade};
pub use reports::{
    QuizRow, Report, ReportBy, SessionRow, TemplateRow, csv_field, learners_csv, read_report, rfc3339, unknown_title,
};
pub use store::{
    DATABASE_VARIABLE, StoreLocation, connect_store, connect_store_for_reading, database_location, open_store,
    open_store_for_reading,
};

/// How an [`App`] is opened.
#[derive(Clone, Default)]
pub struct AppOptions {
    /// Where responses are kept, as the user named it (a `--db` option): the path of a SQLite
    /// file or a `postgres://` URL. `None` follows [`database_location`]'s policy.
    pub db: Option<OsString>,
    /// How the workers behave. Its `port` is replaced by one recording into the opened store.
    pub config: MasteryConfig,
}

/// The running application: the `Mastery` workers, recording into a store.
///
/// Open it inside a tokio runtime, use [`App::mastery`], and end it with [`App::shutdown`].
pub struct App {
    mastery: Mastery,
    store: Arc<dyn ResponseStore>,
}

impl App {
    /// Opens the SQLite store named by `options` (creating it if needed) and starts the workers
    /// recording into it. Must be called inside a tokio runtime, as [`Mastery::start`]. A
    /// PostgreSQL store needs a connection first: [`App::connect`] opens either.
    pub fn open(options: AppOptions) -> Result<App, AppError> {
        let location = database_location(options.db.as_deref())?;
        let store = open_store(&location)?;
        Ok(App::with_store(store, options.config))
    }

    /// Opens the store named by `options` — a SQLite file, or a PostgreSQL database by URL,
    /// connected to and its schema brought up to date — and starts the workers recording into it.
    pub async fn connect(options: AppOptions) -> Result<App, AppError> {
        let location = database_location(options.db.as_deref())?;
        let store = connect_store(&location).await?;
        Ok(App::with_store(store, options.config))
    }

    /// Starts the workers recording into `store`, opened by the caller (a
    /// [`MemoryStore`](mastery_persistence::MemoryStore), say). Must be called inside a tokio
    /// runtime.
    pub fn with_store(store: Arc<dyn ResponseStore>, config: MasteryConfig) -> App {
        let config = MasteryConfig { port: Arc::new(StorePort(Arc::clone(&store))), ..config };
        App { mastery: Mastery::start(config), store }
    }

    /// The API: quizzes, sessions, questions and answers. Clones are cheap; drop them before
    /// [`App::shutdown`], since each keeps the store open.
    pub fn mastery(&self) -> &Mastery {
        &self.mastery
    }

    /// The store responses are recorded into, for reports.
    pub fn store(&self) -> &Arc<dyn ResponseStore> {
        &self.store
    }

    /// Stops everything in order: the workers first (every session ends, and every answer it
    /// was told is stored is), then the store, whose writer commits what it holds and finishes.
    /// Returns once the store is closed, unless a clone of [`App::mastery`] still holds it.
    pub async fn shutdown(self) -> Result<(), AppError> {
        let stopped = self.mastery.shutdown().await;
        // The workers hold the store through their port: they go first, so that the store's
        // last handle is dropped here and its writer is joined before this returns.
        drop(self.mastery);
        drop(self.store);
        Ok(stopped?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn what_was_answered_is_in_the_store_once_the_app_is_shut_down() {
        let folder = tempfile::tempdir().unwrap();
        let db = folder.path().join("data").join("mastery.db");
        runtime().block_on(async {
            let app = App::open(AppOptions { db: Some(db.clone().into()), ..AppOptions::default() }).unwrap();
            app.mastery().install_quiz(demo_quiz()).await.unwrap();
            app.mastery().take_quiz_seeded("Arithmetic", "ada@example.com", 1).await.unwrap();
            app.mastery().select_question("Arithmetic", "ada@example.com").await.unwrap().unwrap();
            app.mastery().answer_question("Arithmetic", "ada@example.com", "-99").await.unwrap();
            app.shutdown().await.unwrap();
        });
        let store = open_store_for_reading(&StoreLocation::Sqlite(db)).unwrap().expect("a database");
        let rows = runtime().block_on(store.report("Arithmetic")).unwrap();
        assert_eq!((rows[0].email.as_str(), rows[0].responses, rows[0].correct), ("ada@example.com", 1, 0));
    }

    #[test]
    fn an_unsupported_store_stops_the_app_before_it_starts() {
        let options = AppOptions { db: Some("mysql://db.example.com/mastery".into()), ..AppOptions::default() };
        let error = runtime().block_on(async { App::connect(options).await.err().expect("refused") });
        assert!(matches!(error, AppError::UnsupportedStore { .. }), "{error}");
    }

    #[test]
    fn a_postgres_server_that_cannot_be_reached_is_named_without_its_password() {
        // Port 1 on this machine: nothing listens there.
        let options =
            AppOptions { db: Some("postgres://ada:s3cret@127.0.0.1:1/mastery".into()), ..AppOptions::default() };
        let error = runtime().block_on(async { App::connect(options).await.err().expect("refused") }).to_string();
        assert!(error.contains("postgres://ada@127.0.0.1:1/mastery") && !error.contains("s3cret"), "{error}");
    }
}
