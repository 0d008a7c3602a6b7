//! The schema and its migrations, applied under an advisory lock so that servers starting
//! together take turns.

use mastery_persistence::StoreError;
use tokio_postgres::Client;

use crate::{Place, unavailable};

/// The schema, one migration per version: version N is reached by running the first N entries.
/// Never edit a released entry; add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: sessions, responses at their places, regrades, settings and rosters — the SQLite
    // store's schema 4 in PostgreSQL's words.
    "CREATE TABLE sessions (
        id BIGSERIAL PRIMARY KEY,
        quiz_title TEXT NOT NULL,
        quiz_version TEXT,
        email TEXT NOT NULL,
        seed BIGINT,
        started_at_ms BIGINT NOT NULL,
        ended_at_ms BIGINT,
        ending TEXT,
        ending_reason TEXT
     );
     CREATE INDEX sessions_by_learner ON sessions (quiz_title, email, id);
     CREATE TABLE responses (
        id BIGSERIAL PRIMARY KEY,
        quiz_title TEXT NOT NULL,
        template TEXT NOT NULL,
        asked TEXT NOT NULL,
        substitutions TEXT NOT NULL,
        email TEXT NOT NULL,
        answer TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'invalid')),
        reason TEXT,
        answered_at_ms BIGINT NOT NULL,
        mastery INTEGER NOT NULL CHECK (mastery >= 1),
        session_id BIGINT REFERENCES sessions (id),
        position BIGINT,
        UNIQUE (session_id, position)
     );
     CREATE INDEX responses_by_quiz ON responses (quiz_title, id);
     CREATE TABLE regrades (
        id BIGSERIAL PRIMARY KEY,
        quiz_title TEXT NOT NULL,
        quiz_version TEXT NOT NULL,
        regraded_at_ms BIGINT NOT NULL
     );
     CREATE INDEX regrades_by_quiz ON regrades (quiz_title, id);
     CREATE TABLE regraded_verdicts (
        regrade_id BIGINT NOT NULL REFERENCES regrades (id),
        session_id BIGINT NOT NULL,
        position BIGINT NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT,
        PRIMARY KEY (regrade_id, session_id, position)
     );
     CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE roster (
        quiz_title TEXT NOT NULL,
        email TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        PRIMARY KEY (quiz_title, email)
     );",
    // 2: the quizzes servers offer, with their windows, so every server offers the same.
    "CREATE TABLE offered_quizzes (
        title TEXT PRIMARY KEY,
        version TEXT,
        source TEXT,
        saved_at_ms BIGINT NOT NULL,
        opens_at_ms BIGINT,
        closes_at_ms BIGINT
     );",
    // 3: exams — the SQLite store's schema 6. A session's own deadline: `due_at_ms`, after which
    // answers count as overdue, and `closes_at_ms`, after which they are refused in place of the
    // quiz's window (a learner given more time answers after the quiz closed for the others). They
    // are columns of the session because the response insert already locks the session's row:
    // reading its close there, under that lock, means a deadline changed meanwhile is either seen
    // or waited for. The quiz's exam settings and each learner's overrides are the server's JSON,
    // kept as text the store never reads, so that every server runs the same exam.
    "ALTER TABLE sessions ADD COLUMN due_at_ms BIGINT, ADD COLUMN closes_at_ms BIGINT;
     ALTER TABLE offered_quizzes ADD COLUMN exam TEXT;
     CREATE TABLE exam_overrides (
        quiz_title TEXT NOT NULL,
        email TEXT NOT NULL,
        settings TEXT NOT NULL,
        PRIMARY KEY (quiz_title, email)
     );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Any number will do, as long as no other program on the database uses it for its own lock.
const MIGRATION_LOCK: i64 = 0x6d61_7374_6572_7901;

/// Brings the schema up to date in one transaction, after taking the migration lock: a second
/// server starting at the same moment waits, then finds the schema current. A schema newer than
/// this build is refused, untouched.
pub(crate) async fn migrate(client: &mut Client, place: &Place) -> Result<(), StoreError> {
    let failed = |error: tokio_postgres::Error| unavailable(place, &error);
    let transaction = client.transaction().await.map_err(failed)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(failed)?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS mastery_schema (version BIGINT NOT NULL)")
        .await
        .map_err(failed)?;
    let found: Option<i64> =
        transaction.query_opt("SELECT version FROM mastery_schema", &[]).await.map_err(failed)?.map(|row| row.get(0));
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::newer_schema(&place.shown, found, SCHEMA_VERSION));
    }
    for migration in &MIGRATIONS[found as usize..] {
        transaction.batch_execute(migration).await.map_err(failed)?;
    }
    if found == 0 {
        transaction.execute("INSERT INTO mastery_schema (version) VALUES ($1)", &[&SCHEMA_VERSION]).await
    } else {
        transaction.execute("UPDATE mastery_schema SET version = $1", &[&SCHEMA_VERSION]).await
    }
    .map_err(failed)?;
    transaction.commit().await.map_err(failed)
}
