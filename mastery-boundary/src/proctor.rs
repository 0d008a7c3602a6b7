//! The Proctor: opens quizzes at their start time and closes them at their end.
//!
//! Unlike the book's Proctor it notifies "started" only after the quiz exists and "stopped" only
//! after its sessions are ended, starts every due quiz rather than only the leading run of an
//! unsorted list, and clamps an end time in the past instead of crashing on it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mastery_core::{Deadline, Quiz, SessionEnding, Timestamp};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::call::{CallError, call};
use crate::error::MasteryError;
use crate::manager::QuizManager;
use crate::port::{Clock, ResponsePort};
use crate::session::SessionSupervisor;

/// What the Proctor tells whoever scheduled a quiz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProctorEvent {
    /// The quiz exists and can be taken.
    Started {
        /// The quiz.
        title: String,
    },
    /// The quiz is removed and every session of it ended.
    Stopped {
        /// The quiz.
        title: String,
        /// How many sessions were ended.
        sessions_ended: usize,
    },
    /// A learner's time is up and their grace period has begun: answers are still stored, marked
    /// overdue, until `closes_at`.
    SessionOverdue {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// The session's id in the store.
        session: u64,
        /// When the session closes.
        closes_at: Timestamp,
    },
    /// A learner's session closed at their own deadline and was ended as `time_up`.
    SessionTimeUp {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// The session's id in the store.
        session: u64,
    },
    /// A learner's session went without an answer for the exam's idle limit and was ended as
    /// `abandoned`.
    SessionIdle {
        /// The quiz.
        title: String,
        /// The learner.
        email: String,
        /// The session's id in the store.
        session: u64,
    },
}

/// Receives the Proctor's events.
pub type Notify = Arc<dyn Fn(ProctorEvent) + Send + Sync>;

/// A quiz waiting for its start or its end.
pub(crate) struct Scheduled {
    quiz: Quiz,
    start_at: Instant,
    end_at: Instant,
    notify: Option<Notify>,
}

pub(crate) enum ProctorCall {
    Schedule(Box<Scheduled>, oneshot::Sender<()>),
    /// Forget the quiz's schedule: it neither opens nor closes at the times given before.
    Unschedule(String, oneshot::Sender<bool>),
}

pub(crate) type ProctorInbox = Arc<Mutex<mpsc::Receiver<ProctorCall>>>;

/// A session whose deadline or idleness the Proctor watches. Sent without waiting for a reply:
/// a session's start must not queue behind the Proctor.
pub(crate) struct Watch {
    pub(crate) title: Arc<str>,
    pub(crate) email: Arc<str>,
    /// The session's id in the store.
    pub(crate) session: u64,
    /// Its registry entry, so that only this session is ended, never a newer one of the learner.
    pub(crate) registry_id: u64,
    pub(crate) deadline: Option<Deadline>,
    pub(crate) idle_limit: Option<Duration>,
    /// When the learner last answered (or started), in milliseconds on the sessions' clock.
    pub(crate) last_active: Arc<AtomicU64>,
}

pub(crate) enum DeadlineMail {
    /// Watch a session, replacing what was watched of it (a new deadline, a resumed session).
    Watch(Box<Watch>),
    /// The session ended by itself: nothing left to watch.
    Unwatch(u64),
}

pub(crate) type DeadlineInbox = Arc<Mutex<mpsc::UnboundedReceiver<DeadlineMail>>>;

/// Where the Proctor tells of each learner's deadline; set once by a front end.
pub(crate) type SessionNotify = Arc<std::sync::RwLock<Option<Notify>>>;

/// A handle to the Proctor; cheap to clone.
#[derive(Clone)]
pub(crate) struct Proctor {
    mailbox: mpsc::Sender<ProctorCall>,
    timeout: Option<Duration>,
}

