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
use mastery_boundary::{ExamFields, LearnerOverrideFields, MasteryError, Next, Validator, validate_email};
use mastery_core::{Deadline, Exam, SessionEnding};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::http::{ApiError, JsonBody, ProblemJson, body_bytes, content_type_is};
use crate::{Server, ended, lock, question_json, token};

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
    /// Whether the answer came in the exam's grace period, after the learner's time was up.
    pub(crate) overdue: bool,
}

/// `GET /api/quizzes`: the quizzes a learner may take now.
pub(crate) async fn list_quizzes(State(server): State<Server>) -> Json<Vec<Value>> {
    server.catch_up().await;
    let now = server.now_ms();
    let quizzes = lock(&server.inner.quizzes);
    let open = quizzes.values().filter(|entry| Server::is_open_now(entry, now));
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
    pub(crate) deadline: Option<Deadline>,
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
    // An exam judges each learner by their own window when they start.
    if entry.quiz.exam().is_none() && !Server::is_open_now(&entry, server.now_ms()) {
        return Err(ApiError::conflict(format!("the quiz {title:?} is not open now")));
    }
    let (id, resumed, deadline) = server.take(title, email).await?;
    let question = server.inner.mastery.select_question(title, email).await.map_err(ApiError::mastery)?;
    Ok(Started {
        token: server.inner.tokens.make(id),
        resumed,
        question: question.as_ref().map(question_json),
        time_left_ms: server.time_left_for(title, deadline),
        deadline,
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
            "due_at": started.deadline.map(|deadline| mastery_app::rfc3339(deadline.due_at.as_millis())),
            "closes_at": started.deadline.map(|deadline| mastery_app::rfc3339(deadline.closes_at.as_millis())),
        })),
    ))
}

