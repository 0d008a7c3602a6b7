//! Assembly: the boundary's persistence port, backed by a `mastery-persistence` store.
//!
//! The boundary and the store never meet except here. This is the book's "pass the persistence
//! function into the boundary", done once for every front end (the command line and the tests).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mastery_boundary::{RecordFuture, ResponsePort, Withdrawal};
use mastery_core::Response;
use mastery_persistence::{ResponseRecord, ResponseStore, SqliteStore, StoreError};

/// A [`ResponsePort`] that records into any [`ResponseStore`].
#[derive(Clone)]
pub struct StorePort(pub Arc<dyn ResponseStore>);

impl ResponsePort for StorePort {
    fn record(&self, response: &Response) -> RecordFuture {
        let pending = self.0.record(ResponseRecord::from(response));
        Box::pin(async move { pending.await.map_err(|error| error.to_string()) })
    }

    fn record_withdrawable(&self, response: &Response, withdrawal: Withdrawal) -> RecordFuture {
        let pending = self.0.record_withdrawable(ResponseRecord::from(response), withdrawal);
        Box::pin(async move { pending.await.map_err(|error| error.to_string()) })
    }
}

/// The environment variable that overrides the default database.
pub const DATABASE_VARIABLE: &str = "MASTERY_DB";

/// The database to use: `--db`, else `$MASTERY_DB`, else `mastery.db` in the user's data folder.
pub fn database_path(flag: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(DATABASE_VARIABLE).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let folders = directories::ProjectDirs::from("", "", "mastery")
        .ok_or("cannot find a data folder for the database; pass --db PATH or set MASTERY_DB")?;
    Ok(folders.data_dir().join("mastery.db"))
}

/// Opens (creating the folder and the file if needed) the SQLite store at `path`.
///
/// The database holds learners' emails and answers, so what is created here is private to its
/// owner: folders 0700, the file 0600 (SQLite gives its `-wal` and `-shm` files the file's mode).
pub fn open_store(path: &Path) -> Result<SqliteStore, String> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        create_private_folder(folder)
            .map_err(|error| format!("cannot create the database folder {}: {error}", folder.display()))?;
    }
    create_private_file(path).map_err(|error| format!("cannot create the database {}: {error}", path.display()))?;
    SqliteStore::open(path).map_err(|error: StoreError| error.to_string())
}

/// Opens the SQLite store at `path` for reading only: nothing is created or changed.
pub fn open_store_read_only(path: &Path) -> Result<SqliteStore, String> {
    SqliteStore::open_read_only(path).map_err(|error: StoreError| error.to_string())
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
