//! The store's typed errors, shaped so that any backend fits them: a SQLite file today, a
//! PostgreSQL server later.

use std::ffi::OsStr;

/// Why the store could not do what was asked: what a caller can do about it ([`kind`]), which
/// store ([`place`]) and, for a person, what went wrong ([`reason`]).
///
/// [`kind`]: StoreError::kind
/// [`place`]: StoreError::place
/// [`reason`]: StoreError::reason
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct StoreError {
    /// What a caller can do about it: wait and try again, or not.
    pub kind: StoreErrorKind,
    /// The store it concerns: the database file, or a database URL; empty when the error concerns
    /// no store in particular (a rejected function, a withdrawn record).
    pub place: String,
    /// The whole message, naming `place` where there is one; it is what the error displays. The
    /// message is kept whole rather than composed from the other fields because its wording
    /// depends on more than the kind ("no database at …", "database … is locked").
    pub reason: String,
}

/// What a caller can do about a [`StoreError`]. [`Unavailable`] means the store could not take
/// the request now and the same request may succeed later; [`Conflict`] that the caller must
/// reread the store before deciding again; every other kind that the same request fails again
/// until something else changes (the data, the program, the request).
///
/// [`Unavailable`]: StoreErrorKind::Unavailable
/// [`Conflict`]: StoreErrorKind::Conflict
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreErrorKind {
    /// The store could not take the request now: it cannot be opened or connected to, another
    /// process holds its lock too long, it is closed, or it is not there (yet). Nothing is wrong
    /// with the request.
    ///
    /// A full disk belongs here, not under [`Refused`](StoreErrorKind::Refused): every write fails
    /// until space is freed, whatever it carries, and freeing space is the kind of thing that
    /// happens while a caller waits (PostgreSQL, too, files a full disk among its insufficient
    /// resources, beside too many connections). So does a record the caller withdrew: a caller
    /// withdraws when the store took longer than it could wait, and a withdrawn record is never
    /// stored, so sending it again later cannot store it twice.
    Unavailable,
    /// A write lost a race with another writer of the same history (another process answering
    /// in the same session), or went to a session that has ended: reread the store before
    /// deciding again.
    Conflict,
    /// An answer came after its quiz's stored window closed, or, in a session with a deadline of
    /// its own, after that deadline: it is never taken, whichever server it went through and
    /// whatever that server's Proctor heard.
    Closed,
    /// The store holds something this program cannot read: a file that is not a database, or a
    /// row that does not decode. It needs repair, not a retry.
    Corrupt,
    /// The store was written by a newer Mastery: this one must be upgraded to use it.
    NewerSchema,
    /// The store's schema is older than this Mastery reads, and it was opened in a way that does
    /// not upgrade it: opening it for writing once does.
    OlderSchema,
    /// The store works and declined this request: the function run in the saving transaction
    /// failed, the store was opened for reading only or its file cannot be written, or the row
    /// breaks a rule of the schema. A failure this program does not recognise is filed here too,
    /// since the same request would most likely meet it again.
    Refused,
}

impl StoreError {
    fn new(kind: StoreErrorKind, place: impl AsRef<OsStr>, reason: String) -> Self {
        StoreError { kind, place: place.as_ref().to_string_lossy().into_owned(), reason }
    }

    /// The store at `place` cannot be opened or connected to (a missing folder, say).
    pub fn cannot_open(place: impl AsRef<OsStr>, reason: impl std::fmt::Display) -> Self {
        let message = format!("cannot open database {}: {reason}", shown(&place));
        Self::new(StoreErrorKind::Unavailable, place, message)
    }

    /// Another process holds a lock on the store for too long.
    pub fn locked(place: impl AsRef<OsStr>) -> Self {
        let message = format!("database {} is locked by another process", shown(&place));
        Self::new(StoreErrorKind::Unavailable, place, message)
    }

    /// There is no store at `place`, and the caller asked not to create one.
    pub fn missing(place: impl AsRef<OsStr>) -> Self {
        let message = format!("no database at {}", shown(&place));
        Self::new(StoreErrorKind::Unavailable, place, message)
    }

    /// The store was shut down, or its writer stopped.
    pub fn closed() -> Self {
        Self::new(StoreErrorKind::Unavailable, "", "the response store is closed".into())
    }

    /// The caller withdrew the response before the store committed to storing it: it was not
    /// stored and never will be.
    pub fn withdrawn() -> Self {
        Self::new(StoreErrorKind::Unavailable, "", "response not saved: withdrawn before it was stored".into())
    }

