//! The boundary's persistence port, backed by a `mastery-persistence` store.
//!
//! This is the book's "pass the persistence function into the boundary", done once for every
//! front end: the boundary and the store never meet except here.

use std::sync::Arc;

use mastery_boundary::{
    OpenSession, Place, PortFuture, RecordError, RecordErrorKind, RecordFuture, ResponsePort, SessionStart, StoredTurn,
    Withdrawal,
};
use mastery_core::{Response, SessionEnding, Timestamp};
use mastery_persistence::{NewSession, ResponseRecord, ResponseStore, StoreError, StoreErrorKind};

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
        recorded(async move {
            let Some(stored) = stored.await? else { return Ok(None) };
            let answers = stored
                .responses
                .into_iter()
                .map(|record| StoredTurn {
                    verdict: record.verdict.kind().to_string(),
                    template: record.template,
                    asked: record.asked,
                    answer: record.answer,
                    at: Timestamp::from_millis(record.answered_at_ms),
                })
                .collect();
            let session = stored.session;
            Ok(Some(OpenSession { id: session.id, version: session.quiz_version, seed: session.seed, answers }))
        })
    }

    fn start_session(&self, start: SessionStart<'_>) -> PortFuture<u64> {
        recorded(self.0.start_session(NewSession {
            quiz_title: start.title.to_string(),
            quiz_version: start.version.to_string(),
            email: start.email.to_string(),
            seed: start.seed,
            started_at_ms: start.at.as_millis(),
        }))
    }

    fn end_session(&self, id: u64, ending: SessionEnding, at: Timestamp, reason: Option<String>) -> PortFuture<()> {
        let ended = self.0.end_session(id, ending, at.as_millis(), reason);
        recorded(async move { ended.await.map(drop) })
    }
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
