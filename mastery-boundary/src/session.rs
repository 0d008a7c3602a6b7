//! Quiz sessions: one worker per (quiz title, email), started by a dynamic supervisor and found
//! through the registry.
//!
//! A session is *temporary*: when it finishes, is ended or panics it is removed from the registry
//! and never restarted; other sessions carry on, and its caller gets a typed error at once (the
//! dropped reply), never a hang.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::Poll;
use std::time::Duration;

use mastery_core::{
    Deadline, LearnerOverride, NotOpen, Quiz, Response, Reveal, Session, SessionEnding, StoredAnswer, Timestamp,
    Timing, Verdict,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::coarse_clock::{CoarseClock, TICK};
use crate::error::MasteryError;
use crate::port::{
    Clock, LatestSession, OpenSession, Place, PortFuture, RecordError, ResponsePort, SessionStart, Withdrawal,
};
use crate::proctor::{DeadlineMail, Watch};
use crate::registry::{Entry, Registry};
use crate::view::{Progress, QuestionView};

/// A message to a session, boxed: every session's mailbox reserves a block of 32 slots up front,
/// so each byte of the slot costs 32 bytes of every idle session. A box is one pointer.
pub(crate) type Mail = Box<SessionCall>;

/// What a session is asked to do.
///
/// Each call carries its deadline on the coarse clock ([`NO_DEADLINE`] for none). The worker enforces it — a call that waited past it is refused, and the port is
/// given only the time left — so the caller needs no timer of its own and still never waits
/// without bound.
pub(crate) enum SessionCall {
    Select(u64, oneshot::Sender<Result<Option<QuestionView>, MasteryError>>),
    Answer(u64, Box<str>, oneshot::Sender<Result<Answered, MasteryError>>),
    /// The session is ended from outside (the quiz closed, or it was stopped): store how, then stop.
    End(SessionEnding),
    /// Where the session stands, without changing it.
    Status(u64, oneshot::Sender<Result<SessionStatus, MasteryError>>),
    /// The learner's own exam settings changed (extra time while the exam runs): work out the
    /// deadline again from when the session started, store it, and give it.
    Reschedule(u64, Box<Option<LearnerOverride>>, oneshot::Sender<Result<Option<Deadline>, MasteryError>>),
}

/// Where a live session stands: read without changing anything.
#[derive(Debug, Clone)]
pub struct SessionStatus {
    /// The session's id in the store.
    pub session: u64,
    /// The question waiting for an answer; `None` when the quiz is finished, or when no question
    /// could be drawn (selecting one draws again).
    pub question: Option<QuestionView>,
    /// Templates mastered, in the order they were mastered.
    pub mastered: Vec<String>,
    /// Templates in the quiz.
    pub templates: usize,
    /// The learner's deadline, for an exam.
    pub deadline: Option<Deadline>,
}

/// What taking a quiz did: a new session, or an open one resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The session's id in the store.
    pub session: u64,
    /// Answers replayed when an open session was resumed; `None` for a new session.
    pub resumed: Option<usize>,
    /// An open session that was given up for this one, and why.
    pub abandoned: Option<Abandoned>,
    /// Templates mastered so far (none in a new session).
    pub progress: Progress,
    /// The learner's deadline, for an exam: kept from the session's start when it is resumed.
    pub deadline: Option<Deadline>,
}

/// An open session that was not resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    /// Its id.
    pub session: u64,
    /// Why it was not resumed, for the learner.
    pub reason: String,
}

/// How to take a quiz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakeOptions {
    /// The seed of a new session (a resumed one keeps its own).
    pub seed: u64,
    /// Abandon an open session rather than resume it.
    pub restart: bool,
}

/// The deadline of a call that has none.
pub(crate) const NO_DEADLINE: u64 = u64::MAX;

/// What answering did.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The question answered.
    pub question: QuestionView,
    /// The checker's verdict.
    pub verdict: Verdict,
    /// The template's streak after this answer (`mastery` on the answer that masters it).
    pub streak: u32,
    /// Whether this answer mastered the template.
    pub mastered: bool,
    /// Templates mastered so far, of how many.
    pub progress: Progress,
    /// Whether the answer came after the learner's time was up, in the exam's grace period: it is
    /// stored and counted, and reports show it as overdue.
    pub overdue: bool,
    /// The answer that was expected: only after an incorrect answer, and only in a quiz that
    /// reveals answers ([`mastery_core::Reveal::AfterIncorrect`]).
    pub expected: Option<String>,
    /// What comes next.
    pub next: Next,
}

