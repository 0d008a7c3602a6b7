//! A timed exam over HTTP, in tokio's paused time: the teacher gives exam settings and extra
//! time, each learner's page hears of its own deadline, late answers are stored as overdue in
//! the grace period and refused after it, and the teacher sees every session's state.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt;
use mastery_app::App;
use mastery_boundary::{MasteryConfig, TokioClock};
use mastery_persistence::MemoryStore;
use mastery_server::{Server, ServerOptions, router};
use serde_json::{Value, json};
use tower::ServiceExt;

const TEACHER: &str = "teacher-token-for-exams";

/// The example exam: ten minutes from each learner's start, two more of grace, the answer 3.
const EXAM: &str = include_str!("../../examples/exam.toml");

struct Class {
    app: App,
    server: Server,
}

async fn reply_of(response: axum::response::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

impl Class {
    /// A server whose sessions keep time by tokio's paused clock, with the exam uploaded.
    async fn with_exam() -> Class {
        let class = Class::on(Arc::new(MemoryStore::default())).await;
        let (status, uploaded) = class.teacher("POST", "/api/quizzes", "application/toml", EXAM).await;
        assert_eq!(status, StatusCode::CREATED, "{uploaded}");
        class
    }

    /// A server on `store`, which other servers may share, with the demo.
    async fn on(store: Arc<dyn mastery_persistence::ResponseStore>) -> Class {
        let clock = TokioClock::starting_at(mastery_core::Timestamp::from(std::time::SystemTime::now()));
        let config = MasteryConfig { clock: Arc::new(clock), ..MasteryConfig::default() };
        let app = App::with_store(store, config);
        let options = ServerOptions { teacher_token: Some(TEACHER.into()), ..ServerOptions::default() };
        let server = Server::start(&app, options).await.unwrap();
        server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
        Class { app, server }
    }

    async fn send(&self, request: Request<Body>) -> axum::response::Response {
        router(self.server.clone()).oneshot(request).await.unwrap()
    }

    async fn teacher(&self, method: &str, path: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        reply_of(self.send(request).await).await
    }

    async fn teacher_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.teacher("POST", path, "application/json", &body.to_string()).await
    }

    async fn sessions(&self) -> Vec<Value> {
        let (status, rows) = self.teacher("GET", "/api/quizzes/Exam/sessions", "application/json", "").await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        rows.as_array().unwrap().clone()
    }

    async fn learner(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(if method == "GET" { Body::empty() } else { Body::from(body.to_string()) })
            .unwrap();
        reply_of(self.send(request).await).await
    }

    async fn start(&self, email: &str) -> (String, Value) {
        let (status, started) = self.learner("POST", "/api/sessions", json!({"quiz": "Exam", "email": email})).await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        (started["session"].as_str().unwrap().to_string(), started)
    }

    async fn answer(&self, token: &str) -> (StatusCode, Value) {
        self.learner("POST", &format!("/api/sessions/{token}/answers"), json!({"answer": "3"})).await
    }
}

/// Lets `minutes` pass at once, then lets the woken workers run.
async fn wait(minutes: u64) {
    tokio::time::advance(Duration::from_secs(minutes * 60)).await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

fn state_of<'a>(rows: &'a [Value], email: &str) -> &'a Value {
    rows.iter().find(|row| row["email"] == email).unwrap_or_else(|| panic!("no session of {email}: {rows:?}"))
}

