//! # mastery-postgres: responses kept in PostgreSQL
//!
//! The store for a school that outgrows one machine: several `mastery serve` processes share one
//! PostgreSQL database, and each of them can serve any learner, because everything a session is
//! — its seed, its version and every answer at its place — is in the database.
//!
//! [`PgStore`] keeps the rules of the other stores behind the same
//! [`ResponseStore`] trait: acknowledged means committed (with `synchronous_commit` on, checked
//! when the store opens); one history per session, by a unique `(session_id, position)` key, so a
//! stale process that writes is refused and a retry of an answer already stored counts once; no
//! answer into a session that has ended. One writer connection commits every response waiting at
//! that moment with one multi-row `INSERT … SELECT FROM unnest(…)` (group commit); reads go over a
//! connection of their own. Both reconnect after the database comes back.
//!
//! The crate depends on `mastery-persistence` (the trait, the records, the reports) and
//! `mastery-core` only; SQLite users never build it unless they ask for PostgreSQL.
//!
//! ```no_run
//! use mastery_persistence::ResponseStore;
//!
//! # async fn demo() -> Result<(), mastery_persistence::StoreError> {
//! let store = mastery_postgres::PgStore::connect("postgres://postgres@127.0.0.1:5432/postgres").await?;
//! println!("{} quizzes stored", store.quizzes().await?.len());
//! # Ok(()) }
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod schema;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mastery_core::{SessionEnding, Verdict};
use mastery_persistence::{
    InTransaction, NewSession, OfferedQuiz, Pending, QuizSummary, RegradeRecord, Regraded, ResponseRecord,
    ResponseStore, SessionRecord, StoreError, StoreErrorKind, StoredSession, substitutions_from_json,
};
use tokio::sync::{Mutex, broadcast, mpsc, oneshot};
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

pub use schema::SCHEMA_VERSION;
use writer::{WriteOp, WriteRequest};

/// Where the store is, as messages show it: the URL without its password.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) shown: String,
    config: Config,
}

impl Place {
    fn new(mut config: Config) -> Place {
        // A database that does not answer (a host gone, a network cut) must fail a write in
        // seconds, not after the operating system's two hours of keepalive.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        config.keepalives_idle(std::time::Duration::from_secs(10));
        config.tcp_user_timeout(std::time::Duration::from_secs(20));
        let user = config.get_user().unwrap_or("postgres");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let database = config.get_dbname().unwrap_or(user);
        Place { shown: format!("postgres://{user}@{host}:{port}/{database}"), config }
    }

    /// A new connection, driven on a task of its own, with commits acknowledged only once durable.
    async fn connect(&self) -> Result<Client, StoreError> {
        let (client, connection) =
            self.config.connect(NoTls).await.map_err(|e| StoreError::cannot_open(&self.shown, with_causes(&e)))?;
        let shown = self.shown.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(database = %shown, %error, "the connection to PostgreSQL ended");
            }
        });
        client.batch_execute("SET synchronous_commit = on").await.map_err(|e| unavailable(self, &e))?;
        let synchronous: String =
            client.query_one("SHOW synchronous_commit", &[]).await.map_err(|e| unavailable(self, &e))?.get(0);
        if synchronous != "on" {
            return Err(StoreError::other(
                StoreErrorKind::Refused,
                &self.shown,
                format!("synchronous_commit is {synchronous:?}, not \"on\": commits would not be durable"),
            ));
        }
        Ok(client)
    }
}

/// An error with what caused it: the driver's "error connecting to server" says why only in its
/// source ("Connection refused").
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// A PostgreSQL error, classified: a lost connection or a transaction rolled back for another's
/// sake is `Unavailable` (try again later), a unique key is a `Conflict`, anything else is
/// `Refused`.
pub(crate) fn unavailable(place: &Place, error: &tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    let kind = match error.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreErrorKind::Conflict,
        // Two servers' transactions in each other's way: the batch was rolled back whole, and the
        // same writes can go again.
        Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE => {
            StoreErrorKind::Unavailable
        }
        Some(_) => StoreErrorKind::Refused,
        None => StoreErrorKind::Unavailable,
    };
    StoreError::other(kind, &place.shown, with_causes(error))
}

/// A connection with its prepared statements: tokio-postgres prepares a query given as text on
/// every call, so each statement is prepared once per connection.
struct Prepared {
    client: Client,
    statements: Mutex<HashMap<&'static str, Statement>>,
}

