//! The JSON API: learners start, read and answer sessions; the teacher uploads, schedules,
//! rosters, watches and reports.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use mastery_boundary::{MasteryError, Next, Validator, validate_email};
use mastery_core::SessionEnding;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::http::{ApiError, JsonBody, ProblemJson, body_bytes, content_type_is};
use crate::{Server, ended, lock, question_json, rfc3339, token};

/// The cookie that holds a learner's session token.
pub(crate) const SESSION_COOKIE: &str = "mastery_session";
/// The cookie that holds the teacher token, for the teacher page and its event stream.
pub(crate) const TEACHER_COOKIE: &str = "mastery_teacher";

/// A reply to an answer: `{"verdict","correct","streak","reason"?,"mastered","question","finished"}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AnswerJson {
    pub(crate) verdict: &'static str,
    pub(crate) correct: bool,
    pub(crate) streak: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    pub(crate) mastered: Option<String>,
    pub(crate) question: Option<Value>,
    pub(crate) finished: bool,
}

/// `GET /api/quizzes`: the quizzes a learner may take now.
pub(crate) async fn list_quizzes(State(server): State<Server>) -> Json<Vec<Value>> {
    server.catch_up().await;
    let quizzes = lock(&server.inner.quizzes);
    let open = quizzes.values().filter(|entry| Server::is_open_now(entry));
    Json(
        open.map(|entry| {
            json!({
                "title": entry.quiz.title(),
                "templates": entry.quiz.template_count(),
                "mastery": entry.quiz.mastery(),
                "open": !entry.roster,
            })
        })
        .collect(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRequest {
    quiz: String,
    email: String,
}

/// A session just started (or resumed).
pub(crate) struct Started {
    pub(crate) token: String,
    pub(crate) resumed: bool,
    pub(crate) question: Option<Value>,
    pub(crate) time_left_ms: Option<u64>,
}

/// Starts or resumes the learner's session; `by_join_link` is how a rostered learner arrives.
pub(crate) async fn start(server: &Server, title: &str, email: &str, by_join_link: bool) -> Result<Started, ApiError> {
    // A quiz given to another server, or scheduled there, is known here once the store is read.
    server.catch_up().await;
    let entry = server.quiz(title).ok_or_else(|| ApiError::not_found(format!("no quiz titled {title:?}")))?;
    validate_email(email).map_err(ApiError::mastery)?;
    if entry.roster && !by_join_link {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("the quiz {title:?} has a roster: start it from your join link"),
        ));
    }
    if !Server::is_open_now(&entry) {
        return Err(ApiError::conflict(format!("the quiz {title:?} is not open now")));
    }
    let (id, resumed) = server.take(title, email).await?;
    let question = server.inner.mastery.select_question(title, email).await.map_err(ApiError::mastery)?;
    Ok(Started {
        token: server.inner.tokens.make(id),
        resumed,
        question: question.as_ref().map(question_json),
        time_left_ms: server.time_left_ms(title),
    })
}

/// `POST /api/sessions`.
pub(crate) async fn start_session(
    State(server): State<Server>,
    JsonBody(request): JsonBody<StartRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let started = start(&server, &request.quiz, &request.email, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session": started.token,
            "resumed": started.resumed,
            "question": started.question,
            "time_left_ms": started.time_left_ms,
        })),
    ))
}

/// Where the session named by `token` stands, without changing it.
pub(crate) async fn session_view(server: &Server, token: &str) -> Result<Value, ApiError> {
    let (id, title, email, ending) = server.session_of(token).await?;
    let view = |question: Option<Value>, finished: bool, mastered: Vec<String>, templates: usize| {
        json!({
            "quiz": title,
            "email": email,
            "question": question,
            "finished": finished,
            "mastered": mastered,
            "templates": templates,
            "time_left_ms": if finished || ending.is_some() { None } else { server.time_left_ms(&title) },
        })
    };
    if let Some(ending) = ending {
        let (mastered, templates) = ended_progress(server, id, &title).await?;
        return Ok(view(None, ending == SessionEnding::Finished, mastered, templates));
    }
    match server.live(id, &title, &email).await {
        Ok(status) => {
            let finished = status.question.is_none() && status.mastered.len() == status.templates;
            Ok(view(status.question.as_ref().map(question_json), finished, status.mastered, status.templates))
        }
        Err(error) if error.status == StatusCode::CONFLICT => {
            let Some(ending) = server.stored_ending(id, &title, &email).await? else { return Err(error) };
            let (mastered, templates) = ended_progress(server, id, &title).await?;
            Ok(view(None, ending == SessionEnding::Finished, mastered, templates))
        }
        Err(error) => Err(error),
    }
}

/// What an ended session mastered, folded from the store.
async fn ended_progress(server: &Server, id: u64, title: &str) -> Result<(Vec<String>, usize), ApiError> {
    let sessions = server.inner.store.session_report(title).await.map_err(ApiError::store)?;
    let mastered = sessions.into_iter().find(|row| row.session.id == id).map(|row| row.mastered).unwrap_or_default();
    let templates = server.quiz(title).map_or(mastered.len(), |entry| entry.quiz.template_count());
    Ok((mastered, templates))
}

