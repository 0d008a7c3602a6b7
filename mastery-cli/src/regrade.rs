//! `mastery regrade`: judge a quiz's stored answers again with a quiz file's checkers, print what
//! changes for each learner, and store it only when asked (`--apply`).

use std::path::Path;
use std::time::SystemTime;

use mastery_app::{Regrade, StoreLocation, connect_store, connect_store_for_reading, database_location};
use mastery_core::{Timestamp, Verdict};
use serde_json::json;

use crate::Failure;
use crate::run::app_failure;
use crate::text::printable;

/// How the regrade is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    Table,
    /// One JSON object.
    Json,
}

/// Regrades the quiz in `quiz_file`. Without `apply` the store is only read.
pub fn regrade(quiz_file: &Path, db: Option<&Path>, apply: bool, format: Format) -> Result<String, Failure> {
    let quiz = mastery_app::load_quiz_file(quiz_file).map_err(app_failure)?;
    let location = database_location(db.map(Path::as_os_str)).map_err(|e| Failure::error(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the runtime: {e}")))?;
    let store = runtime.block_on(async {
        match apply {
            true => connect_store(&location).await.map_err(app_failure),
            false => connect_store_for_reading(&location)
                .await
                .map_err(app_failure)?
                .ok_or_else(|| Failure::error(format!("no database at {location}: nothing to regrade"))),
        }
    })?;
    let now = Timestamp::from(SystemTime::now()).as_millis();
    let outcome = runtime.block_on(mastery_app::regrade(&store, &quiz, now, apply)).map_err(|error| {
        Failure::error(match error {
            mastery_app::AppError::NoData { title } => {
                format!("nothing to regrade: the store {location} holds no answers to the quiz {title:?}")
            }
            other => other.to_string(),
        })
    })?;
    // Dropping the store lets its writer commit before the command returns.
    drop(store);
    Ok(match format {
        Format::Json => as_json(&outcome),
        Format::Table => as_text(&outcome, &location),
    })
}

fn verdict_name(verdict: &Verdict) -> &'static str {
    verdict.kind()
}

fn as_json(outcome: &Regrade) -> String {
    let learners: Vec<serde_json::Value> = outcome
        .learners
        .iter()
        .map(|learner| {
            let changed: Vec<serde_json::Value> = learner
                .changed
                .iter()
                .map(|change| {
                    json!({
                        "session": change.place.session,
                        "position": change.place.position,
                        "template": change.template,
                        "asked": change.asked,
                        "answer": change.answer,
                        "before": verdict_name(&change.before),
                        "after": verdict_name(&change.after),
                    })
                })
                .collect();
            json!({"email": learner.email, "changed": changed, "gained": learner.gained, "lost": learner.lost})
        })
        .collect();
    let unjudged: Vec<serde_json::Value> = outcome
        .unjudged
        .iter()
        .map(|(place, reason)| json!({"session": place.session, "position": place.position, "reason": reason}))
        .collect();
    let value = json!({
        "title": outcome.title,
        "version": outcome.version,
        "judged": outcome.judged,
        "changed": outcome.changed_count(),
        "learners": learners,
        "missing_from_quiz": outcome.missing_from_quiz,
        "not_answered": outcome.not_answered,
        "unjudged": unjudged,
        "applied": outcome.applied,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

fn as_text(outcome: &Regrade, location: &StoreLocation) -> String {
    let mut lines = vec![format!(
        "Regrade of {:?} with the checkers of version {}: {} answers judged again, {} verdicts change.",
        printable(&outcome.title),
        outcome.version,
        outcome.judged,
        outcome.changed_count()
    )];
    for learner in &outcome.learners {
        lines.push(printable(&learner.email).into_owned());
        for change in &learner.changed {
            lines.push(format!(
                "  session {}, answer {}: {:?} to {:?} was {}, is {}",
                change.place.session,
                change.place.position + 1,
                printable(&change.answer),
                printable(&change.asked),
                verdict_name(&change.before),
                verdict_name(&change.after)
            ));
        }
        if !learner.gained.is_empty() {
            lines.push(format!("  gains mastery of {}", printable(&learner.gained.join(", "))));
        }
        if !learner.lost.is_empty() {
            lines.push(format!("  loses mastery of {}", printable(&learner.lost.join(", "))));
        }
    }
    if !outcome.missing_from_quiz.is_empty() {
        lines.push(format!(
            "Templates in the store but not in the file, left as they were: {}",
            printable(&outcome.missing_from_quiz.join(", "))
        ));
    }
    if !outcome.not_answered.is_empty() {
        lines.push(format!(
            "Templates in the file with no stored answer: {}",
            printable(&outcome.not_answered.join(", "))
        ));
    }
    for (place, reason) in &outcome.unjudged {
        lines.push(format!(
            "Session {}, answer {} could not be judged again and keeps its verdict: {}",
            place.session,
            place.position + 1,
            printable(reason)
        ));
    }
    lines.push(match outcome.applied {
        Some(id) => format!("Stored as regrade {id} in {location}; reports now count these verdicts."),
        None => "Nothing was stored; run again with --apply to store this regrade.".to_string(),
    });
    lines.join("\n")
}
