//! Where responses are kept: the database policy, and opening a store for writing or reading.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mastery_persistence::{ResponseStore, SqliteStore};

use crate::error::AppError;

/// The environment variable that overrides the default database.
pub const DATABASE_VARIABLE: &str = "MASTERY_DB";

/// A store, as a front end names it: the path of a SQLite file, or a PostgreSQL URL.
///
/// A location is given as text (a `--db` flag, an environment variable); [`StoreLocation::parse`]
/// tells the two apart and refuses a URL of any other kind rather than create a file named after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (`postgres://user@host:port/database`); shown without its
    /// password.
    Postgres(String),
}

impl StoreLocation {
    /// Reads a location: a path, or a `postgres://` (or `postgresql://`) URL.
    ///
    /// ```
    /// use mastery_app::StoreLocation;
    ///
    /// let file = StoreLocation::parse("data/mastery.db").unwrap();
    /// assert_eq!(file, StoreLocation::Sqlite("data/mastery.db".into()));
    /// let server = StoreLocation::parse("postgres://ada:secret@db.example.com/mastery").unwrap();
    /// assert_eq!(server.to_string(), "postgres://ada:***@db.example.com/mastery");
    /// let other = StoreLocation::parse("mysql://db.example.com/mastery").unwrap_err();
    /// assert_eq!(
    ///     other.to_string(),
    ///     "cannot use the store mysql://db.example.com/mastery: a mysql:// store is not supported; \
    ///      give the path of a SQLite database file or a postgres:// URL"
    /// );
    /// ```
    pub fn parse(location: impl AsRef<OsStr>) -> Result<StoreLocation, AppError> {
        let location = location.as_ref();
        // URLs are ASCII; a location that is not UTF-8 can only be a path.
        if let Some(scheme) = location.to_str().and_then(url_scheme) {
            let url = location.to_str().unwrap_or_default();
            return match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Ok(StoreLocation::Postgres(url.to_string())),
                _ => Err(AppError::UnsupportedStore {
                    location: without_password(url),
                    store: format!("a {scheme}:// store"),
                }),
            };
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(location)))
    }

    /// The SQLite file, for a location that is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            StoreLocation::Sqlite(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// The store to use: `flag` (a `--db` option), else `$MASTERY_DB`, else `mastery.db` in the
/// user's data folder.
///
/// ```
/// use mastery_app::{StoreLocation, database_location};
///
/// let chosen = database_location(Some("/tmp/quiz.db".as_ref())).unwrap();
/// assert_eq!(chosen, StoreLocation::Sqlite("/tmp/quiz.db".into()));
/// ```
pub fn database_location(flag: Option<&OsStr>) -> Result<StoreLocation, AppError> {
    if let Some(location) = flag {
        return StoreLocation::parse(location);
    }
    if let Some(location) = std::env::var_os(DATABASE_VARIABLE).filter(|p| !p.is_empty()) {
        return StoreLocation::parse(location);
    }
    let folders = directories::ProjectDirs::from("", "", "mastery").ok_or(AppError::NoDataFolder)?;
    Ok(StoreLocation::Sqlite(folders.data_dir().join("mastery.db")))
}

/// Opens the store at `location` for recording, creating it (and its folder) if needed: a SQLite
/// file, or the schema of a PostgreSQL database (which is connected to first).
///
/// The database holds learners' emails and answers, so what is created here is private to its
/// owner: folders 0700, the file 0600 (SQLite gives its `-wal` and `-shm` files the file's mode).
pub async fn connect_store(location: &StoreLocation) -> Result<Arc<dyn ResponseStore>, AppError> {
    match location {
        StoreLocation::Sqlite(_) => open_store(location),
        StoreLocation::Postgres(url) => connect_postgres(url).await,
    }
}

/// Opens the SQLite store at `location` for recording, creating it (and its folder) if needed.
/// A PostgreSQL location needs a connection: [`connect_store`].
pub fn open_store(location: &StoreLocation) -> Result<Arc<dyn ResponseStore>, AppError> {
    let path = match location {
        StoreLocation::Sqlite(path) => path,
        StoreLocation::Postgres(url) => return Err(needs_connecting(url)),
    };
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        create_private_folder(folder)
            .map_err(|source| AppError::CreateFolder { path: folder.to_path_buf(), source })?;
    }
    create_private_file(path).map_err(|source| AppError::CreateDatabase { path: path.clone(), source })?;
    Ok(Arc::new(SqliteStore::open(path)?))
}

