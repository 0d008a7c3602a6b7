//! The writer: one thread that owns the writing connection and commits every response waiting at
//! that moment in one transaction (group commit), and the protocol by which a caller may withdraw
//! a response the writer has not yet claimed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use mastery_core::{SessionEnding, Verdict};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use super::schema::{migrate, substitutions_to_json};
use super::{Durability, SqliteOptions, SqliteStore};
use crate::record::ResponseRecord;
use crate::session::{NewSession, OfferedQuiz, RegradeRecord};
use crate::{InTransaction, Pending, StoreError, StoreErrorKind, Withdrawal};

/// A response is written only into a session still open — a process that kept answering in a
/// session another process has since ended (restarted, timed out) is refused — and only before
/// it closed, whatever the Proctor of the process that took it heard: a session with a deadline
/// of its own closes at it, any other response when its quiz's stored window closes.
const INSERT: &str = "INSERT INTO responses
    (quiz_title, template, asked, substitutions, email, answer, verdict, reason, answered_at_ms, mastery,
     session_id, position)
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12
    WHERE (?11 IS NULL OR EXISTS (SELECT 1 FROM sessions WHERE id = ?11 AND ending IS NULL
                                  AND (closes_at_ms IS NULL OR ?9 < closes_at_ms)))
      AND (NOT EXISTS (SELECT 1 FROM offered_quizzes WHERE title = ?1 AND closes_at_ms <= ?9)
           OR EXISTS (SELECT 1 FROM sessions WHERE id = ?11 AND closes_at_ms IS NOT NULL))";

/// What the writer is asked to write.
pub(super) enum WriteOp {
    Response(ResponseRecord, Option<InTransaction>),
    StartSession(NewSession),
    EndSession {
        id: u64,
        ending: SessionEnding,
        at_ms: u64,
        reason: Option<String>,
    },
    Regrade(RegradeRecord),
    /// A setting, stored unless it has a value already.
    SettingIfAbsent {
        name: String,
        value: String,
    },
    /// A quiz's roster, replacing the one it had.
    Roster {
        quiz_title: String,
        learners: Vec<(String, String)>,
    },
    /// A quiz offered from now on, replacing one of its title and its window.
    Offer(OfferedQuiz),
    /// An offered quiz's window.
    Schedule {
        title: String,
        opens_at_ms: u64,
        closes_at_ms: u64,
    },
    /// An open session's own deadline, replacing the one it had.
    SessionDeadline {
        id: u64,
        due_at_ms: Option<u64>,
        closes_at_ms: Option<u64>,
    },
    /// An offered quiz's exam settings.
    OfferedExam {
        title: String,
        exam: Option<String>,
    },
    /// One learner's exam settings for a quiz; `None` removes them.
    LearnerOverride {
        quiz_title: String,
        email: String,
        settings: Option<String>,
    },
}

/// One write on its way to the writer, with the means to answer its caller: the new row's id for
/// a session or a regrade, 1 or 0 for whether an ending or a deadline was stored.
pub(super) struct WriteRequest {
    op: WriteOp,
    claim: Arc<Claim>,
    acknowledge: oneshot::Sender<Result<u64, StoreError>>,
}

/// Who decides a request's fate: the writer claims it once it holds the write lock and is about
/// to write it; a caller who gives up withdraws it. Exactly one of the two wins, so a withdrawn
/// request is never written and a claimed one is always answered with its commit's outcome.
#[derive(Default)]
struct Claim(AtomicU8);

impl Claim {
    const PENDING: u8 = 0;
    const CLAIMED: u8 = 1;
    const WITHDRAWN: u8 = 2;