/// Where the session named by `token` stands, without changing it.
pub(crate) async fn session_view(server: &Server, token: &str) -> Result<Value, ApiError> {
    let (id, title, email, ending) = server.session_of(token).await?;
    let view = |question: Option<Value>,
                finished: bool,
                mastered: Vec<String>,
                templates: usize,
                status: Option<(Option<SessionEnding>, Option<Deadline>)>| {
        let (ending, deadline) = status.unwrap_or((ending, None));
        let open = !finished && ending.is_none();
        json!({
            "quiz": title,
            "email": email,
            "question": question,
            "finished": finished,
            "mastered": mastered,
            "templates": templates,
            "time_left_ms": if open { server.time_left_for(&title, deadline) } else { None },
            "due_at": deadline.map(|deadline| mastery_app::rfc3339(deadline.due_at.as_millis())),
            "closes_at": deadline.map(|deadline| mastery_app::rfc3339(deadline.closes_at.as_millis())),
            "overdue": open && deadline.is_some_and(|deadline| server.now_ms() > deadline.due_at.as_millis()),
            "ending": ending.map(SessionEnding::as_str),
        })
    };
    if let Some(ending) = ending {
        let (mastered, templates) = ended_progress(server, id, &title).await?;
        return Ok(view(None, ending == SessionEnding::Finished, mastered, templates, Some((Some(ending), None))));
    }
    match server.live(id, &title, &email).await {
        Ok(status) => {
            let finished = status.question.is_none() && status.mastered.len() == status.templates;
            let question = status.question.as_ref().map(question_json);
            Ok(view(question, finished, status.mastered, status.templates, Some((None, status.deadline))))
        }
        Err(error) if error.status == StatusCode::CONFLICT => {
            let Some(ending) = server.stored_ending(id, &title, &email).await? else { return Err(error) };
            let (mastered, templates) = ended_progress(server, id, &title).await?;
            Ok(view(None, ending == SessionEnding::Finished, mastered, templates, Some((Some(ending), None))))
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
            Err(error @ MasteryError::TimeUp { .. }) => {
                server.remember(id, &title, &email, Some(SessionEnding::TimeUp));
                server.mark_live(id, false);
                return Err(ApiError::mastery(error));
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
        overdue: answered.overdue,
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
            "overdue": answered.overdue,
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
    let opens =
        mastery_boundary::parse_rfc3339(opens_at).map_err(|e| ApiError::bad_request(format!("opens_at: {e}")))?;
    let closes =
        mastery_boundary::parse_rfc3339(closes_at).map_err(|e| ApiError::bad_request(format!("closes_at: {e}")))?;
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
    schedule_quiz(&server, &title, opens, closes).await?;
    Ok(Json(json!({
        "title": title,
        "opens_at": mastery_app::rfc3339(opens),
        "closes_at": mastery_app::rfc3339(closes),
        "open": Server::is_open_now(&server.quiz(&title).expect("scheduled"), server.now_ms()),
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

impl ReportQuery {
    /// `json` (the default) or `csv`; anything else is a 400 naming it.
    fn format(&self) -> Result<&str, ApiError> {
        match self.format.as_deref().unwrap_or("json") {
            format @ ("json" | "csv") => Ok(format),
            other => Err(ApiError::bad_request(format!("format must be json or csv, got {other:?}"))),
        }
    }
}

/// A report's rows; none for a quiz neither offered here nor in the store is a 404.
async fn reported<T>(
    rows: mastery_persistence::Pending<Vec<T>>,
    server: &Server,
    title: &str,
) -> Result<Vec<T>, ApiError> {
    let known = server.quiz(title).is_some();
    let rows = rows.await.map_err(ApiError::store)?;
    if rows.is_empty() && !known {
        return Err(ApiError::not_found(format!("no quiz titled {title:?}")));
    }
    Ok(rows)
}

/// `GET /api/quizzes/TITLE/report?format=json|csv`: the rows of `mastery report`.
pub(crate) async fn report(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = query.format()?;
    let rows = reported(server.inner.store.report(&title), &server, &title).await?;
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
    Ok(event_stream(&server, server.subscribe(&title)))
}

/// Opens and closes a quiz: an exam gets the window as one of its settings (learners with a
/// window of their own keep theirs, and each learner's deadline follows); any other quiz is
/// opened and closed by the Proctor.
pub(crate) async fn schedule_quiz(server: &Server, title: &str, opens: u64, closes: u64) -> Result<(), ApiError> {
    match server.quiz(title).and_then(|entry| entry.quiz.exam().copied()) {
        Some(exam) => {
            let mut fields = exam_fields(&exam);
            fields.opens_at = Some(mastery_app::rfc3339(opens));
            fields.closes_at = Some(mastery_app::rfc3339(closes));
            server.set_exam(title, &fields).await.map(drop)
        }
        None => server.schedule(title, opens, closes).await,
    }
}

/// An exam's settings written back as a teacher gives them.
pub(crate) fn exam_fields(exam: &Exam) -> ExamFields {
    let duration = |duration: std::time::Duration| format!("{}ms", duration.as_millis());
    ExamFields {
        opens_at: exam.window.map(|window| mastery_app::rfc3339(window.opens_at.as_millis())),
        closes_at: exam.window.map(|window| mastery_app::rfc3339(window.closes_at.as_millis())),
        time_limit: exam.time_limit.map(duration),
        grace_period: match exam.when_time_is_up {
            mastery_core::WhenTimeIsUp::Grace(grace) => Some(duration(grace)),
            mastery_core::WhenTimeIsUp::End => None,
        },
        idle_limit: exam.idle_limit.map(duration),
    }
}

/// An exam's settings as the API shows them.
pub(crate) fn exam_json(title: &str, exam: &Exam) -> Value {
    let ms = |duration: Option<std::time::Duration>| duration.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    json!({
        "title": title,
        "opens_at": exam.window.map(|window| mastery_app::rfc3339(window.opens_at.as_millis())),
        "closes_at": exam.window.map(|window| mastery_app::rfc3339(window.closes_at.as_millis())),
        "time_limit_ms": ms(exam.time_limit),
        "grace_period_ms": match exam.when_time_is_up {
            mastery_core::WhenTimeIsUp::Grace(grace) => ms(Some(grace)),
            mastery_core::WhenTimeIsUp::End => None,
        },
        "idle_limit_ms": ms(exam.idle_limit),
    })
}

/// `POST /api/quizzes/TITLE/exam` (teacher) `{"opens_at","closes_at","time_limit","grace_period",
/// "idle_limit"}`, each optional: makes the quiz an exam.
pub(crate) async fn exam(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    JsonBody(fields): JsonBody<ExamFields>,
) -> Result<Json<Value>, ApiError> {
    let exam = server.set_exam(&title, &fields).await?;
    Ok(Json(exam_json(&title, &exam)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideRequest {
    email: String,
    /// `false` takes the learner's own settings back.
    #[serde(default = "yes")]
    apply: bool,
    #[serde(flatten)]
    fields: LearnerOverrideFields,
}

fn yes() -> bool {
    true
}

/// `POST /api/quizzes/TITLE/overrides` (teacher) `{"email","extra_time"?,"opens_at"?,"closes_at"?}`:
/// one learner's own exam settings; a running session gets its new deadline at once.
pub(crate) async fn learner_override(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    JsonBody(request): JsonBody<OverrideRequest>,
) -> Result<Json<Value>, ApiError> {
    let email = request.email.trim();
    let fields = request.apply.then_some(&request.fields);
    let deadline = server.set_learner_override(&title, email, fields).await?;
    Ok(Json(match deadline {
        Some(deadline) => server.deadline_json(email, deadline),
        None => json!({ "email": email, "due_at": null, "closes_at": null, "time_left_ms": null, "overdue": false }),
    }))
}

/// A session's state as the teacher sees it.
fn session_state(
    now: u64,
    ending: Option<SessionEnding>,
    due_at_ms: Option<u64>,
    closes_at_ms: Option<u64>,
) -> &'static str {
    match ending {
        Some(SessionEnding::Finished) => "finished",
        Some(SessionEnding::TimeUp) => "timed_out",
        Some(SessionEnding::Abandoned) => "abandoned",
        Some(SessionEnding::Stopped) => "stopped",
        // The store refuses answers after the close even before anyone stores the ending.
        None if closes_at_ms.is_some_and(|closes| now >= closes) => "timed_out",
        None if due_at_ms.is_some_and(|due| now > due) => "overdue",
        None => "in_progress",
    }
}

/// `GET /api/quizzes/TITLE/sessions?format=json|csv` (teacher): every session of the quiz with its state
/// (`in_progress`, `overdue`, `finished`, `timed_out`, `abandoned`, `stopped`), when it started
/// and ended, its deadline and how many answers were overdue.
pub(crate) async fn sessions(
    State(server): State<Server>,
    _teacher: Teacher,
    Path(title): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = query.format()?;
    let rows = session_rows(&server, &title).await?;
    if format == "json" {
        return Ok(Json(rows).into_response());
    }
    const COLUMNS: [&str; 12] = [
        "session",
        "email",
        "state",
        "started_at",
        "ended_at",
        "ending",
        "due_at",
        "closes_at",
        "responses",
        "correct",
        "overdue",
        "mastered",
    ];
    let mut text = COLUMNS.join(",") + "\n";
    for row in &rows {
        let cell = |column: &str| match &row[column] {
            Value::Null => String::new(),
            Value::String(text) => mastery_app::csv_field(text),
            Value::Array(items) => {
                let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                mastery_app::csv_field(&names.join(";"))
            }
            other => other.to_string(),
        };
        text.push_str(&COLUMNS.map(cell).join(","));
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// The rows of `GET /api/quizzes/TITLE/sessions`.
pub(crate) async fn session_rows(server: &Server, title: &str) -> Result<Vec<Value>, ApiError> {
    let rows = reported(server.inner.store.session_report(title), server, title).await?;
    let now = server.now_ms();
    Ok(rows
        .iter()
        .map(|row| {
            let session = &row.session;
            json!({
                "session": session.id,
                "email": session.email,
                "state": session_state(now, session.ending, session.due_at_ms, session.closes_at_ms),
                "started_at": mastery_app::rfc3339(session.started_at_ms),
                "ended_at": session.ended_at_ms.map(mastery_app::rfc3339),
                "ending": session.ending.map(SessionEnding::as_str),
                "due_at": session.due_at_ms.map(mastery_app::rfc3339),
                "closes_at": session.closes_at_ms.map(mastery_app::rfc3339),
                "responses": row.responses,
                "correct": row.correct,
                "overdue": row.overdue,
                "mastered": row.mastered,
            })
        })
        .collect())
}

/// `GET /api/sessions/TOKEN/events`: the learner's own events as server-sent events: `deadline`
/// (the teacher gave more time: `{"due_at","closes_at","time_left_ms"}`), `overdue` and `time_up`.
pub(crate) async fn session_events(
    State(server): State<Server>,
    Path(token): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    learner_stream(&server, &token).await
}

/// The event stream of the learner whose session `token` names.
pub(crate) async fn learner_stream(
    server: &Server,
    token: &str,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    let (id, ..) = server.session_of(token).await?;
    Ok(event_stream(server, server.subscribe_learner(id)))
}

/// Server-sent events from `receiver` until the server shuts down.
fn event_stream(
    server: &Server,
    receiver: tokio::sync::broadcast::Receiver<(String, String)>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
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
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Any other path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint")
}
