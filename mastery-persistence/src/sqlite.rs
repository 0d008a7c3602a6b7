//! The SQLite store: one writer thread with group commit, readers on threads of their own.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mastery_core::Verdict;
use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::{mpsc, oneshot};

use crate::record::{LearnerReport, ReportBuilder, ReportRow, ResponseRecord, SubstitutionValue};
use crate::{InTransaction, Pending, ResponseStore, StoreError, Withdrawal};

/// The schema, one migration per version: version N is reached by running the first N entries.
/// Never edit a released entry; add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: every field of a response.
    "CREATE TABLE responses (
        id INTEGER PRIMARY KEY,
        quiz_title TEXT NOT NULL,
        template TEXT NOT NULL,
        asked TEXT NOT NULL,
        substitutions TEXT NOT NULL,
        email TEXT NOT NULL,
        answer TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'invalid')),
        reason TEXT,
        answered_at_ms INTEGER NOT NULL
    );",
    // 2: the quiz's mastery, so reports can tell who mastered what (rows from version 1 take the
    // default of 3), and the index reports read by. Only the append-ordered quiz title is indexed:
    // a random-key index such as (quiz_title, email) would dirty many pages per group commit.
    "ALTER TABLE responses ADD COLUMN mastery INTEGER NOT NULL DEFAULT 3 CHECK (mastery >= 1);
     CREATE INDEX responses_by_quiz ON responses (quiz_title);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const INSERT: &str = "INSERT INTO responses
    (quiz_title, template, asked, substitutions, email, answer, verdict, reason, answered_at_ms, mastery)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

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
}

struct WriteRequest {
    record: ResponseRecord,
    in_transaction: Option<InTransaction>,
    claim: Arc<Claim>,
    acknowledge: oneshot::Sender<Result<(), StoreError>>,
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
            .map_err(|error| StoreError::Open { path: path.clone(), reason: error.to_string() })?;
        Ok(SqliteStore { path, requests: Some(sender), writer: Mutex::new(Some(writer)) })
    }

    /// Opens an existing database for reading only: no writer, no migration, and nothing created
    /// beside the file, so reports work on a read-only file. Recording through it fails with
    /// [`StoreError::OpenedForReading`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let connection = open_reader(&path)?;
        let sqlite = |e| StoreError::from_sqlite(&path, e);
        let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sqlite)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { path, found, supported: SCHEMA_VERSION });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::OlderSchema { path, found, supported: SCHEMA_VERSION });
        }
        Ok(SqliteStore { path, requests: None, writer: Mutex::new(None) })
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

    /// Runs a read on a thread of its own, with a read-only connection.
    fn read<T: Send + 'static>(
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
            spawned.map_err(|_| StoreError::Closed)?;
            receiver.await.map_err(|_| StoreError::Closed)?
        })
    }
}

impl Drop for SqliteStore {
    /// Lets the writer commit what it holds and joins it: nothing acknowledged is left behind.
    fn drop(&mut self) {
        self.requests.take();
        let writer = self.writer.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl SqliteStore {
    /// Hands a request to the writer and waits for its definitive outcome.
    fn submit(
        &self,
        record: ResponseRecord,
        in_transaction: Option<InTransaction>,
        withdrawal: Option<Withdrawal>,
    ) -> Pending<()> {
        let requests = self.requests.clone().ok_or_else(|| StoreError::OpenedForReading { path: self.path.clone() });
        Box::pin(async move {
            let requests = requests?;
            let claim = Arc::new(Claim::default());
            let (acknowledge, mut acknowledged) = oneshot::channel();
            let request = WriteRequest { record, in_transaction, claim: Arc::clone(&claim), acknowledge };
            let outcome =
                |acknowledged: Result<Result<(), StoreError>, _>| acknowledged.unwrap_or(Err(StoreError::Closed));
            let Some(mut withdrawal) = withdrawal else {
                requests.send(request).await.map_err(|_| StoreError::Closed)?;
                return outcome(acknowledged.await);
            };
            // Withdrawn while waiting for room in the queue: the request never reached the writer.
            tokio::select! {
                biased;
                sent = requests.send(request) => sent.map_err(|_| StoreError::Closed)?,
                () = &mut withdrawal => return Err(StoreError::Withdrawn),
            }
            tokio::select! {
                biased;
                acknowledged = &mut acknowledged => outcome(acknowledged),
                () = withdrawal => match claim.withdraw() {
                    true => Err(StoreError::Withdrawn),
                    // The writer got there first: its commit decides, and it is under way.
                    false => outcome(acknowledged.await),
                },
            }
        })
    }
}

impl ResponseStore for SqliteStore {
    fn record_in_transaction(&self, record: ResponseRecord, in_transaction: Option<InTransaction>) -> Pending<()> {
        self.submit(record, in_transaction, None)
    }

    fn record_withdrawable(&self, record: ResponseRecord, withdrawal: Withdrawal) -> Pending<()> {
        self.submit(record, None, Some(withdrawal))
    }

    fn responses(&self, quiz_title: &str) -> Pending<Vec<ResponseRecord>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| read_responses(connection, path, &title))
    }

