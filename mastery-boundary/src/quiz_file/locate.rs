//! From a field path to where it was written, and from there to a line and column.

use std::collections::BTreeMap;
use std::ops::Range;

use super::{FileProblem, FileProblems};
use crate::problem::Problem;

/// Where each field path was written, as a byte range of the file.
#[derive(Default)]
pub(super) struct Spans(BTreeMap<String, Range<usize>>);

impl Spans {
    pub(super) fn record(&mut self, field: String, span: Range<usize>) {
        self.0.insert(field, span);
    }

    /// The span of `field`, or of its nearest written parent (a missing field points at its table).
    pub(super) fn span_of(&self, field: &str) -> Range<usize> {
        let mut path = field;
        loop {
            if let Some(span) = self.0.get(path) {
                return span.clone();
            }
            match path.rfind(['.', '[']) {
                Some(cut) => path = &path[..cut],
                None => return 0..0,
            }
        }
    }
}

/// Turns byte offsets into lines and columns.
pub(super) struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Self {
        Locator { file, text }
    }

    /// The problem at the start of `span`; the column counts characters, not bytes.
    pub(super) fn at(&self, span: Range<usize>, field: &str, message: String) -> FileProblem {
        let offset = span.start.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        FileProblem { file: self.file.into(), line, column, field: field.into(), message }
    }

    /// Locates every problem and sorts them into file order (stable for ties).
    pub(super) fn all(&self, mut problems: Vec<(Range<usize>, Problem)>) -> FileProblems {
        problems.sort_by_key(|(span, _)| span.start);
        FileProblems(problems.into_iter().map(|(span, p)| self.at(span, &p.field, p.message)).collect())
    }
}
