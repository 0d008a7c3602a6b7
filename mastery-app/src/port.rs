//! The boundary's persistence port, backed by a `mastery-persistence` store.
//!
//! This is the book's "pass the persistence function into the boundary", done once for every
//! front end: the boundary and the store never meet except here.

use std::sync::Arc;

use mastery_boundary::{RecordError, RecordErrorKind, RecordFuture, ResponsePort, Withdrawal};
use mastery_core::Response;
use mastery_persistence::{Pending, ResponseRecord, ResponseStore, StoreError, StoreErrorKind};

/// A [`ResponsePort`] that records into any [`ResponseStore`].
///
/// A withdrawal is handed on to the store, so an answer a session reports as refused is never
/// found stored later.
#[derive(Clone)]
pub struct StorePort(pub Arc<dyn ResponseStore>);

impl ResponsePort for StorePort {
    fn record(&self, response: &Response) -> RecordFuture {
        recorded(self.0.record(ResponseRecord::from(response)))
    }

    fn record_withdrawable(&self, response: &Response, withdrawal: Withdrawal) -> RecordFuture {
        recorded(self.0.record_withdrawable(ResponseRecord::from(response), withdrawal))
    }
}

fn recorded(pending: Pending<()>) -> RecordFuture {
    Box::pin(async move { pending.await.map_err(|error| record_error(&error)) })
}

/// The store's failure in the boundary's terms: what the caller can do about it, and what happened.
fn record_error(error: &StoreError) -> RecordError {
    let kind = match error.kind {
        StoreErrorKind::Unavailable => RecordErrorKind::Unavailable,
        StoreErrorKind::Conflict => RecordErrorKind::Conflict,
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