    fn responses_per_email(&self, quiz_title: &str) -> Pending<BTreeMap<String, u64>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| {
            let sqlite = |e| StoreError::from_sqlite(path, e);
            let mut statement = connection
                .prepare("SELECT email, count(*) FROM responses WHERE quiz_title = ?1 GROUP BY email")
                .map_err(sqlite)?;
            let rows = statement
                .query_map([&title], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64)))
                .map_err(sqlite)?;
            rows.collect::<Result<BTreeMap<_, _>, _>>().map_err(sqlite)
        })
    }

    fn report(&self, quiz_title: &str) -> Pending<Vec<LearnerReport>> {
        let title = quiz_title.to_string();
        self.read(move |connection, path| {
            let sqlite = |e| StoreError::from_sqlite(path, e);
            let mut statement = connection
                .prepare(
                    "SELECT id, email, template, verdict, mastery FROM responses WHERE quiz_title = ?1 ORDER BY id",
                )
                .map_err(sqlite)?;
            let mut rows = statement.query([&title]).map_err(sqlite)?;
            let mut report = ReportBuilder::default();
            while let Some(row) = rows.next().map_err(sqlite)? {
                let text = |index| row.get_ref(index).and_then(|v| v.as_str().map_err(Into::into));
                // The reason of an invalid verdict plays no part in a report: it is not read.
                let verdict =
                    parse_verdict(path, row.get(0).map_err(sqlite)?, text(3).map_err(sqlite)?, String::new())?;
                report.add(ReportRow {
                    email: text(1).map_err(sqlite)?,
                    template: text(2).map_err(sqlite)?,
                    verdict: &verdict,
                    mastery: row.get::<_, u32>(4).map_err(sqlite)?,
                });
            }
            Ok(report.finish())
        })
    }
}

fn open_writer(path: &Path, options: &SqliteOptions) -> Result<Connection, StoreError> {
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
        return Err(StoreError::Sqlite { path: path.to_path_buf(), reason: format!("cannot use WAL (mode {mode})") });
    }
    connection.execute_batch(&format!("PRAGMA synchronous = {synchronous};")).map_err(sqlite)?;
    migrate(&connection, path)?;
    if let Some(max_size) = options.max_size {
        let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0)).map_err(sqlite)?;
        let pages = max_size.div_ceil(page_size.max(1) as u64).max(1);
        connection.execute_batch(&format!("PRAGMA max_page_count = {pages}")).map_err(sqlite)?;
    }
    Ok(connection)
}

/// A read-only connection that leaves no file behind. A WAL database is normally read through a
/// `-shm` index that a reader creates when it is missing (and, being read-only, cannot remove
/// again). When there is no `-wal` file, no writer is connected and every commit is in the main
/// file, so it is read as immutable: no index, no locks, nothing created. When there is one, it is
/// read the ordinary way, with the writer's index.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
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

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction; refuses a newer file.
fn migrate(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    connection.execute_batch("BEGIN IMMEDIATE").map_err(sqlite)?;
    let result = (|| {
        let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sqlite)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            connection.execute_batch(migration).map_err(sqlite)?;
            connection.execute_batch(&format!("PRAGMA user_version = {}", index + 1)).map_err(sqlite)?;
        }
        Ok(())
    })();
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = connection.execute_batch(end).map_err(sqlite);
    result.and(ended)
}

