//! The quiz manager: keeps the quizzes that learners can take, by title.
//!
//! A worker that is the map's only writer: building, adding to and removing quizzes are calls,
//! served one at a time. Looking a quiz up reads the map directly under a read lock — every
//! learner who starts a session looks one up, and a round trip through the worker for each would
//! cost more than the whole start. An unknown title is an error for the caller (the book's manager
//! crashes there and loses every quiz). A looked-up quiz is a copy (its templates shared), so
//! sessions are unaffected by later changes. The map outlives a restart of the worker.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use mastery_core::{Quiz, Template};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::call::{CallError, call};
use crate::error::MasteryError;

pub(crate) enum ManagerCall {
    Install(Box<Quiz>, oneshot::Sender<()>),
    AddTemplate(String, Arc<Template>, oneshot::Sender<Result<(), MasteryError>>),
    Remove(String, oneshot::Sender<bool>),
}

/// A handle to the quiz manager; cheap to clone.
#[derive(Clone)]
pub(crate) struct QuizManager {
    mailbox: mpsc::Sender<ManagerCall>,
    timeout: Option<Duration>,
    quizzes: Quizzes,
}

/// The quizzes by title: written only by the manager's worker, read by anyone.
pub(crate) type Quizzes = Arc<RwLock<HashMap<String, Quiz>>>;

/// The manager's mailbox outlives any one run of its worker, so a restarted manager serves the
/// same handles.
pub(crate) type ManagerInbox = Arc<Mutex<mpsc::Receiver<ManagerCall>>>;

impl QuizManager {
    pub(crate) fn new(capacity: usize, timeout: Option<Duration>) -> (QuizManager, ManagerInbox) {
        let (mailbox, inbox) = mpsc::channel(capacity);
        (QuizManager { mailbox, timeout, quizzes: Quizzes::default() }, Arc::new(Mutex::new(inbox)))
    }

    pub(crate) fn quizzes(&self) -> Quizzes {
        Arc::clone(&self.quizzes)
    }

    async fn call<R>(&self, message: impl FnOnce(oneshot::Sender<R>) -> ManagerCall) -> Result<R, MasteryError> {
        call(&self.mailbox, message, self.timeout).await.map_err(|error| match error {
            CallError::Stopped => MasteryError::ShutDown,
            CallError::TimedOut => {
                MasteryError::Timeout { worker: "quiz manager".into(), after: self.timeout.unwrap_or_default() }
            }
        })
    }

    /// Adds a quiz, replacing any quiz with the same title (the book's `build_quiz`).
    pub(crate) async fn build_quiz(&self, quiz: Quiz) -> Result<(), MasteryError> {
        self.call(|reply| ManagerCall::Install(Box::new(quiz), reply)).await
    }

    /// Adds a template to the quiz titled `title`.
    pub(crate) async fn add_template(&self, title: &str, template: Arc<Template>) -> Result<(), MasteryError> {
        self.call(|reply| ManagerCall::AddTemplate(title.to_string(), template, reply)).await?
    }

    /// A copy of the quiz titled `title`.
    pub(crate) async fn lookup_quiz_by_title(&self, title: &str) -> Result<Option<Quiz>, MasteryError> {
        if self.mailbox.is_closed() {
            return Err(MasteryError::ShutDown);
        }
        // The writer never panics while holding the lock; if it did, the map is still whole.
        Ok(self.quizzes.read().unwrap_or_else(PoisonError::into_inner).get(title).cloned())
    }

    /// Removes the quiz titled `title`; `true` if there was one.
    pub(crate) async fn remove_quiz(&self, title: &str) -> Result<bool, MasteryError> {
        self.call(|reply| ManagerCall::Remove(title.to_string(), reply)).await
    }
}

/// One run of the manager's worker: serves calls until cancelled or every handle is gone.
pub(crate) async fn run_manager(inbox: ManagerInbox, quizzes: Quizzes, cancel: CancellationToken) {
    let mut inbox = inbox.lock().await;
    let write = || quizzes.write().unwrap_or_else(PoisonError::into_inner);
    loop {
        let call = tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            call = inbox.recv() => match call { Some(call) => call, None => return },
        };
        match call {
            ManagerCall::Install(quiz, reply) => {
                tracing::info!(quiz = quiz.title(), "quiz built");
                write().insert(quiz.title().to_string(), *quiz);
                let _ = reply.send(());
            }
            ManagerCall::AddTemplate(title, template, reply) => {
                let added = match write().get_mut(&title) {
                    None => Err(MasteryError::NoSuchQuiz(title)),
                    Some(quiz) => quiz.add_template(template).map(|_| ()).map_err(MasteryError::from),
                };
                let _ = reply.send(added);
            }
            ManagerCall::Remove(title, reply) => {
                let _ = reply.send(write().remove(&title).is_some());
            }
        }
    }
}
