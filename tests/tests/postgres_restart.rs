//! PostgreSQL restarted while a learner answers: an answer sent while the database is down is
//! refused as unavailable (never acknowledged), the store reconnects by itself once the database
//! is back, and every acknowledged answer is stored exactly once, in order.
//!
//! The test runs its own throwaway cluster (`initdb` as the `postgres` user, on a spare port and
//! socket folder) so that stopping it disturbs nobody else. It runs where `MASTERY_TEST_POSTGRES`
//! is set (CI), which promises a PostgreSQL installation; elsewhere it says it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use mastery_app::{App, AppOptions, demo_quiz};
use mastery_boundary::{MasteryError, RecordErrorKind, TakeOptions};
use tests::answer_to;

const EMAIL: &str = "ada@example.com";

/// A cluster of the test's own, stopped and removed when dropped.
struct Cluster {
    bin: PathBuf,
    folder: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        if std::env::var_os(tests::postgres::SERVER_VARIABLE).is_none() {
            eprintln!("skipped: set {} to run the PostgreSQL tests", tests::postgres::SERVER_VARIABLE);
            return None;
        }
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's programs under /usr/lib/postgresql")
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .find(|bin| bin.join("initdb").exists())
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let folder = tempfile::tempdir().unwrap();
        // initdb refuses to run as root: the cluster belongs to the postgres user.
        Command::new("chown").args(["-R", "postgres:postgres"]).arg(folder.path()).status().unwrap();
        let data = folder.path().join("data");
        let initdb = as_postgres(&bin, "initdb", &["--no-sync", "-A", "trust", "-U", "postgres", "-D", path(&data)]);
        assert!(initdb.unwrap().success(), "initdb failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { bin, folder, port };
        cluster.pg_ctl(&["start"]);
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.folder.path().join("data");
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, path(self.folder.path()));
        let mut arguments = vec!["-D", path(&data), "-o", &options, "-w", "-l"];
        let log = self.folder.path().join("log");
        arguments.push(path(&log));
        arguments.extend_from_slice(action);
        let status = as_postgres(&self.bin, "pg_ctl", &arguments).unwrap();
        assert!(status.success(), "pg_ctl {action:?} failed: {}", std::fs::read_to_string(&log).unwrap_or_default());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.folder.path().join("data");
        let _ = as_postgres(&self.bin, "pg_ctl", &["-D", path(&data), "-m", "immediate", "-w", "stop"]);
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn as_postgres(bin: &Path, program: &str, arguments: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    Command::new("runuser").args(["-u", "postgres", "--"]).arg(bin.join(program)).args(arguments).status()
}

async fn answer(app: &App, text_for: impl Fn(&str) -> String) -> Result<(), MasteryError> {
    let question = app.mastery().select_question("Arithmetic", EMAIL).await?.expect("a question");
    app.mastery().answer_question("Arithmetic", EMAIL, &text_for(question.asked())).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_of_postgresql_loses_no_acknowledged_answer_and_the_store_reconnects() {
    let Some(cluster) = Cluster::start() else { return };
    let options = AppOptions { db: Some(cluster.url().into()), ..AppOptions::default() };
    let app = App::connect(options).await.unwrap();
    app.mastery().install_quiz(demo_quiz()).await.unwrap();
    app.mastery().take_quiz_with("Arithmetic", EMAIL, TakeOptions { seed: 5, restart: false }).await.unwrap();
    answer(&app, |_| "-1000".into()).await.unwrap();
    answer(&app, answer_to).await.unwrap();

    cluster.pg_ctl(&["-m", "immediate", "stop"]);
    match answer(&app, |_| "-999".into()).await {
        Err(MasteryError::NotRecorded(error)) => assert_eq!(error.kind, RecordErrorKind::Unavailable, "{error}"),
        other => panic!("an answer while the database is down must not be taken, got {other:?}"),
    }
    cluster.pg_ctl(&["start"]);

    // The same question stands; the store connects again for it.
    answer(&app, |_| "-998".into()).await.unwrap();
    answer(&app, answer_to).await.unwrap();
    let stored = app.store().responses("Arithmetic").await.unwrap();
    let answers: Vec<(u64, &str)> =
        stored.iter().map(|r| (r.place.expect("in a session").position, r.answer.as_str())).collect();
    assert_eq!(answers.len(), 4, "{answers:?}");
    assert_eq!(answers.iter().map(|(position, _)| *position).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert!(!answers.iter().any(|(_, answer)| *answer == "-999"), "the refused answer was not stored");
    app.shutdown().await.unwrap();
}
