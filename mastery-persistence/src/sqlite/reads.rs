//! The reads: each on a thread of its own with a read-only connection, and the rows decoded back
//! into records, or into a report without building the records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mastery_core::{SessionEnding, Verdict};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use super::SqliteStore;
use super::schema::substitutions_from_json;
use crate::record::ResponseRecord;
use crate::report::{LearnerReport, Regraded, ReportBuilder, ReportRow, TemplateReport, TemplateReportBuilder};
use crate::session::{OfferedQuiz, Place, QuizSummary, SessionRecord, StoredSession};
use crate::{Pending, StoreError};

/// A read for a reader thread: given the thread's connection (or why it could not open one).
type ReadJob = Box<dyn FnOnce(Result<&Connection, StoreError>, &Path) + Send>;

/// Reader threads, each with a connection of its own kept open between reads: a warm connection
/// has the file mapped and its pages cached, and a thread waiting for work costs nothing to wake,
/// where spawning one per read cost more than reading a learner's history.
pub(super) struct ReaderPool {
    jobs: Mutex<Option<std::sync::mpsc::Sender<ReadJob>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Reader threads per writing store.
const READERS: usize = 4;

impl ReaderPool {
    pub(super) fn start(path: &Path) -> std::io::Result<ReaderPool> {
        let (jobs, queue) = std::sync::mpsc::channel::<ReadJob>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let (queue, path) = (Arc::clone(&queue), path.to_path_buf());
            threads.push(std::thread::Builder::new().name("mastery-sqlite-reader".into()).spawn(move || {
                let mut connection: Option<Connection> = None;
                loop {
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = job else { return };
                    if connection.is_none() {
                        match open_reader(&path) {
                            Ok(opened) => connection = Some(opened),
                            Err(error) => {
                                job(Err(error), &path);
                                continue;
                            }
                        }
                    }
                    if let Some(connection) = &connection {
                        job(Ok(connection), &path);
                    }
                }
            })?);
        }
        Ok(ReaderPool { jobs: Mutex::new(Some(jobs)), threads: Mutex::new(threads) })
    }

    fn submit(&self, job: ReadJob) -> Result<(), StoreError> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.as_ref().ok_or_else(StoreError::closed)?.send(job).map_err(|_| StoreError::closed())
    }

    /// Stops the threads once the reads queued are done, closing their connections.
    pub(super) fn stop(&self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        for thread in self.threads.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = thread.join();
        }
    }
}

