//! A quiz's own fields, and a whole quiz: its fields and every template, judged in one pass.

use std::collections::HashSet;
use std::sync::Arc;

use mastery_core::{DEFAULT_MASTERY, Exam, ExtraTime, LearnerOverride, Quiz, Reveal, Timestamp, WhenTimeIsUp, Window};

use super::{ValidQuiz, ValidTemplate, Validator, fail};
use crate::fields::{ExamFields, LearnerOverrideFields, QuizFields, TemplateFields};
use crate::problem::{Problem, Problems};

impl Validator {
    /// The book's `QuizValidator`: a quiz with no templates yet, or every problem.
    ///
    /// ```
    /// use mastery_boundary::{QuizFields, Validator};
    ///
    /// let problems = Validator::default()
    ///     .quiz(&QuizFields { title: Some("  ".into()), mastery: Some(0), ..QuizFields::default() })
    ///     .unwrap_err();
    /// let found: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
    /// assert_eq!(found, ["title: title must not be blank", "mastery: mastery must be at least 1, got 0"]);
    /// ```
    pub fn quiz(&self, fields: &QuizFields) -> Result<Quiz, Problems> {
        let mut problems = Vec::new();
        let title = self.text(&mut problems, "title", fields.title.as_deref(), self.limits.max_title_chars);
        let mastery = match fields.mastery {
            None => Some(DEFAULT_MASTERY),
            Some(m) if m < 1 => fail(&mut problems, "mastery", format!("mastery must be at least 1, got {m}")),
            Some(m) if m > self.limits.max_mastery => {
                fail(&mut problems, "mastery", format!("mastery must be at most {}, got {m}", self.limits.max_mastery))
            }
            Some(m) => Some(m as u32),
        };
        let reveal = match fields.reveal.as_deref() {
            None | Some("never") => Some(Reveal::Never),
            Some("after_incorrect") => Some(Reveal::AfterIncorrect),
            Some(other) => {
                fail(&mut problems, "reveal", format!("reveal must be \"never\" or \"after_incorrect\", got {other:?}"))
            }
        };
        let exam = match &fields.exam {
            None => Some(None),
            Some(exam) => self.exam(exam).map_err(|found| problems.extend(found.0)).ok().map(Some),
        };
        match (title, mastery, reveal, exam) {
            (Some(title), Some(mastery), Some(reveal), Some(exam)) if problems.is_empty() => {
                let mut quiz =
                    Quiz::new(title, mastery).map_err(|e| Problems(vec![Problem::new("title", e.to_string())]))?;
                quiz.set_reveal(reveal).set_exam(exam);
                Ok(quiz)
            }
            _ => Err(Problems(problems)),
        }
    }

    /// Exam settings, or every problem (fields under `exam.`).
    ///
    /// ```
    /// use mastery_boundary::{ExamFields, Validator};
    ///
    /// let fields = ExamFields { time_limit: Some("45m".into()), grace_period: Some("soon".into()), ..ExamFields::default() };
    /// let problems = Validator::default().exam(&fields).unwrap_err();
    /// assert_eq!(problems.0[0].field, "exam.grace_period");
    /// ```
    pub fn exam(&self, fields: &ExamFields) -> Result<Exam, Problems> {
        let mut problems = Vec::new();
        let mut duration = |field: &str, text: &Option<String>| match text.as_deref().map(crate::parse_duration) {
            None => None,
            Some(Ok(duration)) => Some(duration),
            Some(Err(message)) => fail(
                &mut problems,
                &format!("exam.{field}"),
                format!("{field} must be a duration such as 45m: {message}"),
            ),
        };
        let time_limit = duration("time_limit", &fields.time_limit);
        let grace = duration("grace_period", &fields.grace_period);
        let idle_limit = duration("idle_limit", &fields.idle_limit);
        let window = window(&mut problems, "exam", &fields.opens_at, &fields.closes_at);
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        let when_time_is_up = grace.map_or(WhenTimeIsUp::End, WhenTimeIsUp::Grace);
        Ok(Exam { window, time_limit, when_time_is_up, idle_limit })
    }

