//! # mastery-persistence: where responses are kept
//!
//! The book treats persistence as a service the boundary calls, not a layer the core knows about.
//! This crate is that service: a [`ResponseStore`] trait with two implementations —
//! [`SqliteStore`], the embedded default, and [`MemoryStore`] for tests — and the reports computed
//! from what was stored.
//!
//! The one idea: **acknowledged means durable.** [`ResponseStore::record`] resolves only after the
//! response is committed. [`SqliteStore`] gets its speed by *group commit*: one writer thread takes
//! every response waiting at that moment and commits them in one transaction, so a thousand
//! concurrent learners pay for one `fsync`, not a thousand.
//!
//! The crate depends on `mastery-core` only among the workspace crates; the boundary never sees
//! it, and the command line plugs the two together.
//!
//! ```
//! use mastery_core::{Response, SplitMix64, Timestamp, examples};
//! use mastery_persistence::{MemoryStore, ResponseRecord, ResponseStore};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::default();
//! let mut quiz = examples::math_quiz();
//! quiz.select_question(&mut SplitMix64::new(1))?;
//! let response = Response::new(&quiz, "mathy@example.com", "3", Timestamp::from_millis(0))?;
//! store.record(ResponseRecord::from(&response)).await?;
//! let counts = store.responses_per_email("Math").await?;
//! assert_eq!(counts["mathy@example.com"], 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod memory;
mod record;
mod report;
mod session;
mod sqlite;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use mastery_core::SessionEnding;

pub use error::{StoreError, StoreErrorKind};
pub use memory::MemoryStore;
pub use record::{ResponseRecord, SubstitutionValue};
pub use report::{
    LearnerReport, Regraded, ReportBuilder, ReportRow, SessionReport, SessionReportBuilder, TemplateReport,
    TemplateReportBuilder, effective_verdict, endings, report_from_records,
};
pub use session::{NewSession, OfferedQuiz, Place, QuizSummary, RegradeRecord, SessionRecord, StoredSession};
pub use sqlite::{
    Durability, SCHEMA_VERSION, SqliteOptions, SqliteStore, create_schema_version, substitutions_from_json,
    substitutions_to_json,
};

/// A result that arrives later: the store's operations are asynchronous so that a store on
/// another machine (PostgreSQL, say) fits the same trait.
pub type Pending<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send>>;

/// Completes when the caller gives up on a record it has not yet seen stored (its own deadline
/// passed, say). See [`ResponseStore::record_withdrawable`].
pub type Withdrawal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A function run inside the transaction that saves a response: if it fails, the response is not
/// saved. The book uses this to advance the quiz only when the row is written.
pub type InTransaction = Box<dyn FnOnce() -> Result<(), String> + Send>;

/// A place to keep responses. Callers hold it as `Arc<dyn ResponseStore>` and never learn which
/// implementation they have.
pub trait ResponseStore: Send + Sync {
    /// Stores one response; resolves once it is durable.
    fn record(&self, record: ResponseRecord) -> Pending<()> {
        self.record_in_transaction(record, None)
    }

    /// Stores one response unless `withdrawal` completes before the store has committed to
    /// storing it; the outcome is always definitive. `Ok` means durable. [`StoreError::withdrawn`]
    /// means it was not stored and never will be. A withdrawal that comes after the store claimed
    /// the record for a commit changes nothing: the future then resolves with that commit's
    /// outcome, which comes within one commit's time.
    ///
    /// This is what lets a caller with a deadline tell its own caller the truth: an answer
    /// reported as refused is never found stored later. A store whose `record` finishes at once
    /// keeps this default, which has nothing to withdraw.
    fn record_withdrawable(&self, record: ResponseRecord, withdrawal: Withdrawal) -> Pending<()> {
        drop(withdrawal);
        self.record(record)
    }

    /// Stores one response, running `in_transaction` inside the saving transaction; if it fails,
    /// nothing is saved and the error is [`StoreError::rejected`] with its message.
    fn record_in_transaction(&self, record: ResponseRecord, in_transaction: Option<InTransaction>) -> Pending<()>;

    /// Every response to the quiz, oldest first.
    fn responses(&self, quiz_title: &str) -> Pending<Vec<ResponseRecord>>;

