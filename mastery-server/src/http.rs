//! What every route shares: JSON errors, a JSON body extractor whose every refusal is a JSON
//! error naming what was wrong, the refusal of cross-site writes, and the request log.

use std::time::Instant;

use axum::extract::{FromRequest, MatchedPath, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mastery_boundary::{FileProblem, MasteryError, RecordErrorKind};
use mastery_persistence::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error reply: `{"error": message}`, plus the located problems of a quiz file.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// One sentence naming what was wrong.
    pub message: String,
    /// A quiz file's problems.
    pub problems: Option<Vec<ProblemJson>>,
}

/// A quiz-file problem as the API shows it.
#[derive(Debug, Serialize)]
pub struct ProblemJson {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field, such as `templates[0].raw`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl From<&FileProblem> for ProblemJson {
    fn from(problem: &FileProblem) -> Self {
        ProblemJson {
            line: problem.line,
            column: problem.column,
            field: problem.field.clone(),
            message: problem.message.clone(),
        }
    }
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), problems: None }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    pub(crate) fn store(error: StoreError) -> Self {
        Self::unavailable(format!("the store failed: {error}"))
    }

    /// The boundary's error in HTTP terms: the learner's mistakes are 4xx, a store that cannot
    /// take an answer now is 503 (and the answer is not taken).
    pub(crate) fn mastery(error: MasteryError) -> Self {
        match error {
            MasteryError::Invalid(problems) => Self::bad_request(problems.to_string()),
            MasteryError::NoSuchQuiz(title) => Self::not_found(format!("no quiz titled {title:?}")),
            MasteryError::NotRecorded(record) => match record.kind {
                RecordErrorKind::Conflict => Self::conflict(format!(
                    "the answer was not taken: {}; read the session and answer again",
                    record.reason
                )),
                RecordErrorKind::Unavailable => {
                    Self::unavailable(format!("the answer was not taken: {}", record.reason))
                }
                RecordErrorKind::Closed => Self::conflict(format!("the answer was not taken: {}", record.reason)),
                RecordErrorKind::Refused => {
                    Self::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the answer was refused: {}", record.reason))
                }
            },
            MasteryError::Timeout { .. } | MasteryError::ShutDown | MasteryError::RecordUnknown { .. } => {
                Self::unavailable(error.to_string())
            }
            MasteryError::TimeUp { closed_at, .. } => Self::conflict(format!(
                "time is up: the session closed at {}; the answer was not stored",
                mastery_app::rfc3339(closed_at.as_millis())
            )),
            other => Self::conflict(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            problems: Option<&'a [ProblemJson]>,
        }
        let body = Body { error: &self.message, problems: self.problems.as_deref() };
        (self.status, axum::Json(body)).into_response()
    }
}

/// A JSON request body. Every refusal is a JSON error: the wrong content type (415), a body over
/// the route's limit (413), JSON that does not parse or does not fit — an unknown field, a
/// missing one, a wrong type — (400, naming it).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !content_type_is(request.headers(), &["application/json"]) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = body_bytes(request, state).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| ApiError::bad_request(format!("the JSON body is not as expected: {error}")))
    }
}

/// The body's bytes; a body over the route's limit is a JSON 413.
pub(crate) async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
        let status = rejection.status();
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "the body is larger than this request allows".to_string(),
            _ => format!("cannot read the body: {rejection}"),
        };
        ApiError::new(status, message)
    })
}

/// Whether the request's content type is one of `accepted` (parameters such as `charset` aside).
pub(crate) fn content_type_is(headers: &HeaderMap, accepted: &[&str]) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    accepted.contains(&essence.as_str())
}

/// Refuses a write (any method but GET and HEAD) that a browser sends from another site: the
/// cookie that names a learner's session or the teacher must not act for a page it did not
/// come from. Fetch Metadata decides where the browser sends it; else `Origin` is compared with
/// `Host`. A request with neither (curl, a script) is no browser's cross-site request.
pub(crate) async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross = match site {
        Some(site) => matches!(site, "cross-site" | "same-site"),
        None => match (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST)) {
            (Some(origin), Some(host)) => {
                let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
                host.to_str().map_or(true, |host| !origin_host.eq_ignore_ascii_case(host))
            }
            (Some(_), None) => true,
            (None, _) => false,
        },
    };
    if cross {
        return ApiError::new(StatusCode::FORBIDDEN, "cross-site requests may not change anything here")
            .into_response();
    }
    next.run(request).await
}

/// Logs each request: method, route (its pattern, so that no token in a path is written down),
/// status and latency. Never a body, a query or a cookie.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "(no route)".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
