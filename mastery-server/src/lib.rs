//! # mastery-server: a class takes a quiz together, over HTTP
//!
//! The book assembles its layers under Phoenix; this crate is Mastery's Phoenix. It is another
//! front end over [`mastery_app`], beside the command line: the same `Mastery` handle, sessions,
//! Proctor and store, reached through a JSON API, a learner page at `/` and a teacher page at
//! `/teach`. It implements nothing the boundary does; it translates HTTP to calls and back.
//!
//! - [`router`] builds the routes for a [`Server`], testable without a socket;
//! - [`serve`] runs them on a listener until `shutdown` completes, then ends every event stream
//!   and waits for the requests in flight.
//!
//! Identity: a teacher shows the teacher token (`Authorization: Bearer`, or the cookie the teacher
//! page sets); a learner's session token — `s<id>.<mac>`, keyed by a secret kept in the store, so
//! a restarted server, or another one on the same store, accepts it — is the only key to a session.
//! Join links carry random tokens stored only as hashes. No reply ever carries an expected answer:
//! every reply is built from the boundary's views, which hold none.
//!
//! ```
//! use mastery_app::App;
//! use mastery_boundary::MasteryConfig;
//! use mastery_persistence::MemoryStore;
//! use mastery_server::{Server, ServerOptions, router};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let app = App::with_store(std::sync::Arc::new(MemoryStore::default()), MasteryConfig::default());
//! let server = Server::start(&app, ServerOptions::default()).await?;
//! server.add_quiz(mastery_app::demo_quiz()).await?;
//! let request = axum::http::Request::get("/api/quizzes").body(axum::body::Body::empty())?;
//! let response = router(server.clone()).oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! # app.shutdown().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod http;
mod pages;
mod token;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use mastery_boundary::{
    ExamFields, LearnerOverrideFields, Mastery, MasteryError, Notify, ProctorEvent, QuestionView, SessionStatus, Taken,
    Validator,
};
use mastery_core::{Deadline, Exam, Quiz, SessionEnding, Timestamp};
use mastery_persistence::ResponseStore;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use http::{ApiError, ProblemJson};

use crate::token::SessionTokens;

/// The environment variable that fixes the teacher token.
pub const TEACHER_TOKEN_VARIABLE: &str = "MASTERY_TEACHER_TOKEN";

/// How a [`Server`] is set up.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The teacher token; `None` uses the one kept in the store, made at the first start.
    pub teacher_token: Option<String>,
    /// A learner's session idle this long is let go from memory (it stays open in the store and
    /// is rebuilt by replay at the learner's next request).
    pub idle_after: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions { teacher_token: None, idle_after: Duration::from_secs(30 * 60) }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed while the server read its secrets.
    #[error(transparent)]
    Store(#[from] mastery_persistence::StoreError),
    /// The boundary refused a quiz.
    #[error(transparent)]
    Mastery(#[from] MasteryError),
    /// A stored window could not be set.
    #[error("{0}")]
    Schedule(String),
}

/// The server's state, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    mastery: Mastery,
    store: Arc<dyn ResponseStore>,
    teacher_token: String,
    tokens: SessionTokens,
    quizzes: Mutex<BTreeMap<String, QuizEntry>>,
    sessions: Mutex<HashMap<u64, SessionEntry>>,
    events: Mutex<HashMap<String, broadcast::Sender<(String, String)>>>,
    /// Each watched learner session's own events (new time left, time up), by session id.
    learner_events: Mutex<HashMap<u64, broadcast::Sender<(String, String)>>>,
    options: ServerOptions,
    shutdown: CancellationToken,
    /// When this server last read the offered quizzes from the store; held while it reads, so
    /// that a request arriving meanwhile waits for what the read finds.
    synced: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    /// Where events go to be announced to other servers, one after another (`None`: a store
    /// without announcements).
    announcer: Option<tokio::sync::mpsc::Sender<String>>,
    /// This server among those announcing on the store, so that it skips its own announcements.
    origin: String,
}

/// A quiz the server offers.
#[derive(Clone)]
struct QuizEntry {
    quiz: Quiz,
    /// When it opens and closes (milliseconds since the Unix epoch); none: open now.
    window: Option<(u64, u64)>,
    /// Whether only join links start sessions.
    roster: bool,
}