    fn settle(&self, to: u8) -> bool {
        self.0.compare_exchange(Self::PENDING, to, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The writer's side: true when the request is now the writer's to store.
    fn claim(&self) -> bool {
        self.settle(Self::CLAIMED)
    }

    /// The caller's side: true when the request will never be stored.
    fn withdraw(&self) -> bool {
        self.settle(Self::WITHDRAWN)
    }
}

impl SqliteStore {
    /// Hands a request to the writer and waits for its definitive outcome.
    pub(super) fn submit(&self, op: WriteOp, withdrawal: Option<Withdrawal>) -> Pending<u64> {
        let requests = self.requests.clone().ok_or_else(|| StoreError::opened_for_reading(&self.path));
        Box::pin(async move {
            let requests = requests?;
            let claim = Arc::new(Claim::default());
            let (acknowledge, mut acknowledged) = oneshot::channel();
            let request = WriteRequest { op, claim: Arc::clone(&claim), acknowledge };
            let outcome = |acknowledged: Result<Result<u64, StoreError>, _>| {
                acknowledged.unwrap_or_else(|_| Err(StoreError::closed()))
            };
            let Some(mut withdrawal) = withdrawal else {
                requests.send(request).await.map_err(|_| StoreError::closed())?;
                return outcome(acknowledged.await);
            };
            // Withdrawn while waiting for room in the queue: the request never reached the writer.
            tokio::select! {
                biased;
                sent = requests.send(request) => sent.map_err(|_| StoreError::closed())?,
                () = &mut withdrawal => return Err(StoreError::withdrawn()),
            }
            tokio::select! {
                biased;
                acknowledged = &mut acknowledged => outcome(acknowledged),
                () = withdrawal => match claim.withdraw() {
                    true => Err(StoreError::withdrawn()),
                    // The writer got there first: its commit decides, and it is under way.
                    false => outcome(acknowledged.await),
                },
            }
        })
    }
}

/// Opens the writing connection: WAL, the durability asked for, the schema up to date, and the
/// size cap if there is one.
pub(super) fn open_writer(path: &Path, options: &SqliteOptions) -> Result<Connection, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let connection = Connection::open(path).map_err(sqlite)?;
    connection.busy_timeout(Duration::from_secs(5)).map_err(sqlite)?;
    let synchronous = match options.durability {
        Durability::PowerLoss => "FULL",
        Durability::ProcessCrash => "NORMAL",
    };
    // Reading the journal mode back also proves the file is a database at all.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(sqlite)?;
    if !mode.eq_ignore_ascii_case("wal") {
        // SQLite answers with the mode it kept when it cannot switch (a database in memory, a VFS
        // without the shared memory WAL needs): opening it again would keep it too.
        return Err(StoreError::other(StoreErrorKind::Refused, path, format!("cannot use WAL (mode {mode})")));
    }
    // A group commit of a class dirties a page per active session (each session's place in the
    // (session, position) index): checkpointing every 1,000 pages, SQLite's default, would copy
    // the log into the file every commit or two. Every 16,384 pages (64 MiB of log at most) a
    // page rewritten by many commits is copied once.
    connection
        .execute_batch(&format!("PRAGMA synchronous = {synchronous}; PRAGMA wal_autocheckpoint = 16384;"))
        .map_err(sqlite)?;
    migrate(&connection, path)?;
    if let Some(max_size) = options.max_size {
        let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0)).map_err(sqlite)?;
        let pages = max_size.div_ceil(page_size.max(1) as u64).max(1);
        connection.execute_batch(&format!("PRAGMA max_page_count = {pages}")).map_err(sqlite)?;
    }
    Ok(connection)
}

/// The writer thread's loop: runs until every sender is gone, so a store's drop lets it commit
/// what it holds before it stops.
pub(super) fn run_writer(
    connection: Connection,
    path: &Path,
    mut requests: mpsc::Receiver<WriteRequest>,
    max_batch: usize,
) {
    let mut batch = Vec::with_capacity(max_batch.min(4_096));
    while let Some(first) = requests.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match requests.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        commit_batch(&connection, path, &mut batch);
    }
}

/// Writes every request of the batch in one transaction and acknowledges each one after the
/// commit. A request whose in-transaction function fails is rolled back alone (a savepoint).
fn commit_batch(connection: &Connection, path: &Path, batch: &mut Vec<WriteRequest>) {
    // The wait for the write lock (another process may hold it) happens here, before any request
    // is claimed, so that callers can still withdraw while it lasts.
    let outcomes = match connection.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => write_and_commit(connection, path, batch),
        Err(error) => vec![Err(StoreError::from_sqlite(path, error)); batch.len()],
    };
    for (request, outcome) in batch.drain(..).zip(outcomes) {
        // A caller that stopped waiting is no reason to stop the writer.
        let _ = request.acknowledge.send(outcome);
    }
}