impl SqliteStore {
    /// Runs a read off the async runtime: on the store's reader threads, or, for a store opened
    /// for reading only, on a thread of its own with a connection of its own, since it may read
    /// the file as immutable (see [`open_reader`]) and must not keep that view while another
    /// process writes.
    pub(super) fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Pending<T> {
        let path = self.path.clone();
        let pool = self.readers.clone();
        // The read is queued when the future is first polled: a read asked for after a write
        // (`setting_or_init`) then sees that write.
        Box::pin(async move {
            let (sender, receiver) = oneshot::channel();
            let job: ReadJob = Box::new(move |connection, path| {
                let _ = sender.send(connection.and_then(|connection| read(connection, path)));
            });
            match pool {
                Some(pool) => pool.submit(job)?,
                None => {
                    std::thread::Builder::new()
                        .name("mastery-sqlite-reader".into())
                        .spawn(move || {
                            let connection = open_reader(&path);
                            match &connection {
                                Ok(connection) => job(Ok(connection), &path),
                                Err(error) => job(Err(error.clone()), &path),
                            }
                        })
                        .map_err(|_| StoreError::closed())?;
                }
            }
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
    // A reader's page cache starts cold; reading the file through a memory map instead of a
    // `pread` per page is what makes a learner's history (a thousand rows on a thousand pages,
    // interleaved with the class's) a sub-millisecond read.
    connection.execute_batch("PRAGMA mmap_size = 1073741824").map_err(sqlite)?;
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

const RESPONSE_COLUMNS: &str = "id, quiz_title, template, asked, substitutions, email, answer, verdict, reason,
    answered_at_ms, mastery, session_id, position";

/// Every response to the quiz `title`, oldest first.
pub(super) fn read_responses(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<Vec<ResponseRecord>, StoreError> {
    let query = format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE quiz_title = ?1 ORDER BY id");
    read_records(connection, path, &query, params![title])
}

fn read_records(
    connection: &Connection,
    path: &Path,
    query: &str,
    parameters: impl rusqlite::Params,
) -> Result<Vec<ResponseRecord>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection.prepare_cached(query).map_err(sqlite)?;
    let mut rows = statement.query(parameters).map_err(sqlite)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        let id: i64 = row.get(0).map_err(sqlite)?;
        let bad_row = |reason: String| StoreError::bad_row(path, id, reason);
        let reason = row.get::<_, Option<String>>(8).map_err(sqlite)?.unwrap_or_default();
        let verdict = parse_verdict(path, id, &row.get::<_, String>(7).map_err(sqlite)?, reason)?;
        let substitutions = substitutions_from_json(&row.get::<_, String>(4).map_err(sqlite)?).map_err(bad_row)?;
        let session: Option<i64> = row.get(11).map_err(sqlite)?;
        let position: Option<i64> = row.get(12).map_err(sqlite)?;
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
            place: session
                .zip(position)
                .map(|(session, position)| Place { session: session as u64, position: position as u64 }),
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

/// Streams the rows a report needs, oldest first, from borrowed text, with the latest regrade's
/// verdicts in place of the stored ones.
pub(super) fn fold_report_rows(
    connection: &Connection,
    path: &Path,
    title: &str,
    mut add: impl FnMut(ReportRow<'_>),
) -> Result<(), StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let regraded = read_regraded(connection, path, title)?;
    let mut statement = connection
        .prepare(
            "SELECT id, email, template, verdict, mastery, session_id, position, answered_at_ms
             FROM responses WHERE quiz_title = ?1 ORDER BY id",
        )
        .map_err(sqlite)?;
    let mut rows = statement.query([title]).map_err(sqlite)?;
    while let Some(row) = rows.next().map_err(sqlite)? {
        let text = |index| row.get_ref(index).and_then(|v| v.as_str().map_err(Into::into));
        let session: Option<i64> = row.get(5).map_err(sqlite)?;
        let position: Option<i64> = row.get(6).map_err(sqlite)?;
        let place = session
            .zip(position)
            .map(|(session, position)| Place { session: session as u64, position: position as u64 });
        // The reason of an invalid verdict plays no part in a report: it is not read.
        let stored = parse_verdict(path, row.get(0).map_err(sqlite)?, text(3).map_err(sqlite)?, String::new())?;
        let verdict = place.and_then(|place| regraded.get(&place)).unwrap_or(&stored);
        add(ReportRow {
            email: text(1).map_err(sqlite)?,
            session: place.map(|place| place.session),
            template: text(2).map_err(sqlite)?,
            verdict,
            mastery: row.get::<_, u32>(4).map_err(sqlite)?,
            answered_at_ms: row.get::<_, i64>(7).map_err(sqlite)? as u64,
        });
    }
    Ok(())
}

/// The report for the quiz `title`, folded row by row.
pub(super) fn read_report(connection: &Connection, path: &Path, title: &str) -> Result<Vec<LearnerReport>, StoreError> {
    let mut report = ReportBuilder::default();
    fold_report_rows(connection, path, title, |row| report.add(row))?;
    Ok(report.finish())
}

/// Item statistics for the quiz `title`, folded row by row.
pub(super) fn read_template_report(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<Vec<TemplateReport>, StoreError> {
    let mut report = TemplateReportBuilder::default();
    fold_report_rows(connection, path, title, |row| report.add(row))?;
    Ok(report.finish())
}

const SESSION_COLUMNS: &str =
    "id, quiz_title, quiz_version, email, seed, started_at_ms, ended_at_ms, ending, ending_reason, due_at_ms,
     closes_at_ms";

fn session_from_row(path: &Path, row: &rusqlite::Row<'_>) -> Result<SessionRecord, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let id: i64 = row.get(0).map_err(sqlite)?;
    let ending: Option<String> = row.get(7).map_err(sqlite)?;
    let ending = match ending {
        None => None,
        Some(name) => Some(SessionEnding::parse(&name).ok_or_else(|| {
            StoreError::bad_row(path, id, format_args!("session {id} has an unknown ending {name:?}"))
        })?),
    };
    Ok(SessionRecord {
        id: id as u64,
        quiz_title: row.get(1).map_err(sqlite)?,
        quiz_version: row.get(2).map_err(sqlite)?,
        email: row.get(3).map_err(sqlite)?,
        seed: row.get::<_, Option<i64>>(4).map_err(sqlite)?.map(|seed| seed as u64),
        started_at_ms: row.get::<_, i64>(5).map_err(sqlite)? as u64,
        ended_at_ms: row.get::<_, Option<i64>>(6).map_err(sqlite)?.map(|at| at as u64),
        ending,
        ending_reason: row.get(8).map_err(sqlite)?,
        due_at_ms: row.get::<_, Option<i64>>(9).map_err(sqlite)?.map(|at| at as u64),
        closes_at_ms: row.get::<_, Option<i64>>(10).map_err(sqlite)?.map(|at| at as u64),
    })
}

/// Every open session with a deadline of its own, in the order they started.
pub(super) fn read_timed_open_sessions(connection: &Connection, path: &Path) -> Result<Vec<SessionRecord>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let query =
        format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE ending IS NULL AND closes_at_ms IS NOT NULL ORDER BY id");
    let mut statement = connection.prepare(&query).map_err(sqlite)?;
    let mut rows = statement.query([]).map_err(sqlite)?;
    let mut sessions = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        sessions.push(session_from_row(path, row)?);
    }
    Ok(sessions)
}

/// Every session of the quiz `title`, in the order they started.
pub(super) fn read_sessions(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<Vec<SessionRecord>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let query = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE quiz_title = ?1 ORDER BY id");
    let mut statement = connection.prepare(&query).map_err(sqlite)?;
    let mut rows = statement.query([title]).map_err(sqlite)?;
    let mut sessions = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        sessions.push(session_from_row(path, row)?);
    }
    Ok(sessions)
}

/// The learner's latest session of the quiz, open or ended: one lookup in the learner's index.
pub(super) fn read_latest_session(
    connection: &Connection,
    path: &Path,
    title: &str,
    email: &str,
) -> Result<Option<SessionRecord>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let query =
        format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE quiz_title = ?1 AND email = ?2 ORDER BY id DESC LIMIT 1");
    let mut statement = connection.prepare_cached(&query).map_err(sqlite)?;
    let mut rows = statement.query(params![title, email]).map_err(sqlite)?;
    match rows.next().map_err(sqlite)? {
        Some(row) => session_from_row(path, row).map(Some),
        None => Ok(None),
    }
}

/// The learner's latest session of the quiz, with its responses when it is open. Two index
/// lookups: the learner's sessions, then the session's responses by position.
pub(super) fn read_latest_attempt(
    connection: &Connection,
    path: &Path,
    title: &str,
    email: &str,
) -> Result<Option<StoredSession>, StoreError> {
    let Some(session) = read_latest_session(connection, path, title, email)? else { return Ok(None) };
    if !session.is_open() {
        return Ok(Some(StoredSession { session, responses: Vec::new() }));
    }
    let query = format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE session_id = ?1 ORDER BY position");
    let responses = read_records(connection, path, &query, params![session.id as i64])?;
    Ok(Some(StoredSession { session, responses }))
}

/// The session `id`.
pub(super) fn read_session(connection: &Connection, path: &Path, id: u64) -> Result<Option<SessionRecord>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let query = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
    let mut statement = connection.prepare_cached(&query).map_err(sqlite)?;
    let mut rows = statement.query(params![id as i64]).map_err(sqlite)?;
    match rows.next().map_err(sqlite)? {
        Some(row) => session_from_row(path, row).map(Some),
        None => Ok(None),
    }
}

/// The setting `name`, if it has a value.
pub(super) fn read_setting(connection: &Connection, path: &Path, name: &str) -> Result<Option<String>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT value FROM settings WHERE name = ?1")
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    statement.query_row(params![name], |row| row.get(0)).optional().map_err(|e| StoreError::from_sqlite(path, e))
}

