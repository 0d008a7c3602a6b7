//! An in-memory store for tests and for runs that need no history.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use mastery_core::SessionEnding;

use crate::record::ResponseRecord;
use crate::report::Regraded;
use crate::session::{NewSession, OfferedQuiz, QuizSummary, RegradeRecord, SessionRecord, StoredSession};
use crate::{InTransaction, Pending, ResponseStore, StoreError, count_per_email};

/// Keeps responses and sessions in vectors. Recording is immediate; nothing survives the
/// process. It keeps the same rules as the SQLite store: one response per place in a session, and
/// none in a session that has ended.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: Vec<ResponseRecord>,
    sessions: Vec<SessionRecord>,
    regrades: Vec<RegradeRecord>,
    settings: BTreeMap<String, String>,
    rosters: BTreeMap<String, Vec<(String, String)>>,
    offered: BTreeMap<String, OfferedQuiz>,
    /// Per quiz, each learner's exam settings, by email.
    overrides: BTreeMap<String, BTreeMap<String, String>>,
}

const PLACE: &str = "memory";

impl MemoryStore {
    fn with_state<T>(&self, read: impl FnOnce(&mut State) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written record: pushes are atomic.
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&mut state)
    }

    fn for_quiz(&self, quiz_title: &str) -> Vec<ResponseRecord> {
        self.with_state(|state| state.records.iter().filter(|r| r.quiz_title == quiz_title).cloned().collect())
    }
}

fn ready<T: Send + 'static>(value: Result<T, StoreError>) -> Pending<T> {
    Box::pin(std::future::ready(value))
}

impl State {
    /// The same rules as the SQLite store's insert.
    fn admit(&self, record: &ResponseRecord) -> Result<bool, StoreError> {
        let session = record.place.and_then(|place| self.sessions.iter().find(|s| s.id == place.session));
        // A session with a deadline of its own is closed by it alone; any other by its quiz's window.
        let closed = match session.and_then(|s| s.closes_at_ms.map(|closes| (s.id, closes))) {
            Some((id, closes)) => {
                (closes <= record.answered_at_ms).then(|| StoreError::closed_session(PLACE, id, closes))
            }
            None => {
                let closes =
                    self.offered.get(&record.quiz_title).and_then(|quiz| quiz.window).map(|(_, closes)| closes);
                let closes = closes.filter(|closes| *closes <= record.answered_at_ms);
                closes.map(|closes| StoreError::closed_quiz(PLACE, &record.quiz_title, closes))
            }
        };
        let Some(place) = record.place else {
            return match closed {
                Some(error) => Err(error),
                None => Ok(true),
            };
        };
        let open = session.is_some_and(SessionRecord::is_open);
        if let Some(stored) = self.records.iter().rev().find(|r| r.place == Some(place)) {
            let same =
                stored.template == record.template && stored.asked == record.asked && stored.answer == record.answer;
            return match same {
                true => Ok(false),
                false => Err(StoreError::conflict(
                    PLACE,
                    format!("session {} already has an answer at position {}", place.session, place.position + 1),
                )),
            };
        }
        if let Some(error) = closed {
            return Err(error);
        }
        match open {
            true => Ok(true),
            false => Err(StoreError::conflict(PLACE, format!("session {} has ended", place.session))),
        }
    }
}

impl ResponseStore for MemoryStore {
    fn record_in_transaction(&self, record: ResponseRecord, in_transaction: Option<InTransaction>) -> Pending<()> {
        let outcome = self.with_state(|state| {
            let new = state.admit(&record)?;
            if let Some(function) = in_transaction {
                function().map_err(StoreError::rejected)?;
            }
            if new {
                state.records.push(record);
            }
            Ok(())
        });
        ready(outcome)
    }

    fn responses(&self, quiz_title: &str) -> Pending<Vec<ResponseRecord>> {
        ready(Ok(self.for_quiz(quiz_title)))
    }

    fn responses_per_email(&self, quiz_title: &str) -> Pending<BTreeMap<String, u64>> {
        let records = self.for_quiz(quiz_title);
        ready(Ok(count_per_email(records.iter().map(|r| r.email.as_str()))))
    }

