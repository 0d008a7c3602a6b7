//! What can go wrong while assembling or stopping the application.

use std::path::PathBuf;

use mastery_boundary::{FileProblems, SupervisorError};
use mastery_persistence::StoreError;

/// Why the application could not open its store, load its quizzes or shut down. Every message
/// names the offending path or value.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No store was named and the platform has no data folder for the default database.
    #[error("cannot find a data folder for the database; pass --db PATH or set MASTERY_DB")]
    NoDataFolder,
    /// The store was named by a URL of a kind no store serves yet.
    #[error(
        "cannot use the store {location}: {store} is not supported; give the path of a SQLite database file or a \
         postgres:// URL"
    )]
    UnsupportedStore {
        /// The location as given, with any password masked.
        location: String,
        /// Which kind of store it names.
        store: String,
    },
    /// A PostgreSQL database was given where only a SQLite file can be opened without a
    /// connection ([`App::open`](crate::App::open), [`open_store`](crate::open_store)).
    #[error("the store {location} is a PostgreSQL database: open it with App::connect or connect_store")]
    NeedsConnecting {
        /// The URL, with any password masked.
        location: String,
    },
    /// A PostgreSQL database was given to a build without the `postgres` feature.
    #[error("cannot use the store {location}: this build has no PostgreSQL store (mastery-app's `postgres` feature)")]
    NoPostgres {
        /// The URL, with any password masked.
        location: String,
    },
    /// The database's folder could not be created.
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database file could not be created.
    #[error("cannot create the database {}: {source}", path.display())]
    CreateDatabase {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The store refused to open, or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Quiz files with problems: every one, `FILE:LINE:COL: field: message`, one per line.
    #[error(transparent)]
    QuizFiles(#[from] FileProblems),
    /// A folder of quiz files could not be listed.
    #[error("cannot read the quiz folder {}: {source}", path.display())]
    QuizFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The store holds nothing for a quiz of this title.
    #[error("no quiz titled {title:?} in the store {store}: {hint}")]
    UnknownTitle {
        /// The title asked for.
        title: String,
        /// The store, as its location is shown.
        store: String,
        /// The closest title it holds, or what it holds.
        hint: String,
    },
    /// A quiz to regrade has no stored answers.
    #[error("nothing to regrade: no answers to the quiz {title:?} are stored")]
    NoData {
        /// The quiz's title.
        title: String,
    },
    /// A worker kept failing and its supervisor gave up before shutdown.
    #[error(transparent)]
    Shutdown(#[from] SupervisorError),
}