/// What follows an answer.
#[derive(Debug, Clone)]
pub enum Next {
    /// The next question — the same one again after an invalid answer.
    Question(QuestionView),
    /// Every template is mastered; the session has ended.
    Finished,
    /// The answer is stored and counted, but the next question could not be made (a generator
    /// failed). The session goes on: asking for a question draws again.
    Failed(MasteryError),
}

/// How sessions behave; shared by every session through one `Arc`.
pub(crate) struct SessionConfig {
    pub(crate) port: Arc<dyn ResponsePort>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) port_timeout: Duration,
    pub(crate) port_grace: Duration,
    pub(crate) mailbox: usize,
    pub(crate) max_answer_chars: usize,
    pub(crate) coarse_clock: Arc<CoarseClock>,
    /// Where exam sessions are handed to the Proctor to watch.
    pub(crate) deadlines: mpsc::UnboundedSender<DeadlineMail>,
}

/// The dynamic supervisor of sessions: starts them, tracks their tasks, ends them.
pub(crate) struct SessionSupervisor {
    registry: Arc<Registry>,
    tasks: TaskTracker,
    next_id: AtomicU64,
    config: Arc<SessionConfig>,
    /// Learners' own exam settings, by quiz title then email.
    overrides: RwLock<HashMap<String, HashMap<String, LearnerOverride>>>,
}

impl SessionSupervisor {
    pub(crate) fn new(config: SessionConfig) -> Self {
        SessionSupervisor {
            registry: Arc::default(),
            tasks: TaskTracker::new(),
            // From 1: 0 names a session watched from the store, which is never live here.
            next_id: AtomicU64::new(1),
            config: Arc::new(config),
            overrides: RwLock::default(),
        }
    }

    /// Starts a session of `quiz` for `email`: the learner's open session resumed by replay when
    /// it has the quiz's version, else a new one drawn from `options.seed`. The session is stored
    /// before this returns, so before its first question is shown.
    pub(crate) async fn start(&self, quiz: Quiz, email: Arc<str>, options: TakeOptions) -> Result<Taken, MasteryError> {
        if self.tasks.is_closed() {
            return Err(MasteryError::ShutDown);
        }
        let title = Arc::clone(quiz.shared_title());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (mailbox, inbox) = mpsc::channel(self.config.mailbox);
        if !self.registry.insert(&title, &email, Entry { id, mailbox }) {
            return Err(MasteryError::AlreadyStarted { title: title.to_string(), email: email.to_string() });
        }
        // From here the entry is held by the guard: an error, or a caller who stops waiting,
        // removes it again.
        let guard = RegistryGuard { registry: Arc::clone(&self.registry), title, email: Arc::clone(&email), id };
        let (session, taken, position, started_at) = self.open(quiz, &email, options).await?;
        let span = tracing::info_span!("session", quiz = %guard.title, email = %email, id = taken.session);
        let exam = session.quiz().exam().copied();
        // Only a session the Proctor may end for idleness keeps when its learner last answered.
        let idle_limit = exam.and_then(|exam| exam.idle_limit);
        let last_active = idle_limit.map(|_| Arc::new(AtomicU64::new(self.config.clock.now().as_millis())));
        let worker = SessionWorker {
            session,
            email,
            id: taken.session,
            position,
            config: Arc::clone(&self.config),
            exam: exam.map(|_| Box::new(ExamClock { started_at, deadline: taken.deadline, last_active })),
            guard,
        };
        if idle_limit.is_some() || taken.deadline.is_some() {
            worker.watch(idle_limit);
        }
        self.tasks.spawn(worker.run(inbox).instrument(span));
        Ok(taken)
    }

    /// The learner's own exam settings for the quiz titled `title`.
    pub(crate) fn learner_override(&self, title: &str, email: &str) -> Option<LearnerOverride> {
        let overrides = self.overrides.read().unwrap_or_else(PoisonError::into_inner);
        overrides.get(title).and_then(|learners| learners.get(email)).copied()
    }