    fn start_session(&self, session: NewSession) -> Pending<u64> {
        let id = self.with_state(|state| {
            let id = state.sessions.len() as u64 + 1;
            state.sessions.push(SessionRecord {
                id,
                quiz_title: session.quiz_title,
                quiz_version: Some(session.quiz_version),
                email: session.email,
                seed: Some(session.seed),
                started_at_ms: session.started_at_ms,
                ended_at_ms: None,
                ending: None,
                ending_reason: None,
                due_at_ms: session.due_at_ms,
                closes_at_ms: session.closes_at_ms,
            });
            id
        });
        ready(Ok(id))
    }

    fn end_session(&self, id: u64, ending: SessionEnding, at_ms: u64, reason: Option<String>) -> Pending<bool> {
        let ended = self.with_state(|state| match state.sessions.iter_mut().find(|s| s.id == id && s.is_open()) {
            Some(session) => {
                session.ending = Some(ending);
                session.ended_at_ms = Some(at_ms);
                session.ending_reason = reason;
                true
            }
            None => false,
        });
        ready(Ok(ended))
    }

    fn set_session_deadline(&self, id: u64, due_at_ms: Option<u64>, closes_at_ms: Option<u64>) -> Pending<bool> {
        let changed = self.with_state(|state| match state.sessions.iter_mut().find(|s| s.id == id && s.is_open()) {
            Some(session) => {
                session.due_at_ms = due_at_ms;
                session.closes_at_ms = closes_at_ms;
                true
            }
            None => false,
        });
        ready(Ok(changed))
    }

    fn session(&self, id: u64) -> Pending<Option<SessionRecord>> {
        ready(Ok(self.with_state(|state| state.sessions.iter().find(|s| s.id == id).cloned())))
    }

    fn setting_or_init(&self, name: &str, value: String) -> Pending<String> {
        ready(Ok(self.with_state(|state| state.settings.entry(name.to_string()).or_insert(value).clone())))
    }

    fn set_roster(&self, quiz_title: &str, learners: Vec<(String, String)>) -> Pending<()> {
        // An email given twice keeps its last token, as every store does.
        let learners: BTreeMap<String, String> = learners.into_iter().collect();
        self.with_state(|state| state.rosters.insert(quiz_title.to_string(), learners.into_iter().collect()));
        ready(Ok(()))
    }

    fn roster(&self, quiz_title: &str) -> Pending<Vec<(String, String)>> {
        ready(Ok(self.with_state(|state| state.rosters.get(quiz_title).cloned().unwrap_or_default())))
    }

    fn joined(&self, token_hash: &str) -> Pending<Option<(String, String)>> {
        ready(Ok(self.with_state(|state| {
            state.rosters.iter().find_map(|(title, learners)| {
                let (email, _) = learners.iter().find(|(_, hash)| hash == token_hash)?;
                Some((title.clone(), email.clone()))
            })
        })))
    }

    fn latest_attempt(&self, quiz_title: &str, email: &str) -> Pending<Option<StoredSession>> {
        let found = self.with_state(|state| {
            let session = state.sessions.iter().rev().find(|s| s.quiz_title == quiz_title && s.email == email)?;
            if !session.is_open() {
                return Some(StoredSession { session: session.clone(), responses: Vec::new() });
            }
            let mut responses: Vec<ResponseRecord> = state
                .records
                .iter()
                .filter(|r| r.place.is_some_and(|place| place.session == session.id))
                .cloned()
                .collect();
            responses.sort_by_key(|r| r.place.map(|place| place.position));
            Some(StoredSession { session: session.clone(), responses })
        });
        ready(Ok(found))
    }

    fn timed_open_sessions(&self) -> Pending<Vec<SessionRecord>> {
        ready(Ok(self.with_state(|state| {
            state.sessions.iter().filter(|s| s.is_open() && s.closes_at_ms.is_some()).cloned().collect()
        })))
    }

    fn sessions(&self, quiz_title: &str) -> Pending<Vec<SessionRecord>> {
        ready(Ok(
            self.with_state(|state| state.sessions.iter().filter(|s| s.quiz_title == quiz_title).cloned().collect())
        ))
    }

