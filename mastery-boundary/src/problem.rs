//! Problems found in untrusted input: which field, and what is wrong with it.

use std::fmt;

/// One problem with one field. `field` is a path such as `templates[2].generators.left`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: the field's path.
    pub field: String,
    /// What: lower case, naming the offending value.
    pub message: String,
}

impl Problem {
    /// A problem with `field`, a path such as `templates[0].raw`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { field: field.into(), message: message.into() }
    }

    /// The same problem under a parent path: `name` under `templates[0]` is `templates[0].name`.
    pub(crate) fn under(mut self, parent: &str) -> Self {
        self.field = join(parent, &self.field);
        self
    }
}

/// Joins a parent path and a child field.
pub(crate) fn join(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_string(),
        (_, true) => parent.to_string(),
        _ => format!("{parent}.{child}"),
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found, in field order. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Problems(pub Vec<Problem>);

fn render(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("; ")
}