/// A session this server has seen: whose it is, how it ended, what its learner last heard.
struct SessionEntry {
    title: String,
    email: String,
    ending: Option<SessionEnding>,
    /// Whether this process holds it live (checked once; an answer then goes straight to it).
    live: bool,
    last_seen: tokio::time::Instant,
    /// The outcome of the last answer sent by a form, shown once by the page it redirects to.
    last_answer: Option<api::AnswerJson>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A task that announces events through `store` one after another, in the order they happened.
fn announce_in_order(store: Arc<dyn ResponseStore>) -> tokio::sync::mpsc::Sender<String> {
    let (announcer, mut events) = tokio::sync::mpsc::channel::<String>(4_096);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let Err(error) = store.announce(event).await {
                tracing::debug!(%error, "an announcement was not sent");
            }
        }
    });
    announcer
}

impl Server {
    /// A server over `app`'s `Mastery` and store. The session secret (and, unless given, the
    /// teacher token) are read from the store, made at the first start: a restarted server keeps
    /// both, so links and sessions handed out before still work.
    pub async fn start(app: &mastery_app::App, options: ServerOptions) -> Result<Server, ServerError> {
        let store = Arc::clone(app.store());
        let announcements = store.announcements();
        let secret = store.setting_or_init("session_secret", token::random_hex(32)).await?;
        let teacher_token = match &options.teacher_token {
            Some(token) => token.clone(),
            None => store.setting_or_init("teacher_token", token::random_hex(16)).await?,
        };
        let server = Server {
            inner: Arc::new(Inner {
                mastery: app.mastery().clone(),
                store,
                teacher_token,
                tokens: SessionTokens::new(&secret),
                quizzes: Mutex::default(),
                sessions: Mutex::default(),
                events: Mutex::default(),
                learner_events: Mutex::default(),
                options,
                shutdown: CancellationToken::new(),
                synced: tokio::sync::Mutex::new(None),
                origin: token::random_hex(8),
                announcer: announcements.is_some().then(|| announce_in_order(Arc::clone(app.store()))),
            }),
        };
        let weak = Arc::downgrade(&server.inner);
        app.mastery().on_session_deadlines(Arc::new(move |event| {
            if let Some(inner) = weak.upgrade() {
                Server { inner }.deadline_passed(event);
            }
        }));
        // Exam sessions left open by a server that stopped still end at their deadlines.
        for session in server.inner.store.timed_open_sessions().await? {
            if let (Some(due), Some(closes)) = (session.due_at_ms, session.closes_at_ms) {
                let deadline =
                    Deadline { due_at: Timestamp::from_millis(due), closes_at: Timestamp::from_millis(closes) };
                server.inner.mastery.watch_stored_session(&session.quiz_title, &session.email, session.id, deadline);
            }
        }
        tokio::spawn(server.clone().release_idle_sessions());
        if let Some(heard) = announcements {
            tokio::spawn(server.clone().relay_announcements(heard));
        }
        Ok(server)
    }