    /// A learner's own exam settings, or every problem (fields named as in the request).
    ///
    /// ```
    /// use mastery_boundary::{LearnerOverrideFields, Validator};
    /// use mastery_core::ExtraTime;
    ///
    /// let fields = LearnerOverrideFields { extra_time: Some("50%".into()), ..LearnerOverrideFields::default() };
    /// let learner = Validator::default().learner_override(&fields).unwrap();
    /// assert_eq!(learner.extra_time, Some(ExtraTime::Percent(50)));
    /// ```
    pub fn learner_override(&self, fields: &LearnerOverrideFields) -> Result<LearnerOverride, Problems> {
        let mut problems = Vec::new();
        let extra_time = match fields.extra_time.as_deref().map(str::trim) {
            None => None,
            Some(text) => match text.strip_suffix('%') {
                Some(number) => match number.trim().parse::<u32>() {
                    Ok(percent) if (1..=1000).contains(&percent) => Some(ExtraTime::Percent(percent)),
                    _ => fail(
                        &mut problems,
                        "extra_time",
                        format!("extra_time must be a percentage from 1% to 1000%, got {text:?}"),
                    ),
                },
                None => match crate::parse_duration(text) {
                    Ok(duration) => Some(ExtraTime::Duration(duration)),
                    Err(message) => fail(
                        &mut problems,
                        "extra_time",
                        format!("extra_time must be a duration such as 15m or a percentage such as 50%: {message}"),
                    ),
                },
            },
        };
        let window = window(&mut problems, "", &fields.opens_at, &fields.closes_at);
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        Ok(LearnerOverride { extra_time, window })
    }

    /// A quiz with every template, or every problem (template problems under `templates[i]`).
    pub fn quiz_with_templates(
        &self,
        fields: &QuizFields,
        templates: &[TemplateFields],
    ) -> Result<ValidQuiz, Problems> {
        let mut problems = Vec::new();
        let quiz = self.quiz(fields).map_err(|found| problems.extend(found.0)).ok();
        if let Some(problem) = self.template_count_problem(templates.len()) {
            problems.push(problem);
            return Err(Problems(problems));
        }
        let valid = self.each_template(&mut problems, templates);
        match quiz {
            Some(mut quiz) if problems.is_empty() => {
                quiz.set_version(content_version(&quiz, templates));
                assemble(quiz, valid, self.limits.max_answer_chars)
            }
            _ => Err(Problems(problems)),
        }
    }

    /// No templates, or more than the limit allows; then none is judged, since judging an
    /// oversized list is the very cost the limit guards against.
    fn template_count_problem(&self, count: usize) -> Option<Problem> {
        let max = self.limits.max_templates;
        if count == 0 {
            // A quiz with nothing to ask would be "finished" the moment a learner starts it.
            return Some(Problem::new("templates", "a quiz needs at least one template ([[templates]])"));
        }
        (count > max)
            .then(|| Problem::new("templates", format!("a quiz may have at most {max} templates, got {count}")))
    }

    /// Every template that passed; the problems of the others, and names used twice, go to
    /// `problems` under `templates[i]`.
    fn each_template(&self, problems: &mut Vec<Problem>, templates: &[TemplateFields]) -> Vec<ValidTemplate> {
        let mut valid = Vec::new();
        let mut names = HashSet::new();
        for (index, template) in templates.iter().enumerate() {
            let path = format!("templates[{index}]");
            if let Some(name) = template.name.as_deref().filter(|n| !n.trim().is_empty())
                && !names.insert(name)
            {
                let message = format!("template name {name:?} is used more than once");
                problems.push(Problem::new("name", message).under(&path));
            }
            match self.template(template) {
                Ok(template) => valid.push(template),
                Err(found) => problems.extend(found.0.into_iter().map(|p| p.under(&path))),
            }
        }
        valid
    }
}

