//! The quiz manager: keeps the quizzes that learners can take, by title.
//!
//! A worker that owns a map. An unknown title is an error for the caller — the book's manager
//! crashes there and loses every quiz. A looked-up quiz is a copy (its templates shared), so
//! sessions are unaffected by later changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mastery_core::{Quiz, Template};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::call::{CallError, call};
use crate::error::MasteryError;

pub(crate) enum ManagerCall {
    Install(Box<Quiz>, oneshot::Sender<()>),
    AddTemplate(String, Arc<Template>, oneshot::Sender<Result<(), MasteryError>>),
    Lookup(String, oneshot::Sender<Option<Quiz>>),
    Remove(String, oneshot::Sender<bool>),
    Titles(oneshot::Sender<Vec<String>>),
}

/// A handle to the quiz manager; cheap to clone.
#[derive(Clone)]
pub struct QuizManager {
    mailbox: mpsc::Sender<ManagerCall>,
    timeout: Option<Duration>,
}

/// The manager's mailbox outlives any one run of its worker, so a restarted manager serves the
/// same handles.
pub(crate) type ManagerInbox = Arc<Mutex<mpsc::Receiver<ManagerCall>>>;

impl QuizManager {
    pub(crate) fn new(capacity: usize, timeout: Option<Duration>) -> (QuizManager, ManagerInbox) {
        let (mailbox, inbox) = mpsc::channel(capacity);
        (QuizManager { mailbox, timeout }, Arc::new(Mutex::new(inbox)))
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
    pub async fn build_quiz(&self, quiz: Quiz) -> Result<(), MasteryError> {
        self.call(|reply| ManagerCall::Install(Box::new(quiz), reply)).await
    }

    /// Adds a template to the quiz titled `title`.
    pub async fn add_template(&self, title: &str, template: Arc<Template>) -> Result<(), MasteryError> {
        self.call(|reply| ManagerCall::AddTemplate(title.to_string(), template, reply)).await?
    }

    /// A copy of the quiz titled `title`.
    pub async fn lookup_quiz_by_title(&self, title: &str) -> Result<Option<Quiz>, MasteryError> {
        self.call(|reply| ManagerCall::Lookup(title.to_string(), reply)).await
    }

    /// Removes the quiz titled `title`; `true` if there was one.
    pub async fn remove_quiz(&self, title: &str) -> Result<bool, MasteryError> {
        self.call(|reply| ManagerCall::Remove(title.to_string(), reply)).await
    }

    /// Every title, sorted.
    pub async fn titles(&self) -> Result<Vec<String>, MasteryError> {
        self.call(ManagerCall::Titles).await
    }
}

/// One run of the manager's worker: serves calls until cancelled or every handle is gone.
pub(crate) async fn run_manager(inbox: ManagerInbox, cancel: CancellationToken) {
    let mut inbox = inbox.lock().await;
    let mut quizzes: HashMap<String, Quiz> = HashMap::new();
    loop {
        let call = tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            call = inbox.recv() => match call { Some(call) => call, None => return },
        };
        match call {
            ManagerCall::Install(quiz, reply) => {
                tracing::info!(quiz = quiz.title(), "quiz built");
                quizzes.insert(quiz.title().to_string(), *quiz);
                let _ = reply.send(());
            }
            ManagerCall::AddTemplate(title, template, reply) => {
                let added = match quizzes.get_mut(&title) {
                    None => Err(MasteryError::NoSuchQuiz(title)),
                    Some(quiz) => quiz.add_template(template).map(|_| ()).map_err(MasteryError::from),
                };
                let _ = reply.send(added);
            }
            ManagerCall::Lookup(title, reply) => {
                let _ = reply.send(quizzes.get(&title).cloned());
            }
            ManagerCall::Remove(title, reply) => {
                let _ = reply.send(quizzes.remove(&title).is_some());
            }
            ManagerCall::Titles(reply) => {
                let mut titles: Vec<String> = quizzes.keys().cloned().collect();
                titles.sort_unstable();
                let _ = reply.send(titles);
            }
        }
    }
}