    /// Has the Proctor end a stored session nobody holds when its deadline passes.
    pub(crate) fn watch_stored(&self, title: &str, email: &str, session: u64, deadline: Deadline) {
        let watch = Watch {
            title: Arc::from(title),
            email: Arc::from(email),
            session,
            // Registry ids start at 1: this session is ended in the store, never a live one.
            registry_id: 0,
            deadline: Some(deadline),
            idle_limit: None,
            last_active: Arc::new(AtomicU64::new(self.config.clock.now().as_millis())),
        };
        let _ = self.config.deadlines.send(DeadlineMail::Watch(Box::new(watch)));
    }

    /// The learners of the quiz titled `title` with exam settings of their own, sorted.
    pub(crate) fn learners_with_overrides(&self, title: &str) -> Vec<String> {
        let overrides = self.overrides.read().unwrap_or_else(PoisonError::into_inner);
        let mut emails: Vec<String> =
            overrides.get(title).map(|learners| learners.keys().cloned().collect()).unwrap_or_default();
        emails.sort();
        emails
    }

    /// Sets (or, with `None`, clears) a learner's own exam settings; a live session of theirs
    /// gets its new deadline at once, stored before this returns.
    pub(crate) async fn set_learner_override(
        &self,
        title: &str,
        email: &str,
        learner: Option<LearnerOverride>,
    ) -> Result<Option<Deadline>, MasteryError> {
        {
            let mut overrides = self.overrides.write().unwrap_or_else(PoisonError::into_inner);
            match learner {
                Some(learner) => {
                    overrides.entry(title.to_string()).or_default().insert(email.to_string(), learner);
                }
                None => {
                    if let Some(learners) = overrides.get_mut(title) {
                        learners.remove(email);
                    }
                }
            }
        }
        match self
            .call(title, email, |deadline, reply| Box::new(SessionCall::Reschedule(deadline, Box::new(learner), reply)))
            .await
        {
            Ok(rescheduled) => rescheduled,
            // No live session: the settings apply when the learner starts or resumes.
            Err(MasteryError::NoSession { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Resumes the learner's open session, or abandons it and stores a new one. An exam also
    /// checks the learner's window and allows one attempt.
    async fn open(
        &self,
        quiz: Quiz,
        email: &str,
        options: TakeOptions,
    ) -> Result<(Session, Taken, u64, Timestamp), MasteryError> {
        let port = &self.config.port;
        let now = self.config.clock.now();
        let (open, ended) = match self.port_call(port.latest_session(quiz.title(), email)).await? {
            Some(LatestSession::Open(open)) => (Some(open), None),
            Some(LatestSession::Ended(ended)) => (None, Some(ended)),
            None => (None, None),
        };
        let exam = quiz.exam().copied();
        let learner = exam.and_then(|_| self.learner_override(quiz.title(), email));
        let mut abandoned = None;
        if let Some(open) = open {
            if exam.is_some() && options.restart {
                let problem = crate::Problem::new("restart", "an exam cannot be restarted: it allows one attempt");
                return Err(MasteryError::Invalid(crate::Problems(vec![problem])));
            }
            let replayed = match options.restart {
                true => Err("the learner asked to start again".to_string()),
                false => resume(&quiz, email, &open),
            };
            match replayed {
                Ok(session) => {
                    let answers = open.answers.len();
                    let progress = progress_of(session.quiz());
                    let deadline = open.deadline;
                    if let Some(deadline) = deadline.filter(|deadline| deadline.timing(now) == Timing::Closed) {
                        let ending = port.end_session(open.id, SessionEnding::TimeUp, now, None);
                        self.port_call(ending).await?;
                        return Err(self.time_up(quiz.title(), email, deadline));
                    }
                    let taken = Taken { session: open.id, resumed: Some(answers), abandoned: None, progress, deadline };
                    return Ok((session, taken, answers as u64, open.started_at));
                }
                Err(reason) => {
                    let ending = port.end_session(open.id, SessionEnding::Abandoned, now, Some(reason.clone()));
                    self.port_call(ending).await?;
                    abandoned = Some(Abandoned { session: open.id, reason });
                }
            }
        }
        let mut deadline = None;
        if let Some(exam) = exam {
            exam.may_start(now, learner.as_ref()).map_err(|not_open| {
                let (opens_at, closed_at) = match not_open {
                    NotOpen::NotYet { opens_at } => (Some(opens_at), None),
                    NotOpen::Closed { closed_at } => (None, Some(closed_at)),
                };
                MasteryError::NotOpen { title: quiz.title().to_string(), email: email.to_string(), opens_at, closed_at }
            })?;
            // One attempt: a learner whose timed session ended (finished, time up, idle, stopped)
            // does not get a fresh clock by starting again.
            if let Some(ended) = ended.filter(|ended| ended.timed) {
                return Err(MasteryError::AttemptUsed {
                    title: quiz.title().to_string(),
                    email: email.to_string(),
                    ending: ended.ending,
                });
            }
            deadline = exam.deadline(now, learner.as_ref());
        }
        let start =
            SessionStart { title: quiz.title(), version: quiz.version(), email, seed: options.seed, at: now, deadline };
        let id = self.port_call(port.start_session(start)).await?;
        let progress = progress_of(&quiz);
        let taken = Taken { session: id, resumed: None, abandoned, progress, deadline };
        Ok((Session::new(quiz, options.seed), taken, 0, now))
    }

    fn time_up(&self, title: &str, email: &str, deadline: Deadline) -> MasteryError {
        MasteryError::TimeUp { title: title.to_string(), email: email.to_string(), closed_at: deadline.closes_at }
    }

    /// Waits for a port's session call, as long as the port is given for a response.
    async fn port_call<T>(&self, call: PortFuture<T>) -> Result<T, MasteryError> {
        match tokio::time::timeout(self.config.port_timeout, call).await {
            Ok(result) => result.map_err(MasteryError::NotRecorded),
            Err(_) => Err(MasteryError::NotRecorded(RecordError::unavailable(format!(
                "the store did not answer within {:?}",
                self.config.port_timeout
            )))),
        }
    }

    pub(crate) async fn select_question(&self, title: &str, email: &str) -> Result<Option<QuestionView>, MasteryError> {
        self.call(title, email, |deadline, reply| Box::new(SessionCall::Select(deadline, reply))).await?
    }

    pub(crate) async fn status(&self, title: &str, email: &str) -> Result<SessionStatus, MasteryError> {
        self.call(title, email, |deadline, reply| Box::new(SessionCall::Status(deadline, reply))).await?
    }

    /// Lets the named sessions go without ending them: each stops after the calls already sent,
    /// and stays open in the store, to be resumed by the next take.
    pub(crate) fn release_sessions(&self, keys: &[(String, String)]) -> usize {
        keys.iter().filter_map(|(title, email)| self.registry.remove(title, email)).count()
    }

    pub(crate) async fn answer_question(
        &self,
        title: &str,
        email: &str,
        answer: &str,
    ) -> Result<Answered, MasteryError> {
        let limit = self.config.max_answer_chars;
        if answer.len() > limit && answer.chars().count() > limit {
            let problem = crate::Problem::new("answer", format!("answer must be at most {limit} characters"));
            return Err(MasteryError::Invalid(crate::Problems(vec![problem])));
        }
        // No text a person types holds a NUL, and some stores (PostgreSQL) cannot keep one.
        if answer.contains('\0') {
            let problem = crate::Problem::new("answer", "answer must not contain a NUL character");
            return Err(MasteryError::Invalid(crate::Problems(vec![problem])));
        }
        let answer: Box<str> = answer.into();
        self.call(title, email, |deadline, reply| Box::new(SessionCall::Answer(deadline, answer, reply))).await?
    }

    async fn call<R>(
        &self,
        title: &str,
        email: &str,
        message: impl FnOnce(u64, oneshot::Sender<R>) -> Mail,
    ) -> Result<R, MasteryError> {
        let (reply, replied) = oneshot::channel();
        let stopped = || MasteryError::SessionStopped { title: title.into(), email: email.into() };
        let timeout = self.config.call_timeout;
        // Sending under the shard's lock saves cloning the mailbox on the common path.
        let waiting = self
            .registry
            .with(title, email, |entry| {
                let deadline = timeout.map_or(NO_DEADLINE, |t| self.deadline_after(t));
                match entry.mailbox.try_send(message(deadline, reply)) {
                    Ok(()) => Ok(None),
                    Err(mpsc::error::TrySendError::Full(message)) => Ok(Some((entry.mailbox.clone(), message))),
                    Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
                }
            })
            .ok_or_else(|| MasteryError::NoSession { title: title.into(), email: email.into() })?
            .map_err(|()| stopped())?;
        // No timer here: the worker answers every call by its deadline, or drops it by stopping.
        if let Some((mailbox, message)) = waiting {
            mailbox.send(message).await.map_err(|_| stopped())?;
        }
        replied.await.map_err(|_| stopped())
    }

    /// A deadline `timeout` from now on the coarse clock, a tick late rather than early.
    fn deadline_after(&self, timeout: Duration) -> u64 {
        let timeout = u64::try_from((timeout + TICK).as_millis()).unwrap_or(u64::MAX);
        self.config.coarse_clock.now_ms().saturating_add(timeout).min(NO_DEADLINE - 1)
    }

    /// Advances the sessions' coarse clock until cancelled.
    pub(crate) async fn run_clock(&self, cancel: &tokio_util::sync::CancellationToken) {
        self.config.coarse_clock.run(cancel).await;
    }

    /// Emails with a live session of `title`, sorted.
    pub(crate) fn active_sessions_for(&self, title: &str) -> Vec<String> {
        self.registry.emails_for(title)
    }

    /// Ends the named sessions as `ending`: each finishes the calls already sent, stores its
    /// ending, then stops.
    pub(crate) fn end_sessions(&self, keys: &[(String, String)], ending: SessionEnding) -> usize {
        let ended: Vec<Entry> = keys.iter().filter_map(|(title, email)| self.registry.remove(title, email)).collect();
        tell_ending(ended, ending)
    }

    /// Ends the learner's session if it is still the one registered as `registry_id`; `false`
    /// when it is not live here (ended, let go, or replaced by a newer one).
    pub(crate) fn end_session_if(&self, title: &str, email: &str, registry_id: u64, ending: SessionEnding) -> bool {
        match self.registry.remove_id(title, email, registry_id) {
            Some(entry) => tell_ending(vec![entry], ending) == 1,
            None => false,
        }
    }

    /// Ends every session of `title` as `ending`, returning how many there were.
    pub(crate) fn end_sessions_for(&self, title: &str, ending: SessionEnding) -> usize {
        tell_ending(self.registry.drain(Some(title)), ending)
    }

    /// Live sessions.
    pub(crate) fn len(&self) -> usize {
        self.registry.len()
    }

    /// Ends every session, refuses new ones, and waits until every session task has stopped.
    pub(crate) async fn shut_down(&self) {
        self.tasks.close();
        drop(self.registry.drain(None));
        self.tasks.wait().await;
    }

    /// Session tasks still running.
    pub(crate) fn running_tasks(&self) -> usize {
        self.tasks.len()
    }
}

/// Sends each ended session its ending, behind the calls already in its mailbox.
fn tell_ending(ended: Vec<Entry>, ending: SessionEnding) -> usize {
    let count = ended.len();
    for entry in ended {
        match entry.mailbox.try_send(Box::new(SessionCall::End(ending))) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            // Without a runtime the session stops when its mailbox closes, its ending unstored:
            // it stays open, to be resumed.
            Err(mpsc::error::TrySendError::Full(message)) => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    drop(runtime.spawn(async move { entry.mailbox.send(message).await }));
                }
            }
        }
    }
    count
}

fn progress_of(quiz: &Quiz) -> Progress {
    Progress { mastered: quiz.mastered_count(), templates: quiz.template_count() }
}

/// Rebuilds an open session by replay, or says why it cannot be resumed.
fn resume(quiz: &Quiz, email: &str, open: &OpenSession) -> Result<Session, String> {
    let Some(seed) = open.seed else {
        return Err("it was stored before sessions kept their seed, so it cannot be rebuilt".into());
    };
    match open.version.as_deref() {
        Some(version) if version == quiz.version() => {}
        Some(version) => {
            return Err(format!(
                "the quiz has changed since it was started (version {version} then, {} now)",
                quiz.version()
            ));
        }
        None => return Err("it was stored before quiz versions were kept".into()),
    }
    let answers = open.answers.iter().map(|turn| StoredAnswer {
        template: &turn.template,
        asked: &turn.asked,
        answer: &turn.answer,
        verdict: &turn.verdict,
        at: turn.at,
    });
    Session::resume(quiz.clone(), seed, email, answers).map_err(|error| error.to_string())
}

/// Removes the session's registry entry when its task ends — normally or by a panic.
struct RegistryGuard {
    registry: Arc<Registry>,
    title: Arc<str>,
    email: Arc<str>,
    id: u64,
}

impl Drop for RegistryGuard {
    fn drop(&mut self) {
        self.registry.remove_if(&self.title, &self.email, self.id);
        if std::thread::panicking() {
            tracing::error!(quiz = %self.title, email = %self.email, "session panicked; it is not restarted");
        }
    }
}

struct SessionWorker {
    session: Session,
    email: Arc<str>,
    /// The session's id in the store.
    id: u64,
    /// Answers stored so far: the next answer's position.
    position: u64,
    config: Arc<SessionConfig>,
    /// What an exam session keeps beyond a practice one.
    exam: Option<Box<ExamClock>>,
    guard: RegistryGuard,
}

/// What an exam session keeps beyond a practice one: boxed, so that a practice session pays one
/// pointer for it.
struct ExamClock {
    /// When the session started (an exam's time limit counts from then).
    started_at: Timestamp,
    /// The learner's deadline, if the exam bounds the attempt.
    deadline: Option<Deadline>,
    /// When the learner last answered, for the Proctor's idle check (exams with an idle limit).
    last_active: Option<Arc<AtomicU64>>,
}

impl SessionWorker {
    async fn run(mut self, mut inbox: mpsc::Receiver<Mail>) {
        tracing::debug!("session started");
        while let Some(call) = inbox.recv().await {
            let finished = match *call {
                SessionCall::Select(deadline, reply) => {
                    let selected = match self.expired(deadline) {
                        Some(expired) => Err(expired),
                        None => self.session.question().map(|q| q.map(QuestionView::new)).map_err(Into::into),
                    };
                    let finished = matches!(selected, Ok(None));
                    self.deregister_if(finished);
                    if finished {
                        self.store_ending(SessionEnding::Finished).await;
                        self.unwatch();
                    }
                    let _ = reply.send(selected);
                    finished
                }
                SessionCall::Answer(deadline, answer, reply) => {
                    let answered = match self.expired(deadline) {
                        Some(expired) => Err(expired),
                        // Boxed: the answer's state (response, port future, timer) would otherwise be
                        // reserved inside every idle session's task.
                        None => Box::pin(self.answer(answer, deadline)).await,
                    };
                    let finished = matches!(answered, Ok(Answered { next: Next::Finished, .. }));
                    let time_up = matches!(answered, Err(MasteryError::TimeUp { .. }));
                    let ends = finished || time_up || matches!(answered, Err(MasteryError::RecordUnknown { .. }));
                    self.deregister_if(ends);
                    if finished {
                        // Stored before the learner hears "finished": whoever reads the store
                        // then finds the session ended.
                        self.store_ending(SessionEnding::Finished).await;
                    }
                    if time_up {
                        self.store_ending(SessionEnding::TimeUp).await;
                    }
                    if ends {
                        self.unwatch();
                    }
                    let _ = reply.send(answered);
                    ends
                }
                SessionCall::Status(deadline, reply) => {
                    let status = match self.expired(deadline) {
                        Some(expired) => Err(expired),
                        None => {
                            let quiz = self.session.quiz();
                            Ok(SessionStatus {
                                session: self.id,
                                question: quiz.current_question().map(|q| QuestionView::new(Arc::clone(q))),
                                mastered: quiz.mastered().map(String::from).collect(),
                                templates: quiz.template_count(),
                                deadline: self.deadline(),
                            })
                        }
                    };
                    let _ = reply.send(status);
                    false
                }
                SessionCall::Reschedule(deadline, learner, reply) => {
                    let rescheduled = match self.expired(deadline) {
                        Some(expired) => Err(expired),
                        // Boxed, as an answer is: rare, and not to be reserved in every idle task.
                        None => Box::pin(self.reschedule(*learner)).await,
                    };
                    let _ = reply.send(rescheduled);
                    false
                }
                SessionCall::End(ending) => {
                    self.store_ending(ending).await;
                    self.unwatch();
                    tracing::info!(ending = ending.as_str(), "session ended");
                    return;
                }
            };
            if finished {
                match self.session.quiz().is_finished() {
                    true => tracing::info!("session finished: every template mastered"),
                    false if self.deadline().is_some_and(|d| d.timing(self.config.clock.now()) == Timing::Closed) => {
                        tracing::info!("session ended: time is up")
                    }
                    false => tracing::error!("session ended: the store's outcome for an answer is unknown"),
                }
                return;
            }
        }
        tracing::info!("session ended");
    }

