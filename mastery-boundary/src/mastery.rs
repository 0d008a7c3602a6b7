//! The `Mastery` API: the one door into the boundary.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mastery_core::{Deadline, LearnerOverride, Quiz, SessionEnding};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::MasteryError;
use crate::fields::{QuizFields, TemplateFields};
use crate::manager::{QuizManager, run_manager};
use crate::port::{Clock, NoPersistence, ResponsePort, SystemClock};
use crate::problem::{Problem, Problems};
use crate::proctor::{Notify, Proctor, ProctorParts, SessionNotify, run_proctor};
use crate::session::{Answered, SessionConfig, SessionStatus, SessionSupervisor, TakeOptions, Taken};
use crate::supervisor::{ChildSpec, RestartIntensity, Supervisor, SupervisorError};
use crate::validate::Validator;
use crate::view::QuestionView;

/// How a [`Mastery`] is built.
#[derive(Clone)]
pub struct MasteryConfig {
    /// Where responses are recorded (the book's persistence function).
    pub port: Arc<dyn ResponsePort>,
    /// Where response timestamps come from.
    pub clock: Arc<dyn Clock>,
    /// Validates untrusted fields.
    pub validator: Validator,
    /// How long a caller waits for a worker's reply (including for room in its mailbox).
    pub call_timeout: Option<Duration>,
    /// How long a session waits for the port to record a response.
    pub port_timeout: Duration,
    /// After a session withdraws a record whose time ran out, how long it waits for the port's
    /// final word (stored after all, or not) before it ends rather than guess.
    pub port_grace: Duration,
    /// Calls that may wait in one session's mailbox.
    pub session_mailbox: usize,
    /// Restarts of the manager or the Proctor allowed before the whole tree shuts down.
    pub restart_intensity: RestartIntensity,
    /// Longest answer accepted.
    pub max_answer_chars: usize,
}

impl Default for MasteryConfig {
    fn default() -> Self {
        let validator = Validator::default();
        MasteryConfig {
            port: Arc::new(NoPersistence),
            clock: Arc::new(SystemClock),
            // One limit for answers, whether a file's self-test or a session applies it.
            max_answer_chars: validator.limits().max_answer_chars,
            validator,
            call_timeout: Some(Duration::from_secs(5)),
            port_timeout: Duration::from_secs(10),
            port_grace: Duration::from_secs(2),
            session_mailbox: 4,
            restart_intensity: RestartIntensity::default(),
        }
    }
}

impl MasteryConfig {
    /// The default configuration recording responses through `port`.
    pub fn with_port(port: Arc<dyn ResponsePort>) -> Self {
        MasteryConfig { port, ..MasteryConfig::default() }
    }
}

/// The running system: quiz manager, session supervisor and Proctor under one supervisor.
///
/// Cheap to clone; every clone talks to the same workers.
///
/// ```
/// use mastery_boundary::{Mastery, MasteryConfig, Next};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mastery = Mastery::start(MasteryConfig::default());
/// mastery.install_quiz(mastery_core::examples::math_quiz()).await?;
/// mastery.take_quiz_seeded("Math", "learner@example.com", 7).await?;
/// let question = mastery.select_question("Math", "learner@example.com").await?.unwrap();
/// let answered = mastery.answer_question("Math", "learner@example.com", "not a number").await?;
/// assert_eq!(answered.verdict.kind(), "invalid");
/// assert!(matches!(answered.next, Next::Question(ref same) if same.asked() == question.asked()));
/// mastery.shutdown().await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Mastery {
    inner: Arc<Inner>,
}

struct Inner {
    manager: QuizManager,
    sessions: Arc<SessionSupervisor>,
    proctor: Proctor,
    validator: Validator,
    supervisor: Mutex<Option<Supervisor>>,
    seeds: SeedSource,
    session_notify: SessionNotify,
    clock: Arc<dyn crate::port::Clock>,
}

