//! Several `mastery serve` processes on one PostgreSQL database: any server serves any learner,
//! a killed server loses nothing it acknowledged, and a paused one that wakes up with a stale
//! copy of a session is refused before it can write a second history.
//!
//! Each test works in a schema of its own on the server `MASTERY_TEST_POSTGRES` names, and says
//! it was skipped when there is none (CI names one).

mod common;

use std::process::Command;

use common::{Served, serving};
use serde_json::{Value, json};
use tests::postgres::Schema;

/// A schema for the test, made (and later dropped) from a runtime of the test's own.
fn schema() -> Option<(tokio::runtime::Runtime, Schema)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let schema = runtime.block_on(Schema::create())?;
    Some((runtime, schema))
}

fn serve(db: &str) -> Served {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("mastery"));
    command.args(["serve", "--listen", "127.0.0.1:0", "--db", db]);
    serving(command)
}

/// One HTTP/1.1 request: (status, body as JSON).
fn request(address: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, body) = common::request(address, method, path, body.as_ref());
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Starts a session of the demo for `email` through the server at `address`; gives its token.
fn start(address: &str, email: &str) -> String {
    let (status, started) =
        request(address, "POST", "/api/sessions", Some(json!({"quiz": "Arithmetic", "email": email})));
    assert_eq!(status, 201, "{started}");
    started["session"].as_str().unwrap().to_string()
}

fn answer(address: &str, token: &str, answer: &str) -> (u16, Value) {
    request(address, "POST", &format!("/api/sessions/{token}/answers"), Some(json!({ "answer": answer })))
}

fn signal(served: &Served, name: &str) {
    let pid = served.child.id().to_string();
    assert!(Command::new("kill").args([&format!("-{name}"), &pid]).status().unwrap().success());
}

/// The stored answers of the quiz, per session, as `mastery report --by session` counts them.
fn stored_responses(db: &str) -> u64 {
    let output = Command::new(assert_cmd::cargo::cargo_bin!("mastery"))
        .args(["report", "Arithmetic", "--by", "session", "--format", "json", "--db", db])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    rows.as_array().unwrap().iter().map(|row| row["responses"].as_u64().unwrap()).sum()
}

#[test]
fn a_learner_goes_on_through_another_server_after_the_first_is_killed() {
    let Some((_runtime, schema)) = schema() else { return };
    let db = schema.url();
    let (mut a, b) = (serve(&db), serve(&db));
    let token = start(&a.address, "ada@example.com");
    assert_eq!(answer(&a.address, &token, "-1000").0, 200);
    let (status, acknowledged) = answer(&a.address, &token, "-999");
    assert_eq!(status, 200, "{acknowledged}");
    // Killed right after acknowledging: nothing it acknowledged may be lost.
    a.child.kill().unwrap();
    a.child.wait().unwrap();

    let (status, read) = request(&b.address, "GET", &format!("/api/sessions/{token}"), None);
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["question"], acknowledged["question"], "the question the first server said came next");
    assert_eq!(answer(&b.address, &token, "-998").0, 200);
    assert_eq!(stored_responses(&db), 3, "every acknowledged answer stored once");
}

#[test]
fn a_paused_server_that_wakes_with_a_stale_session_is_refused_then_serves_the_right_question() {
    let Some((_runtime, schema)) = schema() else { return };
    let db = schema.url();
    let (a, b) = (serve(&db), serve(&db));
    let token = start(&a.address, "bo@example.com");
    assert_eq!(answer(&a.address, &token, "-1000").0, 200);

    signal(&a, "STOP");
    let (status, through_b) = answer(&b.address, &token, "-1000");
    signal(&a, "CONT");
    assert_eq!(status, 200, "{through_b}");

    // A still holds the session one answer behind: another answer there is refused, retryably.
    let (status, refused) = answer(&a.address, &token, "-999");
    assert_eq!(status, 409, "{refused}");
    let (_, read) = request(&a.address, "GET", &format!("/api/sessions/{token}"), None);
    assert_eq!(read["question"], through_b["question"], "rebuilt from the store");
    assert_eq!(answer(&a.address, &token, "-999").0, 200);
    assert_eq!(stored_responses(&db), 3, "one history: the refused answer was not stored");
}

#[test]
fn a_server_killed_with_an_answer_in_flight_leaves_it_stored_once_or_not_at_all() {
    let Some((_runtime, schema)) = schema() else { return };
    let db = schema.url();
    let (mut a, b) = (serve(&db), serve(&db));
    let token = start(&a.address, "cy@example.com");
    let (_, first) = answer(&a.address, &token, "-1000");
    let asked = first["question"].clone();
    // The answer's reply may never come: the server dies while it is on its way.
    let address = a.address.clone();
    let path = format!("/api/sessions/{token}/answers");
    let in_flight = std::thread::spawn(move || {
        common::exchange(&address, "POST", &path, Some(&json!({"answer": "-999"}))).unwrap_or_default()
    });
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let reply = in_flight.join().unwrap();

    // Whatever the learner heard, the store has the answer once or not at all, and the other
    // server's question agrees with it.
    let (status, read) = request(&b.address, "GET", &format!("/api/sessions/{token}"), None);
    assert_eq!(status, 200, "{read}");
    let stored = stored_responses(&db);
    match stored {
        1 => assert_eq!(read["question"], asked, "not taken: the same question stands"),
        2 => assert_ne!(read["question"], asked, "taken: the next question"),
        other => panic!("{other} answers stored; the reply the learner got: {reply:?}"),
    }
    if reply.starts_with("HTTP/1.1 200") {
        assert_eq!(stored, 2, "an acknowledged answer is stored");
    }
    // The learner goes on through B either way.
    assert_eq!(answer(&b.address, &token, "-998").0, 200);
    assert_eq!(stored_responses(&db), stored + 1);
}
