//! Reports folded from stored responses: per learner, per session and per template.
//!
//! Every report folds the responses of each session, in the order given, through the core's one
//! streak rule ([`MasteryFold`]): a template is mastered when it was mastered within one session,
//! and streaks never add up across sessions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mastery_core::{MasteryFold, SessionEnding, Verdict};

use crate::record::ResponseRecord;
use crate::session::{Place, SessionRecord};

/// The part of a stored response a report needs.
#[derive(Debug, Clone, Copy)]
pub struct ReportRow<'a> {
    /// The learner's email.
    pub email: &'a str,
    /// The session it belongs to; `None` for a response recorded outside any session (all such
    /// responses of one email are folded together, as one session).
    pub session: Option<u64>,
    /// The template answered.
    pub template: &'a str,
    /// The verdict (the latest regrade's where there is one).
    pub verdict: &'a Verdict,
    /// The quiz's mastery then.
    pub mastery: u32,
    /// When it was answered, in milliseconds since the Unix epoch: a session's report counts the
    /// answers after its deadline.
    pub answered_at_ms: u64,
}

impl<'a> ReportRow<'a> {
    /// The row of a whole record, with `verdict` in place of the stored one.
    pub fn of(record: &'a ResponseRecord, verdict: &'a Verdict) -> Self {
        ReportRow {
            email: &record.email,
            session: record.place.map(|place| place.session),
            template: &record.template,
            verdict,
            mastery: record.mastery,
            answered_at_ms: record.answered_at_ms,
        }
    }
}

/// The latest regrade's verdicts, by place: what a report reads instead of the stored verdict.
pub type Regraded = HashMap<Place, Verdict>;

/// The verdict a report counts for `record`: the latest regrade's, else the stored one.
pub fn effective_verdict<'a>(record: &'a ResponseRecord, regraded: &'a Regraded) -> &'a Verdict {
    record.place.and_then(|place| regraded.get(&place)).unwrap_or(&record.verdict)
}

/// One learner's results in one quiz: the row the command line's report prints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LearnerReport {
    /// The learner's email.
    pub email: String,
    /// Responses given.
    pub responses: u64,
    /// Correct responses.
    pub correct: u64,
    /// Invalid (unreadable) responses.
    pub invalid: u64,
    /// Templates mastered within some session, sorted by name.
    pub mastered: Vec<String>,
}

/// Folds responses, oldest first, into one report row per email, sorted by email.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    learners: BTreeMap<String, LearnerTally>,
}

#[derive(Debug, Default)]
struct LearnerTally {
    responses: u64,
    correct: u64,
    invalid: u64,
    /// A learner has a handful of sessions: a short list beats a map.
    folds: Vec<(Option<u64>, MasteryFold)>,
    mastered: BTreeSet<String>,
}

impl LearnerTally {
    fn fold_of(&mut self, session: Option<u64>) -> &mut MasteryFold {
        let index = match self.folds.iter().rposition(|(id, _)| *id == session) {
            Some(index) => index,
            None => {
                self.folds.push((session, MasteryFold::default()));
                self.folds.len() - 1
            }
        };
        &mut self.folds[index].1
    }
}

impl ReportBuilder {
    /// Adds one response; call in the order the responses were given.
    pub fn add(&mut self, row: ReportRow<'_>) {
        let tally = match self.learners.get_mut(row.email) {
            Some(tally) => tally,
            None => self.learners.entry(row.email.to_string()).or_default(),
        };
        tally.responses += 1;
        tally.correct += u64::from(row.verdict.is_correct());
        tally.invalid += u64::from(matches!(row.verdict, Verdict::Invalid(_)));
        if tally.fold_of(row.session).apply(row.template, row.verdict, row.mastery).mastered
            && !tally.mastered.contains(row.template)
        {
            tally.mastered.insert(row.template.to_string());
        }
    }

    /// The finished report, one row per email, sorted by email.
    pub fn finish(self) -> Vec<LearnerReport> {
        self.learners
            .into_iter()
            .map(|(email, tally)| LearnerReport {
                email,
                responses: tally.responses,
                correct: tally.correct,
                invalid: tally.invalid,
                mastered: tally.mastered.into_iter().collect(),
            })
            .collect()
    }
}