impl Mastery {
    /// Starts the workers under a supervisor. Must be called inside a tokio runtime.
    pub fn start(config: MasteryConfig) -> Mastery {
        let (manager, manager_inbox) = QuizManager::new(256, config.call_timeout);
        let (proctor, proctor_inbox) = Proctor::new(256, config.call_timeout);
        let (deadlines, deadline_inbox) = tokio::sync::mpsc::unbounded_channel();
        let deadline_inbox = Arc::new(Mutex::new(deadline_inbox));
        let session_notify = SessionNotify::default();
        let keep_clock = Arc::clone(&config.clock);
        let sessions = Arc::new(SessionSupervisor::new(SessionConfig {
            port: Arc::clone(&config.port),
            clock: Arc::clone(&config.clock),
            deadlines,
            call_timeout: config.call_timeout,
            port_timeout: config.port_timeout,
            port_grace: config.port_grace,
            mailbox: config.session_mailbox.max(1),
            max_answer_chars: config.max_answer_chars,
            coarse_clock: Arc::new(crate::coarse_clock::CoarseClock::new()),
        }));
        let children = {
            let sessions_child = Arc::clone(&sessions);
            let proctor_sessions = Arc::clone(&sessions);
            let proctor_manager = manager.clone();
            let quizzes = manager.quizzes();
            let (port, clock, notify) = (config.port, config.clock, Arc::clone(&session_notify));
            vec![
                ChildSpec::new("quiz manager", move |cancel| {
                    run_manager(Arc::clone(&manager_inbox), Arc::clone(&quizzes), cancel)
                }),
                ChildSpec::new("session supervisor", move |cancel| {
                    let sessions = Arc::clone(&sessions_child);
                    async move {
                        sessions.run_clock(&cancel).await;
                        sessions.shut_down().await;
                    }
                }),
                ChildSpec::new("proctor", move |cancel| {
                    let parts = ProctorParts {
                        manager: proctor_manager.clone(),
                        sessions: Arc::clone(&proctor_sessions),
                        port: Arc::clone(&port),
                        clock: Arc::clone(&clock),
                        notify: Arc::clone(&notify),
                    };
                    run_proctor(Arc::clone(&proctor_inbox), Arc::clone(&deadline_inbox), parts, cancel)
                }),
            ]
        };
        let supervisor = Supervisor::start(children, config.restart_intensity);
        Mastery {
            inner: Arc::new(Inner {
                manager,
                sessions,
                proctor,
                validator: config.validator,
                supervisor: Mutex::new(Some(supervisor)),
                seeds: SeedSource::default(),
                session_notify,
                clock: keep_clock,
            }),
        }
    }

    /// Validates quiz fields and adds the quiz (replacing one with the same title).
    pub async fn build_quiz(&self, fields: QuizFields) -> Result<(), MasteryError> {
        let quiz = self.inner.validator.quiz(&fields).map_err(MasteryError::Invalid)?;
        self.inner.manager.build_quiz(quiz).await
    }

    /// Adds a quiz built in Rust (its templates may use Rust generators and checkers).
    pub async fn install_quiz(&self, quiz: Quiz) -> Result<(), MasteryError> {
        self.inner.manager.build_quiz(quiz).await
    }

    /// Validates template fields and adds the template to the quiz titled `title`.
    pub async fn add_template(&self, title: &str, fields: TemplateFields) -> Result<(), MasteryError> {
        let valid = self.inner.validator.template(&fields).map_err(MasteryError::Invalid)?;
        self.inner.manager.add_template(title, valid.template).await
    }

    /// A copy of the quiz titled `title`.
    pub async fn lookup_quiz_by_title(&self, title: &str) -> Result<Option<Quiz>, MasteryError> {
        self.inner.manager.lookup_quiz_by_title(title).await
    }

    /// Removes the quiz titled `title`; its sessions carry on. `true` if it existed.
    pub async fn remove_quiz(&self, title: &str) -> Result<bool, MasteryError> {
        self.inner.manager.remove_quiz(title).await
    }

    /// Takes the quiz for `email`: resumes the learner's open session if the port kept one of
    /// this quiz version, else starts a new one with a fresh random seed.
    pub async fn take_quiz(&self, title: &str, email: &str) -> Result<Taken, MasteryError> {
        self.take_quiz_with(title, email, TakeOptions { seed: self.inner.seeds.next(), restart: false }).await
    }