/// `GET /api/sessions/TOKEN`.
pub(crate) async fn read_session(
    State(server): State<Server>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    session_view(&server, &token).await.map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerRequest {
    answer: String,
}

/// Answers in the session named by `token`; replies once the response is durable.
pub(crate) async fn answer_in(server: &Server, token: &str, answer: &str) -> Result<AnswerJson, ApiError> {
    let (id, title, email, ending) = server.session_of(token).await?;
    if let Some(ending) = ending {
        return Err(ended(ending));
    }
    // A session known to be live here takes the answer straight away; one that is not (a
    // restart, another server, an idle release) is rebuilt first.
    let mut checked = !server.known_live(id);
    if checked {
        server.live(id, &title, &email).await?;
    }
    let answered = loop {
        match server.inner.mastery.answer_question(&title, &email, answer).await {
            Ok(answered) => break answered,
            // Gone from this process: ended (the Proctor closed the quiz while the answer was on
            // its way, and it was not taken), or let go while idle, to be rebuilt once.
            Err(MasteryError::NoSession { .. } | MasteryError::SessionStopped { .. }) => {
                server.mark_live(id, false);
                match server.stored_ending(id, &title, &email).await? {
                    Some(ending) => return Err(ended(ending)),
                    None if !checked => {
                        server.live(id, &title, &email).await?;
                        checked = true;
                    }
                    None => return Err(ApiError::conflict("the session stopped while answering; answer again")),
                }
            }
            // Another process answered in this session since this one rebuilt it: what this
            // process holds is stale. It lets go, so that the retry rebuilds from the store.
            Err(MasteryError::NotRecorded(record)) if record.kind == mastery_boundary::RecordErrorKind::Conflict => {
                server.inner.mastery.release_sessions(&[(title.clone(), email.clone())]);
                server.mark_live(id, false);
                return Err(ApiError::mastery(MasteryError::NotRecorded(record)));
            }
            Err(error) => return Err(ApiError::mastery(error)),
        }
    };
    let finished = matches!(answered.next, Next::Finished);
    let question = match &answered.next {
        Next::Question(next) => Some(question_json(next)),
        _ => None,
    };
    let reply = AnswerJson {
        verdict: answered.verdict.kind(),
        correct: answered.verdict.is_correct(),
        streak: answered.streak,
        reason: match &answered.verdict {
            mastery_core::Verdict::Invalid(reason) => Some(reason.clone()),
            _ => None,
        },
        mastered: answered.mastered.then(|| answered.question.template().to_string()),
        question,
        finished,
    };
    if finished {
        server.remember(id, &title, &email, Some(SessionEnding::Finished));
    }
    server.publish(&title, "progress", || {
        json!({
            "email": email,
            "template": answered.question.template(),
            "verdict": reply.verdict,
            "streak": reply.streak,
            "mastered": reply.mastered,
            "mastered_count": answered.progress.mastered,
            "templates": answered.progress.templates,
            "finished": finished,
        })
    });
    if let Next::Failed(error) = answered.next {
        tracing::warn!(%error, "the next question could not be drawn; the next read draws again");
    }
    Ok(reply)
}

/// `POST /api/sessions/TOKEN/answers`.
pub(crate) async fn answer(
    State(server): State<Server>,
    Path(token): Path<String>,
    JsonBody(request): JsonBody<AnswerRequest>,
) -> Result<Json<AnswerJson>, ApiError> {
    answer_in(&server, &token, &request.answer).await.map(Json)
}

/// A request the teacher made: the teacher token as `Authorization: Bearer`, or the teacher
/// page's cookie.
pub(crate) struct Teacher;

impl FromRequestParts<Server> for Teacher {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, server: &Server) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let shown = bearer.or_else(|| cookie(&parts.headers, TEACHER_COOKIE));
        match shown {
            Some(token) if token::same(token, server.teacher_token()) => Ok(Teacher),
            Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "the teacher token is wrong")),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this needs the teacher token: send Authorization: Bearer TOKEN",
            )),
        }
    }
}

/// A cookie's value.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Validates a quiz file's text and offers the quiz: `(title, templates)`, or the problems.
pub(crate) async fn add_quiz_text(server: &Server, text: &str) -> Result<(String, usize), ApiError> {
    let parsed = mastery_boundary::parse_quiz_text("quiz.toml", text, &Validator::default());
    let quiz = match parsed {
        Ok(file) => file.valid.quiz,
        Err(problems) => {
            let count = problems.0.len();
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the quiz file has {count} problem{}", if count == 1 { "" } else { "s" }),
            );
            error.problems = Some(problems.0.iter().map(ProblemJson::from).collect());
            return Err(error);
        }
    };
    let (title, templates) = (quiz.title().to_string(), quiz.template_count());
    server.offer_quiz_file(quiz, text).await?;
    Ok((title, templates))
}

