//! An in-memory store for tests and for runs that need no history.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::record::{LearnerReport, ResponseRecord, report_from_records};
use crate::{InTransaction, Pending, ResponseStore, StoreError, count_per_email};

/// Keeps responses in a vector. Recording is immediate; nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<Vec<ResponseRecord>>,
}

impl MemoryStore {
    fn with_records<T>(&self, read: impl FnOnce(&mut Vec<ResponseRecord>) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written record: pushes are atomic.
        let mut records = self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&mut records)
    }

    fn for_quiz(&self, quiz_title: &str) -> Vec<ResponseRecord> {
        self.with_records(|records| records.iter().filter(|r| r.quiz_title == quiz_title).cloned().collect())
    }
}

impl ResponseStore for MemoryStore {
    fn record_in_transaction(&self, record: ResponseRecord, in_transaction: Option<InTransaction>) -> Pending<()> {
        let outcome = self.with_records(|records| {
            if let Some(function) = in_transaction {
                function().map_err(StoreError::rejected)?;
            }
            records.push(record);
            Ok(())
        });
        Box::pin(async move { outcome })
    }

    fn responses(&self, quiz_title: &str) -> Pending<Vec<ResponseRecord>> {
        let records = self.for_quiz(quiz_title);
        Box::pin(async move { Ok(records) })
    }

    fn responses_per_email(&self, quiz_title: &str) -> Pending<BTreeMap<String, u64>> {
        let records = self.for_quiz(quiz_title);
        Box::pin(async move { Ok(count_per_email(records.iter().map(|r| r.email.as_str()))) })
    }

    fn report(&self, quiz_title: &str) -> Pending<Vec<LearnerReport>> {
        let records = self.for_quiz(quiz_title);
        Box::pin(async move { Ok(report_from_records(&records)) })
    }
}
