//! The quiz: which templates are left to ask, each template's streak, and what was mastered.

use std::sync::Arc;

use crate::checker::Verdict;
use crate::error::QuizError;
use crate::exam::Exam;
use crate::question::Question;
use crate::random::RandomSource;
use crate::response::Response;
use crate::template::Template;

/// The default number of correct answers in a row that masters a template.
pub const DEFAULT_MASTERY: u32 = 3;

/// Whether a learner is shown the expected answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reveal {
    /// Never: the default, and the only choice for an exam.
    #[default]
    Never,
    /// After an incorrect answer, for practice: the learner learns what was expected.
    AfterIncorrect,
}

/// A quiz: templates grouped by category, asked in cycles until each is mastered.
///
/// Templates are addressed inside the quiz by their position in the order they were added, so the
/// per-answer bookkeeping (streaks, moves between lists) is index arithmetic rather than name
/// lookups.
///
/// **Invariant:** every template not yet mastered is in exactly one place: its category's unused
/// list or `used`. A template that is mastered is in neither. Each template carries its place,
/// so "used" and "mastered" are states rather than lists that could disagree with one another.
///
/// ```
/// use mastery_core::{Response, SplitMix64, Timestamp, examples};
///
/// let mut quiz = examples::math_quiz(); // one template, mastery 2
/// let mut rng = SplitMix64::new(7);
/// let mut answers = 0;
/// while let Some(question) = quiz.select_question(&mut rng).unwrap() {
///     let sum: i64 = question.substitutions().iter().map(|(_, v)| v.as_integer().unwrap()).sum();
///     let response = Response::new(&quiz, "learner@example.com", sum.to_string(), Timestamp::from_millis(0)).unwrap();
///     quiz.answer_question(response).unwrap();
///     answers += 1;
/// }
/// assert_eq!(answers, 2);
/// assert_eq!(quiz.mastered().collect::<Vec<_>>(), ["single_digit_addition"]);
/// ```
#[derive(Debug, Clone)]
pub struct Quiz {
    title: Arc<str>,
    mastery: u32,
    entries: Vec<Entry>,
    categories: Vec<Category>,
    used_count: usize,
    mastered_count: u32,
    current: Option<(usize, Arc<Question>)>,
    last_response: Option<Response>,
    reveal: Reveal,
    version: Arc<str>,
    exam: Option<Exam>,
}

/// A template with its bookkeeping; its index in `entries` is its id within the quiz.
#[derive(Debug, Clone)]
struct Entry {
    template: Arc<Template>,
    category: usize,
    streak: u32,
    place: Place,
}

/// Where a template stands in the quiz's cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In its category's unused list, waiting to be asked in this cycle.
    Unused,
    /// Asked in this cycle.
    Used,
    /// Mastered; the number says in which order (0 first).
    Mastered(u32),
}

#[derive(Debug, Clone)]
struct Category {
    name: Arc<str>,
    unused: Vec<usize>,
}

/// What answering did to the template's streak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerOutcome {
    /// The template's streak after this answer: `mastery` on the answer that masters it, 0 after a
    /// wrong one, unchanged after an invalid one.
    pub streak: u32,
    /// Whether this answer mastered the template.
    pub mastered: bool,
}

impl AnswerOutcome {
    /// The streak rule, the one place it is written: what `verdict` does to a template whose
    /// streak was `streak`, in a quiz that needs `mastery` correct answers in a row. A quiz, a
    /// report and a regrade all apply it through this function.
    ///
    /// ```
    /// use mastery_core::{AnswerOutcome, Verdict};
    ///
    /// assert_eq!(AnswerOutcome::after(1, &Verdict::Correct, 2), AnswerOutcome { streak: 2, mastered: true });
    /// assert_eq!(AnswerOutcome::after(1, &Verdict::Incorrect, 2), AnswerOutcome { streak: 0, mastered: false });
    /// assert_eq!(AnswerOutcome::after(1, &Verdict::Invalid("?".into()), 2).streak, 1);
    /// ```
    pub fn after(streak: u32, verdict: &Verdict, mastery: u32) -> AnswerOutcome {
        match verdict {
            Verdict::Correct => {
                let streak = streak.saturating_add(1);
                AnswerOutcome { streak, mastered: streak >= mastery }
            }
            Verdict::Incorrect => AnswerOutcome { streak: 0, mastered: false },
            Verdict::Invalid(_) => AnswerOutcome { streak, mastered: false },
        }
    }
}

