//! A tiny language for driving the `mastery` binary as a user would: a temporary home with its
//! own database, one-shot runs, and JSON runs driven one event at a time.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long a test waits for one event before it calls the run stuck.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A temporary home for one test: its own database.
pub struct Home {
    pub folder: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home { folder: tempfile::tempdir().unwrap() }
    }

    pub fn db(&self) -> PathBuf {
        self.folder.path().join("data").join("mastery.db")
    }

    /// A file in the home with `text` in it.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    pub fn mastery(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin!("mastery"));
        command.args(args).env("MASTERY_DB", self.db()).env_remove("MASTERY_LOG");
        command
    }

    /// Runs `command` with `input` on stdin; returns (status, stdout, stderr).
    pub fn output(mut command: Command, input: &str) -> (i32, String, String) {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        let output = child.wait_with_output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into(),
            String::from_utf8_lossy(&output.stderr).into(),
        )
    }

    /// Runs with `input` on stdin; returns (status, stdout, stderr).
    pub fn run(&self, args: &[&str], input: &str) -> (i32, String, String) {
        Self::output(self.mastery(args), input)
    }

    /// Starts `mastery run` with `args` on a real pseudo-terminal (script(1)); its stdin feeds the
    /// terminal's keyboard and its stdout is what the screen shows.
    pub fn terminal(&self, args: &str) -> (Child, ChildStdin, ChildStdout) {
        let binary = assert_cmd::cargo::cargo_bin!("mastery").display().to_string();
        let inner = format!("{binary} run {args} --db {}", self.db().display());
        let mut child = Command::new("script")
            .args(["-qec", &inner, "/dev/null"])
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("script(1) from util-linux is available");
        let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
        (child, stdin, stdout)
    }

    /// Starts `mastery run --json` to be driven one event at a time.
    pub fn drive(&self, args: &[&str]) -> Driver {
        let mut full = vec!["run", "--json"];
        full.extend_from_slice(args);
        let mut child =
            self.mastery(&full).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        // Lines arrive through a thread, so that a run that never replies fails the test
        // instead of hanging it.
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                if sender.send(line.unwrap_or_default()).is_err() {
                    return;
                }
            }
        });
        Driver { child, stdin: Some(stdin), lines }
    }
}

pub fn testdata(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mastery-boundary/testdata").join(name).display().to_string()
}

/// A `mastery run --json` in progress.
pub struct Driver {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Driver {
    /// The next event; fails the test if none comes in time or the run ended.
    pub fn event(&mut self) -> Value {
        let line = match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no event within {PATIENCE:?}: the run is stuck"),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the run ended early"),
        };
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
    }

    /// Writes one line of input.
    pub fn answer(&mut self, answer: &str) {
        writeln!(self.stdin.as_mut().unwrap(), "{answer}").unwrap();
    }

    /// Closes stdin and waits for the exit status.
    pub fn close_input(&mut self) -> i32 {
        self.stdin.take();
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

/// The right answer to a demo question such as `7 × 8`.
pub fn solve(asked: &str) -> i64 {
    let parts: Vec<&str> = asked.split(' ').collect();
    let (left, right): (i64, i64) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
    match parts[1] {
        "+" => left + right,
        "-" => left - right,
        "×" => left * right,
        other => panic!("unknown operator {other}"),
    }
}

/// One HTTP/1.1 request to a running `mastery serve`, on its own connection: the whole reply as
/// it came, which is empty or cut short when the server died on the way.
pub fn exchange(address: &str, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// One HTTP/1.1 request to a running `mastery serve`, on its own connection: (status, body).
pub fn request(address: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let response = exchange(address, method, path, body).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

/// A `mastery serve` process, killed (if it still runs) when dropped.
pub struct Served {
    pub child: Child,
    pub address: String,
    pub teacher_link: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command`, a `mastery serve --listen HOST:0`, and reads the two lines it prints first:
/// the address it took and the teacher link. A server that stops before is a failure that shows
/// its stderr.
pub fn serving(mut command: Command) -> Served {
    let mut child = command
        .env_remove("MASTERY_TEACHER_TOKEN")
        .env_remove("MASTERY_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (Some(Ok(first)), Some(Ok(teacher_link))) = (lines.next(), lines.next()) else {
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        panic!("mastery serve stopped before it listened: {stderr}");
    };
    let address =
        first.strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {first}")).to_string();
    Served { child, address, teacher_link }
}
