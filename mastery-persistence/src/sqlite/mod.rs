//! The SQLite store: one writer thread with group commit, readers on threads of their own.
//!
//! `writer` holds the writer thread and the claim that lets a caller withdraw a response; `reads`
//! the read-only connections and the decoding of rows; `schema` the migrations and the format of
//! the stored values.

mod reads;
mod schema;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::mpsc;

use mastery_core::SessionEnding;

use self::reads::{
    ReaderPool, open_reader, read_joined, read_latest_attempt, read_learner_overrides, read_offered, read_quizzes,
    read_regraded, read_report, read_responses, read_responses_per_email, read_roster, read_session, read_sessions,
    read_setting, read_template_report, read_timed_open_sessions,
};
use self::writer::{WriteOp, WriteRequest, open_writer, run_writer};
use crate::record::ResponseRecord;
use crate::report::{LearnerReport, Regraded, TemplateReport};
use crate::session::{NewSession, OfferedQuiz, QuizSummary, RegradeRecord, SessionRecord, StoredSession};
use crate::{InTransaction, Pending, ResponseStore, StoreError, Withdrawal};

pub use self::schema::{SCHEMA_VERSION, create_schema_version, substitutions_from_json, substitutions_to_json};

/// What an acknowledged response survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: every commit reaches the disk before it is acknowledged, so an
    /// acknowledged response survives the process being killed *and* the machine losing power.
    #[default]
    PowerLoss,
    /// `synchronous=NORMAL`: an acknowledged response survives the process being killed, but the
    /// last commits may be lost if the machine loses power.
    ProcessCrash,
}

/// How a [`SqliteStore`] is opened.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// What an acknowledgement promises.
    pub durability: Durability,
    /// The most responses committed in one transaction. 1 gives one transaction per response (the
    /// book's way), kept for comparison.
    pub max_batch: usize,
    /// Responses that may wait for the writer before callers are made to wait (back pressure).
    pub queue: usize,
    /// A cap on the database's size in bytes: a write that would pass it fails as on a full disk.
    /// `None` leaves the size to the disk.
    pub max_size: Option<u64>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { durability: Durability::default(), max_batch: 4_096, queue: 16_384, max_size: None }
    }
}

/// The embedded default store: a SQLite file in WAL mode.
///
/// Writes go through one writer thread that commits every response waiting at that moment in one
/// transaction (group commit); a response is acknowledged only after its transaction commits.
/// Reads open their own connection on a thread of their own, so neither ever blocks an async
/// runtime's workers.
pub struct SqliteStore {
    path: PathBuf,
    /// `None` for a store opened for reading only.
    requests: Option<mpsc::Sender<WriteRequest>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The reader threads of a store that writes; `None` for one opened for reading only.
    readers: Option<std::sync::Arc<ReaderPool>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with the default options, and brings
    /// its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens with explicit options.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = open_writer(&path, &options)?;
        let (sender, receiver) = mpsc::channel(options.queue.max(1));
        let writer_path = path.clone();
        let max_batch = options.max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("mastery-sqlite-writer".into())
            .spawn(move || run_writer(connection, &writer_path, receiver, max_batch))
            .map_err(|error| StoreError::cannot_open(&path, error))?;
        let readers = ReaderPool::start(&path).map_err(|error| StoreError::cannot_open(&path, error))?;
        Ok(SqliteStore {
            path,
            requests: Some(sender),
            writer: Mutex::new(Some(writer)),
            readers: Some(std::sync::Arc::new(readers)),
        })
    }

    /// Opens an existing database for reading only: no writer, no migration, and nothing created
    /// beside the file, so reports work on a read-only file. Recording through it fails with
    /// [`StoreError::opened_for_reading`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(StoreError::missing(&path));
        }
        let connection = open_reader(&path)?;
        let sqlite = |e| StoreError::from_sqlite(&path, e);
        let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sqlite)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::newer_schema(&path, found, SCHEMA_VERSION));
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::older_schema(&path, found, SCHEMA_VERSION));
        }
        Ok(SqliteStore { path, requests: None, writer: Mutex::new(None), readers: None })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file at `path`, without changing it (0 for a new file).
    pub fn schema_version(path: impl AsRef<Path>) -> Result<i64, StoreError> {
        let path = path.as_ref();
        let connection = Connection::open(path).map_err(|e| StoreError::from_sqlite(path, e))?;
        connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| StoreError::from_sqlite(path, e))
    }
}