impl Quiz {
    /// Makes an empty quiz. The title must not be blank and `mastery` must be at least 1.
    pub fn new(title: impl Into<Arc<str>>, mastery: u32) -> Result<Quiz, QuizError> {
        let title = title.into();
        if title.trim().is_empty() {
            return Err(QuizError::BlankTitle);
        }
        if mastery < 1 {
            return Err(QuizError::MasteryTooLow { mastery });
        }
        Ok(Quiz {
            title,
            mastery,
            entries: Vec::new(),
            categories: Vec::new(),
            used_count: 0,
            mastered_count: 0,
            current: None,
            last_response: None,
            reveal: Reveal::Never,
            version: Arc::from(""),
            exam: None,
        })
    }

    /// Adds a template to its category. Names are unique within a quiz.
    pub fn add_template(&mut self, template: impl Into<Arc<Template>>) -> Result<&mut Quiz, QuizError> {
        let template = template.into();
        if self.templates().any(|t| t.name() == template.name()) {
            return Err(QuizError::DuplicateTemplate { name: template.name().to_string() });
        }
        let id = self.entries.len();
        let category = self.category_index(template.shared_category());
        self.categories[category].unused.push(id);
        self.entries.push(Entry { template, category, streak: 0, place: Place::Unused });
        Ok(self)
    }

    /// Picks the next question and makes it current; `None` when nothing is left to ask.
    ///
    /// A category is drawn uniformly among those with unused templates, then a template uniformly
    /// within it. The template moves to `used`; when every category is exhausted, `used` goes back
    /// into the categories and a new cycle starts. On a generator failure the quiz is unchanged.
    pub fn select_question(&mut self, rng: &mut dyn RandomSource) -> Result<Option<&Arc<Question>>, QuizError> {
        self.reset_template_cycle_if_exhausted();
        let Some((category, slot)) = self.pick_template(rng) else {
            self.current = None;
            return Ok(None);
        };
        let id = self.categories[category].unused[slot];
        let question = Question::new(&self.entries[id].template, rng)?;
        self.move_template_to_used(category, slot);
        let (_, question) = self.current.insert((id, Arc::new(question)));
        Ok(Some(question))
    }

    /// Applies a response to the current question.
    ///
    /// Correct: the streak grows, and at `mastery` the template is mastered. Incorrect: the streak
    /// resets to zero. Either way the question is used up. Invalid: nothing changes, and the same
    /// question stays current to be answered again.
    pub fn answer_question(&mut self, response: Response) -> Result<AnswerOutcome, QuizError> {
        let (id, question) = self.current.as_ref().ok_or(QuizError::NoCurrentQuestion)?;
        if !Arc::ptr_eq(question, response.question()) {
            return Err(QuizError::StaleResponse { template: response.template_name().to_string() });
        }
        let id = *id;
        let outcome = AnswerOutcome::after(self.entries[id].streak, response.verdict(), self.mastery);
        match outcome.mastered {
            true => self.master_template(id),
            false => self.entries[id].streak = outcome.streak,
        }
        if !matches!(response.verdict(), Verdict::Invalid(_)) {
            self.current = None;
        }
        self.last_response = Some(response);
        Ok(outcome)
    }

    /// Sets whether learners are shown the expected answer after a miss.
    pub fn set_reveal(&mut self, reveal: Reveal) -> &mut Quiz {
        self.reveal = reveal;
        self
    }

    /// Whether learners are shown the expected answer after a miss.
    pub fn reveal(&self) -> Reveal {
        self.reveal
    }

    /// Names this quiz's content: a stored session resumes only under the version it was taken
    /// with. A quiz file's version is a hash of its validated fields; a quiz built in Rust gets the
    /// one its author gives (empty until then).
    ///
    /// ```
    /// let mut quiz = mastery_core::Quiz::new("Math", 2).unwrap();
    /// assert_eq!(quiz.version(), "");
    /// quiz.set_version("math-2");
    /// assert_eq!(quiz.version(), "math-2");
    /// ```
    pub fn set_version(&mut self, version: impl Into<Arc<str>>) -> &mut Quiz {
        self.version = version.into();
        self
    }

    /// Makes the quiz an exam: a window, a time limit per learner, what happens when time is up.
    /// Exam settings are not part of the quiz's content: changing them keeps its version, so
    /// sessions already running resume.
    pub fn set_exam(&mut self, exam: Option<Exam>) -> &mut Quiz {
        self.exam = exam;
        self
    }

    /// The quiz's exam settings, if it is an exam.
    pub fn exam(&self) -> Option<&Exam> {
        self.exam.as_ref()
    }

    /// The version set with [`Quiz::set_version`].
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The template named `name`.
    pub fn template(&self, name: &str) -> Option<&Arc<Template>> {
        self.templates().find(|template| template.name() == name)
    }

    /// The quiz's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The title, shared.
    pub fn shared_title(&self) -> &Arc<str> {
        &self.title
    }