/// Applies only the first `version` migrations: lets tests build files of older versions.
#[doc(hidden)]
pub fn create_schema_version(path: &Path, version: usize) -> Result<(), StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let connection = Connection::open(path).map_err(sqlite)?;
    for (index, migration) in MIGRATIONS.iter().take(version).enumerate() {
        connection.execute_batch(migration).map_err(sqlite)?;
        connection.execute_batch(&format!("PRAGMA user_version = {}", index + 1)).map_err(sqlite)?;
    }
    Ok(())
}

fn run_writer(connection: Connection, path: &Path, mut requests: mpsc::Receiver<WriteRequest>, max_batch: usize) {
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
fn write_and_commit(connection: &Connection, path: &Path, batch: &mut [WriteRequest]) -> Vec<Result<(), StoreError>> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch.iter_mut() {
        if !request.claim.claim() {
            outcomes.push(Err(StoreError::Withdrawn));
            continue;
        }
        match write_request(connection, path, request) {
            Err(StoreError::Rejected(reason)) => outcomes.push(Err(StoreError::Rejected(reason))),
            Err(error) => return abandon_batch(connection, batch, error),
            Ok(()) => outcomes.push(Ok(())),
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
fn abandon_batch(connection: &Connection, batch: &[WriteRequest], error: StoreError) -> Vec<Result<(), StoreError>> {
    if !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    let withdrawn = |request: &WriteRequest| request.claim.0.load(Ordering::Acquire) == Claim::WITHDRAWN;
    batch.iter().map(|request| Err(if withdrawn(request) { StoreError::Withdrawn } else { error.clone() })).collect()
}

fn write_request(connection: &Connection, path: &Path, request: &mut WriteRequest) -> Result<(), StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    let Some(function) = request.in_transaction.take() else {
        return insert(connection, path, &request.record);
    };
    connection.execute_batch("SAVEPOINT response").map_err(sqlite)?;
    let outcome =
        insert(connection, path, &request.record).and_then(|()| match catch_unwind(AssertUnwindSafe(function)) {
            Ok(result) => result.map_err(StoreError::Rejected),
            Err(_) => Err(StoreError::Rejected("the function run in the transaction panicked".into())),
        });
    if outcome.is_err() {
        connection.execute_batch("ROLLBACK TO response").map_err(sqlite)?;
    }
    connection.execute_batch("RELEASE response").map_err(sqlite)?;
    outcome
}

fn insert(connection: &Connection, path: &Path, record: &ResponseRecord) -> Result<(), StoreError> {
    let reason = match &record.verdict {
        Verdict::Invalid(reason) => Some(reason.as_str()),
        _ => None,
    };
    let mut statement = connection.prepare_cached(INSERT).map_err(|e| StoreError::from_sqlite(path, e))?;
    statement
        .execute(params![
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
        ])
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    Ok(())
}

fn substitutions_to_json(substitutions: &[(String, SubstitutionValue)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = substitutions
        .iter()
        .map(|(name, value)| {
            let value = match value {
                SubstitutionValue::Integer(n) => serde_json::Value::from(*n),
                SubstitutionValue::Text(text) => serde_json::Value::from(text.as_str()),
            };
            (name.clone(), value)
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

fn substitutions_from_json(text: &str) -> Result<Vec<(String, SubstitutionValue)>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let object = value.as_object().ok_or("substitutions are not a JSON object")?;
    object
        .iter()
        .map(|(name, value)| {
            let value = match value {
                serde_json::Value::Number(n) => {
                    SubstitutionValue::Integer(n.as_i64().ok_or("a number is not an integer")?)
                }
                serde_json::Value::String(s) => SubstitutionValue::Text(s.clone()),
                other => return Err(format!("unexpected substitution value {other}")),
            };
            Ok((name.clone(), value))
        })
        .collect()
}

/// A stored verdict, or an error naming the row: a misspelt verdict is never counted as wrong.
fn parse_verdict(path: &Path, row: i64, kind: &str, reason: String) -> Result<Verdict, StoreError> {
    Verdict::from_kind(kind, reason).ok_or_else(|| StoreError::BadRow {
        path: path.to_path_buf(),
        row,
        reason: format!("unknown verdict {kind:?}"),
    })
}

fn read_responses(connection: &Connection, path: &Path, title: &str) -> Result<Vec<ResponseRecord>, StoreError> {
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
        let bad_row = |reason: String| StoreError::BadRow { path: path.to_path_buf(), row: id, reason };
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