/// `POST /api/quizzes`: a quiz file's TOML as the body.
pub(crate) async fn upload_quiz(
    State(server): State<Server>,
    _teacher: Teacher,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !content_type_is(request.headers(), &["application/toml", "text/plain"]) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the quiz file's TOML with Content-Type: application/toml or text/plain",
        ));
    }
    let bytes = body_bytes(request, &server).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("the quiz file is not UTF-8 text"))?;
    let (title, templates) = add_quiz_text(&server, text).await?;
    Ok((StatusCode::CREATED, Json(json!({ "title": title, "templates": templates }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleRequest {
    opens_at: String,
    closes_at: String,
}

/// Reads a window; the close must come after the opening.
pub(crate) fn window(opens_at: &str, closes_at: &str) -> Result<(u64, u64), ApiError> {
    let opens = rfc3339::parse(opens_at).map_err(|e| ApiError::bad_request(format!("opens_at: {e}")))?;
    let closes = rfc3339::parse(closes_at).map_err(|e| ApiError::bad_request(format!("closes_at: {e}")))?;
    if closes <= opens {
        return Err(ApiError::bad_request("closes_at must come after opens_at"));
    }
    Ok((opens, closes))
}

/// `POST /api/quizzes/TITLE/schedule`.
pub(crate) async fn schedule(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    JsonBody(request): JsonBody<ScheduleRequest>,
) -> Result<Json<Value>, ApiError> {
    let (opens, closes) = window(&request.opens_at, &request.closes_at)?;
    server.schedule(&title, opens, closes).await?;
    Ok(Json(json!({
        "title": title,
        "opens_at": mastery_app::rfc3339(opens),
        "closes_at": mastery_app::rfc3339(closes),
        "open": Server::is_open_now(&server.quiz(&title).expect("scheduled")),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RosterRequest {
    emails: Vec<String>,
}

/// Gives the quiz a roster: one private join link per learner. `origin` is where links point.
pub(crate) async fn set_roster(
    server: &Server,
    title: &str,
    emails: &[String],
    origin: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    if server.quiz(title).is_none() {
        return Err(ApiError::not_found(format!("no quiz titled {title:?}")));
    }
    let mut learners = Vec::new();
    let mut links = Vec::new();
    for (index, email) in emails.iter().map(|e| e.trim()).enumerate() {
        validate_email(email).map_err(|error| ApiError::bad_request(format!("emails[{index}]: {error}")))?;
        if links.iter().any(|(known, _): &(String, String)| known == email) {
            continue;
        }
        let join = token::random_hex(16);
        learners.push((email.to_string(), token::hash(&join)));
        links.push((email.to_string(), format!("{origin}/join/{join}")));
    }
    server.inner.store.set_roster(title, learners).await.map_err(ApiError::store)?;
    if let Some(entry) = lock(&server.inner.quizzes).get_mut(title) {
        entry.roster = !links.is_empty();
    }
    Ok(links)
}

/// Where links point: this request's own host.
pub(crate) fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// `POST /api/quizzes/TITLE/roster`.
pub(crate) async fn roster(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<RosterRequest>,
) -> Result<Json<Value>, ApiError> {
    let links = set_roster(&server, &title, &request.emails, &origin(&headers)).await?;
    let links: Vec<Value> = links.into_iter().map(|(email, url)| json!({ "email": email, "url": url })).collect();
    Ok(Json(json!({ "links": links })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    format: Option<String>,
}

/// `GET /api/quizzes/TITLE/report?format=json|csv`: the rows of `mastery report`.
pub(crate) async fn report(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = query.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::bad_request(format!("format must be json or csv, got {format:?}")));
    }
    let known = server.quiz(&title).is_some();
    let rows = server.inner.store.report(&title).await.map_err(ApiError::store)?;
    if rows.is_empty() && !known {
        return Err(ApiError::not_found(format!("no quiz titled {title:?}")));
    }
    Ok(match format {
        "csv" => {
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], mastery_app::learners_csv(&rows)).into_response()
        }
        _ => Json(rows.iter().map(mastery_app::ReportRow::from).collect::<Vec<_>>()).into_response(),
    })
}

/// `GET /api/quizzes/TITLE/events`: learners' progress as server-sent events (`joined`,
/// `progress`, `time_up`), until the server shuts down.
pub(crate) async fn events(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if server.quiz(&title).is_none() {
        return Err(ApiError::not_found(format!("no quiz titled {title:?}")));
    }
    let receiver = server.subscribe(&title);
    let stop = server.inner.shutdown.clone();
    let stream = futures_util::stream::unfold((receiver, stop), |(mut receiver, stop)| async move {
        // Events already sent go out before the stream ends at shutdown.
        let event = tokio::select! {
            biased;
            message = receiver.recv() => match message {
                Ok((kind, data)) => Event::default().event(kind).data(data),
                Err(RecvError::Lagged(missed)) => Event::default().event("lagged").data(missed.to_string()),
                Err(RecvError::Closed) => return None,
            },
            () = stop.cancelled() => return None,
        };
        Some((Ok(event), (receiver, stop)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Any other path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint")
}
