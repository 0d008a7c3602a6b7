//! A one-for-one supervisor: starts children in order, restarts one that panics, gives up when
//! restarts come too fast, and shuts down in reverse order, joining every child.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{Id, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Starts one run of a child; the child stops when its token is cancelled.
pub type StartChild = Arc<dyn Fn(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A supervised child.
#[derive(Clone)]
pub struct ChildSpec {
    /// The child's name, for logs and errors.
    pub name: &'static str,
    /// How to start it.
    pub start: StartChild,
}

impl ChildSpec {
    /// A child started by `start`.
    pub fn new<F, Fut>(name: &'static str, start: F) -> Self
    where
        F: Fn(CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        ChildSpec { name, start: Arc::new(move |token| Box::pin(start(token))) }
    }
}

/// At most `max_restarts` restarts within `within`; one more shuts the tree down.
#[derive(Debug, Clone, Copy)]
pub struct RestartIntensity {
    /// Restarts allowed in the window.
    pub max_restarts: usize,
    /// The window.
    pub within: Duration,
}

impl Default for RestartIntensity {
    /// OTP's default: 3 restarts in 5 seconds.
    fn default() -> Self {
        RestartIntensity { max_restarts: 3, within: Duration::from_secs(5) }
    }
}

/// Why a supervisor stopped on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupervisorError {
    /// A child kept failing.
    #[error("{child} failed more than {max_restarts} times within {within:?}; the supervisor shut down")]
    TooManyRestarts {
        /// The failing child.
        child: &'static str,
        /// The limit.
        max_restarts: usize,
        /// The window.
        within: Duration,
    },
}

/// A running supervisor.
pub struct Supervisor {
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), SupervisorError>>,
}

impl Supervisor {
    /// Starts `children` in order under a new supervisor.
    pub fn start(children: Vec<ChildSpec>, intensity: RestartIntensity) -> Supervisor {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(supervise(children, intensity, cancel.clone()));
        Supervisor { cancel, task }
    }

    /// Whether the supervisor has stopped (shut down, or given up).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until the supervisor stops on its own, and says why.
    pub async fn wait(&mut self) -> Result<(), SupervisorError> {
        (&mut self.task).await.unwrap_or(Ok(()))
    }

    /// Stops every child in reverse start order and joins them all.
    pub async fn shutdown(self) -> Result<(), SupervisorError> {
        self.cancel.cancel();
        self.task.await.unwrap_or(Ok(()))
    }
}

struct Running {
    token: CancellationToken,
    id: Id,
}

async fn supervise(
    children: Vec<ChildSpec>,
    intensity: RestartIntensity,
    cancel: CancellationToken,
) -> Result<(), SupervisorError> {
    let mut set = JoinSet::new();
    let mut running: Vec<Option<Running>> = Vec::new();
    for child in &children {
        running.push(Some(spawn_child(&mut set, child)));
        tracing::info!(child = child.name, "child started");
    }
    let mut restarts: VecDeque<Instant> = VecDeque::new();
    loop {
        let exited = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            exited = set.join_next_with_id() => exited,
        };
        let Some(exited) = exited else { break };
        let (id, panicked) = match exited {
            Ok((id, ())) => (id, false),
            Err(error) => (error.id(), error.is_panic()),
        };
        let Some(index) = running.iter().position(|r| r.as_ref().is_some_and(|r| r.id == id)) else { continue };
        let child = &children[index];
        if !panicked {
            tracing::info!(child = child.name, "child stopped");
            running[index] = None;
            continue;
        }
        let now = Instant::now();
        restarts.retain(|at| now.duration_since(*at) < intensity.within);
        if restarts.len() >= intensity.max_restarts {
            tracing::error!(child = child.name, "restart intensity reached; shutting down");
            running[index] = None;
            stop_all(&mut set, &mut running).await;
            return Err(SupervisorError::TooManyRestarts {
                child: child.name,
                max_restarts: intensity.max_restarts,
                within: intensity.within,
            });
        }
        restarts.push_back(now);
        tracing::warn!(child = child.name, "child panicked; restarting it");
        running[index] = Some(spawn_child(&mut set, child));
    }
    stop_all(&mut set, &mut running).await;
    Ok(())
}

fn spawn_child(set: &mut JoinSet<()>, child: &ChildSpec) -> Running {
    // Independent tokens, so that shutdown can stop children one at a time in order.
    let token = CancellationToken::new();
    let id = set.spawn((child.start)(token.clone())).id();
    Running { token, id }
}

/// Cancels children one at a time, last started first, waiting for each to stop.
async fn stop_all(set: &mut JoinSet<()>, running: &mut [Option<Running>]) {
    for slot in running.iter_mut().rev() {
        let Some(child) = slot.take() else { continue };
        child.token.cancel();
        while let Some(exited) = set.join_next_with_id().await {
            let id = exited.map(|(id, ())| id).unwrap_or_else(|e| e.id());
            if id == child.id {
                break;
            }
        }
    }
    set.shutdown().await;
}
