//! The boundary's persistence port, backed by a `mastery-persistence` store.
//!
//! This is the book's "pass the persistence function into the boundary", done once for every
//! front end: the boundary and the store never meet except here.

use std::sync::Arc;

use mastery_boundary::{
    EndedAttempt, LatestSession, OpenSession, Place, PortFuture, RecordError, RecordErrorKind, RecordFuture,
    ResponsePort, SessionStart, StoredTurn, Withdrawal,
};
use mastery_core::{Deadline, Response, SessionEnding, Timestamp};
use mastery_persistence::{NewSession, ResponseRecord, ResponseStore, SessionRecord, StoreError, StoreErrorKind};

/// A [`ResponsePort`] that records into any [`ResponseStore`].
///
/// A withdrawal is handed on to the store, so an answer a session reports as refused is never
/// found stored later.
#[derive(Clone)]
pub struct StorePort(pub Arc<dyn ResponseStore>);

impl ResponsePort for StorePort {
    fn record(&self, place: Place, response: &Response) -> RecordFuture {
        recorded(self.0.record(record_at(place, response)))
    }

    fn record_withdrawable(&self, place: Place, response: &Response, withdrawal: Withdrawal) -> RecordFuture {
        recorded(self.0.record_withdrawable(record_at(place, response), withdrawal))
    }

    fn open_session(&self, title: &str, email: &str) -> PortFuture<Option<OpenSession>> {
        let stored = self.0.open_session(title, email);
        recorded(async move { Ok(stored.await?.map(|stored| open_session_of(stored.session, stored.responses))) })
    }

    fn start_session(&self, start: SessionStart<'_>) -> PortFuture<u64> {
        recorded(self.0.start_session(NewSession {
            quiz_title: start.title.to_string(),
            quiz_version: start.version.to_string(),
            email: start.email.to_string(),
            seed: start.seed,
            started_at_ms: start.at.as_millis(),
            due_at_ms: start.deadline.map(|deadline| deadline.due_at.as_millis()),
            closes_at_ms: start.deadline.map(|deadline| deadline.closes_at.as_millis()),
        }))
    }

    fn latest_session(&self, title: &str, email: &str) -> PortFuture<Option<LatestSession>> {
        let latest = self.0.latest_attempt(title, email);
        recorded(async move {
            let Some(stored) = latest.await? else { return Ok(None) };
            let session = stored.session;
            if let Some(ending) = session.ending {
                let timed = session.due_at_ms.is_some();
                return Ok(Some(LatestSession::Ended(EndedAttempt { id: session.id, ending, timed })));
            }
            Ok(Some(LatestSession::Open(open_session_of(session, stored.responses))))
        })
    }

    fn set_deadline(&self, id: u64, deadline: Option<Deadline>) -> PortFuture<bool> {
        let due_at = deadline.map(|deadline| deadline.due_at.as_millis());
        let closes_at = deadline.map(|deadline| deadline.closes_at.as_millis());
        recorded(self.0.set_session_deadline(id, due_at, closes_at))
    }

    fn end_session(&self, id: u64, ending: SessionEnding, at: Timestamp, reason: Option<String>) -> PortFuture<()> {
        let ended = self.0.end_session(id, ending, at.as_millis(), reason);
        recorded(async move { ended.await.map(drop) })
    }
}

/// An open session as the boundary resumes it.
fn open_session_of(session: SessionRecord, responses: Vec<ResponseRecord>) -> OpenSession {
    let answers = responses
        .into_iter()
        .map(|record| StoredTurn {
            verdict: record.verdict.kind().to_string(),
            template: record.template,
            asked: record.asked,
            answer: record.answer,
            at: Timestamp::from_millis(record.answered_at_ms),
        })
        .collect();
    let deadline = deadline_of(&session);
    OpenSession {
        id: session.id,
        version: session.quiz_version,
        seed: session.seed,
        answers,
        started_at: Timestamp::from_millis(session.started_at_ms),
        deadline,
    }
}

/// A stored session's own deadline; both instants are stored together.
fn deadline_of(session: &SessionRecord) -> Option<Deadline> {
    let (due_at, closes_at) = (session.due_at_ms?, session.closes_at_ms?);
    Some(Deadline { due_at: Timestamp::from_millis(due_at), closes_at: Timestamp::from_millis(closes_at) })
}

fn record_at(place: Place, response: &Response) -> ResponseRecord {
    ResponseRecord::at(response, mastery_persistence::Place { session: place.session, position: place.position })
}

fn recorded<T>(pending: impl Future<Output = Result<T, StoreError>> + Send + 'static) -> PortFuture<T> {
    Box::pin(async move { pending.await.map_err(|error| record_error(&error)) })
}

/// The store's failure in the boundary's terms: what the caller can do about it, and what happened.
fn record_error(error: &StoreError) -> RecordError {
    let kind = match error.kind {
        StoreErrorKind::Unavailable => RecordErrorKind::Unavailable,
        StoreErrorKind::Conflict => RecordErrorKind::Conflict,
        StoreErrorKind::Closed => RecordErrorKind::Closed,
        // A damaged file or a schema this build does not write will not mend itself on a retry.
        StoreErrorKind::Corrupt
        | StoreErrorKind::NewerSchema
        | StoreErrorKind::OlderSchema
        | StoreErrorKind::Refused => RecordErrorKind::Refused,
    };
    RecordError { kind, reason: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_failure_keeps_its_message_and_tells_whether_to_retry() {
        let locked = record_error(&StoreError::locked("/data/mastery.db"));
        assert_eq!(locked.kind, RecordErrorKind::Unavailable);
        assert_eq!(locked.reason, StoreError::locked("/data/mastery.db").to_string());
        assert_eq!(record_error(&StoreError::rejected("no")).kind, RecordErrorKind::Refused);
        assert_eq!(record_error(&StoreError::corrupt("/data/mastery.db")).kind, RecordErrorKind::Refused);
    }
}
