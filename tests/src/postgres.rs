//! A PostgreSQL schema of a test's own, on the server `MASTERY_TEST_POSTGRES` names.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::{Config, NoTls};

/// The variable naming the test server, as a URL (`postgres://postgres@127.0.0.1:5432/postgres`).
pub const SERVER_VARIABLE: &str = "MASTERY_TEST_POSTGRES";

/// A schema made for one test and dropped, with everything in it, when the value is dropped.
#[derive(Debug)]
pub struct Schema {
    server: Config,
    url: String,
    name: String,
}

impl Schema {
    /// Makes a fresh schema; `None` (after saying the test was skipped) when no server is named.
    /// A named server that cannot be reached fails the test: CI names one.
    pub async fn create() -> Option<Schema> {
        let Ok(url) = std::env::var(SERVER_VARIABLE) else {
            eprintln!("skipped: set {SERVER_VARIABLE} to a PostgreSQL URL to run the PostgreSQL tests");
            return None;
        };
        let server: Config = url.parse().unwrap_or_else(|e| panic!("{SERVER_VARIABLE}={url:?}: {e}"));
        static MADE: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let name = format!(
            "mastery_test_{}_{}_{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed),
            nanos % 1_000_000
        );
        let (client, connection) =
            server.connect(NoTls).await.unwrap_or_else(|e| panic!("cannot reach {SERVER_VARIABLE}={url:?}: {e}"));
        tokio::spawn(connection);
        client.batch_execute(&format!("CREATE SCHEMA {name}")).await.unwrap();
        Some(Schema { server, url, name })
    }

    /// The server's configuration with this schema first on the search path.
    pub fn config(&self) -> Config {
        let mut config = self.server.clone();
        config.options(format!("-c search_path={}", self.name));
        config
    }

    /// A URL for the schema, as `--db` takes it: the server's URL with the schema first on the
    /// search path.
    pub fn url(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-csearch_path%3D{}", self.url, self.name)
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // Dropped inside a test's runtime, where nothing may block: a thread with a runtime of
        // its own drops the schema.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let (client, connection) = server.connect(NoTls).await.ok()?;
                tokio::spawn(connection);
                client.batch_execute(&format!("DROP SCHEMA {name} CASCADE")).await.ok()
            })
        });
        let _ = dropped.join();
    }
}