/// Builds the per-learner report from whole records, oldest first, reading `regraded` verdicts
/// where there are any.
pub fn report_from_records<'a>(
    records: impl IntoIterator<Item = &'a ResponseRecord>,
    regraded: &Regraded,
) -> Vec<LearnerReport> {
    let mut builder = ReportBuilder::default();
    for record in records {
        builder.add(ReportRow::of(record, effective_verdict(record, regraded)));
    }
    builder.finish()
}

/// One session's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// The session as stored.
    pub session: SessionRecord,
    /// Responses given.
    pub responses: u64,
    /// Correct responses.
    pub correct: u64,
    /// Invalid responses.
    pub invalid: u64,
    /// Templates mastered in the session, in the order they were mastered.
    pub mastered: Vec<String>,
    /// Responses answered after the session's own `due_at_ms` (in its grace period): what a
    /// teacher grading an exam looks at. 0 for a session without a deadline.
    pub overdue: u64,
}

/// Folds responses into one row per session, in the order the sessions started.
#[derive(Debug)]
pub struct SessionReportBuilder {
    rows: Vec<(SessionReport, MasteryFold)>,
    by_id: HashMap<u64, usize>,
}

impl SessionReportBuilder {
    /// A builder for `sessions`, in the order given.
    pub fn new(sessions: Vec<SessionRecord>) -> Self {
        let by_id = sessions.iter().enumerate().map(|(index, session)| (session.id, index)).collect();
        let rows = sessions
            .into_iter()
            .map(|session| {
                let report =
                    SessionReport { session, responses: 0, correct: 0, invalid: 0, mastered: Vec::new(), overdue: 0 };
                (report, MasteryFold::default())
            })
            .collect();
        SessionReportBuilder { rows, by_id }
    }

    /// Adds one response; rows outside a known session are not counted.
    pub fn add(&mut self, row: ReportRow<'_>) {
        let Some(&index) = row.session.and_then(|id| self.by_id.get(&id)) else { return };
        let (report, fold) = &mut self.rows[index];
        report.responses += 1;
        report.correct += u64::from(row.verdict.is_correct());
        report.invalid += u64::from(matches!(row.verdict, Verdict::Invalid(_)));
        report.overdue += u64::from(report.session.due_at_ms.is_some_and(|due| row.answered_at_ms > due));
        if fold.apply(row.template, row.verdict, row.mastery).mastered {
            report.mastered.push(row.template.to_string());
        }
    }

    /// One row per session.
    pub fn finish(self) -> Vec<SessionReport> {
        self.rows.into_iter().map(|(report, _)| report).collect()
    }
}

/// Item statistics for one template, in the terms of classical item analysis (Moodle's quiz
/// statistics are the reference).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateReport {
    /// The template's name.
    pub template: String,
    /// Questions of it that were asked and answered (an invalid answer and the retry of the same
    /// question count once).
    pub asked: u64,
    /// Answers given to it.
    pub answers: u64,
    /// Correct answers.
    pub correct: u64,
    /// Invalid answers.
    pub invalid: u64,
    /// Questions answered correctly at the first try.
    pub first_try_correct: u64,
    /// Learners who mastered it within some session.
    pub learners_mastered: u64,
    /// Learners who were asked it.
    pub learners: u64,
    /// Over the sessions that mastered it, the mean number of answers to it up to mastery.
    pub mean_answers_to_mastery: Option<f64>,
    /// The correlation, across learners, of their first-try facility on this template with their
    /// mean first-try facility on the other templates; `None` with fewer than
    /// [`TemplateReport::MIN_LEARNERS_FOR_DISCRIMINATION`] such learners, or no spread.
    pub discrimination: Option<f64>,
}

impl TemplateReport {
    /// Learners (asked this template and another) needed before a discrimination index is given.
    pub const MIN_LEARNERS_FOR_DISCRIMINATION: usize = 5;

    /// First-try facility: the share of questions answered correctly at the first try.
    pub fn facility(&self) -> Option<f64> {
        ratio(self.first_try_correct, self.asked)
    }

    /// The share of answers that were correct.
    pub fn share_correct(&self) -> Option<f64> {
        ratio(self.correct, self.answers)
    }

