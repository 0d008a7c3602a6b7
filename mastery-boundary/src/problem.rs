//! Problems found in untrusted input: which field, and what is wrong with it.

use std::fmt;

/// One problem with one field. `field` is a path such as `templates[2].generators.left`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: the field's path.
    pub field: String,
    /// What: lower case, naming the offending value.
    pub message: String,
    /// Where inside the field's script the problem is, when it is a script's and rhai said where:
    /// a 1-based line and column (in characters) of the script's own text. A quiz file turns it
    /// into the file's line and column.
    pub script_position: Option<(usize, usize)>,
}

impl Problem {
    /// A problem with `field`, a path such as `templates[0].raw`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { field: field.into(), message: message.into(), script_position: None }
    }

    /// The same problem at `position` inside the field's script.
    pub(crate) fn in_script(mut self, position: Option<(usize, usize)>) -> Self {
        self.script_position = position;
        self
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
        write!(f, "{}: {}", self.field, self.message)?;
        match self.script_position {
            Some((line, column)) => write!(f, " (script line {line}, column {column})"),
            None => Ok(()),
        }
    }
}

/// Every problem found, in field order. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Problems(pub Vec<Problem>);

fn render(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("; ")
}
