//! Two servers on one PostgreSQL database, through their routers: the teacher watching one of
//! them sees the progress of a learner answering on the other.
//!
//! Runs in a schema of its own on the server `MASTERY_TEST_POSTGRES` names; skipped (and says so)
//! without it. CI names one.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt;
use mastery_app::{App, AppOptions};
use mastery_server::{Server, ServerOptions, router};
use serde_json::{Value, json};
use tests::postgres::Schema;
use tower::ServiceExt;

const TEACHER: &str = "teacher-token-for-tests";

async fn server(schema: &Schema) -> (App, Server) {
    let options = AppOptions { db: Some(schema.url().into()), ..AppOptions::default() };
    let app = App::connect(options).await.unwrap();
    let options = ServerOptions { teacher_token: Some(TEACHER.into()), ..ServerOptions::default() };
    let server = Server::start(&app, options).await.unwrap();
    server.add_quiz(mastery_app::demo_quiz()).await.unwrap();
    (app, server)
}

async fn post(server: &Server, path: &str, body: Value) -> Value {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router(server.clone()).oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_on_one_server_sees_a_learner_answering_on_another() {
    let Some(schema) = Schema::create().await else { return };
    let ((app_a, a), (app_b, b)) = (server(&schema).await, server(&schema).await);
    let request = Request::get("/api/quizzes/Arithmetic/events")
        .header(header::AUTHORIZATION, format!("Bearer {TEACHER}"))
        .body(Body::empty())
        .unwrap();
    let response = router(b.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = response.into_body().into_data_stream();

    let started = post(&a, "/api/sessions", json!({"quiz": "Arithmetic", "email": "ada@example.com"})).await;
    let token = started["session"].as_str().unwrap();
    post(&a, &format!("/api/sessions/{token}/answers"), json!({"answer": "-1000"})).await;

    let mut seen = String::new();
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !seen.contains("event: progress") {
            let chunk = stream.next().await.expect("an event").unwrap();
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await;
    assert!(heard.is_ok(), "no progress reached the other server's teacher: {seen:?}");
    assert!(seen.contains("ada@example.com") && seen.contains("\"verdict\":\"incorrect\""), "{seen}");
    assert_eq!(seen.matches("event: progress").count(), 1, "heard once: {seen}");
    b.stop_streams();
    app_a.shutdown().await.unwrap();
    app_b.shutdown().await.unwrap();
}