    /// Like [`Mastery::take_quiz`], drawing a new session's questions from `seed`: the same seed
    /// and the same answers give the same questions.
    pub async fn take_quiz_seeded(&self, title: &str, email: &str, seed: u64) -> Result<Taken, MasteryError> {
        self.take_quiz_with(title, email, TakeOptions { seed, restart: false }).await
    }

    /// Takes the quiz as `options` say: with `restart`, an open session is abandoned, not resumed.
    ///
    /// A stored session is resumed by replaying its answers through the core with its seed: the
    /// same current question, streaks and next questions. One that cannot be (the quiz changed,
    /// or its history no longer replays) is ended as abandoned, and [`Taken::abandoned`] says why.
    pub async fn take_quiz_with(&self, title: &str, email: &str, options: TakeOptions) -> Result<Taken, MasteryError> {
        validate_email(email)?;
        let quiz = self
            .inner
            .manager
            .lookup_quiz_by_title(title)
            .await?
            .ok_or_else(|| MasteryError::NoSuchQuiz(title.to_string()))?;
        self.inner.sessions.start(quiz, Arc::from(email), options).await
    }

    /// Picks the session's next question (abandoning an unanswered one); `None` when the quiz is
    /// finished, which also ends the session.
    pub async fn select_question(&self, title: &str, email: &str) -> Result<Option<QuestionView>, MasteryError> {
        self.inner.sessions.select_question(title, email).await
    }

    /// Answers the current question. The response is recorded first; only then does the quiz move.
    pub async fn answer_question(&self, title: &str, email: &str, answer: &str) -> Result<Answered, MasteryError> {
        self.inner.sessions.answer_question(title, email, answer).await
    }

    /// Validates a quiz and its templates and has the Proctor open it at `start_at` and close it
    /// at `end_at`.
    pub async fn schedule_quiz(
        &self,
        fields: QuizFields,
        templates: Vec<TemplateFields>,
        start_at: Instant,
        end_at: Instant,
        notify: Option<Notify>,
    ) -> Result<(), MasteryError> {
        let valid = self.inner.validator.quiz_with_templates(&fields, &templates).map_err(MasteryError::Invalid)?;
        self.schedule_built_quiz(valid.quiz, start_at, end_at, notify).await
    }

    /// Schedules a quiz built in Rust.
    pub async fn schedule_built_quiz(
        &self,
        quiz: Quiz,
        start_at: Instant,
        end_at: Instant,
        notify: Option<Notify>,
    ) -> Result<(), MasteryError> {
        self.inner.proctor.schedule(quiz, start_at, end_at, notify).await
    }

    /// Gives a learner their own exam settings for the quiz titled `title` (extra time, another
    /// window), or with `None` takes them back. They apply when the learner starts; a session
    /// already running gets its new deadline at once (stored before this returns), which this
    /// gives (`None` when the learner has no live session here, or no deadline).
    pub async fn set_learner_override(
        &self,
        title: &str,
        email: &str,
        learner: Option<LearnerOverride>,
    ) -> Result<Option<Deadline>, MasteryError> {
        validate_email(email)?;
        self.inner.sessions.set_learner_override(title, email, learner).await
    }

    /// The learner's own exam settings for the quiz titled `title`, if they have any.
    pub fn learner_override(&self, title: &str, email: &str) -> Option<LearnerOverride> {
        self.inner.sessions.learner_override(title, email)
    }

    /// Has the Proctor end the stored session `session` (of `title` and `email`) as `time_up`
    /// when `deadline` closes, though no session of this process holds it: a server that starts
    /// watches the exam sessions open in its store, so that none outlives its deadline because
    /// the server that held it stopped. Should the learner come back here first, their live
    /// session takes the watch over.
    pub fn watch_stored_session(&self, title: &str, email: &str, session: u64, deadline: Deadline) {
        self.inner.sessions.watch_stored(title, email, session, deadline);
    }

    /// The learners of the quiz titled `title` with exam settings of their own, sorted.
    pub fn learners_with_overrides(&self, title: &str) -> Vec<String> {
        self.inner.sessions.learners_with_overrides(title)
    }