/// Claims and writes each request inside the open transaction, then commits.
fn write_and_commit(connection: &Connection, path: &Path, batch: &mut [WriteRequest]) -> Vec<Result<u64, StoreError>> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch.iter_mut() {
        if !request.claim.claim() {
            outcomes.push(Err(StoreError::withdrawn()));
            continue;
        }
        match write_request(connection, path, request) {
            Err(WriteFailure::Rejected(reason)) => outcomes.push(Err(StoreError::rejected(reason))),
            Err(WriteFailure::Declined(error)) => outcomes.push(Err(error)),
            Err(WriteFailure::Store(error)) => return abandon_batch(connection, batch, error),
            Ok(value) => outcomes.push(Ok(value)),
        }
    }
    match connection.execute_batch("COMMIT") {
        Ok(()) => outcomes,
        Err(error) => abandon_batch(connection, batch, StoreError::from_sqlite(path, error)),
    }
}

/// Fails the whole batch after a write or the commit failed.
///
/// SQLite may already have rolled the transaction back by itself (a full disk, an I/O error).
/// Writing on would then commit each later insert on its own while its caller is told the batch
/// failed, so the batch stops at the first failure, is rolled back explicitly if SQLite has not,
/// and every request in it fails. They are not retried one by one: an in-transaction function has
/// already run once and cannot run again, and the usual causes (disk full, I/O) fail a retry too.
fn abandon_batch(connection: &Connection, batch: &[WriteRequest], error: StoreError) -> Vec<Result<u64, StoreError>> {
    if !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    let withdrawn = |request: &WriteRequest| request.claim.0.load(Ordering::Acquire) == Claim::WITHDRAWN;
    batch.iter().map(|request| Err(if withdrawn(request) { StoreError::withdrawn() } else { error.clone() })).collect()
}

/// How writing one request failed: alone, or taking its batch down with it.
enum WriteFailure {
    /// Its in-transaction function failed (or panicked); its savepoint undid its insert alone.
    Rejected(String),
    /// The store declined it alone (a second history for a session, an ended session); the
    /// statement left nothing behind and the batch goes on.
    Declined(StoreError),
    /// SQLite failed: the batch cannot go on.
    Store(StoreError),
}

fn write_request(connection: &Connection, path: &Path, request: &mut WriteRequest) -> Result<u64, WriteFailure> {
    let sqlite = |e| WriteFailure::Store(StoreError::from_sqlite(path, e));
    let (record, in_transaction) = match &mut request.op {
        WriteOp::Response(record, in_transaction) => (&*record, in_transaction.take()),
        WriteOp::StartSession(session) => return start_session(connection, path, session).map_err(WriteFailure::Store),
        WriteOp::EndSession { id, ending, at_ms, reason } => {
            return end_session(connection, path, *id, *ending, *at_ms, reason.as_deref()).map_err(WriteFailure::Store);
        }
        WriteOp::Regrade(regrade) => return insert_regrade(connection, path, regrade).map_err(WriteFailure::Store),
        WriteOp::SettingIfAbsent { name, value } => {
            let sql = "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING";
            return connection
                .execute(sql, params![&*name, &*value])
                .map(|_| 0)
                .map_err(|e| WriteFailure::Store(StoreError::from_sqlite(path, e)));
        }
        WriteOp::Roster { quiz_title, learners } => {
            return replace_roster(connection, quiz_title, learners)
                .map_err(|e| WriteFailure::Store(StoreError::from_sqlite(path, e)));
        }
        WriteOp::Offer(quiz) => {
            let sql = "INSERT INTO offered_quizzes (title, version, source, saved_at_ms) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (title) DO UPDATE SET version = excluded.version, source = excluded.source,
                    saved_at_ms = excluded.saved_at_ms, opens_at_ms = NULL, closes_at_ms = NULL, exam = NULL";
            let parameters = params![quiz.title, quiz.version, quiz.source, quiz.saved_at_ms as i64];
            return connection.execute(sql, parameters).map(|_| 0).map_err(sqlite);
        }
        WriteOp::Schedule { title, opens_at_ms, closes_at_ms } => {
            let sql = "INSERT INTO offered_quizzes (title, saved_at_ms, opens_at_ms, closes_at_ms) VALUES (?1, ?2, ?2, ?3)
                ON CONFLICT (title) DO UPDATE SET opens_at_ms = excluded.opens_at_ms, closes_at_ms = excluded.closes_at_ms";
            let parameters = params![&*title, *opens_at_ms as i64, *closes_at_ms as i64];
            return connection.execute(sql, parameters).map(|_| 0).map_err(sqlite);
        }
        WriteOp::SessionDeadline { id, due_at_ms, closes_at_ms } => {
            let sql = "UPDATE sessions SET due_at_ms = ?2, closes_at_ms = ?3 WHERE id = ?1 AND ending IS NULL";
            let parameters = params![*id as i64, due_at_ms.map(|at| at as i64), closes_at_ms.map(|at| at as i64)];
            return connection.execute(sql, parameters).map(|changed| changed as u64).map_err(sqlite);
        }
        WriteOp::OfferedExam { title, exam } => {
            // Offered without a quiz given: no source, and saved at 0, as every store does.
            let sql = "INSERT INTO offered_quizzes (title, saved_at_ms, exam) VALUES (?1, 0, ?2)
                ON CONFLICT (title) DO UPDATE SET exam = excluded.exam";
            return connection.execute(sql, params![&*title, exam.as_deref()]).map(|_| 0).map_err(sqlite);
        }
        WriteOp::LearnerOverride { quiz_title, email, settings } => {
            let written = match settings {
                Some(settings) => connection.execute(
                    "INSERT INTO exam_overrides (quiz_title, email, settings) VALUES (?1, ?2, ?3)
                     ON CONFLICT (quiz_title, email) DO UPDATE SET settings = excluded.settings",
                    params![&*quiz_title, &*email, &*settings],
                ),
                None => connection.execute(
                    "DELETE FROM exam_overrides WHERE quiz_title = ?1 AND email = ?2",
                    params![&*quiz_title, &*email],
                ),
            };
            return written.map(|_| 0).map_err(sqlite);
        }
    };
    let Some(function) = in_transaction else {
        return insert(connection, path, record).map(|()| 0);
    };
    connection.execute_batch("SAVEPOINT response").map_err(sqlite)?;
    let outcome = insert(connection, path, record).and_then(|()| match catch_unwind(AssertUnwindSafe(function)) {
        Ok(result) => result.map_err(WriteFailure::Rejected),
        Err(_) => Err(WriteFailure::Rejected("the function run in the transaction panicked".into())),
    });
    if outcome.is_err() {
        connection.execute_batch("ROLLBACK TO response").map_err(sqlite)?;
    }
    connection.execute_batch("RELEASE response").map_err(sqlite)?;
    outcome.map(|()| 0)
}