    /// The store at `place` is not a database, or is damaged.
    pub fn corrupt(place: impl AsRef<OsStr>) -> Self {
        let message = format!("database {} is corrupt or not a Mastery database", shown(&place));
        Self::new(StoreErrorKind::Corrupt, place, message)
    }

    /// The stored response `row` could not be read back.
    pub fn bad_row(place: impl AsRef<OsStr>, row: i64, reason: impl std::fmt::Display) -> Self {
        let message = format!("database {} holds an unreadable response (row {row}): {reason}", shown(&place));
        Self::new(StoreErrorKind::Corrupt, place, message)
    }

    /// The store has schema version `found`, newer than the `supported` one this build knows.
    pub fn newer_schema(place: impl AsRef<OsStr>, found: i64, supported: i64) -> Self {
        let message = format!(
            "database {} has schema version {found}, newer than the {supported} this Mastery understands",
            shown(&place)
        );
        Self::new(StoreErrorKind::NewerSchema, place, message)
    }

    /// The store has schema version `found`, older than the `supported` one this build reads, and
    /// a reading command does not upgrade it.
    pub fn older_schema(place: impl AsRef<OsStr>, found: i64, supported: i64) -> Self {
        let message = format!(
            "database {} has schema version {found}, older than the {supported} this Mastery reads; any writing command (mastery run) upgrades it",
            shown(&place)
        );
        Self::new(StoreErrorKind::OlderSchema, place, message)
    }

    /// The write lost to another writer of the same history: reread the store before deciding
    /// again.
    pub fn conflict(place: impl AsRef<OsStr>, reason: impl std::fmt::Display) -> Self {
        let message = format!("database {}: {reason}", shown(&place));
        Self::new(StoreErrorKind::Conflict, place, message)
    }

    /// An answer to `title` came after the quiz's stored window closed at `closed_at_ms`.
    pub fn closed_quiz(place: impl AsRef<OsStr>, title: &str, closed_at_ms: u64) -> Self {
        let message =
            format!("the quiz {title:?} closed before the answer came (at {closed_at_ms} ms since the Unix epoch)");
        Self::new(StoreErrorKind::Closed, place, message)
    }

    /// An answer in the session `id` came after the session's own deadline, `closed_at_ms`, which
    /// replaces its quiz's window.
    pub fn closed_session(place: impl AsRef<OsStr>, id: u64, closed_at_ms: u64) -> Self {
        let message =
            format!("the session {id}'s time was up at {closed_at_ms} ms since the Unix epoch, before the answer came");
        Self::new(StoreErrorKind::Closed, place, message)
    }

    /// The function run inside the saving transaction failed with `reason`; nothing was saved.
    pub fn rejected(reason: impl std::fmt::Display) -> Self {
        Self::new(StoreErrorKind::Refused, "", format!("response not saved: {reason}"))
    }

    /// The file at `place` or its folder cannot be written.
    pub fn read_only(place: impl AsRef<OsStr>) -> Self {
        let message = format!("database {} is read-only", shown(&place));
        Self::new(StoreErrorKind::Refused, place, message)
    }

    /// The store was opened for reading only, and was asked to write.
    pub fn opened_for_reading(place: impl AsRef<OsStr>) -> Self {
        let message = format!("database {} was opened for reading only", shown(&place));
        Self::new(StoreErrorKind::Refused, place, message)
    }

    /// Any other failure of the store at `place`, as its backend words it.
    pub fn other(kind: StoreErrorKind, place: impl AsRef<OsStr>, reason: impl std::fmt::Display) -> Self {
        let message = format!("database {}: {reason}", shown(&place));
        Self::new(kind, place, message)
    }

    /// Classifies a SQLite error for the file at `path`.
    pub(crate) fn from_sqlite(path: &std::path::Path, error: rusqlite::Error) -> Self {
        use StoreErrorKind::{Corrupt, Refused, Unavailable};
        use rusqlite::{Error, ErrorCode};
        let code = match &error {
            Error::SqliteFailure(failure, _) => failure.code,
            // A stored value that does not decode into what was written there.
            Error::FromSqlConversionFailure(..)
            | Error::IntegralValueOutOfRange(..)
            | Error::Utf8Error(..)
            | Error::InvalidColumnType(..) => return Self::other(Corrupt, path, error),
            _ => return Self::other(Refused, path, error),
        };
        match code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::locked(path),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => Self::corrupt(path),
            ErrorCode::ReadOnly => Self::read_only(path),
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied => Self::cannot_open(path, error),
            // The disk, the memory or the locks failed this time; none of it is the request's doing.
            ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::OutOfMemory
            | ErrorCode::OperationInterrupted
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::SchemaChanged => Self::other(Unavailable, path, error),
            _ => Self::other(Refused, path, error),
        }
    }
}

