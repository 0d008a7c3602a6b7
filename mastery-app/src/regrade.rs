//! Regrade: every stored answer of a quiz judged again by today's checkers, and the streaks and
//! masteries of each session folded again from the new verdicts.
//!
//! Nothing stored is rewritten. A regrade that is applied is stored as a fact of its own — which
//! version judged, when, and every verdict that differs from the one stored with the answer — and
//! reports read the latest one.

use std::collections::BTreeMap;
use std::sync::Arc;

use mastery_core::{Question, Quiz, Value, Verdict};
use mastery_persistence::{
    Place, RegradeRecord, Regraded, ReportBuilder, ReportRow, ResponseRecord, ResponseStore, SubstitutionValue,
    effective_verdict,
};

use crate::error::AppError;

/// One answer whose verdict the regrade changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedVerdict {
    /// The learner.
    pub email: String,
    /// Where the answer stands.
    pub place: Place,
    /// The template.
    pub template: String,
    /// The question as asked.
    pub asked: String,
    /// The answer given.
    pub answer: String,
    /// The verdict reports counted before this regrade.
    pub before: Verdict,
    /// The verdict now.
    pub after: Verdict,
}

/// What a regrade changes for one learner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LearnerRegrade {
    /// The learner.
    pub email: String,
    /// Answers whose verdict changes.
    pub changed: Vec<ChangedVerdict>,
    /// Templates now mastered within some session that were not before.
    pub gained: Vec<String>,
    /// Templates mastered before that no longer are.
    pub lost: Vec<String>,
}

/// The outcome of judging a quiz's stored answers again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regrade {
    /// The quiz's title.
    pub title: String,
    /// The version whose checkers judged.
    pub version: String,
    /// Stored answers judged again.
    pub judged: u64,
    /// Learners with a changed verdict, sorted by email.
    pub learners: Vec<LearnerRegrade>,
    /// Templates with stored answers that the quiz no longer has: their answers keep their
    /// verdicts.
    pub missing_from_quiz: Vec<String>,
    /// Templates of the quiz with no stored answer.
    pub not_answered: Vec<String>,
    /// Answers that could not be judged again (their stored values no longer fit the template),
    /// with why; they keep their verdicts.
    pub unjudged: Vec<(Place, String)>,
    /// The stored regrade's id, when it was applied.
    pub applied: Option<u64>,
}

impl Regrade {
    /// Answers whose verdict changes, across every learner.
    pub fn changed_count(&self) -> usize {
        self.learners.iter().map(|learner| learner.changed.len()).sum()
    }
}

/// Judges every stored answer of `quiz` again with its checkers; with `apply`, stores the result
/// as a regrade that reports then read. Fails when the store holds nothing for the quiz.
///
/// ```
/// use mastery_app::{App, regrade};
/// use mastery_boundary::MasteryConfig;
/// use mastery_core::examples;
/// use mastery_persistence::MemoryStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let app = App::with_store(std::sync::Arc::new(MemoryStore::default()), MasteryConfig::default());
/// app.mastery().install_quiz(examples::math_quiz()).await?;
/// app.mastery().take_quiz_seeded("Math", "ada@example.com", 3).await?;
/// app.mastery().select_question("Math", "ada@example.com").await?;
/// app.mastery().answer_question("Math", "ada@example.com", "-1").await?;
/// let outcome = regrade(app.store(), &examples::math_quiz(), 0, false).await?;
/// assert_eq!((outcome.judged, outcome.changed_count()), (1, 0), "the same checkers judge the same");
/// # app.shutdown().await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub async fn regrade(
    store: &Arc<dyn ResponseStore>,
    quiz: &Quiz,
    at_ms: u64,
    apply: bool,
) -> Result<Regrade, AppError> {
    let title = quiz.title();
    let (records, previous) = (store.responses(title).await?, store.regraded(title).await?);
    if records.is_empty() {
        return Err(AppError::NoData { title: title.to_string() });
    }
    let judged = judge_again(quiz, &records);
    let mut outcome = Regrade {
        title: title.to_string(),
        version: quiz.version().to_string(),
        judged: judged.judged,
        learners: compare(&records, &previous, &judged.now),
        missing_from_quiz: judged.missing.into_keys().collect(),
        not_answered: quiz
            .templates()
            .map(|template| template.name())
            .filter(|name| !records.iter().any(|record| record.template == *name))
            .map(String::from)
            .collect(),
        unjudged: judged.unjudged,
        applied: None,
    };
    if apply {
        // Stored against the answer's own verdict, not the previous regrade's: the latest regrade
        // alone then says what every answer counts as.
        let changed = records
            .iter()
            .zip(&judged.now)
            .filter_map(|(record, now)| {
                let (place, now) = (record.place?, now.as_ref()?);
                (now.kind() != record.verdict.kind()).then(|| (place, now.clone()))
            })
            .collect();
        let regrade = RegradeRecord {
            quiz_title: title.to_string(),
            quiz_version: quiz.version().to_string(),
            regraded_at_ms: at_ms,
            changed,
        };
        outcome.applied = Some(store.record_regrade(regrade).await?);
    }
    Ok(outcome)
}

