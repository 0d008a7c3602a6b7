//! The store's typed errors.

use std::path::PathBuf;

/// Why the store could not do what was asked. Every variant about a file names its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created (a missing folder, say).
    #[error("cannot open database {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// Another process holds a lock on the database for too long.
    #[error("database {path} is locked by another process")]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file is not a database, or is damaged.
    #[error("database {path} is corrupt or not a Mastery database")]
    Corrupt {
        /// The database file.
        path: PathBuf,
    },
    /// The file or its folder cannot be written.
    #[error("database {path} is read-only")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// The file was written by a newer Mastery.
    #[error("database {path} has schema version {found}, newer than the {supported} this Mastery understands")]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Any other SQLite failure.
    #[error("database {path}: {reason}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// A stored row could not be read back.
    #[error("database {path} holds an unreadable response (row {row}): {reason}")]
    BadRow {
        /// The database file.
        path: PathBuf,
        /// The row id.
        row: i64,
        /// What was wrong.
        reason: String,
    },
    /// The function run inside the saving transaction failed; nothing was saved.
    #[error("response not saved: {0}")]
    Rejected(String),
    /// The caller withdrew the response before the store committed to storing it: it was not
    /// stored and never will be.
    #[error("response not saved: withdrawn before it was stored")]
    Withdrawn,
    /// The database file does not exist (a reading command never creates one).
    #[error("no database at {path}")]
    Missing {
        /// Where the database was looked for.
        path: PathBuf,
    },
    /// The file's schema is older than this build's, and a reading command does not upgrade it.
    #[error(
        "database {path} has schema version {found}, older than the {supported} this Mastery reads; any writing command (mastery run) upgrades it"
    )]
    OlderSchema {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The version this build reads.
        supported: i64,
    },
    /// The store was opened for reading only.
    #[error("database {path} was opened for reading only")]
    OpenedForReading {
        /// The database file.
        path: PathBuf,
    },
    /// The store was shut down, or its writer stopped.
    #[error("the response store is closed")]
    Closed,
}

impl StoreError {
    /// Classifies a SQLite error for `path`.
    pub(crate) fn from_sqlite(path: &std::path::Path, error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        let code = match &error {
            rusqlite::Error::SqliteFailure(failure, _) => Some(failure.code),
            _ => None,
        };
        match code {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path },
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt { path },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                StoreError::Open { path, reason: error.to_string() }
            }
            _ => StoreError::Sqlite { path, reason: error.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_failures_are_classified_and_name_the_path() {
        let path = std::path::Path::new("/data/mastery.db");
        assert_eq!(StoreError::from_sqlite(path, failure(ffi::SQLITE_BUSY)), StoreError::Locked { path: path.into() });
        assert_eq!(
            StoreError::from_sqlite(path, failure(ffi::SQLITE_READONLY)),
            StoreError::ReadOnly { path: path.into() }
        );
        assert_eq!(
            StoreError::from_sqlite(path, failure(ffi::SQLITE_NOTADB)),
            StoreError::Corrupt { path: path.into() }
        );
        let other = StoreError::from_sqlite(path, failure(ffi::SQLITE_FULL));
        assert!(other.to_string().starts_with("database /data/mastery.db: "), "{other}");
        assert_eq!(StoreError::ReadOnly { path: path.into() }.to_string(), "database /data/mastery.db is read-only");
    }
}