    /// The book's report: the number of responses per email.
    fn responses_per_email(&self, quiz_title: &str) -> Pending<BTreeMap<String, u64>>;

    /// One row per email, sorted by email: responses, correct, invalid and templates mastered
    /// within some session, reading the latest regrade's verdicts.
    fn report(&self, quiz_title: &str) -> Pending<Vec<LearnerReport>> {
        let (responses, regraded) = (self.responses(quiz_title), self.regraded(quiz_title));
        Box::pin(async move { Ok(report_from_records(&responses.await?, &regraded.await?)) })
    }

    /// Stores a session as it starts and gives its id.
    fn start_session(&self, session: NewSession) -> Pending<u64>;

    /// Ends the open session `id` as `ending`; `false` when it had already ended (an ending is
    /// never replaced) or does not exist. Once ended, a session takes no more responses.
    fn end_session(&self, id: u64, ending: SessionEnding, at_ms: u64, reason: Option<String>) -> Pending<bool>;

    /// Replaces the open session `id`'s own deadline (see [`NewSession::due_at_ms`] and
    /// [`NewSession::closes_at_ms`]): a teacher gives a learner more time while the exam runs.
    /// `false`, changing nothing, when the session has ended or does not exist: an ended session's
    /// deadline is part of its history.
    fn set_session_deadline(&self, id: u64, due_at_ms: Option<u64>, closes_at_ms: Option<u64>) -> Pending<bool>;

    /// The session `id`, open or ended.
    fn session(&self, id: u64) -> Pending<Option<SessionRecord>>;

    /// The value of the setting `name`, storing `value` first when it has none: every caller,
    /// in any process, gets the one value stored first (a secret made once, say).
    fn setting_or_init(&self, name: &str, value: String) -> Pending<String>;

    /// Replaces the quiz's roster: each learner's email with the hash of their join token.
    fn set_roster(&self, quiz_title: &str, learners: Vec<(String, String)>) -> Pending<()>;

    /// The quiz's roster: emails with their join token hashes, sorted by email. Empty when the
    /// quiz has none (it is open to anyone).
    fn roster(&self, quiz_title: &str) -> Pending<Vec<(String, String)>>;

    /// The (quiz title, email) a join token hash was given for.
    fn joined(&self, token_hash: &str) -> Pending<Option<(String, String)>>;

    /// The learner's latest session of the quiz, open or ended, with its responses when it is
    /// open (an ended one comes with none): what taking a quiz needs, in one read: an open one is
    /// resumed, an ended one tells an exam that its one attempt is used.
    fn latest_attempt(&self, quiz_title: &str, email: &str) -> Pending<Option<StoredSession>>;

    /// The learner's latest session of the quiz with its responses, if that session is open.
    fn open_session(&self, quiz_title: &str, email: &str) -> Pending<Option<StoredSession>> {
        let latest = self.latest_attempt(quiz_title, email);
        Box::pin(async move { Ok(latest.await?.filter(|stored| stored.session.is_open())) })
    }

    /// Every open session with a deadline of its own, in the order they started: a server that
    /// starts watches them, so that sessions nobody holds still end when their time is up.
    fn timed_open_sessions(&self) -> Pending<Vec<SessionRecord>>;

    /// Every session of the quiz, in the order they started.
    fn sessions(&self, quiz_title: &str) -> Pending<Vec<SessionRecord>>;

    /// Every quiz with something stored, sorted by title.
    fn quizzes(&self) -> Pending<Vec<QuizSummary>>;

    /// Stores a regrade and gives its id. Reports then read its verdicts.
    fn record_regrade(&self, regrade: RegradeRecord) -> Pending<u64>;

    /// The latest regrade's changed verdicts for the quiz (empty when it was never regraded).
    fn regraded(&self, quiz_title: &str) -> Pending<Regraded>;

    /// Offers a quiz from now on, replacing the one of the same title with its window and exam
    /// settings: a new file starts unscheduled and not an exam, whatever `quiz.window` and
    /// `quiz.exam` say, until they are set again.
    fn offer_quiz(&self, quiz: OfferedQuiz) -> Pending<()>;

    /// Sets the window of the offered quiz `title` (offering it, without a source, if it was
    /// not).
    fn schedule_offered(&self, title: &str, opens_at_ms: u64, closes_at_ms: u64) -> Pending<()>;