    /// The learner's deadline, for an exam that bounds the attempt.
    fn deadline(&self) -> Option<Deadline> {
        self.exam.as_ref().and_then(|exam| exam.deadline)
    }

    /// Hands the session to the Proctor, which ends it at its deadline or when it has been idle
    /// for `idle_limit`.
    fn watch(&self, idle_limit: Option<Duration>) {
        let watch = Watch {
            title: Arc::clone(&self.guard.title),
            email: Arc::clone(&self.email),
            session: self.id,
            registry_id: self.guard.id,
            deadline: self.deadline(),
            idle_limit,
            last_active: self
                .exam
                .as_ref()
                .and_then(|exam| exam.last_active.clone())
                .unwrap_or_else(|| Arc::new(AtomicU64::new(0))),
        };
        // A Proctor that is gone (shutting down) has nothing left to end.
        let _ = self.config.deadlines.send(DeadlineMail::Watch(Box::new(watch)));
    }

    fn unwatch(&self) {
        // Only exam sessions are watched; telling the Proctor of one it never watched is harmless.
        if self.exam.is_some() {
            let _ = self.config.deadlines.send(DeadlineMail::Unwatch(self.id));
        }
    }

    /// Works the deadline out again with the learner's new settings, from when the session
    /// started; stores it, then has the Proctor watch it.
    async fn reschedule(&mut self, learner: Option<LearnerOverride>) -> Result<Option<Deadline>, MasteryError> {
        let (Some(exam), Some(started_at)) =
            (self.session.quiz().exam().copied(), self.exam.as_ref().map(|exam| exam.started_at))
        else {
            return Ok(None);
        };
        let deadline = exam.deadline(started_at, learner.as_ref());
        let stored = self.config.port.set_deadline(self.id, deadline);
        match tokio::time::timeout(self.config.port_timeout, stored).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(MasteryError::NotRecorded(error)),
            Err(_) => {
                return Err(MasteryError::NotRecorded(RecordError::unavailable(format!(
                    "the store did not answer within {:?}",
                    self.config.port_timeout
                ))));
            }
        }
        if let Some(clock) = self.exam.as_mut() {
            clock.deadline = deadline;
        }
        self.watch(exam.idle_limit);
        Ok(deadline)
    }

