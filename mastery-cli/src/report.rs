//! `mastery report`: one row per learner, as a table, JSON or CSV.

use std::path::Path;

use mastery_app::{ReportRow, StoreLocation, database_location, open_store_for_reading};
use mastery_persistence::LearnerReport;

use crate::Failure;
use crate::text::{display_width, pad, printable};

/// The report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// An array of objects.
    Json,
    /// A header and one row per email.
    Csv,
}

/// Prints the report for `title`. A quiz nobody answered, or a database not yet created, gives an
/// empty report rather than an error. The database is only read: nothing is created or changed.
pub fn report(title: &str, db: Option<&Path>, format: Format) -> Result<String, Failure> {
    let location = database_location(db.map(Path::as_os_str)).map_err(|e| Failure::error(e.to_string()))?;
    let rows = read(&location, title)?;
    Ok(match format {
        Format::Json => json(&rows)?,
        Format::Csv => csv(&rows),
        Format::Table => table(&rows),
    })
}

fn read(location: &StoreLocation, title: &str) -> Result<Vec<LearnerReport>, Failure> {
    let Some(store) = open_store_for_reading(location).map_err(|e| Failure::error(e.to_string()))? else {
        return Ok(Vec::new());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(store.report(title)).map_err(|e| Failure::error(e.to_string()))
}

fn json(rows: &[LearnerReport]) -> Result<String, Failure> {
    let rows: Vec<ReportRow<'_>> = rows.iter().map(ReportRow::from).collect();
    serde_json::to_string_pretty(&rows).map_err(|e| Failure::error(e.to_string()))
}

fn csv(rows: &[LearnerReport]) -> String {
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
    text.pop();
    text
}

/// Quotes a field that holds a comma, a quote or a line break (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn table(rows: &[LearnerReport]) -> String {
    let header = ["EMAIL", "RESPONSES", "CORRECT", "INVALID", "MASTERED"].map(String::from);
    let mut lines: Vec<[String; 5]> = vec![header];
    for row in rows {
        lines.push([
            printable(&row.email).into_owned(),
            row.responses.to_string(),
            row.correct.to_string(),
            row.invalid.to_string(),
            if row.mastered.is_empty() { "-".into() } else { printable(&row.mastered.join(", ")).into_owned() },
        ]);
    }
    let widths: Vec<usize> = (0..5).map(|c| lines.iter().map(|l| display_width(&l[c])).max().unwrap_or(0)).collect();
    let mut text: Vec<String> = lines
        .iter()
        .map(|line| {
            let cells: Vec<String> =
                line.iter().enumerate().map(|(c, cell)| pad(cell, widths[c], matches!(c, 0 | 4))).collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect();
    if rows.is_empty() {
        text.push("(no responses)".into());
    }
    text.join("\n")
}
