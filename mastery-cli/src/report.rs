//! `mastery report`: the quizzes in the store, or one quiz's results per learner, per session or
//! per template, as a table, JSON or CSV.

use std::path::Path;
use std::sync::Arc;

use mastery_app::{
    QuizRow, Report, ReportBy, ReportRow, SessionRow, StoreLocation, TemplateRow, connect_store_for_reading,
    database_location, read_report,
};
use mastery_persistence::ResponseStore;
use serde::Serialize;

use crate::Failure;
use crate::text::{display_width, pad, printable};

/// The report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// An array of objects.
    Json,
    /// A header and one row per line.
    Csv,
}

/// What a quiz's report has one row per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Learner (email).
    Email,
    /// Session.
    Session,
    /// Template: item statistics.
    Template,
}

/// Prints the report for `title`, or the list of quizzes without one. The database is only
/// read: nothing is created or changed.
pub fn report(title: Option<&str>, db: Option<&Path>, format: Format, by: By) -> Result<String, Failure> {
    let location = database_location(db.map(Path::as_os_str)).map_err(|e| Failure::error(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the runtime: {e}")))?;
    let store = runtime.block_on(connect_store_for_reading(&location)).map_err(|e| Failure::error(e.to_string()))?;
    let Some(title) = title else {
        let quizzes = match &store {
            Some(store) => runtime.block_on(store.quizzes()).map_err(|e| Failure::error(e.to_string()))?,
            None => Vec::new(),
        };
        let rows: Vec<QuizRow<'_>> = quizzes.iter().map(QuizRow::from).collect();
        return render(format, &rows, quiz_cells, "(no quizzes)");
    };
    let report = runtime.block_on(read(store, &location, title, by))?;
    match &report {
        Report::Email(rows) => {
            let rows: Vec<ReportRow<'_>> = rows.iter().map(ReportRow::from).collect();
            render(format, &rows, learner_cells, "(no responses)")
        }
        Report::Session(rows) => {
            let rows: Vec<SessionRow<'_>> = rows.iter().map(SessionRow::from).collect();
            render(format, &rows, session_cells, "(no sessions)")
        }
        Report::Template(rows) => {
            let rows: Vec<TemplateRow<'_>> = rows.iter().map(TemplateRow::from).collect();
            render(format, &rows, template_cells, "(no responses)")
        }
    }
}

async fn read(
    store: Option<Arc<dyn ResponseStore>>,
    location: &StoreLocation,
    title: &str,
    by: By,
) -> Result<Report, Failure> {
    let by = match by {
        By::Email => ReportBy::Email,
        By::Session => ReportBy::Session,
        By::Template => ReportBy::Template,
    };
    let Some(store) = store else {
        return Err(Failure::error(mastery_app::unknown_title(&location.to_string(), title, &[]).to_string()));
    };
    read_report(&store, &location.to_string(), title, by).await.map_err(|e| Failure::error(e.to_string()))
}

/// A report's columns: the header (the CSV's, in lower case) and each row's cells, with which
/// columns are text (left-aligned in a table).
struct Cells {
    header: &'static [&'static str],
    text_columns: &'static [usize],
    /// Columns holding a list, joined with `;` (shown with `, ` in a table).
    list_columns: &'static [usize],
    rows: Vec<Vec<String>>,
}

fn render<R: Serialize>(format: Format, rows: &[R], cells: fn(&[R]) -> Cells, empty: &str) -> Result<String, Failure> {
    match format {
        Format::Json => serde_json::to_string_pretty(rows).map_err(|e| Failure::error(e.to_string())),
        Format::Csv => Ok(csv(&cells(rows))),
        Format::Table => Ok(table(&cells(rows), empty)),
    }
}

fn learner_cells(rows: &[ReportRow<'_>]) -> Cells {
    Cells {
        header: &["email", "responses", "correct", "invalid", "mastered"],
        text_columns: &[0, 4],
        list_columns: &[4],
        rows: rows
            .iter()
            .map(|row| {
                vec![
                    row.email.to_string(),
                    row.responses.to_string(),
                    row.correct.to_string(),
                    row.invalid.to_string(),
                    row.mastered.join(";"),
                ]
            })
            .collect(),
    }
}

fn quiz_cells(rows: &[QuizRow<'_>]) -> Cells {
    Cells {
        header: &["title", "learners", "sessions", "responses", "last_activity"],
        text_columns: &[0, 4],
        list_columns: &[],
        rows: rows
            .iter()
            .map(|row| {
                vec![
                    row.title.to_string(),
                    row.learners.to_string(),
                    row.sessions.to_string(),
                    row.responses.to_string(),
                    row.last_activity.clone(),
                ]
            })
            .collect(),
    }
}

fn session_cells(rows: &[SessionRow<'_>]) -> Cells {
    Cells {
        header: &[
            "session",
            "email",
            "started_at",
            "ended_at",
            "ending",
            "responses",
            "correct",
            "invalid",
            "mastered",
            "due_at",
            "overdue",
        ],
        text_columns: &[1, 2, 3, 4, 8, 9],
        list_columns: &[8],
        rows: rows
            .iter()
            .map(|row| {
                vec![
                    row.session.to_string(),
                    row.email.to_string(),
                    row.started_at.clone(),
                    row.ended_at.clone().unwrap_or_default(),
                    row.ending.to_string(),
                    row.responses.to_string(),
                    row.correct.to_string(),
                    row.invalid.to_string(),
                    row.mastered.join(";"),
                    row.due_at.clone().unwrap_or_default(),
                    row.overdue.to_string(),
                ]
            })
            .collect(),
    }
}

fn template_cells(rows: &[TemplateRow<'_>]) -> Cells {
    let share = |value: Option<f64>| value.map_or(String::new(), |v| format!("{:.0}%", v * 100.0));
    let number = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.2}"));
    Cells {
        header: &[
            "template",
            "asked",
            "answers",
            "facility",
            "correct",
            "invalid",
            "learners",
            "mastered_by",
            "mean_answers_to_mastery",
            "discrimination",
        ],
        text_columns: &[0],
        list_columns: &[],
        rows: rows
            .iter()
            .map(|row| {
                vec![
                    row.template.to_string(),
                    row.asked.to_string(),
                    row.answers.to_string(),
                    share(row.facility),
                    share(row.correct),
                    share(row.invalid),
                    row.learners.to_string(),
                    row.mastered_by.to_string(),
                    number(row.mean_answers_to_mastery),
                    number(row.discrimination),
                ]
            })
            .collect(),
    }
}

fn csv(cells: &Cells) -> String {
    let mut lines = vec![cells.header.join(",")];
    lines.extend(
        cells.rows.iter().map(|row| row.iter().map(|cell| mastery_app::csv_field(cell)).collect::<Vec<_>>().join(",")),
    );
    lines.join("\n")
}

fn table(cells: &Cells, empty: &str) -> String {
    let header: Vec<String> = cells.header.iter().map(|name| name.replace('_', " ").to_uppercase()).collect();
    let mut lines: Vec<Vec<String>> = vec![header];
    for row in &cells.rows {
        let shown = row.iter().enumerate().map(|(c, cell)| match cell.is_empty() {
            true => "-".to_string(),
            // Lists read better with spaces in a table than with the CSV's separator.
            false if cells.list_columns.contains(&c) => printable(&cell.replace(';', ", ")).into_owned(),
            false => printable(cell).into_owned(),
        });
        lines.push(shown.collect());
    }
    let columns = cells.header.len();
    let widths: Vec<usize> =
        (0..columns).map(|c| lines.iter().map(|line| display_width(&line[c])).max().unwrap_or(0)).collect();
    let mut text: Vec<String> = lines
        .iter()
        .map(|line| {
            let padded: Vec<String> = line
                .iter()
                .enumerate()
                .map(|(c, cell)| pad(cell, widths[c], cells.text_columns.contains(&c)))
                .collect();
            padded.join("  ").trim_end().to_string()
        })
        .collect();
    if cells.rows.is_empty() {
        text.push(empty.into());
    }
    text.join("\n")
}