    /// Has the Proctor tell `notify` of every exam session's deadline as it passes (time up,
    /// grace over, idle): [`ProctorEvent::SessionOverdue`], [`ProctorEvent::SessionTimeUp`] and
    /// [`ProctorEvent::SessionIdle`]. Replaces the one set before.
    ///
    /// [`ProctorEvent::SessionOverdue`]: crate::ProctorEvent::SessionOverdue
    /// [`ProctorEvent::SessionTimeUp`]: crate::ProctorEvent::SessionTimeUp
    /// [`ProctorEvent::SessionIdle`]: crate::ProctorEvent::SessionIdle
    pub fn on_session_deadlines(&self, notify: Notify) {
        *self.inner.session_notify.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(notify);
    }

    /// The time by the clock sessions and deadlines are kept by (the one in [`MasteryConfig`]):
    /// front ends showing time left use it, so that they agree with the Proctor.
    pub fn now(&self) -> mastery_core::Timestamp {
        self.inner.clock.now()
    }

    /// Has the Proctor forget the schedule of the quiz titled `title`: it stays as it is now
    /// (installed or not) and no longer opens or closes at the times given before. `true` if it
    /// had one. A quiz replaced with a window cleared needs this, or the old close would still
    /// remove it.
    pub async fn unschedule_quiz(&self, title: &str) -> Result<bool, MasteryError> {
        self.inner.proctor.unschedule(title).await
    }

    /// Emails with a live session of the quiz, sorted.
    pub fn active_sessions_for(&self, title: &str) -> Vec<String> {
        self.inner.sessions.active_sessions_for(title)
    }

    /// Where the learner's live session stands — its question, what is mastered — without
    /// changing it: reading never draws a new question.
    pub async fn session_status(&self, title: &str, email: &str) -> Result<SessionStatus, MasteryError> {
        self.inner.sessions.status(title, email).await
    }

    /// Lets the sessions named by `(title, email)` go from memory without ending them (idle ones,
    /// say): they stay open in the store and the next take resumes them. Returns how many were live.
    pub fn release_sessions(&self, keys: &[(String, String)]) -> usize {
        self.inner.sessions.release_sessions(keys)
    }

    /// Ends the sessions named by `(title, email)` as stopped; returns how many were live.
    pub fn end_sessions(&self, keys: &[(String, String)]) -> usize {
        self.inner.sessions.end_sessions(keys, SessionEnding::Stopped)
    }

    /// Ends every session of the quiz titled `title` as stopped; returns how many were live.
    pub fn end_sessions_for(&self, title: &str) -> usize {
        self.inner.sessions.end_sessions_for(title, SessionEnding::Stopped)
    }

    /// Live sessions across every quiz.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// Session tasks still running (a session whose entry is gone may still be finishing a call).
    pub fn running_session_tasks(&self) -> usize {
        self.inner.sessions.running_tasks()
    }

    /// Stops the Proctor, every session and the manager, in that order, and joins them. Reports
    /// whether the supervisor had given up earlier.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        let supervisor = self.inner.supervisor.lock().await.take();
        match supervisor {
            Some(supervisor) => supervisor.shutdown().await,
            None => Ok(()),
        }
    }
}

/// Per-session seeds when the caller gives none: random per process, distinct per session.
struct SeedSource {
    base: u64,
    counter: AtomicU64,
}

impl Default for SeedSource {
    fn default() -> Self {
        SeedSource { base: RandomState::new().hash_one(std::process::id()), counter: AtomicU64::new(0) }
    }
}

impl SeedSource {
    fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.base ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// An email is untrusted: it must look like one and be of sane length.
pub fn validate_email(email: &str) -> Result<(), MasteryError> {
    let invalid = |message: String| Err(MasteryError::Invalid(Problems(vec![Problem::new("email", message)])));
    if email.trim().is_empty() {
        return invalid("email must not be blank".into());
    }
    if email.chars().count() > 254 {
        return invalid(format!("email must be at most 254 characters, got {}", email.chars().count()));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid(format!("email must not contain spaces or control characters, got {email:?}"));
    }
    match email.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(()),
        _ => invalid(format!("email must look like name@domain, got {email:?}")),
    }
}
