//! The boundary's persistence port, backed by a `mastery-persistence` store.
//!
//! This is the book's "pass the persistence function into the boundary", done once for every
//! front end: the boundary and the store never meet except here.

use std::sync::Arc;

use mastery_boundary::{RecordFuture, ResponsePort, Withdrawal};
use mastery_core::Response;
use mastery_persistence::{ResponseRecord, ResponseStore};

/// A [`ResponsePort`] that records into any [`ResponseStore`].
///
/// A withdrawal is handed on to the store, so an answer a session reports as refused is never
/// found stored later.
#[derive(Clone)]
pub struct StorePort(pub Arc<dyn ResponseStore>);

impl ResponsePort for StorePort {
    fn record(&self, response: &Response) -> RecordFuture {
        let pending = self.0.record(ResponseRecord::from(response));
        Box::pin(async move { pending.await.map_err(|error| error.to_string()) })
    }

    fn record_withdrawable(&self, response: &Response, withdrawal: Withdrawal) -> RecordFuture {
        let pending = self.0.record_withdrawable(ResponseRecord::from(response), withdrawal);
        Box::pin(async move { pending.await.map_err(|error| error.to_string()) })
    }
}