/// The quiz's roster, sorted by email.
pub(super) fn read_roster(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    read_email_pairs(
        connection,
        path,
        "SELECT email, token_hash FROM roster WHERE quiz_title = ?1 ORDER BY email",
        title,
    )
}

/// The quiz's learners with exam settings of their own, sorted by email.
pub(super) fn read_learner_overrides(
    connection: &Connection,
    path: &Path,
    title: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let query = "SELECT email, settings FROM exam_overrides WHERE quiz_title = ?1 ORDER BY email";
    read_email_pairs(connection, path, query, title)
}

/// Each learner's email with one text of theirs, as `query` selects them for the quiz `title`.
fn read_email_pairs(
    connection: &Connection,
    path: &Path,
    query: &str,
    title: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection.prepare_cached(query).map_err(sqlite)?;
    let rows = statement.query_map(params![title], |row| Ok((row.get(0)?, row.get(1)?))).map_err(sqlite)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)
}

/// The (quiz, email) a join token hash was given for.
pub(super) fn read_joined(
    connection: &Connection,
    path: &Path,
    hash: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT quiz_title, email FROM roster WHERE token_hash = ?1")
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    statement
        .query_row(params![hash], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(|e| StoreError::from_sqlite(path, e))
}

/// Every quiz with sessions or responses, sorted by title.
pub(super) fn read_quizzes(connection: &Connection, path: &Path) -> Result<Vec<QuizSummary>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection
        .prepare(
            "SELECT title, count(DISTINCT email), sum(sessions), sum(responses), max(last) FROM (
                SELECT quiz_title AS title, email, 1 AS sessions, 0 AS responses,
                       max(started_at_ms, coalesce(ended_at_ms, 0)) AS last FROM sessions
                UNION ALL
                SELECT quiz_title, email, 0, count(*), max(answered_at_ms) FROM responses GROUP BY quiz_title, email
             ) GROUP BY title ORDER BY title",
        )
        .map_err(sqlite)?;
    let rows = statement
        .query_map([], |row| {
            Ok(QuizSummary {
                title: row.get(0)?,
                learners: row.get::<_, i64>(1)? as u64,
                sessions: row.get::<_, i64>(2)? as u64,
                responses: row.get::<_, i64>(3)? as u64,
                last_activity_ms: row.get::<_, Option<i64>>(4)?.unwrap_or(0) as u64,
            })
        })
        .map_err(sqlite)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)
}

