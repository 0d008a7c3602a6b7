//! Where a run's answers come from: a terminal, with line editing and the run's history, or any
//! other standard input, read line by line.
//!
//! On a terminal the learner edits the answer before sending it (arrow keys, Home/End, Ctrl-W,
//! Ctrl-U) and recalls earlier answers of the run with Up and Down; the editor asks only when a
//! question is shown, so nothing typed ahead is taken for the wrong question. Anything else (a
//! pipe, a file) is read ahead on a thread of its own, as scripts expect.

use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

/// A line of input, as the reading thread hands it over.
pub enum Input {
    Line(String),
    /// A line longer than the answer limit; only its first part was kept in memory.
    TooLong,
    /// Ctrl-C on the editor's line (the terminal sends no signal while a line is edited).
    Interrupted,
    End,
}

/// The source of a run's answers.
pub struct Keyboard {
    lines: mpsc::Receiver<Input>,
    /// Set when a line editor owns the terminal: it reads a line when handed the prompt.
    prompts: Option<std::sync::mpsc::Sender<String>>,
    /// The terminal's settings before the editor's first line; put back however the run ends,
    /// since a run can end (time up) while the editor holds the terminal in raw mode.
    #[cfg(unix)]
    restore: Option<nix::sys::termios::Termios>,
    /// Set when the run ends, so that an editor handed a prompt just before does not take the
    /// terminal again after it was put back.
    ended: Arc<AtomicBool>,
}

impl Keyboard {
    /// Lines from a terminal through a line editor when `edit` is set, from plain standard input
    /// otherwise (or when the editor cannot start).
    pub fn open(edit: bool, max_answer_chars: usize) -> Keyboard {
        if edit && let Some(keyboard) = Keyboard::editor(max_answer_chars) {
            return keyboard;
        }
        Keyboard {
            lines: read_lines(max_answer_chars),
            prompts: None,
            #[cfg(unix)]
            restore: None,
            ended: Arc::default(),
        }
    }

    fn editor(max_answer_chars: usize) -> Option<Keyboard> {
        let config = rustyline::Config::builder().max_history_size(1000).ok()?.auto_add_history(false).build();
        let mut editor = rustyline::DefaultEditor::with_config(config).ok()?;
        // A Ctrl-D typed while an answer is being stored reaches the editor as a NUL byte: the
        // terminal, not yet in raw mode, keeps its end-of-file mark as one. It still stops the run.
        let typed_ahead_end = rustyline::KeyEvent(rustyline::KeyCode::Char('@'), rustyline::Modifiers::CTRL);
        editor.bind_sequence(typed_ahead_end, rustyline::Cmd::EndOfFile);
        #[cfg(unix)]
        let restore = nix::sys::termios::tcgetattr(std::io::stdin()).ok();
        let (sender, lines) = mpsc::channel(1);
        let (prompts, asked) = std::sync::mpsc::channel::<String>();
        let ended = Arc::new(AtomicBool::new(false));
        let run_ended = Arc::clone(&ended);
        std::thread::spawn(move || {
            for prompt in asked {
                if run_ended.load(Ordering::Acquire) {
                    return;
                }
                let input = match editor.readline(&prompt) {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = editor.add_history_entry(line.as_str());
                        }
                        match line.chars().count() > max_answer_chars {
                            true => Input::TooLong,
                            false => Input::Line(line),
                        }
                    }
                    Err(rustyline::error::ReadlineError::Interrupted) => Input::Interrupted,
                    Err(_) => Input::End,
                };
                let ended = matches!(input, Input::End | Input::Interrupted);
                if sender.blocking_send(input).is_err() || ended {
                    return;
                }
            }
        });
        Some(Keyboard {
            lines,
            prompts: Some(prompts),
            #[cfg(unix)]
            restore,
            ended,
        })
    }

    /// Whether the editor shows the prompt; otherwise the caller has printed it.
    pub fn edits(&self) -> bool {
        self.prompts.is_some()
    }

    /// Asks the editor for a line after `prompt`; plain input needs no asking.
    pub fn ask(&self, prompt: String) {
        if let Some(prompts) = &self.prompts {
            // A closed editor has already sent its last input (`End`), which `next` returns.
            let _ = prompts.send(prompt);
        }
    }

    /// The next line; `End` once there are no more.
    pub async fn next(&mut self) -> Input {
        self.lines.recv().await.unwrap_or(Input::End)
    }
}

impl Drop for Keyboard {
    fn drop(&mut self) {
        self.ended.store(true, Ordering::Release);
        #[cfg(unix)]
        if let Some(settings) = &self.restore {
            let _ = nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSADRAIN, settings);
        }
    }
}

/// Reads stdin on a thread of its own, one line at a time. Invalid UTF-8 is replaced, not fatal;
/// a line over `max_answer_chars` is read past, never held whole in memory.
fn read_lines(max_answer_chars: usize) -> mpsc::Receiver<Input> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let input = read_line(&mut stdin, max_answer_chars);
            let ended = matches!(input, Input::End);
            if sender.blocking_send(input).is_err() || ended {
                return;
            }
        }
    });
    receiver
}

/// Reads one line, keeping at most enough bytes for `max_chars` characters (four bytes each at
/// most) and one more, and discarding the rest of a longer line.
fn read_line(reader: &mut impl BufRead, max_chars: usize) -> Input {
    let keep = max_chars.saturating_add(1).saturating_mul(4);
    let mut line = Vec::new();
    let mut overflowed = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Input::End,
        };
        if chunk.is_empty() {
            // End of input: a last line without a newline still counts.
            return match (line.is_empty(), overflowed) {
                (true, false) => Input::End,
                _ => finish_line(line, overflowed, max_chars),
            };
        }
        let (part, newline) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], true),
            None => (chunk, false),
        };
        let room = keep.saturating_sub(line.len());
        overflowed |= part.len() > room;
        line.extend_from_slice(&part[..part.len().min(room)]);
        let used = part.len() + usize::from(newline);
        reader.consume(used);
        if newline {
            return finish_line(line, overflowed, max_chars);
        }
    }
}

fn finish_line(line: Vec<u8>, overflowed: bool, max_chars: usize) -> Input {
    let text = String::from_utf8_lossy(&line);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    if overflowed || text.chars().count() > max_chars {
        return Input::TooLong;
    }
    Input::Line(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max_chars: usize) -> Vec<String> {
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let mut seen = Vec::new();
        loop {
            match read_line(&mut reader, max_chars) {
                Input::Line(line) => seen.push(line),
                Input::TooLong => seen.push("<too long>".into()),
                Input::Interrupted | Input::End => return seen,
            }
        }
    }

    #[test]
    fn lines_are_split_and_trimmed_of_their_line_ends() {
        assert_eq!(lines(b"3\n 7 \r\n\nlast", 10), ["3", " 7 ", "", "last"]);
    }

    #[test]
    fn an_overlong_line_is_one_rejection_and_the_next_line_is_read_whole() {
        let mut input = vec![b'9'; 100_000];
        input.extend_from_slice(b"\n42\n");
        assert_eq!(lines(&input, 10), ["<too long>", "42"]);
        assert_eq!(lines("ééééé\nééééééééééé\n".as_bytes(), 10), ["ééééé", "<too long>"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(lines(b"4\xff2\n", 10), ["4\u{fffd}2"]);
    }
}