#[tokio::test(start_paused = true)]
async fn a_teacher_runs_a_timed_exam_with_extra_time_and_late_answers_are_overdue_then_refused() {
    let class = Class::with_exam().await;
    let (status, given) = class
        .teacher_json("/api/quizzes/Exam/overrides", json!({"email": "bo@example.com", "extra_time": "50%"}))
        .await;
    assert_eq!((status, &given["due_at"]), (StatusCode::OK, &Value::Null), "not started yet: {given}");
    let (ada, started) = class.start("ada@example.com").await;
    assert_eq!(started["time_left_ms"], 600_000);
    let (_bo, started) = class.start("bo@example.com").await;
    assert_eq!(started["time_left_ms"], 900_000, "half as long again");

    // Ada's page listens for her own events.
    let request = Request::get(format!("/api/sessions/{ada}/events")).body(Body::empty()).unwrap();
    let mut ada_events = class.send(request).await.into_body().into_data_stream();
    let watch = Request::get("/api/quizzes/Exam/events")
        .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
        .body(Body::empty())
        .unwrap();
    let mut teacher_events = class.send(watch).await.into_body().into_data_stream();

    wait(8).await;
    let (status, moved) = class
        .teacher_json("/api/quizzes/Exam/overrides", json!({"email": "ada@example.com", "extra_time": "5m"}))
        .await;
    assert_eq!((status, &moved["time_left_ms"]), (StatusCode::OK, &json!(420_000)), "{moved}");
    let heard = String::from_utf8(ada_events.next().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(heard.contains("event: deadline") && heard.contains("\"time_left_ms\":420000"), "{heard}");
    let (_, read) = class.learner("GET", &format!("/api/sessions/{ada}"), Value::Null).await;
    assert_eq!((&read["time_left_ms"], &read["overdue"]), (&json!(420_000), &json!(false)));

    wait(8).await;
    let (status, late) = class.answer(&ada).await;
    assert_eq!(
        (status, &late["overdue"], &late["verdict"]),
        (StatusCode::OK, &json!(true), &json!("correct")),
        "{late}"
    );
    let rows = class.sessions().await;
    let ada_row = state_of(&rows, "ada@example.com");
    assert_eq!(
        (&ada_row["state"], &ada_row["overdue"], &ada_row["responses"]),
        (&json!("overdue"), &json!(1), &json!(1))
    );

    wait(2).await;
    let (status, refused) = class.answer(&ada).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("time is up"), "{refused}");
    let rows = class.sessions().await;
    for email in ["ada@example.com", "bo@example.com"] {
        let row = state_of(&rows, email);
        assert_eq!((&row["state"], &row["ending"]), (&json!("timed_out"), &json!("time_up")), "{email}: {row}");
    }
    assert_eq!(state_of(&rows, "ada@example.com")["overdue"], 1);
    let request = Request::get("/api/quizzes/Exam/sessions?format=csv")
        .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
        .body(Body::empty())
        .unwrap();
    let csv = axum::body::to_bytes(class.send(request).await.into_body(), 1 << 20).await.unwrap();
    let csv = String::from_utf8(csv.to_vec()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("session,email,state,started_at,ended_at,ending,due_at,closes_at,responses,correct,overdue,mastered")
    );
    let ada = lines.find(|line| line.contains("ada@example.com")).unwrap();
    assert!(ada.contains(",timed_out,") && ada.contains(",time_up,") && ada.ends_with(",1,1,1,"), "{ada}");
    assert_eq!(class.app.store().responses("Exam").await.unwrap().len(), 1, "the refused answer is not stored");

    let mut seen = String::new();
    // Each learner's time up, as it came.
    while seen.matches("event: time_up").count() < 2 {
        let chunk = teacher_events.next().await.expect("an event").unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.contains("event: deadline") && seen.contains("event: overdue"), "{seen}");
    assert!(seen.contains(r#"data: {"email":"bo@example.com","title":"Exam"}"#), "{seen}");
    class.server.stop_streams();
    class.app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn exam_settings_and_extra_time_are_validated_and_each_problem_is_named() {
    let class = Class::with_exam().await;
    let (status, error) = class.teacher_json("/api/quizzes/Exam/exam", json!({"time_limit": "soon"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().unwrap().contains("exam.time_limit"), "{error}");
    let (status, error) = class
        .teacher_json("/api/quizzes/Exam/overrides", json!({"email": "ada@example.com", "extra_time": "2000%"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().unwrap().contains("extra_time"), "{error}");
    let (status, error) = class
        .teacher_json("/api/quizzes/Arithmetic/overrides", json!({"email": "ada@example.com", "extra_time": "5m"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the demo is no exam: {error}");
    let (status, set) = class
        .teacher_json(
            "/api/quizzes/Arithmetic/exam",
            json!({"time_limit": "20m", "opens_at": "2020-01-01T00:00:00Z", "closes_at": "2020-01-01T01:00:00Z"}),
        )
        .await;
    assert_eq!((status, &set["time_limit_ms"]), (StatusCode::OK, &json!(1_200_000)), "{set}");
    let (status, refused) =
        class.learner("POST", "/api/sessions", json!({"quiz": "Arithmetic", "email": "ada@example.com"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refused["error"].as_str().unwrap().contains("closed at 2020-01-01T01:00:00Z"), "{refused}");
    class.app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn exam_settings_and_extra_time_given_through_one_server_apply_on_every_server_of_the_store() {
    let store: Arc<dyn mastery_persistence::ResponseStore> = Arc::new(MemoryStore::default());
    let (here, there) = (Class::on(Arc::clone(&store)).await, Class::on(store).await);
    let (status, set) = here.teacher_json("/api/quizzes/Arithmetic/exam", json!({"time_limit": "20m"})).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let (status, given) = here
        .teacher_json("/api/quizzes/Arithmetic/overrides", json!({"email": "bo@example.com", "extra_time": "50%"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{given}");
    // The other server catches up with the store at most once a second.
    wait(1).await;
    let (status, started) =
        there.learner("POST", "/api/sessions", json!({"quiz": "Arithmetic", "email": "bo@example.com"})).await;
    assert_eq!((status, &started["time_left_ms"]), (StatusCode::CREATED, &json!(1_800_000)), "{started}");
    let (status, started) =
        there.learner("POST", "/api/sessions", json!({"quiz": "Arithmetic", "email": "ada@example.com"})).await;
    assert_eq!((status, &started["time_left_ms"]), (StatusCode::CREATED, &json!(1_200_000)), "{started}");
    // Taken back through the first server, the extra time is gone on the second too.
    let (status, _) = here
        .teacher_json("/api/quizzes/Arithmetic/overrides", json!({"email": "cy@example.com", "extra_time": "10m"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    wait(1).await;
    there.learner("GET", "/api/quizzes", Value::Null).await;
    assert!(
        there.app.mastery().learner_override("Arithmetic", "cy@example.com").is_some(),
        "the second server knows it"
    );
    let (status, _) = here
        .teacher_json("/api/quizzes/Arithmetic/overrides", json!({"email": "cy@example.com", "apply": false}))
        .await;
    assert_eq!(status, StatusCode::OK);
    wait(1).await;
    let (status, started) =
        there.learner("POST", "/api/sessions", json!({"quiz": "Arithmetic", "email": "cy@example.com"})).await;
    assert_eq!((status, &started["time_left_ms"]), (StatusCode::CREATED, &json!(1_200_000)), "{started}");
    here.app.shutdown().await.unwrap();
    there.app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_starting_server_ends_the_exam_sessions_left_open_when_their_time_is_up() {
    let store: Arc<dyn mastery_persistence::ResponseStore> = Arc::new(MemoryStore::default());
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let left = |email: &str, closes_at_ms: u64| mastery_persistence::NewSession {
        quiz_title: "Exam".into(),
        quiz_version: "v1".into(),
        email: email.into(),
        seed: 1,
        started_at_ms: now - 3_600_000,
        due_at_ms: Some(closes_at_ms),
        closes_at_ms: Some(closes_at_ms),
    };
    // Sessions a server that stopped left open: one past its close, one closing in five minutes.
    let past = store.start_session(left("past@example.com", now - 60_000)).await.unwrap();
    let later = store.start_session(left("later@example.com", now + 300_000)).await.unwrap();
    let class = Class::on(Arc::clone(&store)).await;
    wait(0).await;
    let ending = |id: u64| {
        let store = Arc::clone(&store);
        async move { store.session(id).await.unwrap().unwrap().ending }
    };
    assert_eq!(ending(past).await, Some(mastery_core::SessionEnding::TimeUp));
    assert_eq!(ending(later).await, None);
    wait(6).await;
    assert_eq!(ending(later).await, Some(mastery_core::SessionEnding::TimeUp));
    class.app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn at_the_very_instant_a_learner_is_due_they_are_not_yet_overdue_and_have_no_time_left() {
    let class = Class::with_exam().await;
    let (ada, _) = class.start("ada@example.com").await;
    wait(10).await;
    let (_, read) = class.learner("GET", &format!("/api/sessions/{ada}"), Value::Null).await;
    assert_eq!((&read["overdue"], &read["time_left_ms"]), (&json!(false), &json!(0)), "{read}");
    tokio::time::advance(Duration::from_millis(1)).await;
    let (_, read) = class.learner("GET", &format!("/api/sessions/{ada}"), Value::Null).await;
    assert_eq!((&read["overdue"], &read["time_left_ms"]), (&json!(true), &json!(119_999)), "{read}");
    class.app.shutdown().await.unwrap();
}
