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

    /// The span of the problem's field; for a problem inside a script, the span of the script's
    /// string (a generator's problem names the generator, whose script is its `script` key).
    pub(super) fn span_of_problem(&self, problem: &Problem) -> Range<usize> {
        if problem.script_position.is_some()
            && let Some(span) = self.0.get(&format!("{}.script", problem.field))
        {
            return span.clone();
        }
        self.span_of(&problem.field)
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

    /// The problem at `span`; columns count characters, not bytes.
    pub(super) fn at(&self, span: Range<usize>, field: &str, message: String) -> FileProblem {
        let start = floor_char_boundary(self.text, span.start);
        let end = floor_char_boundary(self.text, span.end.max(span.start));
        let (line, column) = self.line_column(start);
        let (end_line, end_column) = self.line_column(end);
        let line_start = self.text[..start].rfind('\n').map_or(0, |n| n + 1);
        let line_end = self.text[start..].find('\n').map_or(self.text.len(), |n| start + n);
        let source_line = self.text[line_start..line_end].trim_end_matches('\r').to_string();
        FileProblem {
            file: self.file.into(),
            line,
            column,
            end_line,
            end_column,
            source_line,
            field: field.into(),
            message,
        }
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// Locates every problem and sorts them into file order (stable for ties). A problem inside a
    /// script points at its character in the file when the script's string can be followed
    /// character by character; otherwise at the string, with the script's own line and column.
    pub(super) fn all(&self, problems: Vec<(Range<usize>, Problem)>) -> FileProblems {
        let mut located: Vec<(Range<usize>, Problem)> = problems
            .into_iter()
            .map(|(span, problem)| match problem.script_position {
                Some(position) => match self.in_script(span.clone(), position) {
                    Some(inner) => (inner, Problem { script_position: None, ..problem }),
                    None => {
                        let message = problem.to_string().split_off(problem.field.len() + 2);
                        (span, Problem { message, script_position: None, ..problem })
                    }
                },
                None => (span, problem),
            })
            .collect();
        located.sort_by_key(|(span, _)| span.start);
        FileProblems(located.into_iter().map(|(span, p)| self.at(span, &p.field, p.message)).collect())
    }

    /// The span in the file of the character at `(line, column)` of the script written as the TOML
    /// string at `string`; a position past the script's end is its closing quote.
    fn in_script(&self, string: Range<usize>, (line, column): (usize, usize)) -> Option<Range<usize>> {
        let raw = self.text.get(string.clone())?;
        let (chars, close) = string_chars(raw)?;
        let (mut at_line, mut at_column) = (1, 1);
        for (index, (c, offset)) in chars.iter().enumerate() {
            if (at_line, at_column) == (line, column) {
                let end = chars.get(index + 1).map_or(close, |(_, next)| *next);
                return Some(string.start + offset..string.start + end);
            }
            (at_line, at_column) = if *c == '\n' { (at_line + 1, 1) } else { (at_line, at_column + 1) };
        }
        Some(string.start + close..string.start + close + 1)
    }
}

/// The characters of a TOML string token (`"…"`, `'…'`, `"""…"""`, `'''…'''`) as the parser reads
/// them, each with the byte offset in `raw` where it was written (an escape such as `\t` is one
/// character written at its backslash), and the offset of the closing quote. `None` when `raw`
/// is not a string this reading gets exactly right, as checked against the TOML parser itself.
fn string_chars(raw: &str) -> Option<(Vec<(char, usize)>, usize)> {
    let (quote, multi_line) = match raw.as_bytes() {
        [b'"', b'"', b'"', ..] => ('"', true),
        [b'\'', b'\'', b'\'', ..] => ('\'', true),
        [b'"', ..] => ('"', false),
        [b'\'', ..] => ('\'', false),
        _ => return None,
    };
    let delimiter = if multi_line { 3 } else { 1 };
    let close = raw.len().checked_sub(delimiter).filter(|&close| close >= delimiter)?;
    let mut body = raw[delimiter..close].char_indices().map(|(i, c)| (c, i + delimiter)).peekable();
    if multi_line {
        // A newline right after the opening quotes is not part of the string.
        if body.peek().is_some_and(|(c, _)| *c == '\r') {
            body.next();
        }
        if body.peek().is_some_and(|(c, _)| *c == '\n') {
            body.next();
        }
    }
    let mut chars = Vec::new();
    while let Some((c, offset)) = body.next() {
        if c != '\\' || quote == '\'' {
            chars.push((c, offset));
            continue;
        }
        let (escape, _) = body.next()?;
        let decoded = match escape {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            '"' => '"',
            '\\' => '\\',
            'x' | 'u' | 'U' => {
                let digits = match escape {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..digits).filter_map(|_| body.next().map(|(c, _)| c)).collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            // A line-ending backslash: the newline and the whitespace after it are not part of the string.
            c if multi_line && c.is_whitespace() => {
                while body.peek().is_some_and(|(c, _)| c.is_whitespace()) {
                    body.next();
                }
                continue;
            }
            _ => return None,
        };
        chars.push((decoded, offset));
    }
    // The reading above must agree with the parser's, or a position would point at the wrong place.
    let written = format!("s = {raw}");
    let parsed = toml::de::DeTable::parse(&written).ok()?;
    let value = parsed.get_ref().get("s")?.get_ref().as_str()?.to_string();
    (chars.iter().map(|(c, _)| *c).collect::<String>() == value).then_some((chars, close))
}

/// `offset`, moved back to the start of the character it falls in, and within `text`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