    /// Correct answers in a row needed to master a template.
    pub fn mastery(&self) -> u32 {
        self.mastery
    }

    /// The question awaiting an answer, if any.
    pub fn current_question(&self) -> Option<&Arc<Question>> {
        self.current.as_ref().map(|(_, question)| question)
    }

    /// The last response applied.
    pub fn last_response(&self) -> Option<&Response> {
        self.last_response.as_ref()
    }

    /// Whether nothing is left to ask: every template mastered, or none added.
    pub fn is_finished(&self) -> bool {
        self.used_count == 0 && self.categories.iter().all(|c| c.unused.is_empty())
    }

    /// How many templates the quiz holds.
    pub fn template_count(&self) -> usize {
        self.entries.len()
    }

    /// How many templates are mastered.
    pub fn mastered_count(&self) -> usize {
        self.mastered_count as usize
    }

    /// Every template, in the order added.
    pub fn templates(&self) -> impl Iterator<Item = &Arc<Template>> {
        self.entries.iter().map(|entry| &entry.template)
    }

    /// Names of mastered templates, in the order they were mastered.
    pub fn mastered(&self) -> impl Iterator<Item = &str> {
        let mut mastered: Vec<(u32, &str)> = self
            .entries
            .iter()
            .filter_map(|e| match e.place {
                Place::Mastered(order) => Some((order, e.template.name())),
                _ => None,
            })
            .collect();
        mastered.sort_unstable();
        mastered.into_iter().map(|(_, name)| name)
    }

    /// Names of templates asked in the current cycle, in the order added.
    pub fn used(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter(|e| e.place == Place::Used).map(|e| e.template.name())
    }

    /// Each category with the names of its templates not yet asked in this cycle.
    pub fn categories(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.categories.iter().map(|c| (&*c.name, self.names(&c.unused).collect()))
    }

    /// The current streak of the named template (the book's `record`); `None` for an unknown name.
    pub fn streak(&self, template_name: &str) -> Option<u32> {
        let id = self.entries.iter().position(|e| e.template.name() == template_name)?;
        Some(self.entries[id].streak)
    }

    /// Every template's name with its current streak, in the order added.
    pub fn record(&self) -> impl Iterator<Item = (&str, u32)> {
        self.entries.iter().map(|e| (e.template.name(), e.streak))
    }

    fn names<'a>(&'a self, ids: &'a [usize]) -> impl Iterator<Item = &'a str> + 'a {
        ids.iter().map(|&id| self.entries[id].template.name())
    }

    fn category_index(&mut self, name: &Arc<str>) -> usize {
        if let Some(index) = self.categories.iter().position(|c| c.name == *name) {
            return index;
        }
        self.categories.push(Category { name: Arc::clone(name), unused: Vec::new() });
        self.categories.len() - 1
    }

    /// The `(category, slot)` of a uniformly drawn category with unused templates, and a
    /// uniformly drawn template in it.
    fn pick_template(&self, rng: &mut dyn RandomSource) -> Option<(usize, usize)> {
        let available = self.categories.iter().filter(|c| !c.unused.is_empty()).count();
        if available == 0 {
            return None;
        }
        let nth = rng.index(available);
        let (category, chosen) = self.categories.iter().enumerate().filter(|(_, c)| !c.unused.is_empty()).nth(nth)?;
        Some((category, rng.index(chosen.unused.len())))
    }

    fn move_template_to_used(&mut self, category: usize, slot: usize) {
        let id = self.categories[category].unused.swap_remove(slot);
        self.entries[id].place = Place::Used;
        self.used_count += 1;
    }

    fn reset_template_cycle_if_exhausted(&mut self) {
        if self.categories.iter().any(|c| !c.unused.is_empty()) {
            return;
        }
        if self.used_count == 0 {
            return;
        }
        // Once per cycle, after as many selections as there are templates: amortised O(1).
        for (id, entry) in self.entries.iter_mut().enumerate() {
            if entry.place == Place::Used {
                entry.place = Place::Unused;
                self.categories[entry.category].unused.push(id);
            }
        }
        self.used_count = 0;
    }

    /// Removes the template from wherever it is — remove if present, never assume (the book
    /// crashes when a mastered template's category holds other templates) — and clears its streak.
    fn master_template(&mut self, id: usize) {
        let entry = &mut self.entries[id];
        match entry.place {
            Place::Unused => self.categories[entry.category].unused.retain(|&other| other != id),
            Place::Used => self.used_count -= 1,
            Place::Mastered(_) => {}
        }
        if !matches!(entry.place, Place::Mastered(_)) {
            entry.place = Place::Mastered(self.mastered_count);
            self.mastered_count += 1;
        }
        entry.streak = 0;
    }
}
