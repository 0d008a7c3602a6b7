//! The pages: a learner page at `/` and a teacher page at `/teach`, rendered on the server. Every
//! form works without JavaScript (a post, then a redirect); `app.js` makes answering and the
//! countdown immediate and the teacher's view live.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crate::api::{self, SESSION_COOKIE, TEACHER_COOKIE, Teacher, cookie};
use crate::http::ApiError;
use crate::{Server, lock, token};

const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

pub(crate) fn routes() -> Router<Server> {
    Router::new()
        .route("/", get(learner_page))
        .route("/start", post(start))
        .route("/answer", post(answer))
        .route("/me", get(me))
        .route("/me/events", get(my_events))
        .route("/leave", post(leave))
        .route("/join/{token}", get(join))
        .route("/teach", get(teacher_page))
        .route("/teach/login", post(teacher_login))
        .route("/teach/upload", post(teacher_upload))
        .route("/teach/schedule", post(teacher_schedule))
        .route("/teach/roster", post(teacher_roster))
        .route("/teach/exam", post(teacher_exam))
        .route("/teach/extra-time", post(teacher_extra_time))
        .route("/assets/app.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT) }))
        .route("/assets/style.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }))
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Mastery" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/app.js" defer {}
            }
            body { main { (body) } }
        }
    }
}

fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let age = max_age.map_or(String::new(), |age| format!("; Max-Age={age}"));
    // HttpOnly: no script reads it. Lax: a join link opened from a mail still carries it.
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/{age}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Goes on to the learner page with `token` as the session cookie.
fn to_session(token: &str) -> Response {
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, token, None));
    response
}

fn error_page(error: &ApiError) -> Response {
    let body = page(
        "Problem",
        html! {
            h1 { "Something is not right" }
            p.error { (error.message) }
            p { a href="/" { "Back to the start" } }
        },
    );
    (error.status, body).into_response()
}

/// `GET /`: the learner's quiz when the cookie names a session, else the open quizzes.
async fn learner_page(State(server): State<Server>, headers: HeaderMap) -> Response {
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        server.catch_up().await;
        return chooser(&server, None).into_response();
    };
    let view = match api::session_view(&server, token).await {
        Ok(view) => view,
        // A stale cookie (a session of another store, say): start again.
        Err(error) if error.status == StatusCode::NOT_FOUND => return chooser(&server, None).into_response(),
        Err(error) => return error_page(&error),
    };
    let last = server
        .inner
        .tokens
        .check(token)
        .and_then(|id| lock(&server.inner.sessions).get_mut(&id).and_then(|entry| entry.last_answer.take()));
    quiz_page(&view, last.as_ref()).into_response()
}

fn chooser(server: &Server, problem: Option<&str>) -> Markup {
    let quizzes: Vec<(String, usize, bool)> = {
        let quizzes = lock(&server.inner.quizzes);
        quizzes
            .values()
            .filter(|entry| Server::is_open_now(entry, server.now_ms()))
            .map(|entry| (entry.quiz.title().to_string(), entry.quiz.template_count(), entry.roster))
            .collect()
    };
    page(
        "Take a quiz",
        html! {
            h1 { "Take a quiz" }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            @if quizzes.is_empty() {
                p { "No quiz is open right now." }
            } @else {
                form method="post" action="/start" {
                    fieldset {
                        legend { "Quiz" }
                        @for (index, (title, templates, roster)) in quizzes.iter().enumerate() {
                            label {
                                input type="radio" name="quiz" value=(title) checked[index == 0] disabled[*roster];
                                " " (title) " "
                                small { "(" (templates) " template" @if *templates != 1 { "s" } ")"
                                    @if *roster { " · by join link only" } }
                            }
                        }
                    }
                    label { "Your email " input type="email" name="email" required autocomplete="email" autofocus; }
                    button type="submit" { "Start" }
                }
            }
        },
    )
}