fn insert(connection: &Connection, path: &Path, record: &ResponseRecord) -> Result<(), WriteFailure> {
    let store = |e| WriteFailure::Store(StoreError::from_sqlite(path, e));
    let reason = match &record.verdict {
        Verdict::Invalid(reason) => Some(reason.as_str()),
        _ => None,
    };
    let (session, position) = match record.place {
        Some(place) => (Some(place.session as i64), Some(place.position as i64)),
        None => (None, None),
    };
    let mut statement = connection.prepare_cached(INSERT).map_err(store)?;
    let inserted = statement.execute(params![
        record.quiz_title,
        record.template,
        record.asked,
        substitutions_to_json(&record.substitutions),
        record.email,
        record.answer,
        record.verdict.kind(),
        reason,
        record.answered_at_ms as i64,
        record.mastery,
        session,
        position,
    ]);
    match inserted {
        Ok(1) => Ok(()),
        // The very answer stored before (a retry) counts once, even after the close.
        Ok(_) if already_stored(connection, record).map_err(store)? => Ok(()),
        Ok(_) => match closed(connection, path, record).map_err(store)? {
            Some(closed) => Err(WriteFailure::Declined(closed)),
            None => Err(WriteFailure::Declined(StoreError::conflict(
                path,
                format!("session {} has ended (or was never started); its answers are closed", session.unwrap_or(0)),
            ))),
        },
        // A constraint fails the statement alone; the transaction and the batch go on.
        Err(rusqlite::Error::SqliteFailure(failure, _)) if failure.code == ErrorCode::ConstraintViolation => {
            match already_stored(connection, record).map_err(store)? {
                true => Ok(()),
                false => Err(WriteFailure::Declined(StoreError::conflict(
                    path,
                    format!(
                        "session {} already has an answer at position {}: another process is answering in it",
                        session.unwrap_or(0),
                        position.unwrap_or(0) + 1
                    ),
                ))),
            }
        }
        Err(error) => Err(store(error)),
    }
}

