//! The HTTP contract, through the router without a socket: every endpoint, its shapes, and its
//! errors — each a 4xx with a JSON `error` naming what was wrong, never a 500.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::solve;
use mastery_app::App;
use mastery_boundary::MasteryConfig;
use mastery_persistence::MemoryStore;
use mastery_server::{Server, ServerOptions, router};
use serde_json::{Value, json};
use tower::ServiceExt;

const TEACHER: &str = "teacher-token-for-tests";

struct Class {
    app: App,
    server: Server,
}

impl Class {
    async fn new() -> Class {
        let app = App::with_store(Arc::new(MemoryStore::default()), MasteryConfig::default());
        let options = ServerOptions { teacher_token: Some(TEACHER.into()), ..ServerOptions::default() };
        let server = Server::start(&app, options).await.unwrap();
        server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
        Class { app, server }
    }

    /// A server with the demo quiz on `store`, which other servers may share.
    async fn on(store: Arc<dyn mastery_persistence::ResponseStore>) -> Class {
        let app = App::with_store(store, MasteryConfig::default());
        let options = ServerOptions { teacher_token: Some(TEACHER.into()), ..ServerOptions::default() };
        let server = Server::start(&app, options).await.unwrap();
        server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
        Class { app, server }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = router(self.server.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        Reply { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    async fn json(&self, method: &str, path: &str, body: Value) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    async fn teacher(&self, method: &str, path: &str, content_type: &str, body: &str) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    async fn schedule(&self, title: &str, window: &Value) -> Reply {
        self.teacher("POST", &format!("/api/quizzes/{title}/schedule"), "application/json", &window.to_string()).await
    }

    async fn start(&self, quiz: &str, email: &str) -> (String, Value) {
        let reply = self.json("POST", "/api/sessions", json!({"quiz": quiz, "email": email})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let value = reply.value();
        (value["session"].as_str().unwrap().to_string(), value)
    }

    async fn answer(&self, token: &str, answer: &str) -> Reply {
        self.json("POST", &format!("/api/sessions/{token}/answers"), json!({ "answer": answer })).await
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn value(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A 4xx with a JSON error that says something.
    fn is_error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        let error = self.value()["error"].as_str().expect("an error message").to_string();
        assert!(!error.is_empty());
        error
    }
}

#[tokio::test]
async fn a_learner_takes_the_demo_to_the_end_over_json() {
    let class = Class::new().await;
    let quizzes = class.get("/api/quizzes").await.value();
    assert_eq!(quizzes, json!([{"title": "Arithmetic", "templates": 3, "mastery": 2, "open": true}]));

    let (token, started) = class.start("Arithmetic", "ada@example.com").await;
    assert_eq!((&started["resumed"], &started["time_left_ms"]), (&json!(false), &Value::Null));
    let mut question = started["question"].clone();
    assert_eq!(
        question.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["asked", "category", "instructions", "template"]
    );

    // Reading does not change the question.
    for _ in 0..2 {
        let read = class.get(&format!("/api/sessions/{token}")).await.value();
        assert_eq!(
            (&read["question"], &read["quiz"], &read["email"]),
            (&question, &json!("Arithmetic"), &json!("ada@example.com"))
        );
        assert_eq!((&read["finished"], &read["templates"], &read["mastered"]), (&json!(false), &json!(3), &json!([])));
    }

    let invalid = class.answer(&token, "twelve").await.value();
    assert_eq!(
        (&invalid["verdict"], &invalid["correct"], &invalid["question"]),
        (&json!("invalid"), &json!(false), &question)
    );
    assert!(invalid["reason"].as_str().unwrap().contains("twelve"));

    let mut mastered = Vec::new();
    loop {
        let reply = class.answer(&token, &solve(question["asked"].as_str().unwrap())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let reply = reply.value();
        assert_eq!(reply["verdict"], "correct");
        assert!(reply.get("reason").is_none(), "only an invalid answer has a reason");
        if let Some(name) = reply["mastered"].as_str() {
            mastered.push(name.to_string());
        }
        if reply["finished"] == true {
            assert_eq!(reply["question"], Value::Null);
            break;
        }
        question = reply["question"].clone();
    }
    assert_eq!(mastered.len(), 3);
    let read = class.get(&format!("/api/sessions/{token}")).await.value();
    assert_eq!((&read["finished"], &read["question"]), (&json!(true), &Value::Null));
    assert_eq!(read["mastered"].as_array().unwrap().len(), 3);
    let late = class.answer(&token, "1").await.is_error(StatusCode::CONFLICT);
    assert!(late.contains("ended"), "{late}");
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn starting_again_resumes_the_same_session_and_question() {
    let class = Class::new().await;
    let (token, first) = class.start("Arithmetic", "ada@example.com").await;
    let (again, second) = class.start("Arithmetic", "ada@example.com").await;
    assert_eq!((token, &second["resumed"], &second["question"]), (again, &json!(true), &first["question"]));
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_are_4xx_with_a_json_error_naming_the_problem() {
    let class = Class::new().await;
    let start = |body: Value| class.json("POST", "/api/sessions", body);
    assert!(start(json!({"quiz": "Nope", "email": "a@b.c"})).await.is_error(StatusCode::NOT_FOUND).contains("Nope"));
    assert!(
        start(json!({"quiz": "Arithmetic", "email": "nobody"}))
            .await
            .is_error(StatusCode::BAD_REQUEST)
            .contains("email")
    );
    assert!(start(json!({"quiz": "Arithmetic"})).await.is_error(StatusCode::BAD_REQUEST).contains("email"));
    assert!(
        start(json!({"quiz": "Arithmetic", "email": "a@b.c", "seed": 1}))
            .await
            .is_error(StatusCode::BAD_REQUEST)
            .contains("seed")
    );
    let malformed =
        Request::post("/api/sessions").header(header::CONTENT_TYPE, "application/json").body(Body::from("{")).unwrap();
    class.send(malformed).await.is_error(StatusCode::BAD_REQUEST);
    let form =
        Request::post("/api/sessions").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap();
    assert!(class.send(form).await.is_error(StatusCode::UNSUPPORTED_MEDIA_TYPE).contains("application/json"));

    let (token, _) = class.start("Arithmetic", "ada@example.com").await;
    let huge = "9".repeat(20_000);
    class.answer(&token, &huge).await.is_error(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(class.answer(&token, &"9".repeat(1_500)).await.is_error(StatusCode::BAD_REQUEST).contains("1000"));
    class.answer("s1.00000000000000000000000000000000", "3").await.is_error(StatusCode::NOT_FOUND);
    class.get("/api/sessions/not-a-token").await.is_error(StatusCode::NOT_FOUND);
    class.get("/no/such/page").await.is_error(StatusCode::NOT_FOUND);
    // Nothing of it was taken as an answer.
    let read = class.get(&format!("/api/sessions/{token}")).await.value();
    assert_eq!(read["mastered"], json!([]));
    assert!(class.app.store().responses("Arithmetic").await.unwrap().is_empty());
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn teacher_requests_need_the_token() {
    let class = Class::new().await;
    for path in ["/api/quizzes/Arithmetic/report", "/api/quizzes/Arithmetic/events"] {
        assert!(class.get(path).await.is_error(StatusCode::UNAUTHORIZED).contains("teacher token"));
    }
    let wrong = Request::post("/api/quizzes")
        .header(header::AUTHORIZATION, "Bearer guess")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("title = \"X\""))
        .unwrap();
    assert!(class.send(wrong).await.is_error(StatusCode::UNAUTHORIZED).contains("wrong"));
    class.app.shutdown().await.unwrap();
}

const CAPITALS: &str = r#"title = "Capitals"
mastery = 1

[[templates]]
name = "france"
category = "europe"
raw = "Capital of {{country}}?"
generators = { country = ["France"] }
checker = { expect = '"Paris"' }
"#;

#[tokio::test]
async fn a_teacher_uploads_schedules_and_gives_join_links() {
    let class = Class::new().await;
    let broken = class.teacher("POST", "/api/quizzes", "application/toml", "title = \"Broken\"\nmastery = 0\n").await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", broken.body);
    let problems = broken.value()["problems"].clone();
    assert!(
        problems.as_array().unwrap().iter().any(|p| p["field"] == "mastery" && p["line"] == 2 && p["column"] == 11),
        "{problems}"
    );
    class
        .teacher("POST", "/api/quizzes", "application/json", CAPITALS)
        .await
        .is_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    class
        .teacher("POST", "/api/quizzes", "text/plain", &"#".repeat(300_000))
        .await
        .is_error(StatusCode::PAYLOAD_TOO_LARGE);

    let added = class.teacher("POST", "/api/quizzes", "text/plain", CAPITALS).await;
    assert_eq!((added.status, added.value()), (StatusCode::CREATED, json!({"title": "Capitals", "templates": 1})));
    assert_eq!(class.get("/api/quizzes").await.value().as_array().unwrap().len(), 2);

    // Scheduled for tomorrow: not open now.
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let window = json!({
        "opens_at": mastery_app::rfc3339(now + 86_400_000),
        "closes_at": mastery_app::rfc3339(now + 90_000_000),
    });
    assert_eq!(class.schedule("Capitals", &window).await.status, StatusCode::OK);
    assert_eq!(class.get("/api/quizzes").await.value().as_array().unwrap().len(), 1);
    let closed = class.json("POST", "/api/sessions", json!({"quiz": "Capitals", "email": "a@b.c"})).await;
    assert!(closed.is_error(StatusCode::CONFLICT).contains("not open"));
    class
        .schedule("Capitals", &json!({"opens_at": "soon", "closes_at": "later"}))
        .await
        .is_error(StatusCode::BAD_REQUEST);
    let backwards = json!({"opens_at": window["closes_at"], "closes_at": window["opens_at"]});
    assert!(class.schedule("Capitals", &backwards).await.is_error(StatusCode::BAD_REQUEST).contains("after"));
    class.schedule("Nope", &window).await.is_error(StatusCode::NOT_FOUND);

    // A roster: open starts are refused, join links are the way in.
    let roster = class
        .teacher(
            "POST",
            "/api/quizzes/Arithmetic/roster",
            "application/json",
            &json!({"emails": ["ada@example.com", "bob@example.com"]}).to_string(),
        )
        .await;
    assert_eq!(roster.status, StatusCode::OK, "{}", roster.body);
    let links = roster.value()["links"].clone();
    assert_eq!(links.as_array().unwrap().len(), 2);
    let bad_roster = class
        .teacher(
            "POST",
            "/api/quizzes/Arithmetic/roster",
            "application/json",
            &json!({"emails": ["ok@x.y", "nope"]}).to_string(),
        )
        .await;
    assert!(bad_roster.is_error(StatusCode::BAD_REQUEST).contains("emails[1]"));
    assert_eq!(class.get("/api/quizzes").await.value()[0]["open"], false);
    class
        .json("POST", "/api/sessions", json!({"quiz": "Arithmetic", "email": "ada@example.com"}))
        .await
        .is_error(StatusCode::FORBIDDEN);
    let url = links[0]["url"].as_str().unwrap();
    let path = &url[url.find("/join/").unwrap()..];
    let joined = class.get(path).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER);
    assert_eq!(joined.headers[header::LOCATION], "/");
    let cookie = joined.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let page = class
        .send(Request::get("/").header(header::COOKIE, cookie.split(';').next().unwrap()).body(Body::empty()).unwrap())
        .await;
    assert!(page.body.contains("id=\"asked\""), "{}", page.body);
    class.get("/join/0123456789abcdef").await;
    assert_eq!(class.get("/join/0123456789abcdef").await.status, StatusCode::NOT_FOUND);

    let report = class.teacher("GET", "/api/quizzes/Arithmetic/report?format=csv", "text/plain", "").await;
    assert_eq!(report.body, "email,responses,correct,invalid,mastered\n");
    class.teacher("GET", "/api/quizzes/Nope/report", "text/plain", "").await.is_error(StatusCode::NOT_FOUND);
    class
        .teacher("GET", "/api/quizzes/Arithmetic/report?format=xml", "text/plain", "")
        .await
        .is_error(StatusCode::BAD_REQUEST);
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let class = Class::new().await;
    let request = |site: Option<&str>, origin: Option<&str>| {
        let mut builder = Request::post("/start")
            .header(header::HOST, "quiz.example:4000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(site) = site {
            builder = builder.header("sec-fetch-site", site);
        }
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        builder.body(Body::from("quiz=Arithmetic&email=ada%40example.com")).unwrap()
    };
    class.send(request(Some("cross-site"), None)).await.is_error(StatusCode::FORBIDDEN);
    class.send(request(None, Some("http://evil.example"))).await.is_error(StatusCode::FORBIDDEN);
    assert_eq!(class.send(request(Some("same-origin"), None)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(class.send(request(None, Some("http://quiz.example:4000"))).await.status, StatusCode::SEE_OTHER);
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_pages_work_with_plain_forms() {
    let class = Class::new().await;
    let chooser = class.get("/").await;
    assert!(chooser.body.contains("Arithmetic") && chooser.body.contains("action=\"/start\""));
    let form = |path: &str, cookie: Option<&str>, body: &str| {
        let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie.to_string());
        }
        builder.body(Body::from(body.to_string())).unwrap()
    };
    let started = class.send(form("/start", None, "quiz=Arithmetic&email=ada%40example.com")).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let cookie = started.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let page =
        |cookie: String| class.send(Request::get("/").header(header::COOKIE, cookie).body(Body::empty()).unwrap());
    let before = page(cookie.clone()).await.body;
    let again = page(cookie.clone()).await.body;
    assert_eq!(before, again, "a reload shows the same question");
    let answered = class.send(form("/answer", Some(&cookie), "answer=nonsense")).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    let after = page(cookie.clone()).await.body;
    assert!(after.contains("cannot read that"), "{after}");
    assert!(!page(cookie.clone()).await.body.contains("cannot read that"), "a verdict is shown once");
    let bad = class.send(form("/start", None, "quiz=Arithmetic&email=nobody")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("email must look like name@domain"));

    let login = class.get("/teach").await;
    assert!(login.body.contains("Teacher token"));
    let signed = class.get(&format!("/teach?token={TEACHER}")).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let teacher_cookie = signed.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let upload = class.send(form("/teach/upload", Some(&teacher_cookie), "source=title+%3D+%22Broken%22")).await;
    assert_eq!(upload.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(upload.body.contains("line 1, column 1"), "{}", upload.body);
    assert_eq!(class.send(form("/teach/upload", None, "source=x")).await.status, StatusCode::UNAUTHORIZED);
    class.app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_answer_after_time_up_is_refused_and_the_teacher_hears_of_it() {
    let class = Class::new().await;
    let (token, _) = class.start("Arithmetic", "ada@example.com").await;
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let window =
        json!({"opens_at": mastery_app::rfc3339(now - 60_000), "closes_at": mastery_app::rfc3339(now + 5_000)});
    let scheduled =
        class.teacher("POST", "/api/quizzes/Arithmetic/schedule", "application/json", &window.to_string()).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.body);
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    let late = class.answer(&token, "1").await.is_error(StatusCode::CONFLICT);
    assert!(late.contains("time is up"), "{late}");
    let read = class.get(&format!("/api/sessions/{token}")).await.value();
    assert_eq!((&read["question"], &read["finished"]), (&Value::Null, &json!(false)));
    assert!(class.app.store().responses("Arithmetic").await.unwrap().is_empty());
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_teacher_watches_progress_live_and_shutdown_ends_the_stream() {
    use futures_util::StreamExt;
    let class = Class::new().await;
    let request = Request::get("/api/quizzes/Arithmetic/events")
        .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
        .body(Body::empty())
        .unwrap();
    let response = router(class.server.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut stream = response.into_body().into_data_stream();
    let (token, _) = class.start("Arithmetic", "ada@example.com").await;
    class.answer(&token, "-1000").await;
    let mut seen = String::new();
    while !seen.contains("event: progress") {
        let chunk = stream.next().await.expect("an event").unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.contains("event: joined") && seen.contains("\"verdict\":\"incorrect\""), "{seen}");
    class.server.stop_streams();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    class.app.shutdown().await.unwrap();
}

/// A quiz whose checker expects a drawn value the question never shows, and that reveals the
/// answer to a terminal after a miss: no reply of the server, in any form, may carry it.
const CANARY: &str = r#"title = "Canary"
mastery = 2
reveal = "after_incorrect"

[[templates]]
name = "secret"
category = "hidden"
raw = "Say the word"
generators = { word = ["zebra-canary-7731"] }
checker = { expect = "word" }
"#;

#[tokio::test]
async fn no_reply_ever_carries_the_expected_answer() {
    let class = Class::new().await;
    let mut bodies = Vec::new();
    let upload = class.teacher("POST", "/api/quizzes", "text/plain", CANARY).await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
    bodies.push(upload.body);
    let events = Request::get("/api/quizzes/Canary/events")
        .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
        .body(Body::empty())
        .unwrap();
    let stream = router(class.server.clone()).oneshot(events).await.unwrap().into_body();
    let (token, started) = class.start("Canary", "ada@example.com").await;
    bodies.push(started.to_string());
    for answer in ["wrong", "", "zebra", "still wrong"] {
        bodies.push(class.answer(&token, answer).await.body);
        bodies.push(class.get(&format!("/api/sessions/{token}")).await.body);
    }
    let cookie = format!("mastery_session={token}");
    bodies.push(
        class.send(Request::get("/").header(header::COOKIE, cookie.clone()).body(Body::empty()).unwrap()).await.body,
    );
    let form = Request::post("/answer")
        .header(header::COOKIE, cookie.clone())
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("answer=nope"))
        .unwrap();
    bodies.push(class.send(form).await.body);
    bodies.push(class.send(Request::get("/me").header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await.body);
    bodies.push(class.teacher("GET", "/api/quizzes/Canary/report?format=json", "text/plain", "").await.body);
    bodies.push(class.teacher("GET", "/api/quizzes/Canary/report?format=csv", "text/plain", "").await.body);
    bodies.push(
        class
            .send(
                Request::get("/teach")
                    .header(header::COOKIE, format!("mastery_teacher={TEACHER}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .body,
    );
    class.server.stop_streams();
    let sse = axum::body::to_bytes(stream, 1 << 20).await.unwrap();
    bodies.push(String::from_utf8(sse.to_vec()).unwrap());
    assert!(bodies.iter().any(|b| b.contains("Say the word")), "the session was really driven");
    assert!(bodies.last().unwrap().contains("event: progress"), "the stream really carried progress");
    for body in &bodies {
        assert!(!body.contains("zebra-canary-7731"), "the expected answer leaked: {body}");
    }
    class.app.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_idle_session_is_let_go_from_memory_and_rebuilt_from_the_store_when_it_returns() {
    let app = App::with_store(Arc::new(MemoryStore::default()), MasteryConfig::default());
    let options = ServerOptions { teacher_token: Some(TEACHER.into()), idle_after: std::time::Duration::from_secs(60) };
    let server = Server::start(&app, options).await.unwrap();
    server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
    let class = Class { app, server };
    let (token, started) = class.start("Arithmetic", "ada@example.com").await;
    let answered = class.answer(&token, "-1000").await.value();
    assert_eq!(class.app.mastery().session_count(), 1);
    tokio::time::sleep(std::time::Duration::from_secs(120)).await;
    assert_eq!(class.app.mastery().session_count(), 0, "the idle session was let go");
    let read = class.get(&format!("/api/sessions/{token}")).await.value();
    assert_eq!(read["question"], answered["question"], "rebuilt by replay, at the same question");
    assert_ne!(read["question"], started["question"]);
    assert_eq!(class.app.mastery().session_count(), 1);
    assert!(class.app.store().sessions("Arithmetic").await.unwrap()[0].is_open(), "letting go ended nothing");
    class.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_server_whose_session_went_stale_refuses_once_then_rebuilds_from_the_store() {
    let folder = tempfile::tempdir().unwrap();
    let store: Arc<dyn mastery_persistence::ResponseStore> =
        Arc::new(mastery_persistence::SqliteStore::open(folder.path().join("shared.db")).unwrap());
    let class = |store: Arc<dyn mastery_persistence::ResponseStore>| async move {
        let app = App::with_store(store, MasteryConfig::default());
        let server = Server::start(&app, ServerOptions::default()).await.unwrap();
        server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
        Class { app, server }
    };
    let (a, b) = (class(Arc::clone(&store)).await, class(Arc::clone(&store)).await);
    let (token, _) = a.start("Arithmetic", "ada@example.com").await;
    assert_eq!(a.answer(&token, "-1000").await.status, StatusCode::OK);
    // The learner's next answer goes through the other server, which rebuilds the session.
    let through_b = b.answer(&token, "-1000").await.value();
    // Back on the first server: its copy is one answer behind. Another answer at that place is
    // refused, never a second history (the very same answer would count once, as a retry).
    let stale = a.answer(&token, "-999").await.is_error(StatusCode::CONFLICT);
    assert!(stale.contains("answer again"), "{stale}");
    let read = a.get(&format!("/api/sessions/{token}")).await.value();
    assert_eq!(read["question"], through_b["question"], "rebuilt from the store");
    assert_eq!(a.answer(&token, "-1000").await.status, StatusCode::OK);
    let positions: Vec<u64> =
        store.responses("Arithmetic").await.unwrap().iter().map(|r| r.place.unwrap().position).collect();
    assert_eq!(positions, [0, 1, 2]);
    a.app.shutdown().await.unwrap();
    b.app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_quiz_given_and_scheduled_through_one_server_is_offered_by_every_server_on_the_store() {
    let store: Arc<dyn mastery_persistence::ResponseStore> = Arc::new(MemoryStore::default());
    let (a, b) = (Class::on(Arc::clone(&store)).await, Class::on(Arc::clone(&store)).await);
    async fn titles(class: &Class) -> Vec<String> {
        let listed = class.get("/api/quizzes").await.value();
        listed.as_array().unwrap().iter().map(|q| q["title"].as_str().unwrap().to_string()).collect()
    }
    assert_eq!(a.teacher("POST", "/api/quizzes", "text/plain", CAPITALS).await.status, StatusCode::CREATED);
    assert_eq!(titles(&b).await, ["Arithmetic", "Capitals"], "given through A, offered by B");

    // Scheduled through B for tomorrow: closed on A too, once A reads the store.
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let tomorrow = json!({
        "opens_at": mastery_app::rfc3339(now + 86_400_000),
        "closes_at": mastery_app::rfc3339(now + 90_000_000),
    });
    assert_eq!(b.schedule("Capitals", &tomorrow).await.status, StatusCode::OK);
    let refused = a.json("POST", "/api/sessions", json!({"quiz": "Capitals", "email": "ada@example.com"})).await;
    refused.is_error(StatusCode::CONFLICT);

    // A server started later on the same store — a restart — offers it, with its window; and a
    // window that closed while it was away closes the quiz here too.
    let an_hour_ago = json!({
        "opens_at": mastery_app::rfc3339(now - 3_600_000),
        "closes_at": mastery_app::rfc3339(now - 60_000),
    });
    assert_eq!(b.schedule("Arithmetic", &an_hour_ago).await.status, StatusCode::OK);
    let c = Class::on(Arc::clone(&store)).await;
    c.server.sync_offered().await.unwrap();
    assert!(titles(&c).await.is_empty(), "Capitals opens tomorrow, Arithmetic has closed");
    let late = c.json("POST", "/api/sessions", json!({"quiz": "Arithmetic", "email": "ada@example.com"})).await;
    late.is_error(StatusCode::CONFLICT);
    let teacher_page = c.teacher("GET", "/api/quizzes/Capitals/report?format=json", "application/json", "").await;
    assert_eq!(teacher_page.status, StatusCode::OK, "{}", teacher_page.body);
}

#[tokio::test]
async fn a_late_answer_is_refused_by_the_stored_deadline_even_where_the_proctor_never_heard() {
    let store: Arc<dyn mastery_persistence::ResponseStore> = Arc::new(MemoryStore::default());
    let (a, b) = (Class::on(Arc::clone(&store)).await, Class::on(Arc::clone(&store)).await);
    let (token, _) = a.start("Arithmetic", "ada@example.com").await;
    assert_eq!(a.answer(&token, "-1000").await.status, StatusCode::OK);
    // Closed through B a minute ago: A's Proctor has not heard, but the store knows the deadline.
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let closed = json!({
        "opens_at": mastery_app::rfc3339(now - 3_600_000),
        "closes_at": mastery_app::rfc3339(now - 60_000),
    });
    assert_eq!(b.schedule("Arithmetic", &closed).await.status, StatusCode::OK);
    let late = a.answer(&token, "-1000").await.is_error(StatusCode::CONFLICT);
    assert!(late.contains("closed before the answer came"), "{late}");
    let answers = store.responses("Arithmetic").await.unwrap().len();
    assert_eq!(answers, 1, "the late answer was not stored");
}

#[tokio::test(start_paused = true)]
async fn a_window_set_again_or_cleared_by_a_new_file_replaces_the_old_one_whose_close_no_longer_applies() {
    let class = Class::new().await;
    let upload = |text: String| {
        let class = &class;
        async move { class.teacher("POST", "/api/quizzes", "application/toml", &text).await.status }
    };
    assert_eq!(upload(CAPITALS.to_string()).await, StatusCode::CREATED);
    let now = mastery_core::Timestamp::from(std::time::SystemTime::now()).as_millis();
    let window = |closes_in_ms: u64| json!({"opens_at": mastery_app::rfc3339(now - 60_000), "closes_at": mastery_app::rfc3339(now + closes_in_ms)});
    // Set twice: the first close (in 10 minutes) is forgotten for the second (in an hour).
    assert_eq!(class.schedule("Capitals", &window(600_000)).await.status, StatusCode::OK);
    assert_eq!(class.schedule("Capitals", &window(3_600_000)).await.status, StatusCode::OK);
    pass(11 * 60).await;
    let (token, _) = class.start("Capitals", "ada@example.com").await;
    // A new file clears the window: the hour's close no longer removes the quiz.
    let changed = CAPITALS.replace("mastery = 1", "mastery = 2");
    assert_eq!(upload(changed).await, StatusCode::CREATED);
    pass(60 * 60).await;
    // Let go while idle and read again, it is abandoned for the new version: never time up.
    let read = class.get(&format!("/api/sessions/{token}")).await.value();
    assert_ne!(read["ending"], "time_up", "a forgotten close ended the session: {read}");
    class.start("Capitals", "bo@example.com").await;
    class.app.shutdown().await.unwrap();
}

/// Lets `seconds` pass at once, then lets the woken workers run.
async fn pass(seconds: u64) {
    tokio::time::advance(std::time::Duration::from_secs(seconds)).await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}