/// The version of a quiz made from fields: a hash of what was validated — the quiz's settings as
/// they took effect (so an omitted `mastery` and `mastery = 3` agree) and every template's fields.
/// Layout, comments and the order of keys in a file play no part. FNV-1a is written out here so the
/// version never changes with a library or a Rust release, as `DefaultHasher` may.
///
/// ```
/// use mastery_boundary::{QuizFields, TemplateFields, Validator};
/// # let template = TemplateFields {
/// #     name: Some("add".into()), category: Some("sums".into()), instructions: None,
/// #     raw: Some("{{ a }} + 1".into()), generators: Some([("a".to_string(), serde_json::from_str("[1, 2]").unwrap())].into()),
/// #     checker: Some(serde_json::from_str(r#"{"expect": "a + 1"}"#).unwrap()),
/// # };
/// let validator = Validator::default();
/// let implicit = validator.quiz_with_templates(&QuizFields::titled("Sums"), &[template.clone()]).unwrap();
/// let explicit = validator.quiz_with_templates(&QuizFields::titled("Sums").with_mastery(3), &[template.clone()]).unwrap();
/// assert_eq!(implicit.quiz.version(), explicit.quiz.version());
/// let harder = validator.quiz_with_templates(&QuizFields::titled("Sums").with_mastery(4), &[template]).unwrap();
/// assert_ne!(implicit.quiz.version(), harder.quiz.version());
/// ```
pub(crate) fn content_version(quiz: &Quiz, templates: &[TemplateFields]) -> String {
    let content = serde_json::json!({
        "title": quiz.title(),
        "mastery": quiz.mastery(),
        "reveal": format!("{:?}", quiz.reveal()),
        "templates": templates,
    });
    let hash = content
        .to_string()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3));
    format!("{hash:016x}")
}

/// Adds every template to the quiz and gathers their warnings under `templates[i]`.
fn assemble(mut quiz: Quiz, templates: Vec<ValidTemplate>, max_answer_chars: usize) -> Result<ValidQuiz, Problems> {
    let mut warnings = Vec::new();
    for (index, template) in templates.iter().enumerate() {
        let path = format!("templates[{index}]");
        warnings.extend(template.warnings.iter().cloned().map(|w| w.under(&path)));
        quiz.add_template(Arc::clone(&template.template))
            .map_err(|e| Problems(vec![Problem::new("name", e.to_string()).under(&path)]))?;
    }
    Ok(ValidQuiz { quiz, warnings, templates, max_answer_chars })
}

/// A window from two RFC 3339 instants, both or neither; fields are named under `path`.
fn window(
    problems: &mut Vec<Problem>,
    path: &str,
    opens_at: &Option<String>,
    closes_at: &Option<String>,
) -> Option<Window> {
    let field = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
    let mut instant = |name: &str, text: &Option<String>| match text.as_deref().map(crate::parse_rfc3339) {
        None => None,
        Some(Ok(ms)) => Some(Timestamp::from_millis(ms)),
        Some(Err(message)) => fail(problems, &field(name), format!("{name}: {message}")),
    };
    let (opens, closes) = (instant("opens_at", opens_at), instant("closes_at", closes_at));
    // An instant that did not read is its one problem: no second one about the pair.
    if (opens_at.is_some() && opens.is_none()) || (closes_at.is_some() && closes.is_none()) {
        return None;
    }
    match (opens_at, closes_at, opens, closes) {
        (None, None, ..) => None,
        (_, _, Some(opens_at), Some(closes_at)) if opens_at < closes_at => Some(Window { opens_at, closes_at }),
        (_, _, Some(_), Some(_)) => fail(problems, &field("closes_at"), "closes_at must be after opens_at".into()),
        (Some(_), None, ..) => fail(problems, &field("opens_at"), "opens_at needs a closes_at".into()),
        (None, Some(_), ..) => fail(problems, &field("closes_at"), "closes_at needs an opens_at".into()),
        _ => None,
    }
}