/// Why the response came too late, if it did: its session's own deadline had passed or, for a
/// session without one and a response outside any session, its quiz's stored window had closed.
fn closed(connection: &Connection, path: &Path, record: &ResponseRecord) -> rusqlite::Result<Option<StoreError>> {
    let answered = record.answered_at_ms as i64;
    if let Some(place) = record.place {
        let own: Option<i64> = connection
            .query_row(
                "SELECT closes_at_ms FROM sessions WHERE id = ?1 AND closes_at_ms IS NOT NULL",
                params![place.session as i64],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(closes) = own {
            return Ok((closes <= answered).then(|| StoreError::closed_session(path, place.session, closes as u64)));
        }
    }
    let closed: Option<i64> = connection
        .query_row(
            "SELECT closes_at_ms FROM offered_quizzes WHERE title = ?1 AND closes_at_ms <= ?2",
            params![record.quiz_title, answered],
            |row| row.get(0),
        )
        .optional()?;
    Ok(closed.map(|at| StoreError::closed_quiz(path, &record.quiz_title, at as u64)))
}

/// Whether the very response is already stored at its place: a retry of a write whose outcome
/// its sender never heard, which must count once.
fn already_stored(connection: &Connection, record: &ResponseRecord) -> rusqlite::Result<bool> {
    let Some(place) = record.place else { return Ok(false) };
    let stored: Option<(String, String, String)> = connection
        .query_row(
            "SELECT template, asked, answer FROM responses WHERE session_id = ?1 AND position = ?2",
            params![place.session as i64, place.position as i64],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    Ok(stored.is_some_and(|(template, asked, answer)| {
        template == record.template && asked == record.asked && answer == record.answer
    }))
}

fn start_session(connection: &Connection, path: &Path, session: &NewSession) -> Result<u64, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "INSERT INTO sessions (quiz_title, quiz_version, email, seed, started_at_ms, due_at_ms, closes_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    statement
        .execute(params![
            session.quiz_title,
            session.quiz_version,
            session.email,
            session.seed as i64,
            session.started_at_ms as i64,
            session.due_at_ms.map(|at| at as i64),
            session.closes_at_ms.map(|at| at as i64),
        ])
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    Ok(connection.last_insert_rowid() as u64)
}

/// Ends the session if it is open: an ending, once stored, is never replaced.
fn end_session(
    connection: &Connection,
    path: &Path,
    id: u64,
    ending: SessionEnding,
    at_ms: u64,
    reason: Option<&str>,
) -> Result<u64, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "UPDATE sessions SET ending = ?2, ended_at_ms = ?3, ending_reason = ?4 WHERE id = ?1 AND ending IS NULL",
        )
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    let changed = statement
        .execute(params![id as i64, ending.as_str(), at_ms as i64, reason])
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    Ok(changed as u64)
}

fn insert_regrade(connection: &Connection, path: &Path, regrade: &RegradeRecord) -> Result<u64, StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    connection
        .execute(
            "INSERT INTO regrades (quiz_title, quiz_version, regraded_at_ms) VALUES (?1, ?2, ?3)",
            params![regrade.quiz_title, regrade.quiz_version, regrade.regraded_at_ms as i64],
        )
        .map_err(sqlite)?;
    let id = connection.last_insert_rowid();
    let mut statement = connection
        .prepare_cached(
            "INSERT INTO regraded_verdicts (regrade_id, session_id, position, verdict, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sqlite)?;
    for (place, verdict) in &regrade.changed {
        let reason = match verdict {
            Verdict::Invalid(reason) => Some(reason.as_str()),
            _ => None,
        };
        statement
            .execute(params![id, place.session as i64, place.position as i64, verdict.kind(), reason])
            .map_err(sqlite)?;
    }
    Ok(id as u64)
}

fn replace_roster(connection: &Connection, quiz_title: &str, learners: &[(String, String)]) -> rusqlite::Result<u64> {
    connection.execute("DELETE FROM roster WHERE quiz_title = ?1", params![quiz_title])?;
    let mut statement = connection.prepare_cached(
        "INSERT INTO roster (quiz_title, email, token_hash) VALUES (?1, ?2, ?3) ON CONFLICT (quiz_title, email) DO UPDATE SET token_hash = excluded.token_hash",
    )?;
    for (email, token_hash) in learners {
        statement.execute(params![quiz_title, email, token_hash])?;
    }
    Ok(0)
}