/// Opens the store at `location` for reading only: nothing is created or changed in a SQLite
/// file, so reports work on a read-only one. `None` when there is no SQLite file there yet —
/// nobody has answered anything, which a report shows as empty rather than as an error. A
/// PostgreSQL database is connected to (and its schema brought up to date).
pub async fn connect_store_for_reading(location: &StoreLocation) -> Result<Option<Arc<dyn ResponseStore>>, AppError> {
    match location {
        StoreLocation::Sqlite(_) => open_store_for_reading(location),
        StoreLocation::Postgres(url) => connect_postgres(url).await.map(Some),
    }
}

/// [`connect_store_for_reading`] for a SQLite file, without a runtime.
pub fn open_store_for_reading(location: &StoreLocation) -> Result<Option<Arc<dyn ResponseStore>>, AppError> {
    let path = match location {
        StoreLocation::Sqlite(path) => path,
        StoreLocation::Postgres(url) => return Err(needs_connecting(url)),
    };
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Arc::new(SqliteStore::open_read_only(path)?)))
}

fn needs_connecting(url: &str) -> AppError {
    AppError::NeedsConnecting { location: without_password(url) }
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &str) -> Result<Arc<dyn ResponseStore>, AppError> {
    Ok(Arc::new(mastery_postgres::PgStore::connect(url).await?))
}

#[cfg(not(feature = "postgres"))]
async fn connect_postgres(url: &str) -> Result<Arc<dyn ResponseStore>, AppError> {
    Err(AppError::NoPostgres { location: without_password(url) })
}

fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// Creates an empty file with owner-only permissions if there is none; an existing file keeps
/// the permissions its owner gave it.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// The scheme of a URL (`postgres` in `postgres://host/db`), or `None` for anything else. A
/// scheme is a letter followed by letters, digits, `+`, `-` or `.` (RFC 3986); a Windows path
/// such as `C:\db` has no `//` after its colon.
fn url_scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once("://")?;
    let mut chars = scheme.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    (starts_with_letter && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))).then_some(scheme)
}

/// `url` with the password in its user information masked: an error message naming the store
/// goes to terminals and logs.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else { return url.to_string() };
    let Some((user, _password)) = user_info.split_once(':') else { return url.to_string() };
    format!("{scheme}://{user}:***@{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_a_sqlite_file() {
        for path in ["mastery.db", "/var/lib/mastery/mastery.db", "data/a:b.db", "C:\\data\\mastery.db"] {
            assert_eq!(StoreLocation::parse(path).unwrap(), StoreLocation::Sqlite(path.into()), "{path}");
        }
    }

    #[test]
    fn a_postgres_url_names_a_postgres_store_and_other_urls_are_refused_by_name() {
        for url in ["postgres://db.example.com/mastery", "postgresql://ada@db.example.com:5433/mastery"] {
            assert_eq!(StoreLocation::parse(url).unwrap(), StoreLocation::Postgres(url.into()));
        }
        let error = StoreLocation::parse("mysql://db.example.com/mastery").unwrap_err();
        assert!(error.to_string().contains("a mysql:// store is not supported"), "{error}");
        let postgres = StoreLocation::Postgres("postgres://ada:s3cret@host/db".into());
        let refused = open_store(&postgres).err().expect("a URL needs connecting").to_string();
        assert!(refused.contains("postgres://ada:***@host/db"), "{refused}");
        assert!(refused.contains("open it with App::connect"), "says how to open it: {refused}");
    }

    #[test]
    fn a_password_never_appears_in_a_message() {
        assert_eq!(without_password("postgres://ada:s3cret@host:5432/db?x=1"), "postgres://ada:***@host:5432/db?x=1");
        assert_eq!(without_password("postgres://ada@host/db"), "postgres://ada@host/db");
        assert_eq!(without_password("postgres://host/db?user=a@b"), "postgres://host/db?user=a@b");
    }

    #[cfg(unix)]
    #[test]
    fn a_new_database_and_its_folder_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("new").join("mastery.db");
        drop(open_store(&StoreLocation::Sqlite(path.clone())).unwrap());
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&path), mode(path.parent().unwrap())), (0o600, 0o700));
    }

    #[test]
    fn reading_a_store_that_is_not_there_finds_none_and_creates_nothing() {
        let home = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(home.path().join("mastery.db"));
        assert!(open_store_for_reading(&location).unwrap().is_none());
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    }
}