/// The latest regrade's verdicts for the quiz `title`.
pub(super) fn read_regraded(connection: &Connection, path: &Path, title: &str) -> Result<Regraded, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection
        .prepare(
            "SELECT session_id, position, verdict, reason FROM regraded_verdicts WHERE regrade_id =
                (SELECT max(id) FROM regrades WHERE quiz_title = ?1)",
        )
        .map_err(sqlite)?;
    let mut rows = statement.query([title]).map_err(sqlite)?;
    let mut regraded = Regraded::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        let session: i64 = row.get(0).map_err(sqlite)?;
        let kind: String = row.get(2).map_err(sqlite)?;
        let reason = row.get::<_, Option<String>>(3).map_err(sqlite)?.unwrap_or_default();
        let verdict = parse_verdict(path, session, &kind, reason)?;
        let place = Place { session: session as u64, position: row.get::<_, i64>(1).map_err(sqlite)? as u64 };
        regraded.insert(place, verdict);
    }
    Ok(regraded)
}

/// A stored verdict, or an error naming the row: a misspelt verdict is never counted as wrong.
fn parse_verdict(path: &Path, row: i64, kind: &str, reason: String) -> Result<Verdict, StoreError> {
    Verdict::from_kind(kind, reason)
        .ok_or_else(|| StoreError::bad_row(path, row, format_args!("unknown verdict {kind:?}")))
}

/// Every offered quiz, sorted by title.
pub(super) fn read_offered(connection: &Connection, path: &Path) -> Result<Vec<OfferedQuiz>, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let mut statement = connection
        .prepare_cached(
            "SELECT title, version, source, saved_at_ms, opens_at_ms, closes_at_ms, exam FROM offered_quizzes
             ORDER BY title",
        )
        .map_err(sqlite)?;
    let rows = statement
        .query_map([], |row| {
            let window: (Option<i64>, Option<i64>) = (row.get(4)?, row.get(5)?);
            Ok(OfferedQuiz {
                title: row.get(0)?,
                version: row.get(1)?,
                source: row.get(2)?,
                saved_at_ms: row.get::<_, i64>(3)? as u64,
                window: window.0.zip(window.1).map(|(opens, closes)| (opens as u64, closes as u64)),
                exam: row.get(6)?,
            })
        })
        .map_err(sqlite)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)
}