impl Proctor {
    pub(crate) fn new(capacity: usize, timeout: Option<Duration>) -> (Proctor, ProctorInbox) {
        let (mailbox, inbox) = mpsc::channel(capacity);
        (Proctor { mailbox, timeout }, Arc::new(Mutex::new(inbox)))
    }

    /// Schedules `quiz` to open at `start_at` and close at `end_at` (an end before the start is
    /// clamped to the start). A quiz whose start is due is open when this returns.
    pub(crate) async fn schedule(
        &self,
        quiz: Quiz,
        start_at: Instant,
        end_at: Instant,
        notify: Option<Notify>,
    ) -> Result<(), MasteryError> {
        let scheduled = Box::new(Scheduled { quiz, start_at, end_at: end_at.max(start_at), notify });
        call(&self.mailbox, |reply| ProctorCall::Schedule(scheduled, reply), self.timeout)
            .await
            .map_err(|e| self.failed(e))
    }

    /// Forgets every schedule of the quiz titled `title` (a quiz replaced, its window cleared);
    /// `true` if there was one. Sessions already started are not ended.
    pub(crate) async fn unschedule(&self, title: &str) -> Result<bool, MasteryError> {
        let title = title.to_string();
        call(&self.mailbox, |reply| ProctorCall::Unschedule(title, reply), self.timeout)
            .await
            .map_err(|e| self.failed(e))
    }

    fn failed(&self, error: CallError) -> MasteryError {
        match error {
            CallError::Stopped => MasteryError::ShutDown,
            CallError::TimedOut => {
                MasteryError::Timeout { worker: "proctor".into(), after: self.timeout.unwrap_or_default() }
            }
        }
    }
}

struct Open {
    title: String,
    end_at: Instant,
    notify: Option<Notify>,
}

/// What the Proctor works with besides its mailboxes.
pub(crate) struct ProctorParts {
    pub(crate) manager: QuizManager,
    pub(crate) sessions: Arc<SessionSupervisor>,
    pub(crate) port: Arc<dyn ResponsePort>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) notify: SessionNotify,
}

