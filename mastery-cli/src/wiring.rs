//! Assembly: the boundary's persistence port, backed by a `mastery-persistence` store.
//!
//! The boundary and the store never meet except here. This is the book's "pass the persistence
//! function into the boundary", done once for every front end (the command line and the tests).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mastery_boundary::{RecordFuture, ResponsePort};
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
pub fn open_store(path: &Path) -> Result<SqliteStore, String> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|error| format!("cannot create the database folder {}: {error}", folder.display()))?;
    }
    SqliteStore::open(path).map_err(|error: StoreError| error.to_string())
}