    fn quizzes(&self) -> Pending<Vec<QuizSummary>> {
        let summaries = self.with_state(|state| {
            let titles: BTreeSet<&str> = state
                .sessions
                .iter()
                .map(|s| s.quiz_title.as_str())
                .chain(state.records.iter().map(|r| r.quiz_title.as_str()))
                .collect();
            titles
                .into_iter()
                .map(|title| {
                    let sessions: Vec<&SessionRecord> =
                        state.sessions.iter().filter(|s| s.quiz_title == title).collect();
                    let records: Vec<&ResponseRecord> =
                        state.records.iter().filter(|r| r.quiz_title == title).collect();
                    let learners: BTreeSet<&str> = sessions
                        .iter()
                        .map(|s| s.email.as_str())
                        .chain(records.iter().map(|r| r.email.as_str()))
                        .collect();
                    let last = sessions
                        .iter()
                        .map(|s| s.started_at_ms.max(s.ended_at_ms.unwrap_or(0)))
                        .chain(records.iter().map(|r| r.answered_at_ms))
                        .max()
                        .unwrap_or(0);
                    QuizSummary {
                        title: title.to_string(),
                        learners: learners.len() as u64,
                        sessions: sessions.len() as u64,
                        responses: records.len() as u64,
                        last_activity_ms: last,
                    }
                })
                .collect()
        });
        ready(Ok(summaries))
    }

    fn offer_quiz(&self, quiz: OfferedQuiz) -> Pending<()> {
        self.with_state(|state| {
            state.offered.insert(quiz.title.clone(), OfferedQuiz { window: None, exam: None, ..quiz })
        });
        ready(Ok(()))
    }

    fn schedule_offered(&self, title: &str, opens_at_ms: u64, closes_at_ms: u64) -> Pending<()> {
        self.with_state(|state| {
            let offered = state.offered.entry(title.to_string()).or_insert_with(|| OfferedQuiz {
                title: title.to_string(),
                version: None,
                source: None,
                saved_at_ms: opens_at_ms,
                window: None,
                exam: None,
            });
            offered.window = Some((opens_at_ms, closes_at_ms));
        });
        ready(Ok(()))
    }

    fn set_offered_exam(&self, title: &str, exam: Option<String>) -> Pending<()> {
        self.with_state(|state| {
            // Offered without a quiz given: no source, and saved at 0, as every store does.
            let offered = state.offered.entry(title.to_string()).or_insert_with(|| OfferedQuiz {
                title: title.to_string(),
                version: None,
                source: None,
                saved_at_ms: 0,
                window: None,
                exam: None,
            });
            offered.exam = exam;
        });
        ready(Ok(()))
    }

    fn set_learner_override(&self, quiz_title: &str, email: &str, settings: Option<String>) -> Pending<()> {
        self.with_state(|state| match settings {
            Some(settings) => {
                state.overrides.entry(quiz_title.to_string()).or_default().insert(email.to_string(), settings);
            }
            None => {
                if let Some(learners) = state.overrides.get_mut(quiz_title) {
                    learners.remove(email);
                }
            }
        });
        ready(Ok(()))
    }

    fn learner_overrides(&self, quiz_title: &str) -> Pending<Vec<(String, String)>> {
        let overrides = self.with_state(|state| {
            let learners = state.overrides.get(quiz_title).into_iter().flatten();
            learners.map(|(email, settings)| (email.clone(), settings.clone())).collect()
        });
        ready(Ok(overrides))
    }

    fn offered_quizzes(&self) -> Pending<Vec<OfferedQuiz>> {
        ready(Ok(self.with_state(|state| state.offered.values().cloned().collect())))
    }

    fn record_regrade(&self, regrade: RegradeRecord) -> Pending<u64> {
        ready(Ok(self.with_state(|state| {
            state.regrades.push(regrade);
            state.regrades.len() as u64
        })))
    }

    fn regraded(&self, quiz_title: &str) -> Pending<Regraded> {
        let latest = self.with_state(|state| {
            state
                .regrades
                .iter()
                .rev()
                .find(|r| r.quiz_title == quiz_title)
                .map(|r| r.changed.iter().cloned().collect())
        });
        ready(Ok(latest.unwrap_or_default()))
    }
}