    /// Passes what other servers on the store announce to this server's watchers: a teacher sees
    /// every learner's progress whichever server each of them is on.
    async fn relay_announcements(self, mut heard: broadcast::Receiver<String>) {
        loop {
            let message = tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                message = heard.recv() => message,
            };
            let text = match message {
                Ok(text) => text,
                // A watcher that fell behind misses some progress, as a slow page would.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let Ok(announced) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            if announced["origin"] == self.inner.origin.as_str() {
                continue;
            }
            let (Some(title), Some(kind)) = (announced["title"].as_str(), announced["kind"].as_str()) else { continue };
            if let Some(sender) = lock(&self.inner.events).get(title) {
                let _ = sender.send((kind.to_string(), announced["data"].to_string()));
            }
        }
    }

    /// The token a teacher signs in with.
    pub fn teacher_token(&self) -> &str {
        &self.inner.teacher_token
    }

    /// Offers `quiz` to learners from now on (replacing one of the same title).
    pub async fn add_quiz(&self, quiz: Quiz) -> Result<(), ServerError> {
        // A quiz given again starts without a window: the old one's close must not remove it.
        self.inner.mastery.unschedule_quiz(quiz.title()).await?;
        self.inner.mastery.install_quiz(quiz.clone()).await?;
        let roster = !self.inner.store.roster(quiz.title()).await?.is_empty();
        let entry = QuizEntry { quiz, window: None, roster };
        lock(&self.inner.quizzes).insert(entry.quiz.title().to_string(), entry);
        Ok(())
    }

    /// Ends every event stream: a server shutting down must not wait for streams that never end.
    pub fn stop_streams(&self) {
        self.inner.shutdown.cancel();
    }

    fn quiz(&self, title: &str) -> Option<QuizEntry> {
        lock(&self.inner.quizzes).get(title).cloned()
    }

    /// The version and window of the quiz this server offers as `title`, read without copying
    /// the quiz.
    fn offered_here(&self, title: &str) -> Option<(String, Option<(u64, u64)>)> {
        lock(&self.inner.quizzes).get(title).map(|entry| (entry.quiz.version().to_string(), entry.window))
    }

    /// Whether learners may take the quiz now (for an exam: by its own window; a learner with a
    /// window of their own is judged when they start).
    fn is_open_now(entry: &QuizEntry, now: u64) -> bool {
        if let Some(exam) = entry.quiz.exam() {
            return exam.window.is_none_or(|window| window.contains(mastery_core::Timestamp::from_millis(now)));
        }
        entry.window.is_none_or(|(opens, closes)| (opens..closes).contains(&now))
    }

    /// Milliseconds since the Unix epoch by the sessions' clock, so that the time left shown
    /// agrees with the deadlines the Proctor keeps.
    pub(crate) fn now_ms(&self) -> u64 {
        self.inner.mastery.now().as_millis()
    }

    /// What the Proctor tells of one learner's deadline, passed to the teacher's live view and to
    /// the learner's page.
    fn deadline_passed(&self, event: ProctorEvent) {
        let (title, email, session, kind, ending, data) = match event {
            ProctorEvent::SessionOverdue { title, email, session, closes_at } => {
                let data = serde_json::json!({
                    "email": email,
                    "closes_at": mastery_app::rfc3339(closes_at.as_millis()),
                    "time_left_ms": closes_at.as_millis().saturating_sub(self.now_ms()),
                });
                (title, email, session, "overdue", None, data)
            }
            ProctorEvent::SessionTimeUp { title, email, session } => {
                let data = serde_json::json!({ "title": title, "email": email });
                (title, email, session, "time_up", Some(SessionEnding::TimeUp), data)
            }
            ProctorEvent::SessionIdle { title, email, session } => {
                let data = serde_json::json!({ "title": title, "email": email });
                (title, email, session, "abandoned", Some(SessionEnding::Abandoned), data)
            }
            ProctorEvent::Started { .. } | ProctorEvent::Stopped { .. } => return,
        };
        if ending.is_some() {
            self.remember(session, &title, &email, ending);
            self.mark_live(session, false);
        }
        self.tell_learner(session, kind, &data);
        self.publish(&title, kind, || data);
    }

    /// Sends an event to the page of the learner whose session is `session`, if it listens.
    fn tell_learner(&self, session: u64, kind: &str, data: &serde_json::Value) {
        let mut streams = lock(&self.inner.learner_events);
        if let Some(sender) = streams.get(&session) {
            if sender.receiver_count() == 0 {
                streams.remove(&session);
            } else {
                let _ = sender.send((kind.to_string(), data.to_string()));
            }
        }
    }

    fn subscribe_learner(&self, session: u64) -> broadcast::Receiver<(String, String)> {
        lock(&self.inner.learner_events).entry(session).or_insert_with(|| broadcast::channel(16).0).subscribe()
    }

    /// Time left for a learner with `deadline` (until it is due; in a grace period, until the
    /// session closes), else until the quiz's window closes.
    fn time_left_for(&self, title: &str, deadline: Option<Deadline>) -> Option<u64> {
        match deadline {
            Some(deadline) => Some(self.time_left_until(deadline)),
            None => self.time_left_ms(title),
        }
    }

    /// Time left until a learner's deadline is due, or, once it is overdue, until it closes.
    fn time_left_until(&self, deadline: Deadline) -> u64 {
        let now = self.now_ms();
        let until = if now <= deadline.due_at.as_millis() { deadline.due_at } else { deadline.closes_at };
        until.as_millis().saturating_sub(now)
    }

    /// Makes `title` an exam with `fields` (validated), here and, through the store, on every
    /// server that shares it. Sessions already running keep the deadline they started with.
    pub(crate) async fn set_exam(&self, title: &str, fields: &ExamFields) -> Result<Exam, ApiError> {
        let exam = Validator::default().exam(fields).map_err(|problems| ApiError::bad_request(problems.to_string()))?;
        if self.quiz(title).is_none() {
            return Err(ApiError::not_found(format!("no quiz titled {title:?}")));
        }
        let stored = serde_json::to_string(fields).map_err(|error| ApiError::unavailable(error.to_string()))?;
        self.inner.store.set_offered_exam(title, Some(stored)).await.map_err(ApiError::store)?;
        self.apply_exam(title, exam).await?;
        Ok(exam)
    }

    /// Installs `title` again with `exam` (its version, and so its running sessions, unchanged).
    async fn apply_exam(&self, title: &str, exam: Exam) -> Result<(), ApiError> {
        let Some(mut entry) = self.quiz(title) else { return Ok(()) };
        entry.quiz.set_exam(Some(exam));
        self.inner.mastery.install_quiz(entry.quiz.clone()).await.map_err(ApiError::mastery)?;
        lock(&self.inner.quizzes).insert(title.to_string(), entry);
        Ok(())
    }

    /// Gives one learner their own exam settings (or with `None` takes them back), here and on
    /// every server that shares the store. A running session gets its new deadline at once, and
    /// the learner's page hears of it; gives that deadline.
    pub(crate) async fn set_learner_override(
        &self,
        title: &str,
        email: &str,
        fields: Option<&LearnerOverrideFields>,
    ) -> Result<Option<Deadline>, ApiError> {
        mastery_boundary::validate_email(email).map_err(ApiError::mastery)?;
        let learner = match fields {
            Some(fields) => Some(
                Validator::default()
                    .learner_override(fields)
                    .map_err(|problems| ApiError::bad_request(problems.to_string()))?,
            ),
            None => None,
        };
        let entry = self.quiz(title).ok_or_else(|| ApiError::not_found(format!("no quiz titled {title:?}")))?;
        if entry.quiz.exam().is_none() {
            return Err(ApiError::conflict(format!("the quiz {title:?} is not an exam: give it exam settings first")));
        }
        let stored =
            fields.map(serde_json::to_string).transpose().map_err(|error| ApiError::unavailable(error.to_string()))?;
        self.inner.store.set_learner_override(title, email, stored).await.map_err(ApiError::store)?;
        let deadline =
            self.inner.mastery.set_learner_override(title, email, learner).await.map_err(ApiError::mastery)?;
        if let Some(deadline) = deadline {
            let session = self.inner.mastery.session_status(title, email).await.map(|status| status.session);
            let data = self.deadline_json(email, deadline);
            if let Ok(session) = session {
                self.tell_learner(session, "deadline", &data);
            }
            self.publish(title, "deadline", || data);
        }
        Ok(deadline)
    }

    /// A learner's deadline as the pages and the API show it.
    pub(crate) fn deadline_json(&self, email: &str, deadline: Deadline) -> serde_json::Value {
        serde_json::json!({
            "email": email,
            "due_at": mastery_app::rfc3339(deadline.due_at.as_millis()),
            "closes_at": mastery_app::rfc3339(deadline.closes_at.as_millis()),
            "time_left_ms": self.time_left_until(deadline),
            "overdue": self.now_ms() > deadline.due_at.as_millis(),
        })
    }

    /// Time left before the quiz closes, for a quiz with a window.
    fn time_left_ms(&self, title: &str) -> Option<u64> {
        let (_, closes) = lock(&self.inner.quizzes).get(title)?.window?;
        Some(closes.saturating_sub(self.now_ms()))
    }

    /// Has the Proctor open `title` at `opens_at_ms` and close it at `closes_at_ms`, here and, through
    /// the store, on every server that shares it.
    async fn schedule(&self, title: &str, opens_at_ms: u64, closes_at_ms: u64) -> Result<(), ApiError> {
        if self.quiz(title).is_none() {
            return Err(ApiError::not_found(format!("no quiz titled {title:?}")));
        }
        self.inner.store.schedule_offered(title, opens_at_ms, closes_at_ms).await.map_err(ApiError::store)?;
        self.schedule_here(title, opens_at_ms, closes_at_ms).await
    }

    /// Offers a quiz a teacher gave as a file, here and, through the store, on every server that
    /// shares it (and on this one after a restart).
    pub(crate) async fn offer_quiz_file(&self, quiz: Quiz, source: &str) -> Result<(), ApiError> {
        let offered = mastery_persistence::OfferedQuiz {
            title: quiz.title().to_string(),
            version: Some(quiz.version().to_string()),
            source: Some(source.to_string()),
            saved_at_ms: self.now_ms(),
            window: None,
            exam: None,
        };
        self.inner.store.offer_quiz(offered).await.map_err(ApiError::store)?;
        self.add_quiz(quiz).await.map_err(|error| ApiError::unavailable(error.to_string()))
    }

    /// Catches up with what the store says is offered: quiz files given to another server (or to
    /// this one before a restart) and windows set anywhere. A stored file that no longer loads is
    /// logged and skipped.
    pub async fn sync_offered(&self) -> Result<(), ServerError> {
        for offered in self.inner.store.offered_quizzes().await? {
            let known = self.offered_here(&offered.title);
            if let Some(source) = offered.source.as_deref()
                && known.as_ref().map(|(version, _)| version.as_str()) != offered.version.as_deref()
            {
                match mastery_boundary::parse_quiz_text(&offered.title, source, &mastery_boundary::Validator::default())
                {
                    Ok(file) => self.add_quiz(file.valid.quiz).await?,
                    Err(problems) => {
                        tracing::warn!(title = %offered.title, %problems, "a stored quiz file no longer loads");
                        continue;
                    }
                }
            }
            if let Some(exam) = offered.exam.as_deref() {
                self.sync_exam(&offered.title, exam).await?;
            }
            let Some((opens, closes)) = offered.window else { continue };
            let current = self.offered_here(&offered.title).map(|(_, window)| window);
            // A window already closed is applied too: the Proctor closes the quiz at once.
            if matches!(current, Some(window) if window != Some((opens, closes))) {
                self.schedule_here(&offered.title, opens, closes)
                    .await
                    .map_err(|e| ServerError::Schedule(e.message))?;
            }
        }
        Ok(())
    }

    /// Applies an exam's stored settings and its learners' own settings where they differ from
    /// what this server holds.
    async fn sync_exam(&self, title: &str, stored: &str) -> Result<(), ServerError> {
        let Ok(fields) = serde_json::from_str::<ExamFields>(stored) else {
            tracing::warn!(%title, "stored exam settings no longer read");
            return Ok(());
        };
        let Ok(exam) = Validator::default().exam(&fields) else { return Ok(()) };
        if self.quiz(title).is_some_and(|entry| entry.quiz.exam() != Some(&exam)) {
            self.apply_exam(title, exam).await.map_err(|e| ServerError::Schedule(e.message))?;
        }
        let stored = self.inner.store.learner_overrides(title).await?;
        for (email, stored) in &stored {
            let Ok(fields) = serde_json::from_str::<LearnerOverrideFields>(stored) else { continue };
            let Ok(learner) = Validator::default().learner_override(&fields) else { continue };
            if self.inner.mastery.learner_override(title, email) != Some(learner) {
                self.inner.mastery.set_learner_override(title, email, Some(learner)).await?;
            }
        }
        // Settings a teacher took back through another server.
        for email in self.inner.mastery.learners_with_overrides(title) {
            if stored.binary_search_by(|(known, _)| known.as_str().cmp(&email)).is_err() {
                self.inner.mastery.set_learner_override(title, &email, None).await?;
            }
        }
        Ok(())
    }

    /// [`Server::sync_offered`] at most once a second, for requests that show or start quizzes: a
    /// quiz given or scheduled through another server is known here within a second. A store that
    /// cannot say is logged, and the request goes on with what this server knows.
    async fn catch_up(&self) {
        let mut synced = self.inner.synced.lock().await;
        let now = tokio::time::Instant::now();
        if synced.is_some_and(|at| now.duration_since(at) < Duration::from_secs(1)) {
            return;
        }
        if let Err(error) = self.sync_offered().await {
            tracing::warn!(%error, "cannot read the offered quizzes from the store");
        }
        *synced = Some(now);
    }

    /// Has this server's Proctor open `title` at `opens_at_ms` and close it at `closes_at_ms`.
    async fn schedule_here(&self, title: &str, opens_at_ms: u64, closes_at_ms: u64) -> Result<(), ApiError> {
        let entry = self.quiz(title).ok_or_else(|| ApiError::not_found(format!("no quiz titled {title:?}")))?;
        let now = self.now_ms();
        let at = |ms: u64| tokio::time::Instant::now() + Duration::from_millis(ms.saturating_sub(now));
        // A window set again replaces the old one, whose close must not remove the quiz.
        self.inner.mastery.unschedule_quiz(title).await.map_err(ApiError::mastery)?;
        // Closed until it opens: sessions of it started before the schedule go on until the close.
        self.inner.mastery.remove_quiz(title).await.map_err(ApiError::mastery)?;
        let server = self.clone();
        let notify: Notify = Arc::new(move |event| {
            if let ProctorEvent::Stopped { title, .. } = event {
                server.publish(&title, "time_up", || serde_json::json!({ "title": title }));
            }
        });
        self.inner
            .mastery
            .schedule_built_quiz(entry.quiz.clone(), at(opens_at_ms), at(closes_at_ms), Some(notify))
            .await
            .map_err(ApiError::mastery)?;
        if let Some(entry) = lock(&self.inner.quizzes).get_mut(title) {
            entry.window = Some((opens_at_ms, closes_at_ms));
        }
        Ok(())
    }

    /// Sends an event to whoever watches `title` now, here and (on a store with announcements) on
    /// every other server; `data` is built only when someone may watch, since every answer
    /// publishes one and most quizzes have no teacher watching.
    fn publish(&self, title: &str, kind: &str, data: impl FnOnce() -> serde_json::Value) {
        let sender = lock(&self.inner.events).get(title).filter(|sender| sender.receiver_count() > 0).cloned();
        if sender.is_none() && self.inner.announcer.is_none() {
            return;
        }
        let data = data();
        if let Some(sender) = sender {
            // A watcher gone in the meantime is no error.
            let _ = sender.send((kind.to_string(), data.to_string()));
        }
        // Every server closes a quiz itself, from the window they share: each tells its own
        // watchers that time is up, and none need hear it from another.
        if let Some(announcer) = self.inner.announcer.as_ref().filter(|_| kind != "time_up") {
            // Other servers' watchers hear it through the store, off the answer's path; when the
            // store falls behind, live views miss some progress rather than the server queueing
            // without bound.
            let origin = &self.inner.origin;
            let message = serde_json::json!({ "origin": origin, "title": title, "kind": kind, "data": data });
            let _ = announcer.try_send(message.to_string());
        }
    }

    fn subscribe(&self, title: &str) -> broadcast::Receiver<(String, String)> {
        lock(&self.inner.events).entry(title.to_string()).or_insert_with(|| broadcast::channel(1024).0).subscribe()
    }

    /// Takes (or resumes) the learner's session of `title` and gives its id, whether it was
    /// resumed and its deadline. A session already live in this server is the learner's open one.
    async fn take(&self, title: &str, email: &str) -> Result<(u64, bool, Option<Deadline>), ApiError> {
        let taken: Result<Taken, MasteryError> = self.inner.mastery.take_quiz(title, email).await;
        let (id, resumed, deadline) = match taken {
            Ok(taken) => (taken.session, taken.resumed.is_some(), taken.deadline),
            Err(MasteryError::AlreadyStarted { .. }) => {
                let status = self.inner.mastery.session_status(title, email).await.map_err(ApiError::mastery)?;
                (status.session, true, status.deadline)
            }
            Err(MasteryError::NoSuchQuiz(_)) => {
                return Err(ApiError::conflict(format!("the quiz {title:?} is not open")));
            }
            Err(error) => return Err(ApiError::mastery(error)),
        };
        self.remember(id, title, email, None);
        self.mark_live(id, true);
        self.publish(title, "joined", || serde_json::json!({ "email": email, "resumed": resumed }));
        Ok((id, resumed, deadline))
    }

    fn remember(&self, id: u64, title: &str, email: &str, ending: Option<SessionEnding>) {
        let mut sessions = lock(&self.inner.sessions);
        let entry = sessions.entry(id).or_insert_with(|| SessionEntry {
            title: title.to_string(),
            email: email.to_string(),
            ending,
            live: false,
            last_seen: tokio::time::Instant::now(),
            last_answer: None,
        });
        entry.last_seen = tokio::time::Instant::now();
        if ending.is_some() {
            entry.ending = ending;
        }
    }

    /// The session a token names: (id, quiz title, email, how it ended if it has).
    async fn session_of(&self, token: &str) -> Result<(u64, String, String, Option<SessionEnding>), ApiError> {
        let no_session = || ApiError::not_found("no such session: the token is unknown or was not made here");
        let id = self.inner.tokens.check(token).ok_or_else(no_session)?;
        if let Some(entry) = lock(&self.inner.sessions).get_mut(&id) {
            entry.last_seen = tokio::time::Instant::now();
            return Ok((id, entry.title.clone(), entry.email.clone(), entry.ending));
        }
        let record = self.inner.store.session(id).await.map_err(ApiError::store)?.ok_or_else(no_session)?;
        self.remember(id, &record.quiz_title, &record.email, record.ending);
        Ok((id, record.quiz_title, record.email, record.ending))
    }

    /// Makes sure session `id` is the learner's live one, rebuilding it by replay when this
    /// process does not hold it (a restart, another server, an idle release). Fails with 409 when
    /// it has ended.
    async fn live(&self, id: u64, title: &str, email: &str) -> Result<SessionStatus, ApiError> {
        let mastery = &self.inner.mastery;
        let status = match mastery.session_status(title, email).await {
            Ok(status) => status,
            Err(MasteryError::NoSession { .. } | MasteryError::SessionStopped { .. }) => {
                if let Some(ending) = self.stored_ending(id, title, email).await? {
                    return Err(ended(ending));
                }
                match mastery.take_quiz(title, email).await {
                    Ok(_) | Err(MasteryError::AlreadyStarted { .. }) => {}
                    Err(MasteryError::NoSuchQuiz(_)) => {
                        return Err(ApiError::conflict(format!("the quiz {title:?} is closed")));
                    }
                    Err(error) => return Err(ApiError::mastery(error)),
                }
                mastery.session_status(title, email).await.map_err(ApiError::mastery)?
            }
            Err(error) => return Err(ApiError::mastery(error)),
        };
        if status.session != id {
            return Err(ApiError::conflict("this session has ended: the learner has a newer one"));
        }
        self.mark_live(id, true);
        Ok(status)
    }

    /// How session `id` ended, as the store says (and this process then remembers); `None`
    /// while it is open.
    async fn stored_ending(&self, id: u64, title: &str, email: &str) -> Result<Option<SessionEnding>, ApiError> {
        let record = self.inner.store.session(id).await.map_err(ApiError::store)?;
        let ending = record.and_then(|record| record.ending);
        if ending.is_some() {
            self.remember(id, title, email, ending);
        }
        Ok(ending)
    }

    fn mark_live(&self, id: u64, live: bool) {
        if let Some(entry) = lock(&self.inner.sessions).get_mut(&id) {
            entry.live = live;
        }
    }

    /// Whether session `id` is known to be live in this process.
    fn known_live(&self, id: u64) -> bool {
        lock(&self.inner.sessions).get(&id).is_some_and(|entry| entry.live)
    }

    /// Lets sessions idle past `idle_after` go from memory; they stay open in the store.
    async fn release_idle_sessions(self) {
        let every = (self.inner.options.idle_after / 4).max(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let idle: Vec<(String, String)> = {
                let mut sessions = lock(&self.inner.sessions);
                let cutoff = tokio::time::Instant::now() - self.inner.options.idle_after;
                let mut idle = Vec::new();
                sessions.retain(|_, entry| {
                    let keep = entry.last_seen > cutoff;
                    if !keep && entry.ending.is_none() {
                        idle.push((entry.title.clone(), entry.email.clone()));
                    }
                    keep
                });
                idle
            };
            if !idle.is_empty() {
                let released = self.inner.mastery.release_sessions(&idle);
                tracing::info!(released, "idle sessions let go; they resume from the store");
            }
            // Pages that stopped listening leave their learner's channel behind.
            lock(&self.inner.learner_events).retain(|_, sender| sender.receiver_count() > 0);
        }
    }
}