fn quiz_page(view: &Value, last: Option<&api::AnswerJson>) -> Markup {
    let title = view["quiz"].as_str().unwrap_or_default();
    let mastered = view["mastered"].as_array().map_or(0, Vec::len);
    let templates = view["templates"].as_u64().unwrap_or(0);
    let finished = view["finished"].as_bool().unwrap_or(false);
    let question = view.get("question").filter(|q| !q.is_null());
    page(
        title,
        html! {
            header.quiz {
                h1 { (title) }
                p #progress { "mastered " span #mastered { (mastered) } "/" (templates) }
                @if let Some(left) = view["time_left_ms"].as_u64() {
                    p #clock data-time-left-ms=(left) { span #left-label { @if view["overdue"] == true { "Overdue: answers are marked late. Closes in" } @else { "time left" } } " " span #left { (clock(left)) } }
                }
            }
            section #verdict aria-live="polite" {
                @if let Some(last) = last { (verdict(last)) }
            }
            @if let Some(question) = question {
                form #answer method="post" action="/answer" {
                    p.category #category { (question["category"].as_str().unwrap_or_default()) }
                    p.instructions #instructions { (question["instructions"].as_str().unwrap_or_default()) }
                    label for="answer-input" { span.asked #asked { (question["asked"].as_str().unwrap_or_default()) } }
                    input #answer-input type="text" name="answer" required autofocus autocomplete="off" maxlength="1000";
                    button type="submit" { "Answer" }
                }
            } @else if finished {
                p.done #done { "Finished: every template is mastered. Well done." }
            } @else {
                p.done #done { "This session has ended: time is up." }
            }
            form method="post" action="/leave" { button.quiet type="submit" { "Leave (your place is kept)" } }
        },
    )
}

fn verdict(last: &api::AnswerJson) -> Markup {
    html! {
        p class=(format!("verdict {}", last.verdict)) {
            @match last.verdict {
                "correct" => "✓ correct",
                "incorrect" => "✗ incorrect",
                _ => "? cannot read that",
            }
            " · streak " (last.streak)
            @if let Some(reason) = &last.reason { " · " (reason) }
            @if let Some(template) = &last.mastered { " · ★ mastered " (template) }
        }
    }
}