/// One run of the Proctor's worker.
pub(crate) async fn run_proctor(
    inbox: ProctorInbox,
    deadlines: DeadlineInbox,
    parts: ProctorParts,
    cancel: CancellationToken,
) {
    let mut inbox = inbox.lock().await;
    let mut deadline_inbox = deadlines.lock().await;
    let ProctorParts { manager, sessions, port, clock, notify } = parts;
    let mut proctor = ProctorState { waiting: Vec::new(), open: Vec::new(), manager, sessions };
    let mut watcher = SessionWatcher { watched: HashMap::new(), timers: BinaryHeap::new(), port, clock, notify };
    let mut mail = Vec::new();
    loop {
        proctor.start_due().await;
        proctor.stop_due().await;
        watcher.fire_due(&proctor.sessions);
        let wake_at = proctor.next_deadline().into_iter().chain(watcher.next_wake()).min();
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            received = deadline_inbox.recv_many(&mut mail, 1024) => {
                if received == 0 {
                    return;
                }
                for message in mail.drain(..) {
                    watcher.take(message);
                }
            }
            call = inbox.recv() => match call {
                Some(ProctorCall::Schedule(scheduled, reply)) => {
                    proctor.add(*scheduled);
                    // Due quizzes open before the caller hears back.
                    proctor.start_due().await;
                    let _ = reply.send(());
                }
                Some(ProctorCall::Unschedule(title, reply)) => {
                    let _ = reply.send(proctor.forget(&title));
                }
                None => return,
            },
            () = sleep_until(wake_at) => {}
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

struct ProctorState {
    /// Sorted by start time (stable: equal starts keep their scheduling order).
    waiting: Vec<Scheduled>,
    /// Sorted by end time.
    open: Vec<Open>,
    manager: QuizManager,
    sessions: Arc<SessionSupervisor>,
}

impl ProctorState {
    fn add(&mut self, scheduled: Scheduled) {
        let at = self.waiting.partition_point(|w| w.start_at <= scheduled.start_at);
        self.waiting.insert(at, scheduled);
    }

    /// Drops the quiz's waiting and open schedules; whether there were any.
    fn forget(&mut self, title: &str) -> bool {
        let before = self.waiting.len() + self.open.len();
        self.waiting.retain(|waiting| waiting.quiz.title() != title);
        self.open.retain(|open| open.title != title);
        before != self.waiting.len() + self.open.len()
    }

    fn next_deadline(&self) -> Option<Instant> {
        let start = self.waiting.first().map(|w| w.start_at);
        let end = self.open.first().map(|o| o.end_at);
        start.into_iter().chain(end).min()
    }

    async fn start_due(&mut self) {
        let now = Instant::now();
        let due = self.waiting.partition_point(|w| w.start_at <= now);
        for scheduled in self.waiting.drain(..due).collect::<Vec<_>>() {
            let title = scheduled.quiz.title().to_string();
            if let Err(error) = self.manager.build_quiz(scheduled.quiz).await {
                tracing::error!(quiz = %title, %error, "the proctor could not open the quiz");
                continue;
            }
            tracing::info!(quiz = %title, "proctor opened the quiz");
            if let Some(notify) = &scheduled.notify {
                notify(ProctorEvent::Started { title: title.clone() });
            }
            let at = self.open.partition_point(|o| o.end_at <= scheduled.end_at);
            self.open.insert(at, Open { title, end_at: scheduled.end_at, notify: scheduled.notify });
        }
    }

    async fn stop_due(&mut self) {
        let now = Instant::now();
        let due = self.open.partition_point(|o| o.end_at <= now);
        for open in self.open.drain(..due).collect::<Vec<_>>() {
            if let Err(error) = self.manager.remove_quiz(&open.title).await {
                tracing::error!(quiz = %open.title, %error, "the proctor could not remove the quiz");
            }
            let sessions_ended = self.sessions.end_sessions_for(&open.title, mastery_core::SessionEnding::TimeUp);
            tracing::info!(quiz = %open.title, sessions_ended, "proctor closed the quiz");
            if let Some(notify) = &open.notify {
                notify(ProctorEvent::Stopped { title: open.title, sessions_ended });
            }
        }
    }
}

/// Which moment of a watched session a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Moment {
    /// The learner's time is up (a grace period begins).
    Due,
    /// The session closes.
    Close,
    /// Time to look whether the session has been idle too long.
    Idle,
}

struct Watched {
    title: Arc<str>,
    email: Arc<str>,
    registry_id: u64,
    idle_limit: Option<Duration>,
    last_active: Arc<AtomicU64>,
    closes_at: Option<Timestamp>,
    /// Bumped by each new watch of the session: timers of an older one are stale.
    generation: u32,
}

/// Every exam session's deadline in one heap.
struct SessionWatcher {
    watched: HashMap<u64, Watched>,
    /// (when, on the sessions' clock; session; generation; moment); stale entries are skipped as
    /// they come up. Kept in the clock's time, not as tokio instants, so that sessions handed
    /// over while the Proctor was busy still end in the order of their deadlines.
    timers: BinaryHeap<Reverse<(Timestamp, u64, u32, Moment)>>,
    port: Arc<dyn ResponsePort>,
    clock: Arc<dyn Clock>,
    notify: SessionNotify,
}

impl SessionWatcher {
    fn take(&mut self, message: DeadlineMail) {
        match message {
            DeadlineMail::Watch(watch) => self.watch(*watch),
            DeadlineMail::Unwatch(session) => {
                self.watched.remove(&session);
            }
        }
    }

    fn watch(&mut self, watch: Watch) {
        let Watch { title, email, session, registry_id, deadline, idle_limit, last_active } = watch;
        let generation = self.watched.get(&session).map_or(0, |watched| watched.generation.wrapping_add(1));
        if let Some(deadline) = deadline {
            if deadline.due_at < deadline.closes_at {
                self.timers.push(Reverse((deadline.due_at, session, generation, Moment::Due)));
            }
            self.timers.push(Reverse((deadline.closes_at, session, generation, Moment::Close)));
        }
        if let Some(limit) = idle_limit {
            self.timers.push(Reverse((idle_at(&last_active, limit), session, generation, Moment::Idle)));
        }
        if deadline.is_some() || idle_limit.is_some() {
            let closes_at = deadline.map(|deadline| deadline.closes_at);
            let watched = Watched { title, email, registry_id, idle_limit, last_active, closes_at, generation };
            self.watched.insert(session, watched);
        } else {
            self.watched.remove(&session);
        }
    }

    /// The tokio instant at which the sessions' clock reads `at`.
    fn instant_of(&self, at: Timestamp) -> Instant {
        let wait = at.as_millis().saturating_sub(self.clock.now().as_millis());
        let now = Instant::now();
        // A deadline centuries away must not overflow the instant: a year is as good as never.
        now.checked_add(Duration::from_millis(wait)).unwrap_or(now + Duration::from_secs(365 * 24 * 3600))
    }

    fn next_wake(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, ..))| self.instant_of(*at))
    }

    /// Acts on every moment that has come: tells of time up, ends closed and idle sessions.
    fn fire_due(&mut self, sessions: &SessionSupervisor) {
        let now = self.clock.now();
        let mut ended = Vec::new();
        let mut events = Vec::new();
        while let Some(&Reverse((at, session, generation, moment))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(watched) = self.watched.get(&session).filter(|watched| watched.generation == generation) else {
                continue;
            };
            match moment {
                Moment::Due => events.push(ProctorEvent::SessionOverdue {
                    title: watched.title.to_string(),
                    email: watched.email.to_string(),
                    session,
                    closes_at: watched.closes_at.unwrap_or(Timestamp::from_millis(0)),
                }),
                Moment::Close => ended.push((session, SessionEnding::TimeUp)),
                Moment::Idle => {
                    let limit = watched.idle_limit.unwrap_or_default();
                    let idle_at = idle_at(&watched.last_active, limit);
                    if now >= idle_at {
                        ended.push((session, SessionEnding::Abandoned));
                    } else {
                        self.timers.push(Reverse((idle_at, session, generation, Moment::Idle)));
                    }
                }
            }
        }
        for (session, ending) in ended {
            let Some(watched) = self.watched.remove(&session) else { continue };
            let (title, email) = (watched.title.to_string(), watched.email.to_string());
            // A live session stores its own ending after the calls it has; one let go from memory
            // (idle, or on another server now) is ended in the store directly.
            if !sessions.end_session_if(&watched.title, &watched.email, watched.registry_id, ending) {
                let reason =
                    (ending == SessionEnding::Abandoned).then(|| "no answer within the idle limit".to_string());
                let ending_stored = self.port.end_session(session, ending, now, reason);
                tokio::spawn(async move {
                    if let Err(error) = ending_stored.await {
                        tracing::warn!(%error, session, "the proctor could not store a session's ending");
                    }
                });
            }
            tracing::info!(quiz = %title, email = %email, session, ending = ending.as_str(), "proctor ended the session");
            events.push(match ending {
                SessionEnding::Abandoned => ProctorEvent::SessionIdle { title, email, session },
                _ => ProctorEvent::SessionTimeUp { title, email, session },
            });
        }
        if events.is_empty() {
            return;
        }
        let notify = self.notify.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(notify) = notify {
            for event in events {
                notify(event);
            }
        }
    }
}

/// When a session whose learner was last active at `last_active` becomes idle.
fn idle_at(last_active: &AtomicU64, limit: Duration) -> Timestamp {
    let limit = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    Timestamp::from_millis(last_active.load(Ordering::Relaxed).saturating_add(limit))
}