    /// The share of answers that were invalid.
    pub fn invalid_rate(&self) -> Option<f64> {
        ratio(self.invalid, self.answers)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Folds responses, oldest first, into item statistics per template, sorted by name.
#[derive(Debug, Default)]
pub struct TemplateReportBuilder {
    templates: Vec<TemplateTally>,
    template_index: HashMap<String, usize>,
    sessions: HashMap<(Option<u64>, usize), SessionState>,
    learners: HashMap<String, usize>,
    /// Per learner, per template: (questions asked, correct at the first try).
    learner_items: Vec<HashMap<usize, (u64, u64)>>,
}

#[derive(Debug, Default)]
struct TemplateTally {
    name: String,
    asked: u64,
    answers: u64,
    correct: u64,
    invalid: u64,
    first_try_correct: u64,
    mastered_by: BTreeSet<usize>,
    answers_to_mastery: Vec<u64>,
}

#[derive(Debug, Default)]
struct SessionState {
    /// The last answer was invalid, so the next one retries the same question.
    retrying: bool,
    fold: MasteryFold,
    answers: HashMap<usize, u64>,
}

impl TemplateReportBuilder {
    /// Adds one response; call in the order the responses were given.
    pub fn add(&mut self, row: ReportRow<'_>) {
        let template = match self.template_index.get(row.template) {
            Some(&index) => index,
            None => {
                self.templates.push(TemplateTally { name: row.template.to_string(), ..TemplateTally::default() });
                self.template_index.insert(row.template.to_string(), self.templates.len() - 1);
                self.templates.len() - 1
            }
        };
        let learner = match self.learners.get(row.email) {
            Some(&index) => index,
            None => {
                self.learner_items.push(HashMap::new());
                self.learners.insert(row.email.to_string(), self.learner_items.len() - 1);
                self.learner_items.len() - 1
            }
        };
        let state = self.sessions.entry((row.session, learner)).or_default();
        let tally = &mut self.templates[template];
        let invalid = matches!(row.verdict, Verdict::Invalid(_));
        tally.answers += 1;
        tally.correct += u64::from(row.verdict.is_correct());
        tally.invalid += u64::from(invalid);
        if !state.retrying && !invalid {
            // A question answered decisively at its first try.
            tally.asked += 1;
            tally.first_try_correct += u64::from(row.verdict.is_correct());
            let item = self.learner_items[learner].entry(template).or_default();
            item.0 += 1;
            item.1 += u64::from(row.verdict.is_correct());
        } else if state.retrying && !invalid {
            // The retry settles a question first answered invalid: asked once, not right first.
            tally.asked += 1;
            self.learner_items[learner].entry(template).or_default().0 += 1;
        }
        state.retrying = invalid;
        let answers = state.answers.entry(template).or_default();
        *answers += 1;
        if state.fold.apply(row.template, row.verdict, row.mastery).mastered {
            tally.mastered_by.insert(learner);
            tally.answers_to_mastery.push(*answers);
        }
    }

    /// The statistics, one row per template, sorted by name.
    pub fn finish(self) -> Vec<TemplateReport> {
        let facilities: Vec<HashMap<usize, f64>> = self
            .learner_items
            .iter()
            .map(|items| {
                items
                    .iter()
                    .filter(|(_, (asked, _))| *asked > 0)
                    .map(|(&t, &(asked, right))| (t, right as f64 / asked as f64))
                    .collect()
            })
            .collect();
        let mut reports: Vec<TemplateReport> = self
            .templates
            .iter()
            .enumerate()
            .map(|(index, tally)| {
                let learners = facilities.iter().filter(|items| items.contains_key(&index)).count() as u64;
                let mean = (!tally.answers_to_mastery.is_empty()).then(|| {
                    tally.answers_to_mastery.iter().sum::<u64>() as f64 / tally.answers_to_mastery.len() as f64
                });
                TemplateReport {
                    template: tally.name.clone(),
                    asked: tally.asked,
                    answers: tally.answers,
                    correct: tally.correct,
                    invalid: tally.invalid,
                    first_try_correct: tally.first_try_correct,
                    learners_mastered: tally.mastered_by.len() as u64,
                    learners,
                    mean_answers_to_mastery: mean,
                    discrimination: discrimination(index, &facilities),
                }
            })
            .collect();
        reports.sort_by(|a, b| a.template.cmp(&b.template));
        reports
    }
}

/// The item-rest correlation of `template`: Pearson's r between each learner's facility on it
/// and their mean facility on the rest.
fn discrimination(template: usize, facilities: &[HashMap<usize, f64>]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = facilities
        .iter()
        .filter_map(|items| {
            let item = *items.get(&template)?;
            let rest: Vec<f64> = items.iter().filter(|(t, _)| **t != template).map(|(_, f)| *f).collect();
            (!rest.is_empty()).then(|| (item, rest.iter().sum::<f64>() / rest.len() as f64))
        })
        .collect();
    if pairs.len() < TemplateReport::MIN_LEARNERS_FOR_DISCRIMINATION {
        return None;
    }
    let n = pairs.len() as f64;
    let (mean_x, mean_y) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mean_x) * (y - mean_y);
        sxx += (x - mean_x).powi(2);
        syy += (y - mean_y).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// How many sessions ended each way, and how many are open: for summaries.
pub fn endings(sessions: &[SessionRecord]) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for session in sessions {
        *counts.entry(session.ending.map_or("open", SessionEnding::as_str)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(email: &'a str, session: u64, template: &'a str, verdict: &'a Verdict) -> ReportRow<'a> {
        ReportRow { email, session: Some(session), template, verdict, mastery: 2, answered_at_ms: 0 }
    }

    #[test]
    fn streaks_never_add_up_across_sessions() {
        let mut builder = ReportBuilder::default();
        builder.add(row("a@x.y", 1, "t", &Verdict::Correct));
        builder.add(row("a@x.y", 2, "t", &Verdict::Correct));
        assert!(builder.finish()[0].mastered.is_empty());
        let mut builder = ReportBuilder::default();
        builder.add(row("a@x.y", 1, "t", &Verdict::Correct));
        builder.add(row("a@x.y", 1, "t", &Verdict::Correct));
        assert_eq!(builder.finish()[0].mastered, ["t"]);
    }

    #[test]
    fn a_session_s_overdue_answers_are_those_strictly_after_its_due_time() {
        let session = |id, due_at_ms| SessionRecord {
            id,
            quiz_title: "Math".into(),
            quiz_version: None,
            email: "a@x.y".into(),
            seed: None,
            started_at_ms: 0,
            ended_at_ms: None,
            ending: None,
            ending_reason: None,
            due_at_ms,
            closes_at_ms: None,
        };
        let mut builder = SessionReportBuilder::new(vec![session(1, Some(100)), session(2, None)]);
        for (id, at) in [(1, 99), (1, 100), (1, 101), (2, 101), (3, 500)] {
            builder.add(ReportRow { answered_at_ms: at, ..row("a@x.y", id, "t", &Verdict::Correct) });
        }
        let overdue: Vec<(u64, u64, u64)> =
            builder.finish().iter().map(|r| (r.session.id, r.responses, r.overdue)).collect();
        assert_eq!(overdue, [(1, 3, 1), (2, 1, 0)]);
    }

    #[test]
    fn a_retried_question_is_asked_once_and_not_right_at_the_first_try() {
        let invalid = Verdict::Invalid("?".into());
        let mut builder = TemplateReportBuilder::default();
        builder.add(row("a@x.y", 1, "t", &invalid));
        builder.add(row("a@x.y", 1, "t", &Verdict::Correct));
        builder.add(row("a@x.y", 1, "t", &Verdict::Correct));
        let report = &builder.finish()[0];
        assert_eq!((report.asked, report.answers, report.first_try_correct, report.invalid), (2, 3, 1, 1));
        assert_eq!(report.facility(), Some(0.5));
        assert_eq!(report.mean_answers_to_mastery, Some(3.0));
        assert_eq!(report.learners_mastered, 1);
    }

    #[test]
    fn discrimination_is_high_when_strong_learners_do_well_on_the_item() {
        let mut builder = TemplateReportBuilder::default();
        let emails = ["a@x", "b@x", "c@x", "d@x", "e@x", "f@x"];
        for (n, email) in emails.iter().enumerate() {
            let strong = n % 2 == 0;
            let item = if strong { Verdict::Correct } else { Verdict::Incorrect };
            let rest = if strong { Verdict::Correct } else { Verdict::Incorrect };
            builder.add(row(email, n as u64, "item", &item));
            builder.add(row(email, n as u64, "other", &rest));
        }
        let reports = builder.finish();
        let item = reports.iter().find(|r| r.template == "item").unwrap();
        assert!((item.discrimination.unwrap() - 1.0).abs() < 1e-9);
        let mut few = TemplateReportBuilder::default();
        few.add(row("a@x", 1, "item", &Verdict::Correct));
        few.add(row("a@x", 1, "other", &Verdict::Correct));
        assert_eq!(few.finish()[0].discrimination, None);
    }
}
