//! The Proctor: opens quizzes at their start time and closes them at their end.
//!
//! Unlike the book's Proctor it notifies "started" only after the quiz exists and "stopped" only
//! after its sessions are ended, starts every due quiz rather than only the leading run of an
//! unsorted list, and clamps an end time in the past instead of crashing on it.

use std::sync::Arc;
use std::time::Duration;

use mastery_core::Quiz;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::call::{CallError, call};
use crate::error::MasteryError;
use crate::manager::QuizManager;
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
}

pub(crate) type ProctorInbox = Arc<Mutex<mpsc::Receiver<ProctorCall>>>;

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
        call(&self.mailbox, |reply| ProctorCall::Schedule(scheduled, reply), self.timeout).await.map_err(|e| match e {
            CallError::Stopped => MasteryError::ShutDown,
            CallError::TimedOut => {
                MasteryError::Timeout { worker: "proctor".into(), after: self.timeout.unwrap_or_default() }
            }
        })
    }
}

struct Open {
    title: String,
    end_at: Instant,
    notify: Option<Notify>,
}

/// One run of the Proctor's worker.
pub(crate) async fn run_proctor(
    inbox: ProctorInbox,
    manager: QuizManager,
    sessions: Arc<SessionSupervisor>,
    cancel: CancellationToken,
) {
    let mut inbox = inbox.lock().await;
    let mut proctor = ProctorState { waiting: Vec::new(), open: Vec::new(), manager, sessions };
    loop {
        proctor.start_due().await;
        proctor.stop_due().await;
        let wake_at = proctor.next_deadline();
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            call = inbox.recv() => match call {
                Some(ProctorCall::Schedule(scheduled, reply)) => {
                    proctor.add(*scheduled);
                    // Due quizzes open before the caller hears back.
                    proctor.start_due().await;
                    let _ = reply.send(());
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