impl Drop for SqliteStore {
    /// Lets the writer commit what it holds and joins it: nothing acknowledged is left behind.
    fn drop(&mut self) {
        // Readers close first: the writer's connection, closing last, checkpoints the log and
        // removes the `-wal` and `-shm` files, which a read-only connection cannot.
        if let Some(readers) = &self.readers {
            readers.stop();
        }
        self.requests.take();
        let writer = self.writer.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

fn unit(pending: Pending<u64>) -> Pending<()> {
    Box::pin(async move { pending.await.map(drop) })
}

impl ResponseStore for SqliteStore {
    fn record_in_transaction(&self, record: ResponseRecord, in_transaction: Option<InTransaction>) -> Pending<()> {
        unit(self.submit(WriteOp::Response(record, in_transaction), None))
    }

    fn record_withdrawable(&self, record: ResponseRecord, withdrawal: Withdrawal) -> Pending<()> {
        unit(self.submit(WriteOp::Response(record, None), Some(withdrawal)))
    }

    fn start_session(&self, session: NewSession) -> Pending<u64> {
        self.submit(WriteOp::StartSession(session), None)
    }

    fn end_session(&self, id: u64, ending: SessionEnding, at_ms: u64, reason: Option<String>) -> Pending<bool> {
        let ended = self.submit(WriteOp::EndSession { id, ending, at_ms, reason }, None);
        Box::pin(async move { Ok(ended.await? > 0) })
    }

    fn set_session_deadline(&self, id: u64, due_at_ms: Option<u64>, closes_at_ms: Option<u64>) -> Pending<bool> {
        let changed = self.submit(WriteOp::SessionDeadline { id, due_at_ms, closes_at_ms }, None);
        Box::pin(async move { Ok(changed.await? > 0) })
    }

    fn session(&self, id: u64) -> Pending<Option<SessionRecord>> {
        self.read(move |connection, path| read_session(connection, path, id))
    }

    fn setting_or_init(&self, name: &str, value: String) -> Pending<String> {
        let stored = self.submit(WriteOp::SettingIfAbsent { name: name.to_string(), value }, None);
        let name = name.to_string();
        let read = self.read(move |connection, path| read_setting(connection, path, &name));
        Box::pin(async move {
            stored.await?;
            read.await?.ok_or_else(StoreError::closed)
        })
    }

    fn set_roster(&self, quiz_title: &str, learners: Vec<(String, String)>) -> Pending<()> {
        unit(self.submit(WriteOp::Roster { quiz_title: quiz_title.to_string(), learners }, None))
    }

    fn offer_quiz(&self, quiz: OfferedQuiz) -> Pending<()> {
        unit(self.submit(WriteOp::Offer(quiz), None))
    }

    fn schedule_offered(&self, title: &str, opens_at_ms: u64, closes_at_ms: u64) -> Pending<()> {
        unit(self.submit(WriteOp::Schedule { title: title.to_string(), opens_at_ms, closes_at_ms }, None))
    }

    fn set_offered_exam(&self, title: &str, exam: Option<String>) -> Pending<()> {
        unit(self.submit(WriteOp::OfferedExam { title: title.to_string(), exam }, None))
    }

    fn offered_quizzes(&self) -> Pending<Vec<OfferedQuiz>> {
        self.read(read_offered)
    }

    fn set_learner_override(&self, quiz_title: &str, email: &str, settings: Option<String>) -> Pending<()> {
        let (quiz_title, email) = (quiz_title.to_string(), email.to_string());
        unit(self.submit(WriteOp::LearnerOverride { quiz_title, email, settings }, None))
    }

    fn learner_overrides(&self, quiz_title: &str) -> Pending<Vec<(String, String)>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_learner_overrides(connection, path, &title))
    }

    fn roster(&self, quiz_title: &str) -> Pending<Vec<(String, String)>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_roster(connection, path, &title))
    }

    fn joined(&self, token_hash: &str) -> Pending<Option<(String, String)>> {
        let hash = token_hash.to_string();
        self.read(move |connection, path| read_joined(connection, path, &hash))
    }

    fn latest_attempt(&self, quiz_title: &str, email: &str) -> Pending<Option<StoredSession>> {
        let (title, email) = (quiz_title.to_string(), email.to_string());
        self.read(move |connection, path| read_latest_attempt(connection, path, &title, &email))
    }

    fn timed_open_sessions(&self) -> Pending<Vec<SessionRecord>> {
        self.read(read_timed_open_sessions)
    }

    fn sessions(&self, quiz_title: &str) -> Pending<Vec<SessionRecord>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_sessions(connection, path, &title))
    }

    fn quizzes(&self) -> Pending<Vec<QuizSummary>> {
        self.read(read_quizzes)
    }

    fn record_regrade(&self, regrade: RegradeRecord) -> Pending<u64> {
        self.submit(WriteOp::Regrade(regrade), None)
    }

    fn regraded(&self, quiz_title: &str) -> Pending<Regraded> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_regraded(connection, path, &title))
    }

    fn template_report(&self, quiz_title: &str) -> Pending<Vec<TemplateReport>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_template_report(connection, path, &title))
    }

    fn responses(&self, quiz_title: &str) -> Pending<Vec<ResponseRecord>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_responses(connection, path, &title))
    }

    fn responses_per_email(&self, quiz_title: &str) -> Pending<BTreeMap<String, u64>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_responses_per_email(connection, path, &title))
    }

    fn report(&self, quiz_title: &str) -> Pending<Vec<LearnerReport>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_report(connection, path, &title))
    }
}
