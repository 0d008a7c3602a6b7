//! Text from outside (quiz files, answers, the database) made safe and measurable for a terminal.

use std::borrow::Cow;

use unicode_width::UnicodeWidthStr;

/// `text` with every control character shown escaped (`\u{1b}`), never interpreted: a quiz file
/// cannot move the cursor, clear the screen or recolour the learner's terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if c.is_control() => shown.push_str(&c.escape_unicode().to_string()),
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// The columns `text` takes on a terminal: wide characters (`李`, `例`) take two.
pub fn display_width(text: &str) -> usize {
    text.width()
}

/// `text` padded with spaces to `width` columns, on the right (`left_aligned`) or on the left.
pub fn pad(text: &str, width: usize, left_aligned: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(display_width(text)));
    if left_aligned { format!("{text}{fill}") } else { format!("{fill}{text}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(printable("7 × 8"), "7 × 8");
        assert_eq!(printable("\x1b[2Jgone"), "\\u{1b}[2Jgone");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("ada@example.com"), 15);
        assert_eq!(display_width("李@例え.jp"), 10);
        assert_eq!(pad("李", 4, true), "李  ");
        assert_eq!(pad("7", 3, false), "  7");
    }
}
