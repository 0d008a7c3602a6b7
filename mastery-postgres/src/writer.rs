//! The writer: one connection that commits every write waiting at that moment in one transaction
//! (group commit), with each run of responses in it inserted by one statement.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use mastery_core::{SessionEnding, Verdict};
use mastery_persistence::{
    InTransaction, NewSession, OfferedQuiz, RegradeRecord, ResponseRecord, StoreError, StoreErrorKind,
    substitutions_to_json,
};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, Statement, Transaction};

use crate::{Place, unavailable};

/// What the writer is asked to write.
pub(crate) enum WriteOp {
    Response(ResponseRecord, Option<InTransaction>),
    StartSession(NewSession),
    EndSession { id: u64, ending: SessionEnding, at_ms: u64, reason: Option<String> },
    Regrade(RegradeRecord),
    SettingIfAbsent { name: String, value: String },
    Roster { quiz_title: String, learners: Vec<(String, String)> },
    Offer(OfferedQuiz),
    Schedule { title: String, opens_at_ms: u64, closes_at_ms: u64 },
    SessionDeadline { id: u64, due_at_ms: Option<u64>, closes_at_ms: Option<u64> },
    OfferedExam { title: String, exam: Option<String> },
    LearnerOverride { quiz_title: String, email: String, settings: Option<String> },
}

/// One write with the means to answer its caller once the commit's outcome is known.
pub(crate) struct WriteRequest {
    pub(crate) op: WriteOp,
    pub(crate) acknowledge: oneshot::Sender<Result<u64, StoreError>>,
}

/// Every response of a run, inserted at once. A response goes in only into a session still open
/// (the session row is share-locked, so a concurrent ending waits for this insert or wins over
/// it, never both), before it closed, and only at a place still free: the rows that went in come
/// back, and any other is then looked at alone (a retry of the very answer, or another process
/// answering in the session). A session with a deadline of its own closes at it; any other
/// response when its quiz's stored window closes. Both are judged inside the locked session row's
/// condition, so a deadline a teacher changes meanwhile is judged as the ending is: the insert
/// waits for the change and reads the new row.
const INSERT_RESPONSES: &str = "INSERT INTO responses (quiz_title, template, asked, substitutions, email, answer,
        verdict, reason, answered_at_ms, mastery, session_id, position)
    SELECT r.quiz_title, r.template, r.asked, r.substitutions, r.email, r.answer, r.verdict, r.reason,
        r.answered_at_ms, r.mastery, r.session_id, r.position
    FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[],
        $9::BIGINT[], $10::INTEGER[], $11::BIGINT[], $12::BIGINT[], $13::INTEGER[])
        AS r(quiz_title, template, asked, substitutions, email, answer, verdict, reason, answered_at_ms, mastery,
             session_id, position, arrival)
    WHERE (r.session_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM offered_quizzes o
                           WHERE o.title = r.quiz_title AND o.closes_at_ms <= r.answered_at_ms))
       OR EXISTS (SELECT 1 FROM sessions s
                  WHERE s.id = r.session_id AND s.ending IS NULL
                    AND (r.answered_at_ms < s.closes_at_ms
                         OR (s.closes_at_ms IS NULL
                             AND NOT EXISTS (SELECT 1 FROM offered_quizzes o
                                             WHERE o.title = r.quiz_title AND o.closes_at_ms <= r.answered_at_ms)))
                  FOR SHARE)
    ORDER BY r.arrival
    ON CONFLICT (session_id, position) DO NOTHING
    RETURNING session_id, position";

/// The writer's loop: runs until every sender is gone. A lost connection fails the batch it was
/// writing and is made again for the next one.
pub(crate) async fn run(
    place: Arc<Place>,
    client: Client,
    mut requests: mpsc::Receiver<WriteRequest>,
    max_batch: usize,
) {
    let mut client = prepared(client).await;
    let mut batch = Vec::with_capacity(256);
    while let Some(first) = requests.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match requests.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        if client.as_ref().is_none_or(|(client, _)| client.is_closed()) {
            client = match place.connect().await {
                Ok(connected) => prepared(connected).await,
                Err(_) => None,
            };
        }
        let outcomes = match client.as_mut() {
            Some((client, insert)) => commit_batch(client, insert, &place, &mut batch).await,
            None => vec![Err(down(&place)); batch.len()],
        };
        for (request, outcome) in batch.drain(..).zip(outcomes) {
            // A caller that stopped waiting is no reason to stop the writer.
            let _ = request.acknowledge.send(outcome);
        }
    }
}