    /// Sets the exam settings of the offered quiz `title` (`None`: not an exam), offering it,
    /// without a source, if it was not. The settings are the server's JSON, kept as given so that
    /// every server runs the same exam.
    fn set_offered_exam(&self, title: &str, exam: Option<String>) -> Pending<()>;

    /// Every offered quiz, sorted by title.
    fn offered_quizzes(&self) -> Pending<Vec<OfferedQuiz>>;

    /// Sets one learner's exam settings for the quiz, in place of those they had (more time, say);
    /// `None` removes them. The settings are the server's JSON, which the store keeps unread.
    fn set_learner_override(&self, quiz_title: &str, email: &str, settings: Option<String>) -> Pending<()>;

    /// The quiz's learners with exam settings of their own: (email, settings), sorted by email.
    fn learner_overrides(&self, quiz_title: &str) -> Pending<Vec<(String, String)>>;

    /// Tells every process on this store `message` (what a teacher watching another server
    /// should see). A store only one process uses, as the memory and SQLite stores are meant to
    /// be, has no one else to tell: the default does nothing.
    fn announce(&self, message: String) -> Pending<()> {
        drop(message);
        Box::pin(std::future::ready(Ok(())))
    }

    /// The messages every process announces on this store, from now on (this process's own
    /// included); `None` for a store without announcements.
    fn announcements(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }

    /// One row per session, in the order the sessions started.
    fn session_report(&self, quiz_title: &str) -> Pending<Vec<SessionReport>> {
        let (responses, sessions) = (self.responses(quiz_title), self.sessions(quiz_title));
        let regraded = self.regraded(quiz_title);
        Box::pin(async move {
            let (responses, regraded) = (responses.await?, regraded.await?);
            let mut builder = SessionReportBuilder::new(sessions.await?);
            for record in &responses {
                builder.add(ReportRow::of(record, effective_verdict(record, &regraded)));
            }
            Ok(builder.finish())
        })
    }

    /// Item statistics, one row per template, sorted by name.
    fn template_report(&self, quiz_title: &str) -> Pending<Vec<TemplateReport>> {
        let (responses, regraded) = (self.responses(quiz_title), self.regraded(quiz_title));
        Box::pin(async move {
            let (responses, regraded) = (responses.await?, regraded.await?);
            let mut builder = TemplateReportBuilder::default();
            for record in &responses {
                builder.add(ReportRow::of(record, effective_verdict(record, &regraded)));
            }
            Ok(builder.finish())
        })
    }
}

impl dyn ResponseStore {
    /// Stores a response while running `in_transaction` inside the saving transaction and returns
    /// its value; if the function fails, nothing is saved.
    ///
    /// ```
    /// use mastery_persistence::{MemoryStore, ResponseStore, StoreError};
    /// # use mastery_core::{Response, SplitMix64, Timestamp, examples};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let mut quiz = examples::math_quiz();
    /// # quiz.select_question(&mut SplitMix64::new(1)).unwrap();
    /// # let response = Response::new(&quiz, "a@example.com", "3", Timestamp::from_millis(0)).unwrap();
    /// let store: std::sync::Arc<dyn ResponseStore> = std::sync::Arc::new(MemoryStore::default());
    /// let value = store.record_response_with((&response).into(), || Ok::<_, String>(42)).await;
    /// assert_eq!(value.unwrap(), 42);
    /// let failed = store.record_response_with((&response).into(), || Err::<u8, _>("no".to_string())).await;
    /// assert_eq!(failed, Err(StoreError::rejected("no")));
    /// assert_eq!(store.responses("Math").await.unwrap().len(), 1);
    /// # });
    /// ```
    pub async fn record_response_with<T, F>(&self, record: ResponseRecord, function: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, String> + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let filled = Arc::clone(&slot);
        let wrapped: InTransaction = Box::new(move || {
            let value = function()?;
            *filled.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(value);
            Ok(())
        });
        self.record_in_transaction(record, Some(wrapped)).await?;
        let value = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        value.ok_or_else(StoreError::closed)
    }
}

/// Counts responses per email from records.
pub(crate) fn count_per_email<'a>(emails: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for email in emails {
        *counts.entry(email.to_string()).or_insert(0) += 1;
    }
    counts
}
