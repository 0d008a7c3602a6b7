//! `mastery serve`: the classroom over HTTP, from the same crates as `mastery run`.

use std::io::Write;
use std::path::PathBuf;

use mastery_app::{App, AppOptions};
use mastery_boundary::MasteryConfig;
use mastery_server::{Server, ServerOptions, TEACHER_TOKEN_VARIABLE};

use crate::Failure;
use crate::run::app_failure;

/// Everything `mastery serve` was asked.
pub struct ServeOptions {
    /// Where to listen: `HOST:PORT` (port 0 picks a free one).
    pub listen: String,
    /// The database.
    pub db: Option<PathBuf>,
    /// A folder of quiz files to offer beside the demo.
    pub quizzes: Option<PathBuf>,
}

/// Serves until SIGTERM or Ctrl-C, then stops gracefully: answers in flight are stored first.
pub fn serve(options: ServeOptions) -> Result<u8, Failure> {
    // Quiz files with problems stop the server before it opens anything.
    let quizzes = match &options.quizzes {
        Some(folder) => mastery_app::load_quiz_folder(folder).map_err(app_failure)?,
        None => Vec::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let app =
            App::connect(AppOptions { db: options.db.map(PathBuf::into_os_string), config: MasteryConfig::default() })
                .await
                .map_err(app_failure)?;
        let teacher_token = std::env::var(TEACHER_TOKEN_VARIABLE).ok().filter(|token| !token.trim().is_empty());
        let server = Server::start(&app, ServerOptions { teacher_token, ..ServerOptions::default() })
            .await
            .map_err(|e| Failure::error(e.to_string()))?;
        for quiz in std::iter::once(mastery_app::demo_quiz()).chain(quizzes) {
            server.add_quiz(quiz).await.map_err(|e| Failure::error(e.to_string()))?;
        }
        // Quizzes teachers uploaded before (to this server or another on the same database), and
        // the windows they set.
        server.sync_offered().await.map_err(|e| Failure::error(e.to_string()))?;
        let listener = mastery_server::listen(&options.listen)
            .await
            .map_err(|e| Failure::error(format!("cannot listen on {}: {e}", options.listen)))?;
        let address = listener.local_addr().map_err(|e| Failure::error(format!("cannot listen: {e}")))?;
        {
            let mut out = std::io::stdout().lock();
            let printed = writeln!(out, "listening on http://{address}").and_then(|()| out.flush());
            printed.map_err(|e| Failure::error(format!("cannot write to stdout: {e}")))?;
            // A reader that took the address and went away (`| head -1`) is no reason to stop.
            let _ = writeln!(out, "teacher: http://{address}/teach?token={}", server.teacher_token())
                .and_then(|()| out.flush());
        }
        let served = mastery_server::serve(listener, server, stop_signal()).await;
        // Every answer acknowledged is stored; shutting down lets the store's writer finish.
        let stopped = app.shutdown().await;
        served.map_err(|e| Failure::error(format!("the server failed: {e}")))?;
        stopped.map_err(app_failure)?;
        Ok(0)
    })
}

/// Completes at Ctrl-C or, on Unix, SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