/// The connection with its response insert prepared once; `None` when it is already lost.
async fn prepared(client: Client) -> Option<(Client, Statement)> {
    let insert = client.prepare(INSERT_RESPONSES).await.ok()?;
    Some((client, insert))
}

fn down(place: &Place) -> StoreError {
    StoreError::other(StoreErrorKind::Unavailable, &place.shown, "the database cannot be reached")
}

/// How one write of the batch went.
type Outcome = Result<u64, StoreError>;

/// Writes the batch in one transaction and gives each request its outcome: the batch's commit
/// decides every write that was not declined on its own.
async fn commit_batch(
    client: &mut Client,
    insert: &Statement,
    place: &Place,
    batch: &mut [WriteRequest],
) -> Vec<Outcome> {
    let failed = |error: tokio_postgres::Error| unavailable(place, &error);
    let mut transaction = match client.transaction().await {
        Ok(transaction) => transaction,
        Err(error) => return vec![Err(failed(error)); batch.len()],
    };
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(batch.len());
    let mut index = 0;
    while index < batch.len() {
        // A run of plain responses goes in with one statement; anything else, on its own.
        let run = batch[index..].iter().take_while(|request| matches!(&request.op, WriteOp::Response(_, None))).count();
        let written = if run > 0 {
            let records: Vec<&ResponseRecord> = batch[index..index + run]
                .iter()
                .map(|request| match &request.op {
                    WriteOp::Response(record, _) => record,
                    _ => unreachable!("the run holds responses only"),
                })
                .collect();
            insert_responses(&transaction, insert, place, &records).await
        } else {
            write_one(&mut transaction, insert, place, &mut batch[index].op).await.map(|outcome| vec![outcome])
        };
        match written {
            Ok(written) => outcomes.extend(written),
            // The transaction cannot go on: every write in it fails.
            Err(error) => return vec![Err(error); batch.len()],
        }
        index += run.max(1);
    }
    match transaction.commit().await {
        Ok(()) => outcomes,
        // Committed or not, nobody can tell: the caller tries again, and the unique key makes a
        // second copy of a stored answer count once.
        Err(error) => vec![Err(failed(error)); batch.len()],
    }
}