/// How a place appears in a message: a path as `Path::display` shows it, a URL as it is.
fn shown(place: &impl AsRef<OsStr>) -> std::borrow::Cow<'_, str> {
    place.as_ref().to_string_lossy()
}

#[cfg(test)]
mod tests {
    use super::StoreErrorKind::{Corrupt, Refused, Unavailable};
    use super::*;
    use rusqlite::ffi;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    const PATH: &str = "/data/mastery.db";

    fn classified(error: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(std::path::Path::new(PATH), error)
    }

    #[test]
    fn sqlite_failures_are_classified_into_kinds() {
        let cases = [
            (ffi::SQLITE_BUSY, Unavailable),
            (ffi::SQLITE_LOCKED, Unavailable),
            (ffi::SQLITE_CANTOPEN, Unavailable),
            (ffi::SQLITE_PERM, Unavailable),
            (ffi::SQLITE_FULL, Unavailable),
            (ffi::SQLITE_IOERR, Unavailable),
            (ffi::SQLITE_IOERR_SHORT_READ, Unavailable),
            (ffi::SQLITE_NOMEM, Unavailable),
            (ffi::SQLITE_PROTOCOL, Unavailable),
            (ffi::SQLITE_CORRUPT, Corrupt),
            (ffi::SQLITE_NOTADB, Corrupt),
            (ffi::SQLITE_READONLY, Refused),
            (ffi::SQLITE_READONLY_DBMOVED, Refused),
            (ffi::SQLITE_CONSTRAINT_CHECK, Refused),
            (ffi::SQLITE_TOOBIG, Refused),
            (ffi::SQLITE_MISUSE, Refused),
            (ffi::SQLITE_ERROR, Refused),
        ];
        for (code, kind) in cases {
            let error = classified(failure(code));
            assert_eq!((error.kind, error.place.as_str()), (kind, PATH), "code {code}: {error}");
        }
    }

    #[test]
    fn a_value_that_does_not_decode_is_corrupt_and_a_misuse_is_refused() {
        let out_of_range = classified(rusqlite::Error::IntegralValueOutOfRange(4, -1));
        assert_eq!(out_of_range.kind, Corrupt);
        let wrong_type = classified(rusqlite::Error::InvalidColumnType(1, "email".into(), rusqlite::types::Type::Blob));
        assert_eq!(wrong_type.kind, Corrupt);
        assert_eq!(classified(rusqlite::Error::QueryReturnedNoRows).kind, Refused);
    }

    #[test]
    fn messages_name_the_place() {
        let path = std::path::Path::new(PATH);
        assert_eq!(classified(failure(ffi::SQLITE_BUSY)), StoreError::locked(path));
        assert_eq!(
            classified(failure(ffi::SQLITE_BUSY)).to_string(),
            "database /data/mastery.db is locked by another process"
        );
        assert_eq!(classified(failure(ffi::SQLITE_READONLY)), StoreError::read_only(path));
        assert_eq!(classified(failure(ffi::SQLITE_NOTADB)), StoreError::corrupt(path));
        let cannot_open = classified(failure(ffi::SQLITE_CANTOPEN));
        assert!(cannot_open.to_string().starts_with("cannot open database /data/mastery.db: "), "{cannot_open}");
        let full = classified(failure(ffi::SQLITE_FULL));
        assert!(full.to_string().starts_with("database /data/mastery.db: "), "{full}");
        assert_eq!(StoreError::read_only(path).to_string(), "database /data/mastery.db is read-only");
        assert_eq!(StoreError::missing(path).to_string(), "no database at /data/mastery.db");
    }

    #[test]
    fn errors_about_no_store_in_particular_have_no_place() {
        assert_eq!(StoreError::withdrawn().place, "");
        assert_eq!(StoreError::closed().to_string(), "the response store is closed");
        let rejected = StoreError::rejected("boom");
        assert_eq!((rejected.kind, rejected.to_string()), (Refused, "response not saved: boom".to_string()));
    }
}
