//! What the file holds: the schema, its migrations, and the format of the substitutions column.

use std::path::Path;

use rusqlite::Connection;

use crate::StoreError;
use crate::record::SubstitutionValue;

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
    // 3: sessions, each response's place in its session, and regrades.
    //
    // Rows written before sessions were kept become one session per (quiz, email), of unknown
    // version and seed (so never resumed), ended as stopped at its last answer.
    //
    // The unique (session_id, position) index is both the rule that one session has one history
    // and the way a session's history is read for resume. Its keys are nearly append-ordered:
    // session ids grow as sessions start, so the inserts of a group commit land in the few
    // right-most pages that hold the sessions running now, unlike a (quiz_title, email) key.
    "CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        quiz_title TEXT NOT NULL,
        quiz_version TEXT,
        email TEXT NOT NULL,
        seed INTEGER,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER,
        ending TEXT CHECK (ending IN ('finished', 'time_up', 'stopped', 'abandoned')),
        ending_reason TEXT
     );
     CREATE INDEX sessions_by_learner ON sessions (quiz_title, email, id);
     INSERT INTO sessions (quiz_title, quiz_version, email, seed, started_at_ms, ended_at_ms, ending, ending_reason)
        SELECT quiz_title, NULL, email, NULL, min(answered_at_ms), max(answered_at_ms), 'stopped',
               'stored before sessions were kept'
        FROM responses GROUP BY quiz_title, email ORDER BY min(id);
     ALTER TABLE responses ADD COLUMN session_id INTEGER;
     ALTER TABLE responses ADD COLUMN position INTEGER;
     UPDATE responses SET session_id = placed.session_id, position = placed.position FROM (
        SELECT r.id AS response_id, s.id AS session_id,
               row_number() OVER (PARTITION BY r.quiz_title, r.email ORDER BY r.id) - 1 AS position
        FROM responses r JOIN sessions s ON s.quiz_title = r.quiz_title AND s.email = r.email
     ) AS placed WHERE responses.id = placed.response_id;
     CREATE UNIQUE INDEX responses_by_session ON responses (session_id, position);
     CREATE TABLE regrades (
        id INTEGER PRIMARY KEY,
        quiz_title TEXT NOT NULL,
        quiz_version TEXT NOT NULL,
        regraded_at_ms INTEGER NOT NULL
     );
     CREATE INDEX regrades_by_quiz ON regrades (quiz_title, id);
     CREATE TABLE regraded_verdicts (
        regrade_id INTEGER NOT NULL REFERENCES regrades (id),
        session_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'incorrect', 'invalid')),
        reason TEXT,
        PRIMARY KEY (regrade_id, session_id, position)
     ) WITHOUT ROWID;",
    // 4: what servers share: named settings (secrets made once), and each quiz's roster of
    // learners with the hash of their private join token (never the token itself).
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE roster (
        quiz_title TEXT NOT NULL,
        email TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        PRIMARY KEY (quiz_title, email)
     ) WITHOUT ROWID;",
    // 5: the quizzes servers offer — a teacher's file as given, and each quiz's window — so that
    // every server on the file, and one restarted, offers the same.
    "CREATE TABLE offered_quizzes (
        title TEXT PRIMARY KEY,
        version TEXT,
        source TEXT,
        saved_at_ms INTEGER NOT NULL,
        opens_at_ms INTEGER,
        closes_at_ms INTEGER
     ) WITHOUT ROWID;",
    // 6: exams. A session may have a deadline of its own: `due_at_ms`, when the learner's time is
    // up (later answers are still taken, and reports count them as overdue), and `closes_at_ms`,
    // after which its answers are refused. The session's own close replaces its quiz's window, so
    // a learner given more time, or a grace period, answers after the quiz closed for the others;
    // it is a column of the session because the insert already looks the session up by its key.
    // The quiz's exam settings and each learner's overrides are the server's JSON, kept as text
    // the store never reads, so that every server on the file runs the same exam. Rows written
    // before have no deadline and no exam: they behave as before.
    "ALTER TABLE sessions ADD COLUMN due_at_ms INTEGER;
     ALTER TABLE sessions ADD COLUMN closes_at_ms INTEGER;
     ALTER TABLE offered_quizzes ADD COLUMN exam TEXT;
     CREATE TABLE exam_overrides (
        quiz_title TEXT NOT NULL,
        email TEXT NOT NULL,
        settings TEXT NOT NULL,
        PRIMARY KEY (quiz_title, email)
     ) WITHOUT ROWID;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction; refuses a newer file.