/// Inserts a run of responses; each gets its own outcome (stored, or declined alone). `Err`
/// when the statement failed, which takes the transaction down.
async fn insert_responses(
    transaction: &Transaction<'_>,
    insert: &Statement,
    place: &Place,
    all: &[&ResponseRecord],
) -> Result<Vec<Outcome>, StoreError> {
    let failed = |error: tokio_postgres::Error| unavailable(place, &error);
    // PostgreSQL's text holds no NUL: a response with one is refused alone, not with its batch.
    let records: Vec<&ResponseRecord> = all.iter().copied().filter(|record| !holds_nul(record)).collect();
    let column = |get: fn(&ResponseRecord) -> &str| records.iter().map(|r| get(r)).collect::<Vec<&str>>();
    let substitutions: Vec<String> = records.iter().map(|r| substitutions_to_json(&r.substitutions)).collect();
    let verdicts: Vec<&str> = records.iter().map(|r| r.verdict.kind()).collect();
    let reasons: Vec<Option<&str>> = records.iter().map(|r| invalid_reason(r)).collect();
    let answered: Vec<i64> = records.iter().map(|r| r.answered_at_ms as i64).collect();
    let mastery: Vec<i32> = records.iter().map(|r| r.mastery as i32).collect();
    let sessions: Vec<Option<i64>> = records.iter().map(|r| r.place.map(|p| p.session as i64)).collect();
    let positions: Vec<Option<i64>> = records.iter().map(|r| r.place.map(|p| p.position as i64)).collect();
    let arrival: Vec<i32> = (0..records.len() as i32).collect();
    let rows = match records.is_empty() {
        true => Vec::new(),
        false => transaction
            .query(
                insert,
                &[
                    &column(|r| &r.quiz_title),
                    &column(|r| &r.template),
                    &column(|r| &r.asked),
                    &substitutions,
                    &column(|r| &r.email),
                    &column(|r| &r.answer),
                    &verdicts,
                    &reasons,
                    &answered,
                    &mastery,
                    &sessions,
                    &positions,
                    &arrival,
                ],
            )
            .await
            .map_err(failed)?,
    };
    let stored: HashSet<(i64, i64)> =
        rows.iter().filter_map(|row| Some((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?))).collect();
    // A place given twice in one run went in once, for the first copy: every copy is then
    // compared with what went in, as a retry or a conflict.
    let mut copies: HashMap<(i64, i64), usize> = HashMap::new();
    for at in records.iter().filter_map(|record| record.place) {
        *copies.entry((at.session as i64, at.position as i64)).or_default() += 1;
    }
    // Responses outside any session come back without a place: all went in unless some were
    // kept out by a closed window, which then says which.
    let placeless = records.iter().filter(|record| record.place.is_none()).count();
    let all_placeless_in = rows.iter().filter(|row| row.get::<_, Option<i64>>(0).is_none()).count() == placeless;
    let mut outcomes = Vec::with_capacity(all.len());
    for record in all {
        if holds_nul(record) {
            let reason = "a response holding a NUL character cannot be stored";
            outcomes.push(Err(StoreError::other(StoreErrorKind::Refused, &place.shown, reason)));
            continue;
        }
        let Some(at) = record.place else {
            outcomes.push(match all_placeless_in {
                true => Ok(0),
                false => match closed(transaction, place, record).await? {
                    Some(closed) => Err(closed),
                    None => Ok(0),
                },
            });
            continue;
        };
        let key = (at.session as i64, at.position as i64);
        if stored.contains(&key) && copies.get(&key) == Some(&1) {
            outcomes.push(Ok(0));
            continue;
        }
        outcomes.push(declined(transaction, place, record, key).await?);
    }
    Ok(outcomes)
}

fn invalid_reason(record: &ResponseRecord) -> Option<&str> {
    match &record.verdict {
        Verdict::Invalid(reason) => Some(reason.as_str()),
        _ => None,
    }
}

/// Whether any text of the response holds a NUL (the substitutions' JSON escapes its own).
fn holds_nul(record: &ResponseRecord) -> bool {
    [&record.quiz_title, &record.template, &record.asked, &record.email, &record.answer]
        .into_iter()
        .map(String::as_str)
        .chain(invalid_reason(record))
        .any(|text| text.contains('\0'))
}

/// Why a response with a place did not go in: the very answer is already there (a retry: it
/// counts once), another answer is (another process answers in the session), it came after the
/// session closed, or the session has ended.
async fn declined(
    transaction: &Transaction<'_>,
    place: &Place,
    record: &ResponseRecord,
    (session, position): (i64, i64),
) -> Result<Outcome, StoreError> {
    let stored = transaction
        .query_opt(
            "SELECT template, asked, answer FROM responses WHERE session_id = $1 AND position = $2",
            &[&session, &position],
        )
        .await
        .map_err(|e| unavailable(place, &e))?;
    Ok(match stored {
        Some(row)
            if row.get::<_, &str>(0) == record.template
                && row.get::<_, &str>(1) == record.asked
                && row.get::<_, &str>(2) == record.answer =>
        {
            Ok(0)
        }
        Some(_) => Err(StoreError::conflict(
            &place.shown,
            format!(
                "session {session} already has an answer at position {}: another process is answering in it",
                position + 1
            ),
        )),
        None => match closed(transaction, place, record).await? {
            Some(closed) => Err(closed),
            None => Err(StoreError::conflict(
                &place.shown,
                format!("session {session} has ended (or was never started); its answers are closed"),
            )),
        },
    })
}