fn clock(ms: u64) -> String {
    let seconds = ms.div_ceil(1000);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[derive(Deserialize)]
struct StartForm {
    quiz: String,
    email: String,
}

/// `POST /start`: starts (or resumes) a session and keeps its token in the cookie.
async fn start(State(server): State<Server>, Form(form): Form<StartForm>) -> Response {
    match api::start(&server, &form.quiz, form.email.trim(), false).await {
        Ok(started) => to_session(&started.token),
        Err(error) => (error.status, chooser(&server, Some(&error.message))).into_response(),
    }
}

#[derive(Deserialize)]
struct AnswerForm {
    answer: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

/// `POST /answer`: answers in the cookie's session. A form post is redirected to the page, which
/// shows the verdict; the page's script asks for JSON instead.
async fn answer(State(server): State<Server>, headers: HeaderMap, Form(form): Form<AnswerForm>) -> Response {
    let json = wants_json(&headers);
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        let error = ApiError::not_found("no session: start a quiz first");
        return if json { error.into_response() } else { Redirect::to("/").into_response() };
    };
    match api::answer_in(&server, token, &form.answer).await {
        Ok(reply) if json => Json(reply).into_response(),
        Ok(reply) => {
            // Kept for the page the form goes on to, which shows it once.
            if let Some(id) = server.inner.tokens.check(token)
                && let Some(entry) = lock(&server.inner.sessions).get_mut(&id)
            {
                entry.last_answer = Some(reply);
            }
            Redirect::to("/").into_response()
        }
        Err(error) if json => error.into_response(),
        // An ended session shows its end; anything else shows what went wrong.
        Err(error) if error.status == StatusCode::CONFLICT => Redirect::to("/").into_response(),
        Err(error) => error_page(&error),
    }
}

/// `GET /me`: the cookie's session, as `GET /api/sessions/TOKEN` shows it (the page's script
/// re-syncs its clock from it).
async fn me(State(server): State<Server>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let token = cookie(&headers, SESSION_COOKIE).ok_or_else(|| ApiError::not_found("no session"))?;
    api::session_view(&server, token).await.map(Json)
}

/// `GET /me/events`: the cookie's session's own events (more time, overdue, time up), so that
/// the page's clock follows the teacher at once.
async fn my_events(State(server): State<Server>, headers: HeaderMap) -> Response {
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        return ApiError::not_found("no session").into_response();
    };
    match api::learner_stream(&server, token).await {
        Ok(stream) => stream.into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /leave`: forgets the session in this browser; it stays open, to be resumed.
async fn leave() -> Response {
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    response
}

/// `GET /join/TOKEN`: a rostered learner's private link; the token becomes a session cookie and
/// the browser goes on to a URL without it.
async fn join(State(server): State<Server>, Path(join_token): Path<String>) -> Response {
    let joined = match server.inner.store.joined(&token::hash(&join_token)).await {
        Ok(Some(joined)) => joined,
        Ok(None) => return error_page(&ApiError::not_found("this join link is unknown or was replaced")),
        Err(error) => return error_page(&ApiError::store(error)),
    };
    match api::start(&server, &joined.0, &joined.1, true).await {
        Ok(started) => to_session(&started.token),
        Err(error) => error_page(&error),
    }
}

#[derive(Deserialize)]
struct TeachQuery {
    token: Option<String>,
}

/// `GET /teach`: the teacher page; `?token=` (the printed link) signs in and is dropped from the
/// address at once.
async fn teacher_page(State(server): State<Server>, headers: HeaderMap, Query(query): Query<TeachQuery>) -> Response {
    if let Some(shown) = query.token {
        return sign_in(&server, &shown);
    }
    let signed_in = cookie(&headers, TEACHER_COOKIE).is_some_and(|t| token::same(t, server.teacher_token()));
    if !signed_in {
        return login_page(None).into_response();
    }
    server.catch_up().await;
    teacher_view(&server, None).into_response()
}

fn sign_in(server: &Server, shown: &str) -> Response {
    if !token::same(shown.trim(), server.teacher_token()) {
        return (StatusCode::UNAUTHORIZED, login_page(Some("That is not the teacher token."))).into_response();
    }
    let mut response = Redirect::to("/teach").into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(TEACHER_COOKIE, shown.trim(), None));
    response
}

fn login_page(problem: Option<&str>) -> Markup {
    page(
        "Teacher",
        html! {
            h1 { "Teacher" }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form method="post" action="/teach/login" {
                label { "Teacher token " input type="password" name="token" required autofocus; }
                button type="submit" { "Sign in" }
            }
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn teacher_login(State(server): State<Server>, Form(form): Form<LoginForm>) -> Response {
    sign_in(&server, &form.token)
}

/// What the teacher page shows after a form: problems of an upload, links of a roster.
enum Notice {
    Problems(ApiError),
    Done(String),
    Links(String, Vec<(String, String)>),
}

fn teacher_view(server: &Server, notice: Option<Notice>) -> Markup {
    let quizzes: Vec<QuizLine> = {
        let quizzes = lock(&server.inner.quizzes);
        quizzes
            .values()
            .map(|e| QuizLine {
                title: e.quiz.title().to_string(),
                templates: e.quiz.template_count(),
                window: e.window,
                roster: e.roster,
                open: Server::is_open_now(e, server.now_ms()),
            })
            .collect()
    };
    page(
        "Teacher",
        html! {
            h1 { "Teacher" }
            @match &notice {
                Some(Notice::Problems(error)) => {
                    section.error #problems role="alert" {
                        p { (error.message) }
                        @if let Some(problems) = &error.problems {
                            ul { @for p in problems { li { "line " (p.line) ", column " (p.column) ": " (p.field) ": " (p.message) } } }
                        }
                    }
                }
                Some(Notice::Done(text)) => { p.done #notice { (text) } }
                Some(Notice::Links(title, links)) => {
                    section #links {
                        h2 { "Join links for " (title) }
                        p { "Send each learner their own link; it is their only way in." }
                        table { @for (email, url) in links { tr { td { (email) } td { code { (url) } } } } }
                    }
                }
                None => {}
            }
            section {
                h2 { "Quizzes" }
                table #quizzes {
                    thead { tr { th { "Title" } th { "Templates" } th { "Open now" } th { "Window (UTC)" } th { "Report" } } }
                    tbody {
                        @for line in &quizzes {
                            tr {
                                td { (line.title) @if line.roster { " (roster)" } }
                                td { (line.templates) }
                                td { @if line.open { "yes" } @else { "no" } }
                                td { @if let Some((opens, closes)) = line.window { (mastery_app::rfc3339(opens)) " – " (mastery_app::rfc3339(closes)) } @else { "always" } }
                                td {
                                    a href=(format!("/api/quizzes/{}/report?format=csv", encode(&line.title))) { "CSV" } " · "
                                    a href=(format!("/api/quizzes/{}/report?format=json", encode(&line.title))) { "JSON" }
                                    " · sessions: "
                                    a href=(format!("/api/quizzes/{}/sessions?format=csv", encode(&line.title))) { "CSV" } " · "
                                    a href=(format!("/api/quizzes/{}/sessions?format=json", encode(&line.title))) { "JSON" }
                                }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Upload a quiz file" }
                form #upload method="post" action="/teach/upload" {
                    label { "Quiz file (TOML) " textarea name="source" rows="12" cols="72" required {} }
                    button type="submit" { "Upload" }
                }
            }
            section {
                h2 { "Schedule" }
                form #schedule method="post" action="/teach/schedule" {
                    (quiz_select(&quizzes))
                    label { "Opens at (RFC 3339) " input type="text" name="opens_at" placeholder="2026-11-30T09:00:00Z" required; }
                    label { "Closes at " input type="text" name="closes_at" placeholder="2026-11-30T10:00:00Z" required; }
                    button type="submit" { "Schedule" }
                }
            }
            section {
                h2 { "Exam" }
                p { "A time limit counts from when each learner starts and ends at the window's close at the latest. With a grace period, answers after the time limit are stored and marked overdue until it ends." }
                form #exam method="post" action="/teach/exam" {
                    (quiz_select(&quizzes))
                    label { "Time limit " input type="text" name="time_limit" placeholder="45m"; }
                    label { "Grace period " input type="text" name="grace_period" placeholder="5m (empty: end at once)"; }
                    label { "Idle limit " input type="text" name="idle_limit" placeholder="20m (empty: none)"; }
                    label { "Opens at (RFC 3339) " input type="text" name="opens_at" placeholder="2026-11-30T09:00:00Z"; }
                    label { "Closes at " input type="text" name="closes_at" placeholder="2026-11-30T11:00:00Z"; }
                    button type="submit" { "Set exam" }
                }
                h3 { "Extra time for one learner" }
                form #extra-time method="post" action="/teach/extra-time" {
                    (quiz_select(&quizzes))
                    label { "Email " input type="email" name="email" required; }
                    label { "Extra time " input type="text" name="extra_time" placeholder="15m or 50%"; }
                    label { "Own window opens " input type="text" name="opens_at" placeholder="optional, RFC 3339"; }
                    label { "closes " input type="text" name="closes_at" placeholder="optional"; }
                    button type="submit" { "Give" }
                }
            }
            section {
                h2 { "Roster" }
                form #roster method="post" action="/teach/roster" {
                    (quiz_select(&quizzes))
                    label { "Emails, one per line " textarea name="emails" rows="6" cols="40" {} }
                    button type="submit" { "Make join links" }
                }
            }
            section {
                h2 { "Live" }
                label { "Watch " select #watch {
                    option value="" { "—" }
                    @for line in &quizzes { option value=(line.title) { (line.title) } }
                } }
                table #live { thead { tr { th { "Learner" } th { "Last template" } th { "Verdict" } th { "Streak" } th { "Mastered" } th { "State" } th { "Due (UTC)" } th { "Overdue answers" } } } tbody {} }
            }
        },
    )
}

/// A quiz as the teacher page lists it.
struct QuizLine {
    title: String,
    templates: usize,
    window: Option<(u64, u64)>,
    roster: bool,
    open: bool,
}

fn quiz_select(quizzes: &[QuizLine]) -> Markup {
    html! {
        label { "Quiz " select name="title" required { @for line in quizzes { option value=(line.title) { (line.title) } } } }
    }
}

/// Percent-encodes a path segment.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct UploadForm {
    source: String,
}

async fn teacher_upload(State(server): State<Server>, _teacher: Teacher, Form(form): Form<UploadForm>) -> Response {
    let (status, notice) = match api::add_quiz_text(&server, &form.source).await {
        Ok((title, templates)) => {
            (StatusCode::OK, Notice::Done(format!("Added {title:?} ({templates} templates); it is open now.")))
        }
        Err(error) => (error.status, Notice::Problems(error)),
    };
    (status, teacher_view(&server, Some(notice))).into_response()
}

#[derive(Deserialize)]
struct ScheduleForm {
    title: String,
    opens_at: String,
    closes_at: String,
}

async fn teacher_schedule(State(server): State<Server>, _teacher: Teacher, Form(form): Form<ScheduleForm>) -> Response {
    let scheduled = match api::window(form.opens_at.trim(), form.closes_at.trim()) {
        Ok((opens, closes)) => api::schedule_quiz(&server, &form.title, opens, closes).await.map(|()| (opens, closes)),
        Err(error) => Err(error),
    };
    let (status, notice) = match scheduled {
        Ok((opens, closes)) => (
            StatusCode::OK,
            Notice::Done(format!(
                "{:?} opens at {} and closes at {}.",
                form.title,
                mastery_app::rfc3339(opens),
                mastery_app::rfc3339(closes)
            )),
        ),
        Err(error) => (error.status, Notice::Problems(error)),
    };
    (status, teacher_view(&server, Some(notice))).into_response()
}

#[derive(Deserialize)]
struct RosterForm {
    title: String,
    emails: String,
}

async fn teacher_roster(
    State(server): State<Server>,
    _teacher: Teacher,
    headers: HeaderMap,
    Form(form): Form<RosterForm>,
) -> Response {
    let emails: Vec<String> = form.emails.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    let (status, notice) = match api::set_roster(&server, &form.title, &emails, &api::origin(&headers)).await {
        Ok(links) => (StatusCode::OK, Notice::Links(form.title.clone(), links)),
        Err(error) => (error.status, Notice::Problems(error)),
    };
    (status, teacher_view(&server, Some(notice))).into_response()
}

/// A form's text field: empty means not given.
fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[derive(Deserialize)]
struct ExamForm {
    title: String,
    #[serde(default)]
    time_limit: String,
    #[serde(default)]
    grace_period: String,
    #[serde(default)]
    idle_limit: String,
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
}

async fn teacher_exam(State(server): State<Server>, _teacher: Teacher, Form(form): Form<ExamForm>) -> Response {
    let fields = mastery_boundary::ExamFields {
        opens_at: given(&form.opens_at),
        closes_at: given(&form.closes_at),
        time_limit: given(&form.time_limit),
        grace_period: given(&form.grace_period),
        idle_limit: given(&form.idle_limit),
    };
    let (status, notice) = match server.set_exam(&form.title, &fields).await {
        Ok(_) => (
            StatusCode::OK,
            Notice::Done(format!(
                "{:?} is an exam now; learners who start from now on get these settings.",
                form.title
            )),
        ),
        Err(error) => (error.status, Notice::Problems(error)),
    };
    (status, teacher_view(&server, Some(notice))).into_response()
}

#[derive(Deserialize)]
struct ExtraTimeForm {
    title: String,
    email: String,
    #[serde(default)]
    extra_time: String,
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
}

async fn teacher_extra_time(
    State(server): State<Server>,
    _teacher: Teacher,
    Form(form): Form<ExtraTimeForm>,
) -> Response {
    let fields = mastery_boundary::LearnerOverrideFields {
        extra_time: given(&form.extra_time),
        opens_at: given(&form.opens_at),
        closes_at: given(&form.closes_at),
    };
    let email = form.email.trim();
    let (status, notice) = match server.set_learner_override(&form.title, email, Some(&fields)).await {
        Ok(Some(deadline)) => (
            StatusCode::OK,
            Notice::Done(format!(
                "{email} now has until {} in {:?}.",
                mastery_app::rfc3339(deadline.due_at.as_millis()),
                form.title
            )),
        ),
        Ok(None) => {
            (StatusCode::OK, Notice::Done(format!("{email} gets these settings when they start {:?}.", form.title)))
        }
        Err(error) => (error.status, Notice::Problems(error)),
    };
    (status, teacher_view(&server, Some(notice))).into_response()
}
