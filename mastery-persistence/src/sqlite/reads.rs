//! The reads: each on a thread of its own with a read-only connection, and the rows decoded back
//! into records, or into a report without building the records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mastery_core::Verdict;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::SqliteStore;
use super::schema::substitutions_from_json;
use crate::record::{LearnerReport, ReportBuilder, ReportRow, ResponseRecord};
use crate::{Pending, StoreError};

impl SqliteStore {
    /// Runs a read on a thread of its own, with a read-only connection.
    pub(super) fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Pending<T> {
        let path = self.path.clone();
        let (sender, receiver) = oneshot::channel();
        let spawned = std::thread::Builder::new().name("mastery-sqlite-reader".into()).spawn(move || {
            let result = open_reader(&path).and_then(|connection| read(&connection, &path));
            let _ = sender.send(result);
        });
        Box::pin(async move {
            spawned.map_err(|_| StoreError::closed())?;
            receiver.await.map_err(|_| StoreError::closed())?
        })
    }
}

/// A read-only connection that leaves no file behind. A WAL database is normally read through a
/// `-shm` index that a reader creates when it is missing (and, being read-only, cannot remove
/// again). When there is no `-wal` file, no writer is connected and every commit is in the main
/// file, so it is read as immutable: no index, no locks, nothing created. When there is one, it is
/// read the ordinary way, with the writer's index.
pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = match immutable_uri(path) {
        Some(uri) if !wal_file(path).exists() => Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI),
        _ => Connection::open_with_flags(path, flags),
    }
    .map_err(sqlite)?;
    connection.busy_timeout(Duration::from_secs(5)).map_err(sqlite)?;
    Ok(connection)
}

fn wal_file(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// `file:/the/path?mode=ro&immutable=1`, with the path percent-encoded; `None` where the path is
/// not Unicode or not absolute-able in URI form.
fn immutable_uri(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).ok()?;
    let text = absolute.to_str()?;
    if !text.starts_with('/') {
        // A drive-letter path needs a URI form of its own; the ordinary open serves there.
        return None;
    }
    let mut uri = String::from("file:");
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => uri.push(byte as char),
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    Some(uri)
}

/// Every response to the quiz `title`, oldest first.
pub(super) fn read_responses(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<Vec<ResponseRecord>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection
        .prepare(
            "SELECT id, quiz_title, template, asked, substitutions, email, answer, verdict, reason, answered_at_ms, mastery
             FROM responses WHERE quiz_title = ?1 ORDER BY id",
        )
        .map_err(sqlite)?;
    let mut rows = statement.query([title]).map_err(sqlite)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        let id: i64 = row.get(0).map_err(sqlite)?;
        let bad_row = |reason: String| StoreError::bad_row(path, id, reason);
        let reason = row.get::<_, Option<String>>(8).map_err(sqlite)?.unwrap_or_default();
        let verdict = parse_verdict(path, id, &row.get::<_, String>(7).map_err(sqlite)?, reason)?;
        let substitutions = substitutions_from_json(&row.get::<_, String>(4).map_err(sqlite)?).map_err(bad_row)?;
        records.push(ResponseRecord {
            quiz_title: row.get(1).map_err(sqlite)?,
            template: row.get(2).map_err(sqlite)?,
            asked: row.get(3).map_err(sqlite)?,
            substitutions,
            email: row.get(5).map_err(sqlite)?,
            answer: row.get(6).map_err(sqlite)?,
            verdict,
            answered_at_ms: row.get::<_, i64>(9).map_err(sqlite)? as u64,
            mastery: row.get(10).map_err(sqlite)?,
        });
    }
    Ok(records)
}

/// The book's report for the quiz `title`: the number of responses per email.
pub(super) fn read_responses_per_email(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection
        .prepare("SELECT email, count(*) FROM responses WHERE quiz_title = ?1 GROUP BY email")
        .map_err(sqlite)?;
    let rows = statement
        .query_map([title], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64)))
        .map_err(sqlite)?;
    rows.collect::<Result<BTreeMap<_, _>, _>>().map_err(sqlite)
}

/// The report for the quiz `title`, folded row by row from borrowed text.
pub(super) fn read_report(connection: &Connection, path: &Path, title: &str) -> Result<Vec<LearnerReport>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection
        .prepare("SELECT id, email, template, verdict, mastery FROM responses WHERE quiz_title = ?1 ORDER BY id")
        .map_err(sqlite)?;
    let mut rows = statement.query([title]).map_err(sqlite)?;
    let mut report = ReportBuilder::default();
    while let Some(row) = rows.next().map_err(sqlite)? {
        let text = |index| row.get_ref(index).and_then(|v| v.as_str().map_err(Into::into));
        // The reason of an invalid verdict plays no part in a report: it is not read.
        let verdict = parse_verdict(path, row.get(0).map_err(sqlite)?, text(3).map_err(sqlite)?, String::new())?;
        report.add(ReportRow {
            email: text(1).map_err(sqlite)?,
            template: text(2).map_err(sqlite)?,
            verdict: &verdict,
            mastery: row.get::<_, u32>(4).map_err(sqlite)?,
        });
    }
    Ok(report.finish())
}

/// A stored verdict, or an error naming the row: a misspelt verdict is never counted as wrong.
fn parse_verdict(path: &Path, row: i64, kind: &str, reason: String) -> Result<Verdict, StoreError> {
    Verdict::from_kind(kind, reason)
        .ok_or_else(|| StoreError::bad_row(path, row, format_args!("unknown verdict {kind:?}")))
}