/// Why the response came too late, if it did: its session's own deadline had passed or, for a
/// session without one and a response outside any session, its quiz's stored window had closed.
async fn closed(
    transaction: &Transaction<'_>,
    place: &Place,
    record: &ResponseRecord,
) -> Result<Option<StoreError>, StoreError> {
    let failed = |e: tokio_postgres::Error| unavailable(place, &e);
    let answered = record.answered_at_ms as i64;
    if let Some(at) = record.place {
        let own = transaction
            .query_opt(
                "SELECT closes_at_ms FROM sessions WHERE id = $1 AND closes_at_ms IS NOT NULL",
                &[&(at.session as i64)],
            )
            .await
            .map_err(failed)?;
        if let Some(row) = own {
            let closes: i64 = row.get(0);
            return Ok(
                (closes <= answered).then(|| StoreError::closed_session(&place.shown, at.session, closes as u64))
            );
        }
    }
    let closed = transaction
        .query_opt(
            "SELECT closes_at_ms FROM offered_quizzes WHERE title = $1 AND closes_at_ms <= $2",
            &[&record.quiz_title, &answered],
        )
        .await
        .map_err(failed)?;
    Ok(closed.map(|row| StoreError::closed_quiz(&place.shown, &record.quiz_title, row.get::<_, i64>(0) as u64)))
}

