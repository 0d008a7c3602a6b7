//! `mastery serve` as a process: the first line it prints, a graceful stop on SIGTERM, and a
//! restart after SIGKILL that gives the learner the very question they had.

mod common;

use common::{Home, Served, request, serving};
use serde_json::{Value, json};

fn serve(home: &Home) -> Served {
    serving(home.mastery(&["serve", "--listen", "127.0.0.1:0"]))
}

#[test]
fn a_killed_server_restarted_on_the_same_store_gives_the_learner_the_same_question() {
    let home = Home::new();
    let mut first = serve(&home);
    assert!(
        first.teacher_link.starts_with(&format!("teacher: http://{}/teach?token=", first.address)),
        "{}",
        first.teacher_link
    );
    let (status, body) = request(
        &first.address,
        "POST",
        "/api/sessions",
        Some(&json!({"quiz": "Arithmetic", "email": "ada@example.com"})),
    );
    assert_eq!(status, 201, "{body}");
    let started: Value = serde_json::from_str(&body).unwrap();
    let token = started["session"].as_str().unwrap().to_string();
    let (status, body) =
        request(&first.address, "POST", &format!("/api/sessions/{token}/answers"), Some(&json!({"answer": "-1000"})));
    assert_eq!(status, 200, "{body}");
    let answered: Value = serde_json::from_str(&body).unwrap();
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let mut second = serve(&home);
    assert_eq!(
        second.teacher_link.replace(&second.address, "HOST"),
        first.teacher_link.replace(&first.address, "HOST"),
        "the teacher token is kept"
    );
    let (status, body) = request(&second.address, "GET", &format!("/api/sessions/{token}"), None);
    assert_eq!(status, 200, "{body}");
    let read: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(read["question"], answered["question"], "the acknowledged answer was kept and the session rebuilt");

    // SIGTERM stops it gracefully, with status 0.
    let pid = second.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_eq!(second.child.wait().unwrap().code(), Some(0));
    let (_, csv, _) = home.run(&["report", "Arithmetic", "--format", "csv"], "");
    assert_eq!(csv, "email,responses,correct,invalid,mastered\nada@example.com,1,0,0,\n");
}

#[test]
fn serve_refuses_a_folder_with_a_broken_quiz_before_listening() {
    let home = Home::new();
    let folder = home.folder.path().join("quizzes");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("broken.toml"), "title = \"Broken\"\n").unwrap();
    let (status, stdout, stderr) =
        home.run(&["serve", "--listen", "127.0.0.1:0", "--quizzes", folder.to_str().unwrap()], "");
    assert_eq!(status, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("broken.toml:1:1"), "{stderr}");
}
