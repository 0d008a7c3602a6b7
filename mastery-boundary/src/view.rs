//! What the API shows of a quiz in progress: views that carry no checker and no drawn value.
//!
//! The core's `Question` holds its template (with the checker) and every substitution, some of
//! which may never appear in the text (a hidden value a checker compares with). A front end that
//! serialised one could give the answer away. The API hands out these views instead; the core
//! values stay inside the boundary.

use std::fmt;
use std::sync::Arc;

use mastery_core::Question;

/// A question as a learner may see it: its template's name, category and instructions, and the
/// text asked.
#[derive(Clone)]
pub struct QuestionView(Arc<Question>);

impl QuestionView {
    pub(crate) fn new(question: Arc<Question>) -> Self {
        QuestionView(question)
    }

    /// The name of the template the question was drawn from.
    pub fn template(&self) -> &str {
        self.0.template().name()
    }

    /// The template's category.
    pub fn category(&self) -> &str {
        self.0.template().category()
    }

    /// What to do with the question (empty when the template has none).
    pub fn instructions(&self) -> &str {
        self.0.template().instructions()
    }

    /// The question's text.
    pub fn asked(&self) -> &str {
        self.0.asked()
    }

    /// Whether both views show the very same draw — not merely the same text, which two draws
    /// can share.
    pub fn is_same_question(&self, other: &QuestionView) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for QuestionView {
    /// Only what may be shown: logging a view cannot leak a drawn value either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuestionView")
            .field("template", &self.template())
            .field("category", &self.category())
            .field("asked", &self.asked())
            .finish()
    }
}

/// How far a learner has come in a quiz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Templates mastered.
    pub mastered: usize,
    /// Templates in the quiz.
    pub templates: usize,
}
