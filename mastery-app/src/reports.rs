//! Reports as every front end shows them: the quizzes in a store, and a quiz's results per
//! learner, per session or per template, as rows that serialise to the same JSON everywhere.

use std::sync::Arc;

use mastery_persistence::{LearnerReport, QuizSummary, ResponseStore, SessionReport, TemplateReport};
use serde::Serialize;

use crate::error::AppError;

/// Which rows a quiz's report has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportBy {
    /// One row per learner (email): the default.
    #[default]
    Email,
    /// One row per session.
    Session,
    /// Item statistics, one row per template.
    Template,
}

/// A quiz's report.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// One row per learner.
    Email(Vec<LearnerReport>),
    /// One row per session.
    Session(Vec<SessionReport>),
    /// One row per template.
    Template(Vec<TemplateReport>),
}

/// The report of the quiz `title`, `by` learner, session or template. A title the store does not
/// hold is an error naming `store_name` and the closest title it does hold.
pub async fn read_report(
    store: &Arc<dyn ResponseStore>,
    store_name: &str,
    title: &str,
    by: ReportBy,
) -> Result<Report, AppError> {
    let quizzes = store.quizzes().await?;
    if !quizzes.iter().any(|quiz| quiz.title == title) {
        return Err(unknown_title(store_name, title, &quizzes));
    }
    Ok(match by {
        ReportBy::Email => Report::Email(store.report(title).await?),
        ReportBy::Session => Report::Session(store.session_report(title).await?),
        ReportBy::Template => Report::Template(store.template_report(title).await?),
    })
}

/// The error for a title not in the store, with the closest one it holds.
pub fn unknown_title(store_name: &str, title: &str, quizzes: &[QuizSummary]) -> AppError {
    let titles: Vec<&str> = quizzes.iter().map(|quiz| quiz.title.as_str()).collect();
    let hint = match closest(title, &titles) {
        Some(closest) => format!("did you mean {closest:?}?"),
        None if titles.is_empty() => "it holds no quizzes yet".to_string(),
        None => format!("it holds {}", titles.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>().join(", ")),
    };
    AppError::UnknownTitle { title: title.to_string(), store: store_name.to_string(), hint }
}

/// The title closest to `title`, ignoring case, when it is near enough to be a slip.
fn closest<'a>(title: &str, titles: &[&'a str]) -> Option<&'a str> {
    let wanted = title.to_lowercase();
    let distance = |candidate: &str| mastery_boundary::edit_distance(&candidate.to_lowercase(), &wanted);
    let best = titles.iter().copied().min_by_key(|candidate| distance(candidate))?;
    let allowed = (wanted.chars().count() / 3).max(2);
    (distance(best) <= allowed).then_some(best)
}

/// A quiz in the list `mastery report` prints without a title.
#[derive(Debug, Serialize)]
pub struct QuizRow<'a> {
    /// The quiz's title.
    pub title: &'a str,
    /// Distinct learners.
    pub learners: u64,
    /// Sessions.
    pub sessions: u64,
    /// Responses.
    pub responses: u64,
    /// The latest activity, RFC 3339 in UTC.
    pub last_activity: String,
}

impl<'a> From<&'a QuizSummary> for QuizRow<'a> {
    fn from(quiz: &'a QuizSummary) -> Self {
        QuizRow {
            title: &quiz.title,
            learners: quiz.learners,
            sessions: quiz.sessions,
            responses: quiz.responses,
            last_activity: rfc3339(quiz.last_activity_ms),
        }
    }
}

/// One session's row.
#[derive(Debug, Serialize)]
pub struct SessionRow<'a> {
    /// The session's id.
    pub session: u64,
    /// The learner.
    pub email: &'a str,
    /// The quiz version it was taken with (`null` when unknown).
    pub version: Option<&'a str>,
    /// When it started, RFC 3339 in UTC.
    pub started_at: String,
    /// When it ended, or `null`.
    pub ended_at: Option<String>,
    /// `finished`, `time_up`, `stopped`, `abandoned`, or `open`.
    pub ending: &'static str,
    /// Responses given.
    pub responses: u64,
    /// Correct responses.
    pub correct: u64,
    /// Invalid responses.
    pub invalid: u64,
    /// Templates mastered in the session, in the order they were mastered.
    pub mastered: &'a [String],
    /// When the learner's time was up, for an exam (RFC 3339), else `null`.
    pub due_at: Option<String>,
    /// Answers given after `due_at`, in the exam's grace period.
    pub overdue: u64,
}

