//! Problems in quiz files shown as cargo shows compiler errors: what is wrong, where, and the
//! offending line of the file with a caret under the offending text.
//!
//! Two layouts. Without colour the first line of each problem is the machine-readable
//! `FILE:LINE:COL: field: message`, exactly once, and every line of the excerpt under it starts
//! with a space, so a script that looks for those lines finds each problem once:
//!
//! ```text
//! quiz.toml:9:29: templates[0].checker.expect: script does not compile: script is incomplete
//!    |
//!  9 | checker = { expect = "left +" }
//!    |                             ^
//! ```
//!
//! With colour (a person at a terminal) the header is cargo's, `error:` or `warning:` first and the
//! place on a ` --> ` line of its own.
//!
//! Hand-written rather than `miette`: the layout is a few lines of text, and the excerpt must go
//! through the same escaping as every other text from a quiz file (a file cannot send escape
//! sequences to the terminal), which is simplest where the text is assembled.

use mastery_boundary::FileProblem;

use crate::text::{display_width, printable};

/// When to colour diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// When the output is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`.
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a stream that is (or is not) a terminal.
    pub fn colours(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
            }
        }
    }

    /// Whether to colour what goes to stderr.
    pub fn for_stderr(self) -> bool {
        self.colours(std::io::IsTerminal::is_terminal(&std::io::stderr()))
    }

    /// Whether to colour what goes to stdout.
    pub fn for_stdout(self) -> bool {
        self.colours(std::io::IsTerminal::is_terminal(&std::io::stdout()))
    }
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Every problem, each with its excerpt, a blank line between them; no trailing newline.
pub fn render(problems: &[FileProblem], colour: bool) -> String {
    // One gutter width for the whole list, as cargo does, so that the bars line up.
    let width = problems.iter().map(|p| p.line.to_string().len()).max().unwrap_or(1);
    problems.iter().map(|problem| render_one(problem, colour, width)).collect::<Vec<_>>().join("\n\n")
}

fn render_one(problem: &FileProblem, colour: bool, width: usize) -> String {
    let paint = |style: &str, text: &str| if colour { format!("{style}{text}{RESET}") } else { text.to_string() };
    let (label, style) = if problem.is_warning() { ("warning", YELLOW) } else { ("error", RED) };
    let mut lines = Vec::new();
    if colour {
        let message = problem.message.strip_prefix("warning: ").unwrap_or(&problem.message);
        let header = format!("{}: {}", problem.field, printable(message));
        lines.push(format!("{}{}", paint(style, &format!("{label}:")), paint(BOLD, &format!(" {header}"))));
        let place = format!("{}:{}:{}", problem.file, problem.line, problem.column);
        // Under the gutter's bar, as cargo puts it.
        lines.push(format!("{}{}", " ".repeat(width + 1), paint(BLUE, &format!("--> {}", printable(&place)))));
    } else {
        lines.push(printable(&problem.to_string()).into_owned());
    }
    if problem.source_line.is_empty() {
        return lines.join("\n");
    }
    let (shown, caret_at, caret_len) = excerpt(problem);
    let gutter = paint(BLUE, &format!(" {:width$} |", ""));
    lines.push(gutter.clone());
    lines.push(format!("{} {shown}", paint(BLUE, &format!(" {:>width$} |", problem.line))));
    lines.push(format!("{gutter} {}{}", " ".repeat(caret_at), paint(style, &"^".repeat(caret_len))));
    lines.join("\n")
}

/// The problem's line as shown (tabs as four spaces, control characters escaped), the column on
/// screen where its caret starts, and how many columns the caret covers: at least one, to the end
/// of the line when the offending text goes on past it.
fn excerpt(problem: &FileProblem) -> (String, usize, usize) {
    let line: Vec<char> = problem.source_line.chars().collect();
    let start = (problem.column - 1).min(line.len());
    let end = if problem.end_line == problem.line { problem.end_column - 1 } else { line.len() };
    let end = end.clamp(start, line.len());
    let on_screen = |chars: &[char]| shown(&chars.iter().collect::<String>());
    let caret_at = display_width(&on_screen(&line[..start]));
    let caret_len = display_width(&on_screen(&line[start..end])).max(1);
    (on_screen(&line), caret_at, caret_len)
}