impl Prepared {
    fn new(client: Client) -> Prepared {
        Prepared { client, statements: Mutex::new(HashMap::new()) }
    }

    async fn statement(&self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.lock().await.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        self.statements.lock().await.insert(sql, statement.clone());
        Ok(statement)
    }

    async fn query(
        &self,
        sql: &'static str,
        parameters: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        self.client.query(&statement, parameters).await
    }
}

/// Responses, sessions, regrades, settings and rosters in a PostgreSQL database.
pub struct PgStore {
    place: Arc<Place>,
    requests: mpsc::Sender<WriteRequest>,
    /// The reading connection; replaced after it is lost.
    reader: Arc<Mutex<Option<Arc<Prepared>>>>,
    /// Announcements heard on `LISTEN`, once someone asked for them; the listener stops when the
    /// store is dropped (with the stop sender).
    announced: std::sync::Mutex<Option<(broadcast::Sender<String>, oneshot::Sender<()>)>>,
}

/// The channel servers announce on.
const ANNOUNCEMENTS: &str = "mastery_announcements";
const NOTIFY: &str = "SELECT pg_notify('mastery_announcements', $1)";

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("database", &self.place.shown).finish_non_exhaustive()
    }
}

/// How a [`PgStore`] writes.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Writes one commit takes at most. 1 is one transaction per response, the book's way (for
    /// comparison).
    pub max_batch: usize,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions { max_batch: 4_096 }
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/database`), brings its
    /// schema up to date and starts the writer. A database that cannot be reached is an error
    /// naming the URL without its password. Must be called inside a tokio runtime.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let config: Config = url.parse().map_err(|e| {
            let shown = url.split_once('@').map_or(url.to_string(), |(_, rest)| format!("postgres://…@{rest}"));
            StoreError::other(StoreErrorKind::Refused, &shown, format_args!("not a PostgreSQL URL: {e}"))
        })?;
        PgStore::connect_with(config).await
    }

    /// Like [`PgStore::connect`], with a configuration built in code (a test's own schema
    /// through `options("-c search_path=…")`, say).
    pub async fn connect_with(config: Config) -> Result<PgStore, StoreError> {
        PgStore::connect_with_options(config, PgOptions::default()).await
    }

    /// Like [`PgStore::connect_with`], writing as `options` say.
    pub async fn connect_with_options(config: Config, options: PgOptions) -> Result<PgStore, StoreError> {
        let max_batch = options.max_batch.max(1);
        let place = Arc::new(Place::new(config));
        let mut writer = place.connect().await?;
        schema::migrate(&mut writer, &place).await?;
        let reader = Arc::new(Prepared::new(place.connect().await?));
        let (requests, queue) = mpsc::channel(max_batch);
        tokio::spawn(writer::run(Arc::clone(&place), writer, queue, max_batch));
        Ok(PgStore {
            place,
            requests,
            reader: Arc::new(Mutex::new(Some(reader))),
            announced: std::sync::Mutex::new(None),
        })
    }

    /// Listens for announcements on a connection of its own, driven here: tokio-postgres hands
    /// notifications only to whoever polls the connection's messages. Connects again after the
    /// connection is lost (announcements sent meanwhile are missed: they are for live views).
    async fn listen(place: Arc<Place>, heard: broadcast::Sender<String>, mut stop: oneshot::Receiver<()>) {
        loop {
            if let Ok((client, mut connection)) = place.config.connect(NoTls).await {
                let listen = format!("LISTEN {ANNOUNCEMENTS}");
                let listening = client.batch_execute(&listen);
                tokio::pin!(listening);
                let mut listened = false;
                loop {
                    let message = std::future::poll_fn(|cx| connection.poll_message(cx));
                    tokio::select! {
                        _ = &mut stop => return,
                        done = &mut listening, if !listened => {
                            listened = true;
                            if done.is_err() { break }
                        }
                        message = message => match message {
                            Some(Ok(tokio_postgres::AsyncMessage::Notification(note))) => {
                                let _ = heard.send(note.payload().to_string());
                            }
                            Some(Ok(_)) => {}
                            Some(Err(_)) | None => break,
                        },
                    }
                }
            }
            tokio::select! {
                _ = &mut stop => return,
                () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            }
        }
    }

    /// The database as messages name it: its URL without the password.
    pub fn place(&self) -> &str {
        &self.place.shown
    }

    fn submit(&self, op: WriteOp) -> Pending<u64> {
        let requests = self.requests.clone();
        Box::pin(async move {
            let (acknowledge, acknowledged) = tokio::sync::oneshot::channel();
            requests.send(WriteRequest { op, acknowledge }).await.map_err(|_| StoreError::closed())?;
            acknowledged.await.unwrap_or_else(|_| Err(StoreError::closed()))
        })
    }

    /// Refuses, before anything is sent, a write of `what` whose text holds a NUL: PostgreSQL's
    /// text cannot hold one, and the server's refusal would fail the whole batch the write
    /// shares a transaction with.
    fn refuse_nul<'a>(&self, what: &str, mut texts: impl Iterator<Item = &'a str>) -> Result<(), StoreError> {
        match texts.any(|text| text.contains('\0')) {
            true => Err(StoreError::other(
                StoreErrorKind::Refused,
                &self.place.shown,
                format_args!("{what} holding a NUL character cannot be stored"),
            )),
            false => Ok(()),
        }
    }

    /// The reading connection, connected again when it was lost.
    async fn reader(place: &Place, slot: &Mutex<Option<Arc<Prepared>>>) -> Result<Arc<Prepared>, StoreError> {
        let mut slot = slot.lock().await;
        if let Some(reader) = slot.as_ref().filter(|reader| !reader.client.is_closed()) {
            return Ok(Arc::clone(reader));
        }
        let reader = Arc::new(Prepared::new(place.connect().await?));
        *slot = Some(Arc::clone(&reader));
        Ok(reader)
    }

    /// The rows `sql` selects for one text parameter, decoded by `decode`.
    fn rows_for<T: Send + 'static>(
        &self,
        sql: &'static str,
        parameter: &str,
        decode: fn(&Place, &[Row]) -> Result<T, StoreError>,
    ) -> Pending<T> {
        let parameter = parameter.to_string();
        self.read(move |reader, place| {
            let parameter = parameter.clone();
            Box::pin(async move {
                let rows = reader.query(sql, &[&parameter]).await.map_err(|e| unavailable(&place, &e))?;
                decode(&place, &rows)
            })
        })
    }

    /// Runs a read; a read that fails because the connection was lost is tried once more on a
    /// new one (reads change nothing, so trying again is safe).
    fn read<T, F>(&self, read: F) -> Pending<T>
    where
        T: Send + 'static,
        F: Fn(Arc<Prepared>, Arc<Place>) -> Pending<T> + Send + 'static,
    {
        let (place, slot) = (Arc::clone(&self.place), Arc::clone(&self.reader));
        Box::pin(async move {
            let first = PgStore::reader(&place, &slot).await?;
            match read(Arc::clone(&first), Arc::clone(&place)).await {
                Err(error) if error.kind == StoreErrorKind::Unavailable && first.client.is_closed() => {
                    let second = PgStore::reader(&place, &slot).await?;
                    read(second, place).await
                }
                outcome => outcome,
            }
        })
    }
}

const RESPONSE_COLUMNS_BY_QUIZ: &str = "SELECT id, quiz_title, template, asked, substitutions, email, answer, verdict,
    reason, answered_at_ms, mastery, session_id, position FROM responses WHERE quiz_title = $1 ORDER BY id";
const RESPONSE_COLUMNS_BY_SESSION: &str = "SELECT id, quiz_title, template, asked, substitutions, email, answer,
    verdict, reason, answered_at_ms, mastery, session_id, position FROM responses WHERE session_id = $1
    ORDER BY position";
const SESSION_BY_ID: &str = "SELECT id, quiz_title, quiz_version, email, seed, started_at_ms, ended_at_ms, ending,
    ending_reason, due_at_ms, closes_at_ms FROM sessions WHERE id = $1";
const SESSIONS_OF_QUIZ: &str = "SELECT id, quiz_title, quiz_version, email, seed, started_at_ms, ended_at_ms,
    ending, ending_reason, due_at_ms, closes_at_ms FROM sessions WHERE quiz_title = $1 ORDER BY id";
const TIMED_OPEN_SESSIONS: &str = "SELECT id, quiz_title, quiz_version, email, seed, started_at_ms, ended_at_ms,
    ending, ending_reason, due_at_ms, closes_at_ms FROM sessions WHERE ending IS NULL AND closes_at_ms IS NOT NULL
    ORDER BY id";
const LATEST_SESSION: &str = "SELECT id, quiz_title, quiz_version, email, seed, started_at_ms, ended_at_ms, ending,
    ending_reason, due_at_ms, closes_at_ms FROM sessions WHERE quiz_title = $1 AND email = $2
    ORDER BY id DESC LIMIT 1";

fn response_from_row(place: &Place, row: &Row) -> Result<ResponseRecord, StoreError> {
    let id: i64 = row.get(0);
    let bad_row = |reason: String| StoreError::bad_row(&place.shown, id, reason);
    let kind: String = row.get(7);
    let reason: Option<String> = row.get(8);
    let verdict = Verdict::from_kind(&kind, reason.unwrap_or_default())
        .ok_or_else(|| bad_row(format!("unknown verdict {kind:?}")))?;
    let substitutions = substitutions_from_json(row.get(4)).map_err(bad_row)?;
    let session: Option<i64> = row.get(11);
    let position: Option<i64> = row.get(12);
    Ok(ResponseRecord {
        quiz_title: row.get(1),
        template: row.get(2),
        asked: row.get(3),
        substitutions,
        email: row.get(5),
        answer: row.get(6),
        verdict,
        answered_at_ms: row.get::<_, i64>(9) as u64,
        mastery: row.get::<_, i32>(10) as u32,
        place: session.zip(position).map(|(session, position)| mastery_persistence::Place {
            session: session as u64,
            position: position as u64,
        }),
    })
}

fn session_from_row(place: &Place, row: &Row) -> Result<SessionRecord, StoreError> {
    let id: i64 = row.get(0);
    let ending: Option<String> = row.get(7);
    let ending = match ending {
        None => None,
        Some(name) => Some(SessionEnding::parse(&name).ok_or_else(|| {
            StoreError::bad_row(&place.shown, id, format_args!("session {id} has an unknown ending {name:?}"))
        })?),
    };
    Ok(SessionRecord {
        id: id as u64,
        quiz_title: row.get(1),
        quiz_version: row.get(2),
        email: row.get(3),
        seed: row.get::<_, Option<i64>>(4).map(|seed| seed as u64),
        started_at_ms: row.get::<_, i64>(5) as u64,
        ended_at_ms: row.get::<_, Option<i64>>(6).map(|at| at as u64),
        ending,
        ending_reason: row.get(8),
        due_at_ms: row.get::<_, Option<i64>>(9).map(|at| at as u64),
        closes_at_ms: row.get::<_, Option<i64>>(10).map(|at| at as u64),
    })
}

impl ResponseStore for PgStore {
    fn record_in_transaction(&self, record: ResponseRecord, in_transaction: Option<InTransaction>) -> Pending<()> {
        let submitted = self.submit(WriteOp::Response(record, in_transaction));
        Box::pin(async move { submitted.await.map(|_| ()) })
    }

    fn responses(&self, quiz_title: &str) -> Pending<Vec<ResponseRecord>> {
        self.rows_for(RESPONSE_COLUMNS_BY_QUIZ, quiz_title, |place, rows| {
            rows.iter().map(|row| response_from_row(place, row)).collect()
        })
    }

    fn responses_per_email(&self, quiz_title: &str) -> Pending<BTreeMap<String, u64>> {
        let sql = "SELECT email, count(*) FROM responses WHERE quiz_title = $1 GROUP BY email";
        self.rows_for(sql, quiz_title, |_, rows| {
            Ok(rows.iter().map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1) as u64)).collect())
        })
    }

    fn start_session(&self, session: NewSession) -> Pending<u64> {
        self.submit(WriteOp::StartSession(session))
    }

    fn end_session(&self, id: u64, ending: SessionEnding, at_ms: u64, reason: Option<String>) -> Pending<bool> {
        let submitted = self.submit(WriteOp::EndSession { id, ending, at_ms, reason });
        Box::pin(async move { submitted.await.map(|changed| changed > 0) })
    }

    fn set_session_deadline(&self, id: u64, due_at_ms: Option<u64>, closes_at_ms: Option<u64>) -> Pending<bool> {
        let submitted = self.submit(WriteOp::SessionDeadline { id, due_at_ms, closes_at_ms });
        Box::pin(async move { submitted.await.map(|changed| changed > 0) })
    }

    fn session(&self, id: u64) -> Pending<Option<SessionRecord>> {
        self.read(move |reader, place| {
            Box::pin(async move {
                let rows = reader.query(SESSION_BY_ID, &[&(id as i64)]).await.map_err(|e| unavailable(&place, &e))?;
                rows.first().map(|row| session_from_row(&place, row)).transpose()
            })
        })
    }

    fn setting_or_init(&self, name: &str, value: String) -> Pending<String> {
        let submitted = self.submit(WriteOp::SettingIfAbsent { name: name.to_string(), value });
        let read = self.rows_for("SELECT value FROM settings WHERE name = $1", name, |place, rows| {
            rows.first().map(|row| row.get::<_, String>(0)).ok_or_else(|| {
                StoreError::other(StoreErrorKind::Corrupt, &place.shown, "a setting vanished right after it was stored")
            })
        });
        Box::pin(async move {
            submitted.await?;
            read.await
        })
    }

    fn set_roster(&self, quiz_title: &str, learners: Vec<(String, String)>) -> Pending<()> {
        let submitted = self.submit(WriteOp::Roster { quiz_title: quiz_title.to_string(), learners });
        Box::pin(async move { submitted.await.map(|_| ()) })
    }

    fn roster(&self, quiz_title: &str) -> Pending<Vec<(String, String)>> {
        let sql = "SELECT email, token_hash FROM roster WHERE quiz_title = $1 ORDER BY email COLLATE \"C\"";
        self.rows_for(sql, quiz_title, |_, rows| Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect()))
    }

    fn joined(&self, token_hash: &str) -> Pending<Option<(String, String)>> {
        let sql = "SELECT quiz_title, email FROM roster WHERE token_hash = $1";
        self.rows_for(sql, token_hash, |_, rows| Ok(rows.first().map(|row| (row.get(0), row.get(1)))))
    }

    fn latest_attempt(&self, quiz_title: &str, email: &str) -> Pending<Option<StoredSession>> {
        let (title, email) = (quiz_title.to_string(), email.to_string());
        self.read(move |reader, place| {
            let (title, email) = (title.clone(), email.clone());
            Box::pin(async move {
                let failed = |e: tokio_postgres::Error| unavailable(&place, &e);
                let rows = reader.query(LATEST_SESSION, &[&title, &email]).await.map_err(failed)?;
                let Some(row) = rows.first() else { return Ok(None) };
                let session = session_from_row(&place, row)?;
                if !session.is_open() {
                    return Ok(Some(StoredSession { session, responses: Vec::new() }));
                }
                let rows = reader.query(RESPONSE_COLUMNS_BY_SESSION, &[&(session.id as i64)]).await.map_err(failed)?;
                let responses = rows.iter().map(|row| response_from_row(&place, row)).collect::<Result<_, _>>()?;
                Ok(Some(StoredSession { session, responses }))
            })
        })
    }

    fn timed_open_sessions(&self) -> Pending<Vec<SessionRecord>> {
        self.read(move |reader, place| {
            Box::pin(async move {
                let rows = reader.query(TIMED_OPEN_SESSIONS, &[]).await.map_err(|e| unavailable(&place, &e))?;
                rows.iter().map(|row| session_from_row(&place, row)).collect()
            })
        })
    }

    fn sessions(&self, quiz_title: &str) -> Pending<Vec<SessionRecord>> {
        self.rows_for(SESSIONS_OF_QUIZ, quiz_title, |place, rows| {
            rows.iter().map(|row| session_from_row(place, row)).collect()
        })
    }

    fn quizzes(&self) -> Pending<Vec<QuizSummary>> {
        self.read(move |reader, place| {
            Box::pin(async move {
                let rows = reader
                    .query(
                        "SELECT title, count(DISTINCT email), sum(sessions)::BIGINT, sum(responses)::BIGINT, max(last)
                         FROM (
                            SELECT quiz_title AS title, email, 1 AS sessions, 0 AS responses,
                                   greatest(started_at_ms, coalesce(ended_at_ms, 0)) AS last FROM sessions
                            UNION ALL
                            SELECT quiz_title, email, 0, count(*), max(answered_at_ms)
                            FROM responses GROUP BY quiz_title, email
                         ) AS activity GROUP BY title ORDER BY title COLLATE \"C\"",
                        &[],
                    )
                    .await
                    .map_err(|e| unavailable(&place, &e))?;
                Ok(rows
                    .iter()
                    .map(|row| QuizSummary {
                        title: row.get(0),
                        learners: row.get::<_, i64>(1) as u64,
                        sessions: row.get::<_, i64>(2) as u64,
                        responses: row.get::<_, i64>(3) as u64,
                        last_activity_ms: row.get::<_, Option<i64>>(4).unwrap_or(0) as u64,
                    })
                    .collect())
            })
        })
    }

    fn record_regrade(&self, regrade: RegradeRecord) -> Pending<u64> {
        self.submit(WriteOp::Regrade(regrade))
    }

    fn announce(&self, message: String) -> Pending<()> {
        self.read(move |reader, place| {
            let message = message.clone();
            Box::pin(
                async move { reader.query(NOTIFY, &[&message]).await.map(|_| ()).map_err(|e| unavailable(&place, &e)) },
            )
        })
    }

    fn announcements(&self) -> Option<broadcast::Receiver<String>> {
        let mut announced = self.announced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if announced.is_none() {
            let (heard, _) = broadcast::channel(1024);
            let (stop, stopped) = oneshot::channel();
            tokio::spawn(PgStore::listen(Arc::clone(&self.place), heard.clone(), stopped));
            *announced = Some((heard, stop));
        }
        announced.as_ref().map(|(heard, _)| heard.subscribe())
    }

    fn offer_quiz(&self, quiz: OfferedQuiz) -> Pending<()> {
        let submitted = self.submit(WriteOp::Offer(quiz));
        Box::pin(async move { submitted.await.map(|_| ()) })
    }

    fn schedule_offered(&self, title: &str, opens_at_ms: u64, closes_at_ms: u64) -> Pending<()> {
        let submitted = self.submit(WriteOp::Schedule { title: title.to_string(), opens_at_ms, closes_at_ms });
        Box::pin(async move { submitted.await.map(|_| ()) })
    }

    fn set_offered_exam(&self, title: &str, exam: Option<String>) -> Pending<()> {
        if let Err(refused) = self.refuse_nul("exam settings", [title].into_iter().chain(exam.as_deref())) {
            return Box::pin(std::future::ready(Err(refused)));
        }
        let submitted = self.submit(WriteOp::OfferedExam { title: title.to_string(), exam });
        Box::pin(async move { submitted.await.map(|_| ()) })
    }

    fn set_learner_override(&self, quiz_title: &str, email: &str, settings: Option<String>) -> Pending<()> {
        let texts = [quiz_title, email].into_iter().chain(settings.as_deref());
        if let Err(refused) = self.refuse_nul("a learner's exam settings", texts) {
            return Box::pin(std::future::ready(Err(refused)));
        }
        let (quiz_title, email) = (quiz_title.to_string(), email.to_string());
        let submitted = self.submit(WriteOp::LearnerOverride { quiz_title, email, settings });
        Box::pin(async move { submitted.await.map(|_| ()) })
    }

    fn learner_overrides(&self, quiz_title: &str) -> Pending<Vec<(String, String)>> {
        let sql = "SELECT email, settings FROM exam_overrides WHERE quiz_title = $1 ORDER BY email COLLATE \"C\"";
        self.rows_for(sql, quiz_title, |_, rows| Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect()))
    }

    fn offered_quizzes(&self) -> Pending<Vec<OfferedQuiz>> {
        self.read(move |reader, place| {
            Box::pin(async move {
                let rows = reader
                    .query(
                        "SELECT title, version, source, saved_at_ms, opens_at_ms, closes_at_ms, exam
                         FROM offered_quizzes ORDER BY title COLLATE \"C\"",
                        &[],
                    )
                    .await
                    .map_err(|e| unavailable(&place, &e))?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        let window: (Option<i64>, Option<i64>) = (row.get(4), row.get(5));
                        OfferedQuiz {
                            title: row.get(0),
                            version: row.get(1),
                            source: row.get(2),
                            saved_at_ms: row.get::<_, i64>(3) as u64,
                            window: window.0.zip(window.1).map(|(opens, closes)| (opens as u64, closes as u64)),
                            exam: row.get(6),
                        }
                    })
                    .collect())
            })
        })
    }

    fn regraded(&self, quiz_title: &str) -> Pending<Regraded> {
        let sql = "SELECT session_id, position, verdict, reason FROM regraded_verdicts WHERE regrade_id =
            (SELECT max(id) FROM regrades WHERE quiz_title = $1)";
        self.rows_for(sql, quiz_title, |place, rows| {
            let mut regraded = Regraded::new();
            for row in rows {
                let (session, position): (i64, i64) = (row.get(0), row.get(1));
                let kind: String = row.get(2);
                let verdict = Verdict::from_kind(&kind, row.get::<_, Option<String>>(3).unwrap_or_default())
                    .ok_or_else(|| {
                        StoreError::bad_row(&place.shown, session, format_args!("unknown verdict {kind:?}"))
                    })?;
                let at = mastery_persistence::Place { session: session as u64, position: position as u64 };
                regraded.insert(at, verdict);
            }
            Ok(regraded)
        })
    }
}