    /// Stores how the session ended. A failure is logged, not raised: every answer is stored
    /// already, and a session left open is resumed next time, which loses nothing.
    ///
    /// Boxed: its timer would otherwise be reserved, once per place it is awaited, in every idle
    /// session's task.
    fn store_ending(&self, ending: SessionEnding) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.store_ending_now(ending))
    }

    async fn store_ending_now(&self, ending: SessionEnding) {
        let call = self.config.port.end_session(self.id, ending, self.config.clock.now(), None);
        match tokio::time::timeout(self.config.port_timeout, call).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, ending = ending.as_str(), "the session's ending was not stored"),
            Err(_) => tracing::warn!(ending = ending.as_str(), "the store did not answer storing the session's ending"),
        }
    }

    /// A finished session leaves the registry before it replies, so that whoever hears "finished"
    /// already finds the session gone.
    fn deregister_if(&self, finished: bool) {
        if finished {
            let guard = &self.guard;
            guard.registry.remove_if(&guard.title, &guard.email, guard.id);
        }
    }

    /// The error for a call whose deadline has passed, if it has.
    fn expired(&self, deadline: u64) -> Option<MasteryError> {
        (self.config.coarse_clock.now_ms() > deadline).then(|| self.timed_out())
    }

    fn timed_out(&self) -> MasteryError {
        let title = self.session.quiz().title();
        MasteryError::Timeout {
            worker: format!("session of {} in {title:?}", self.email),
            after: self.config.call_timeout.unwrap_or_default(),
        }
    }

    /// Records the response, and only then moves the quiz on.
    async fn answer(&mut self, answer: Box<str>, deadline: u64) -> Result<Answered, MasteryError> {
        let now = self.config.clock.now();
        let timing = self.deadline().map_or(Timing::OnTime, |deadline| deadline.timing(now));
        if let (Timing::Closed, Some(exam_deadline)) = (timing, self.deadline()) {
            return Err(MasteryError::TimeUp {
                title: self.session.quiz().title().to_string(),
                email: self.email.to_string(),
                closed_at: exam_deadline.closes_at,
            });
        }
        let response = self.session.respond(Arc::clone(&self.email), String::from(answer), now)?;
        self.record(&response, deadline).await?;
        if let Some(last_active) = self.exam.as_ref().and_then(|exam| exam.last_active.as_ref()) {
            last_active.store(now.as_millis(), Ordering::Relaxed);
        }
        self.position += 1;
        // Cannot fail: the response was just made from this session's current question. From here
        // on the answer is stored and counted: a failure to draw the next question comes beside
        // it (`Next::Failed`), never instead of it.
        let turn = self.session.answer(response)?;
        let next = match turn.next {
            mastery_core::Next::Question(next) => Next::Question(QuestionView::new(next)),
            mastery_core::Next::Finished => Next::Finished,
            mastery_core::Next::Failed(error) => Next::Failed(error.into()),
        };
        let quiz = self.session.quiz();
        let expected = match (quiz.reveal(), &turn.verdict) {
            (Reveal::AfterIncorrect, Verdict::Incorrect) => turn.question.expected_answer(),
            _ => None,
        };
        Ok(Answered {
            question: QuestionView::new(turn.question),
            verdict: turn.verdict,
            streak: turn.outcome.streak,
            mastered: turn.outcome.mastered,
            progress: progress_of(quiz),
            overdue: timing == Timing::Overdue,
            expected,
            next,
        })
    }

    /// Waits for the port's definitive word on `response`: `Ok` only when it is stored.
    ///
    /// When time runs out (the port's own limit, or what is left of the caller's, whichever ends
    /// first) the record is withdrawn and the port gets a grace period to say whether it was
    /// stored after all. Stored after all counts as stored: the caller hears of it late rather than
    /// be told a stored answer was refused.
    async fn record(&self, response: &Response, deadline: u64) -> Result<(), MasteryError> {
        let caller_left = (deadline != NO_DEADLINE)
            .then(|| Duration::from_millis(deadline.saturating_sub(self.config.coarse_clock.now_ms())));
        let limit = caller_left.map_or(self.config.port_timeout, |left| left.min(self.config.port_timeout));
        let (withdraw, withdrawn) = oneshot::channel::<()>();
        let withdrawal: Withdrawal = Box::pin(async move { drop(withdrawn.await) });
        let place = Place { session: self.id, position: self.position };
        let mut recording = self.config.port.record_withdrawable(place, response, withdrawal);
        // A port that is done at once (memory, or a no-op) needs no timer: try it before arming one.
        let at_once = std::future::poll_fn(|context| Poll::Ready(recording.as_mut().poll(context))).await;
        let recorded = match at_once {
            Poll::Ready(recorded) => recorded,
            Poll::Pending => match tokio::time::timeout(limit, &mut recording).await {
                Ok(recorded) => recorded,
                Err(_) => {
                    drop(withdraw);
                    let final_word = tokio::time::timeout(self.config.port_grace, recording).await;
                    return match final_word {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(_)) if Some(limit) == caller_left => Err(self.timed_out()),
                        Ok(Err(_)) => Err(MasteryError::NotRecorded(RecordError::unavailable(format!(
                            "the store did not answer within {:?}",
                            self.config.port_timeout
                        )))),
                        Err(_) => Err(MasteryError::RecordUnknown {
                            title: self.session.quiz().title().to_string(),
                            email: self.email.to_string(),
                            waited: limit + self.config.port_grace,
                        }),
                    };
                }
            },
        };
        recorded.map_err(MasteryError::NotRecorded)
    }
}