fn ended(ending: SessionEnding) -> ApiError {
    let how = match ending {
        SessionEnding::Finished => "every template is mastered",
        SessionEnding::TimeUp => "time is up",
        SessionEnding::Stopped => "it was stopped",
        SessionEnding::Abandoned => "a new session replaced it",
    };
    ApiError::conflict(format!("this session has ended: {how}"))
}

/// A question as the API shows it: `{"template","category","instructions","asked"}`.
pub(crate) fn question_json(question: &QuestionView) -> serde_json::Value {
    serde_json::json!({
        "template": question.template(),
        "category": question.category(),
        "instructions": question.instructions(),
        "asked": question.asked(),
    })
}

/// Longest answer body: 1,000 characters of up to four bytes, in a small JSON object.
const ANSWER_BODY_LIMIT: usize = 8 * 1024;
/// Longest quiz file.
const QUIZ_BODY_LIMIT: usize = 256 * 1024;
/// Any other body.
const BODY_LIMIT: usize = 64 * 1024;

/// Every route of the server.
pub fn router(server: Server) -> Router {
    let api = Router::new()
        .route(
            "/api/quizzes",
            get(api::list_quizzes).post(api::upload_quiz).layer(DefaultBodyLimit::max(QUIZ_BODY_LIMIT)),
        )
        .route("/api/sessions", post(api::start_session))
        .route("/api/sessions/{token}", get(api::read_session))
        .route("/api/sessions/{token}/events", get(api::session_events))
        .route("/api/sessions/{token}/answers", post(api::answer).layer(DefaultBodyLimit::max(ANSWER_BODY_LIMIT)))
        .route("/api/quizzes/{title}/schedule", post(api::schedule))
        .route("/api/quizzes/{title}/roster", post(api::roster))
        .route("/api/quizzes/{title}/exam", post(api::exam))
        .route("/api/quizzes/{title}/overrides", post(api::learner_override))
        .route("/api/quizzes/{title}/sessions", get(api::sessions))
        .route("/api/quizzes/{title}/report", get(api::report))
        .route("/api/quizzes/{title}/events", get(api::events));
    let pages = pages::routes();
    api.merge(pages)
        .route_layer(axum::middleware::from_fn(http::log_request))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(http::refuse_cross_site))
        .fallback(api::not_found)
        .with_state(server)
}

/// How many connections may wait to be accepted. A class arriving at once (a synchronized start)
/// must not overflow the queue: the kernel then drops handshakes, and those learners wait a
/// second or more for a retransmission. tokio's `TcpListener::bind` asks for 1,024; the kernel
/// caps what is asked at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 8_192;

/// Listens on `address` (`HOST:PORT`; port 0 picks a free one) with a queue of
/// [`LISTEN_BACKLOG`] connections, trying each address the host resolves to.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let listener = mastery_server::listen("127.0.0.1:0").await?;
/// assert_ne!(listener.local_addr()?.port(), 0);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn listen(address: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut failed = None;
    for at in tokio::net::lookup_host(address).await? {
        let socket = if at.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        // As tokio's own bind does: a restarted server need not wait out old connections.
        socket.set_reuseaddr(true)?;
        match socket.bind(at).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(error) => failed = Some(error),
        }
    }
    Err(failed.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")))
}

/// Serves `server` on `listener` until `shutdown` completes; then ends the event streams, stops
/// taking connections and waits for the requests in flight (answers being stored among them).
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = server.clone();
    axum::serve(listener, router(server))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.stop_streams();
        })
        .await
}