pub(super) fn migrate(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let sqlite = |e| StoreError::from_sqlite(path, e);
    connection.execute_batch("BEGIN IMMEDIATE").map_err(sqlite)?;
    let result = (|| {
        let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sqlite)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::newer_schema(path, found, SCHEMA_VERSION));
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

/// The substitutions column: a JSON object from each name to an integer or a string. Rows already
/// written keep this format: a change to it must still read them, or migrate them.
pub fn substitutions_to_json(substitutions: &[(String, SubstitutionValue)]) -> String {
    // Written once per stored response, on the writer's thread: straight into one string rather
    // than through a JSON map. Names in order and each once (the last value wins), as a JSON
    // object map gives them.
    let mut sorted: Vec<&(String, SubstitutionValue)> = substitutions.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut json = String::with_capacity(2 + substitutions.len() * 16);
    json.push('{');
    for (index, (name, value)) in sorted.iter().enumerate() {
        if sorted.get(index + 1).is_some_and(|next| next.0 == *name) {
            continue;
        }
        if json.len() > 1 {
            json.push(',');
        }
        push_json_string(&mut json, name);
        json.push(':');
        match value {
            SubstitutionValue::Integer(n) => json.push_str(&n.to_string()),
            SubstitutionValue::Text(text) => push_json_string(&mut json, text),
        }
    }
    json.push('}');
    json
}

/// `text` as a JSON string, quoted and escaped.
fn push_json_string(json: &mut String, text: &str) {
    json.push('"');
    for c in text.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            '\n' => json.push_str("\\n"),
            '\r' => json.push_str("\\r"),
            '\t' => json.push_str("\\t"),
            c if (c as u32) < 0x20 => json.push_str(&format!("\\u{:04x}", c as u32)),
            c => json.push(c),
        }
    }
    json.push('"');
}

/// Reads the substitutions column back; the error says what in it was not as written.
pub fn substitutions_from_json(text: &str) -> Result<Vec<(String, SubstitutionValue)>, String> {
    // Reading a million rows (a regrade, say) parses this column a million times: the shape this
    // store writes — flat, names and texts without escapes — is read directly, anything else by
    // the JSON parser.
    if let Some(flat) = flat_object(text) {
        return Ok(flat);
    }
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

/// `{"name":123,"other":"text"}` with no escapes and no spaces, read without a JSON parser;
/// `None` for anything else.
fn flat_object(text: &str) -> Option<Vec<(String, SubstitutionValue)>> {
    let mut rest = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (name, after) = rest.strip_prefix('"')?.split_once("\":")?;
        if name.contains('\\') {
            return None;
        }
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let (text, after) = quoted.split_once('"')?;
                if text.contains('\\') {
                    return None;
                }
                (SubstitutionValue::Text(text.to_string()), after)
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (SubstitutionValue::Integer(after[..end].parse().ok()?), &after[end..])
            }
        };
        entries.push((name.to_string(), value));
        rest = match after.strip_prefix(',') {
            Some(next) if !next.is_empty() => next,
            Some(_) => return None,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_substitutions_column_reads_back_as_written_by_either_path() {
        let cases = [
            vec![],
            vec![
                ("left".to_string(), SubstitutionValue::Integer(-7)),
                ("word".into(), SubstitutionValue::Text("chat".into())),
            ],
            vec![("quote".to_string(), SubstitutionValue::Text("say \"hi\", \\ then: {x}".into()))],
            vec![("n".to_string(), SubstitutionValue::Integer(i64::MIN))],
        ];
        for written in cases {
            let json = substitutions_to_json(&written);
            let mut read = substitutions_from_json(&json).unwrap();
            let mut expected = written.clone();
            read.sort_by(|a, b| a.0.cmp(&b.0));
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(read, expected, "{json}");
        }
        assert!(flat_object("{\"a\":1,}").is_none());
        // What the JSON parser reads from the column is what a JSON map of the values says.
        let awkward = vec![
            ("z".to_string(), SubstitutionValue::Text("tab\t, bell\u{7}, é, \u{1F600}, </script>".into())),
            ("a".to_string(), SubstitutionValue::Integer(1)),
            ("z".to_string(), SubstitutionValue::Text("the last one counts".into())),
            ("line\nbreak".to_string(), SubstitutionValue::Integer(i64::MAX)),
        ];
        let parsed: serde_json::Value = serde_json::from_str(&substitutions_to_json(&awkward)).unwrap();
        let expected = serde_json::json!({ "a": 1, "line\nbreak": i64::MAX, "z": "the last one counts" });
        assert_eq!(parsed, expected);
        assert_eq!(
            substitutions_to_json(&awkward[..2]),
            "{\"a\":1,\"z\":\"tab\\t, bell\\u0007, é, \u{1F600}, </script>\"}"
        );
        assert!(flat_object("{\"a\":1.5}").is_none());
        assert!(substitutions_from_json("{\"a\":1.5}").is_err(), "a fraction is no stored integer");
        assert!(substitutions_from_json("[1]").is_err());
    }
}