/// Text from the file as it is shown: a tab is four spaces (its width on a terminal would depend
/// on where it falls), and a control character is escaped.
fn shown(text: &str) -> String {
    printable(&text.replace('\t', "    ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: usize, column: usize, end_column: usize, source_line: &str, message: &str) -> FileProblem {
        FileProblem {
            file: "quiz.toml".into(),
            line,
            column,
            end_line: line,
            end_column,
            source_line: source_line.into(),
            field: "templates[0].checker.expect".into(),
            message: message.into(),
        }
    }

    const EXPECT: &str = "checker = { expect = \"left +\" }";

    #[test]
    fn plain_problems_start_with_their_located_line_and_show_the_line_with_a_caret() {
        let problems = [
            problem(9, 22, 30, EXPECT, "script does not compile: script is incomplete"),
            problem(12, 1, 6, "extra = true", "warning: a warning"),
            FileProblem::at_start("quiz.toml", "file", "cannot read the file: no such file"),
        ];
        assert_eq!(
            render(&problems, false),
            "quiz.toml:9:22: templates[0].checker.expect: script does not compile: script is incomplete
    |
  9 | checker = { expect = \"left +\" }
    |                      ^^^^^^^^

quiz.toml:12:1: templates[0].checker.expect: warning: a warning
    |
 12 | extra = true
    | ^^^^^

quiz.toml:1:1: file: cannot read the file: no such file"
        );
    }

    #[test]
    fn coloured_problems_look_like_cargo_s() {
        let problems = [
            problem(9, 29, 30, EXPECT, "script does not compile: script is incomplete"),
            problem(9, 1, 8, EXPECT, "warning: a warning"),
        ];
        assert_eq!(
            render(&problems, true),
            "\x1b[1;31merror:\x1b[0m\x1b[1m templates[0].checker.expect: script does not compile: script is incomplete\x1b[0m
  \x1b[1;34m--> quiz.toml:9:29\x1b[0m
\x1b[1;34m   |\x1b[0m
\x1b[1;34m 9 |\x1b[0m checker = { expect = \"left +\" }
\x1b[1;34m   |\x1b[0m                             \x1b[1;31m^\x1b[0m

\x1b[1;33mwarning:\x1b[0m\x1b[1m templates[0].checker.expect: a warning\x1b[0m
  \x1b[1;34m--> quiz.toml:9:1\x1b[0m
\x1b[1;34m   |\x1b[0m
\x1b[1;34m 9 |\x1b[0m checker = { expect = \"left +\" }
\x1b[1;34m   |\x1b[0m \x1b[1;33m^^^^^^^\x1b[0m"
        );
    }

    #[test]
    fn wide_characters_tabs_and_control_characters_keep_the_caret_under_its_text() {
        let line = "\traw = \"李\x1b[2J\" # x";
        let caret = |column, end| {
            let rendered = render(&[problem(3, column, end, line, "m")], false);
            rendered.lines().map(str::to_string).collect::<Vec<_>>()[2..].to_vec()
        };
        // The `#`: after a tab (4 columns), a wide character (2) and an escaped escape (6).
        assert_eq!(
            caret(16, 17),
            [" 3 |     raw = \"李\\u{1b}[2J\" # x".to_string(), "   |                         ^".to_string()]
        );
        // A span running past the end of its line is underlined to the end of the line.
        let past = FileProblem { end_line: 4, end_column: 2, ..problem(3, 18, 18, line, "m") };
        assert_eq!(render(&[past], false).lines().last(), Some("   |                           ^"));
        // A point between characters still gets a caret.
        assert_eq!(caret(2, 2)[1], "   |     ^");
    }
}