/// Writes anything but a plain response. `Ok(Err(_))` is a write declined alone; `Err` takes the
/// transaction down.
async fn write_one(
    transaction: &mut Transaction<'_>,
    insert: &Statement,
    place: &Place,
    op: &mut WriteOp,
) -> Result<Outcome, StoreError> {
    let failed = |error: tokio_postgres::Error| unavailable(place, &error);
    match op {
        WriteOp::Response(record, in_transaction) => {
            let function = in_transaction.take();
            // A savepoint, so that a function that fails takes back this response alone.
            let savepoint = transaction.savepoint("response").await.map_err(failed)?;
            let inserted = insert_responses(&savepoint, insert, place, &[record]).await?;
            let outcome = inserted.into_iter().next().unwrap_or(Ok(0));
            if outcome.is_err() {
                savepoint.rollback().await.map_err(failed)?;
                return Ok(outcome);
            }
            let ran = match function {
                Some(function) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(function))
                    .unwrap_or_else(|_| Err("the function run in the transaction panicked".into())),
                None => Ok(()),
            };
            match ran {
                Ok(()) => {
                    savepoint.commit().await.map_err(failed)?;
                    Ok(Ok(0))
                }
                Err(reason) => {
                    savepoint.rollback().await.map_err(failed)?;
                    Ok(Err(StoreError::rejected(reason)))
                }
            }
        }
        WriteOp::StartSession(session) => {
            let row = transaction
                .query_one(
                    "INSERT INTO sessions (quiz_title, quiz_version, email, seed, started_at_ms, due_at_ms, closes_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    &[
                        &session.quiz_title,
                        &session.quiz_version,
                        &session.email,
                        &(session.seed as i64),
                        &(session.started_at_ms as i64),
                        &session.due_at_ms.map(|at| at as i64),
                        &session.closes_at_ms.map(|at| at as i64),
                    ],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(row.get::<_, i64>(0) as u64))
        }
        WriteOp::EndSession { id, ending, at_ms, reason } => {
            let changed = transaction
                .execute(
                    "UPDATE sessions SET ending = $2, ended_at_ms = $3, ending_reason = $4
                     WHERE id = $1 AND ending IS NULL",
                    &[&(*id as i64), &ending.as_str(), &(*at_ms as i64), &reason.as_deref()],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(changed))
        }
        WriteOp::Regrade(regrade) => {
            let row = transaction
                .query_one(
                    "INSERT INTO regrades (quiz_title, quiz_version, regraded_at_ms) VALUES ($1, $2, $3) RETURNING id",
                    &[&regrade.quiz_title, &regrade.quiz_version, &(regrade.regraded_at_ms as i64)],
                )
                .await
                .map_err(failed)?;
            let id: i64 = row.get(0);
            let sessions: Vec<i64> = regrade.changed.iter().map(|(at, _)| at.session as i64).collect();
            let positions: Vec<i64> = regrade.changed.iter().map(|(at, _)| at.position as i64).collect();
            let verdicts: Vec<&str> = regrade.changed.iter().map(|(_, verdict)| verdict.kind()).collect();
            let reasons: Vec<Option<&str>> = regrade
                .changed
                .iter()
                .map(|(_, verdict)| match verdict {
                    Verdict::Invalid(reason) => Some(reason.as_str()),
                    _ => None,
                })
                .collect();
            transaction
                .execute(
                    "INSERT INTO regraded_verdicts (regrade_id, session_id, position, verdict, reason)
                     SELECT $1, v.session_id, v.position, v.verdict, v.reason
                     FROM unnest($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[])
                        AS v(session_id, position, verdict, reason)
                     ON CONFLICT DO NOTHING",
                    &[&id, &sessions, &positions, &verdicts, &reasons],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(id as u64))
        }
        WriteOp::SettingIfAbsent { name, value } => {
            transaction
                .execute(
                    "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[&*name, &*value],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(0))
        }
        WriteOp::Offer(quiz) => {
            transaction
                .execute(
                    "INSERT INTO offered_quizzes (title, version, source, saved_at_ms) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (title) DO UPDATE SET version = excluded.version, source = excluded.source,
                        saved_at_ms = excluded.saved_at_ms, opens_at_ms = NULL, closes_at_ms = NULL, exam = NULL",
                    &[&quiz.title, &quiz.version, &quiz.source, &(quiz.saved_at_ms as i64)],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(0))
        }
        WriteOp::Schedule { title, opens_at_ms, closes_at_ms } => {
            transaction
                .execute(
                    "INSERT INTO offered_quizzes (title, saved_at_ms, opens_at_ms, closes_at_ms) VALUES ($1, $2, $2, $3)
                     ON CONFLICT (title) DO UPDATE SET opens_at_ms = excluded.opens_at_ms,
                        closes_at_ms = excluded.closes_at_ms",
                    &[&*title, &(*opens_at_ms as i64), &(*closes_at_ms as i64)],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(0))
        }
        WriteOp::SessionDeadline { id, due_at_ms, closes_at_ms } => {
            let changed = transaction
                .execute(
                    "UPDATE sessions SET due_at_ms = $2, closes_at_ms = $3 WHERE id = $1 AND ending IS NULL",
                    &[&(*id as i64), &due_at_ms.map(|at| at as i64), &closes_at_ms.map(|at| at as i64)],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(changed))
        }
        WriteOp::OfferedExam { title, exam } => {
            // Offered without a quiz given: no source, and saved at 0, as every store does.
            transaction
                .execute(
                    "INSERT INTO offered_quizzes (title, saved_at_ms, exam) VALUES ($1, 0, $2)
                     ON CONFLICT (title) DO UPDATE SET exam = excluded.exam",
                    &[&*title, &exam.as_deref()],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(0))
        }
        WriteOp::LearnerOverride { quiz_title, email, settings } => {
            match settings {
                Some(settings) => {
                    transaction
                        .execute(
                            "INSERT INTO exam_overrides (quiz_title, email, settings) VALUES ($1, $2, $3)
                             ON CONFLICT (quiz_title, email) DO UPDATE SET settings = excluded.settings",
                            &[&*quiz_title, &*email, &*settings],
                        )
                        .await
                }
                None => {
                    transaction
                        .execute(
                            "DELETE FROM exam_overrides WHERE quiz_title = $1 AND email = $2",
                            &[&*quiz_title, &*email],
                        )
                        .await
                }
            }
            .map_err(failed)?;
            Ok(Ok(0))
        }
        WriteOp::Roster { quiz_title, learners } => {
            transaction.execute("DELETE FROM roster WHERE quiz_title = $1", &[&*quiz_title]).await.map_err(failed)?;
            // An email given twice keeps its last token, as every store does.
            let learners: std::collections::BTreeMap<String, String> = std::mem::take(learners).into_iter().collect();
            let emails: Vec<&str> = learners.keys().map(String::as_str).collect();
            let hashes: Vec<&str> = learners.values().map(String::as_str).collect();
            transaction
                .execute(
                    "INSERT INTO roster (quiz_title, email, token_hash)
                     SELECT $1, r.email, r.token_hash FROM unnest($2::TEXT[], $3::TEXT[]) AS r(email, token_hash)",
                    &[&*quiz_title, &emails, &hashes],
                )
                .await
                .map_err(failed)?;
            Ok(Ok(0))
        }
    }
}