struct Judged {
    judged: u64,
    /// Each record's verdict now, by its index; `None` where it was not judged again.
    now: Vec<Option<Verdict>>,
    missing: BTreeMap<String, ()>,
    unjudged: Vec<(Place, String)>,
}

fn judge_again(quiz: &Quiz, records: &[ResponseRecord]) -> Judged {
    let mut judged =
        Judged { judged: 0, now: Vec::with_capacity(records.len()), missing: BTreeMap::new(), unjudged: Vec::new() };
    // Consecutive answers are mostly to the same template: remember the last one looked up.
    let mut last: Option<&Arc<mastery_core::Template>> = None;
    for record in records {
        judged.now.push(None);
        // An answer outside any session has no place to hang a new verdict on.
        let Some(place) = record.place else { continue };
        let template = match last.filter(|t| t.name() == record.template) {
            Some(template) => template,
            None => match quiz.template(&record.template) {
                Some(template) => {
                    last = Some(template);
                    template
                }
                None => {
                    judged.missing.insert(record.template.clone(), ());
                    continue;
                }
            },
        };
        let values = record.substitutions.iter().map(|(name, value)| {
            let value = match value {
                SubstitutionValue::Integer(n) => Value::Integer(*n),
                SubstitutionValue::Text(text) => Value::Text(Arc::from(text.as_str())),
            };
            (name.as_str(), value)
        });
        match Question::judge_stored(template, values, &record.answer) {
            Ok(verdict) => {
                judged.judged += 1;
                *judged.now.last_mut().expect("pushed above") = Some(verdict);
            }
            Err(error) => judged.unjudged.push((place, error.to_string())),
        }
    }
    judged
}

/// Per learner: the verdicts that change, and the masteries gained and lost.
fn compare(records: &[ResponseRecord], previous: &Regraded, now: &[Option<Verdict>]) -> Vec<LearnerRegrade> {
    let (mut before, mut after) = (ReportBuilder::default(), ReportBuilder::default());
    let mut learners: BTreeMap<&str, LearnerRegrade> = BTreeMap::new();
    for (record, now) in records.iter().zip(now) {
        let was = effective_verdict(record, previous);
        let is = now.as_ref().unwrap_or(was);
        before.add(ReportRow::of(record, was));
        after.add(ReportRow::of(record, is));
        if was.kind() != is.kind() {
            let learner = learners.entry(&record.email).or_default();
            learner.changed.push(ChangedVerdict {
                email: record.email.clone(),
                place: record.place.expect("only answers with a place are judged again"),
                template: record.template.clone(),
                asked: record.asked.clone(),
                answer: record.answer.clone(),
                before: was.clone(),
                after: is.clone(),
            });
        }
    }
    let (before, after) = (before.finish(), after.finish());
    for (was, is) in before.iter().zip(&after) {
        let gained: Vec<String> = is.mastered.iter().filter(|t| !was.mastered.contains(t)).cloned().collect();
        let lost: Vec<String> = was.mastered.iter().filter(|t| !is.mastered.contains(t)).cloned().collect();
        if gained.is_empty() && lost.is_empty() && !learners.contains_key(was.email.as_str()) {
            continue;
        }
        let learner = learners.entry(&was.email).or_default();
        learner.gained = gained;
        learner.lost = lost;
    }
    learners
        .into_iter()
        .map(|(email, mut learner)| {
            learner.email = email.to_string();
            learner
        })
        .collect()
}