impl<'a> From<&'a SessionReport> for SessionRow<'a> {
    fn from(row: &'a SessionReport) -> Self {
        let session = &row.session;
        SessionRow {
            session: session.id,
            email: &session.email,
            version: session.quiz_version.as_deref(),
            started_at: rfc3339(session.started_at_ms),
            ended_at: session.ended_at_ms.map(rfc3339),
            ending: session.ending.map_or("open", |ending| ending.as_str()),
            responses: row.responses,
            correct: row.correct,
            invalid: row.invalid,
            mastered: &row.mastered,
            due_at: session.due_at_ms.map(rfc3339),
            overdue: row.overdue,
        }
    }
}

/// One template's item statistics.
#[derive(Debug, Serialize)]
pub struct TemplateRow<'a> {
    /// The template.
    pub template: &'a str,
    /// Questions asked and answered (a retry after an invalid answer counts once).
    pub asked: u64,
    /// Answers given.
    pub answers: u64,
    /// Share of questions answered correctly at the first try (`null` when never asked).
    pub facility: Option<f64>,
    /// Share of answers that were correct.
    pub correct: Option<f64>,
    /// Share of answers that were invalid.
    pub invalid: Option<f64>,
    /// Learners who were asked it.
    pub learners: u64,
    /// Learners who mastered it within some session.
    pub mastered_by: u64,
    /// Mean answers to it up to mastery, over the sessions that mastered it.
    pub mean_answers_to_mastery: Option<f64>,
    /// Item-rest correlation of first-try facility across learners; `null` when there are too few.
    pub discrimination: Option<f64>,
}

impl<'a> From<&'a TemplateReport> for TemplateRow<'a> {
    fn from(row: &'a TemplateReport) -> Self {
        let round = |value: Option<f64>| value.map(|v| (v * 1000.0).round() / 1000.0);
        TemplateRow {
            template: &row.template,
            asked: row.asked,
            answers: row.answers,
            facility: round(row.facility()),
            correct: round(row.share_correct()),
            invalid: round(row.invalid_rate()),
            learners: row.learners,
            mastered_by: row.learners_mastered,
            mean_answers_to_mastery: round(row.mean_answers_to_mastery),
            discrimination: round(row.discrimination),
        }
    }
}

/// The per-learner report as CSV: the header `email,responses,correct,invalid,mastered`, then one
/// line per learner, mastered templates joined with `;`.
///
/// ```
/// use mastery_persistence::LearnerReport;
///
/// let row = LearnerReport { email: "ada@example.com".into(), responses: 2, correct: 2, invalid: 0, mastered: vec!["a".into(), "b".into()] };
/// assert_eq!(mastery_app::learners_csv(&[row]), "email,responses,correct,invalid,mastered\nada@example.com,2,2,0,a;b\n");
/// ```
pub fn learners_csv(rows: &[LearnerReport]) -> String {
    let mut text = String::from("email,responses,correct,invalid,mastered\n");
    for row in rows {
        let fields = [
            csv_field(&row.email),
            row.responses.to_string(),
            row.correct.to_string(),
            row.invalid.to_string(),
            csv_field(&row.mastered.join(";")),
        ];
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// Milliseconds since the Unix epoch as RFC 3339 in UTC, to the second.
///
/// ```
/// assert_eq!(mastery_app::rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(mastery_app::rfc3339(1_764_374_400_000), "2025-11-29T00:00:00Z");
/// ```
pub fn rfc3339(ms: u64) -> String {
    mastery_boundary::format_rfc3339(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_title_forgives_case_and_a_slip_but_not_a_different_word() {
        let titles = ["Arithmetic", "Capitals"];
        assert_eq!(closest("arithmetc", &titles), Some("Arithmetic"));
        assert_eq!(closest("Geography", &titles), None);
    }

    #[test]
    fn dates_cross_leap_years_and_centuries() {
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_107_542_399_000), "2100-02-28T23:59:59Z");
    }
}
