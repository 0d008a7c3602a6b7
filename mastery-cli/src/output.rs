//! What a run prints: JSON events for scripts ([`Event`], shared with every front end), or text
//! for people.

use std::io::{self, Write};
use std::time::Duration;

use mastery_app::Event;
use mastery_boundary::{Answered, QuestionView, Taken};
use mastery_core::Verdict;

use crate::text::printable;

/// How the run talks.
pub struct Output {
    pub(crate) json: bool,
    pub(crate) interactive: bool,
    pub(crate) color: bool,
    pub(crate) mastery: u32,
    pub(crate) templates: usize,
    pub(crate) mastered: usize,
    pub(crate) answers: usize,
    pub(crate) correct: usize,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Output {
    /// How a run of `quiz` talks: JSON events, or text — with prompts and colour only when both
    /// ends are a terminal (and `NO_COLOR` is unset).
    pub fn for_run(quiz: &mastery_core::Quiz, json: bool) -> Output {
        use std::io::IsTerminal;
        let interactive = !json && io::stdin().is_terminal() && io::stdout().is_terminal();
        Output {
            json,
            interactive,
            color: interactive && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            mastery: quiz.mastery(),
            templates: quiz.templates().count(),
            mastered: 0,
            answers: 0,
            correct: 0,
        }
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color { format!("{style}{text}{RESET}") } else { text.to_string() }
    }

    fn line(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")?;
        out.flush()
    }

    fn event(&self, event: &Event<'_>) -> io::Result<()> {
        let text = serde_json::to_string(event).map_err(io::Error::other)?;
        self.line(&text)
    }

    /// Shows a question (and, for people, its instructions); on a terminal it returns the prompt
    /// for the line editor to show instead of writing it.
    pub fn question(&self, question: &QuestionView, time_left: Option<Duration>) -> io::Result<Option<String>> {
        if self.json {
            return self.event(&Event::question(question)).map(|()| None);
        }
        // Quiz files are untrusted: their text is shown, never interpreted by the terminal.
        let asked = printable(question.asked());
        if !self.interactive {
            return self.line(&asked).map(|()| None);
        }
        let mut header = format!("{} · {}", printable(question.category()), printable(question.template()));
        if let Some(left) = time_left {
            header.push_str(&format!(" · {} left", clock(left)));
        }
        self.line(&self.paint(DIM, &header))?;
        if !question.instructions().is_empty() {
            self.line(&printable(question.instructions()))?;
        }
        Ok(Some(format!("{} {} ", self.paint(BOLD, &asked), self.paint(DIM, "›"))))
    }

    /// Shows a prompt that no line editor shows.
    pub fn prompt(&self, prompt: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        write!(out, "{prompt}")?;
        out.flush()
    }

    /// Says that the learner's open session was resumed, or why one was not.
    pub fn taken(&mut self, taken: &Taken) -> io::Result<()> {
        self.mastered = taken.progress.mastered;
        if let Some(abandoned) = &taken.abandoned {
            let text =
                format!("Your open session was not resumed: {}. A new session starts.", printable(&abandoned.reason));
            match self.json {
                // Events on stdout stay as the contract lists them; the learner is told on stderr.
                true => {
                    let mut err = io::stderr().lock();
                    writeln!(err, "mastery: {text}")?;
                }
                false => self.line(&self.paint(YELLOW, &text))?,
            }
        }
        let Some(answers) = taken.resumed else { return Ok(()) };
        if self.json {
            return self.event(&Event::Resumed { session: taken.session, answers });
        }
        let text = format!(
            "Resuming your session where you stopped: {} so far, mastered {}/{}.",
            counted(answers, "answer"),
            taken.progress.mastered,
            taken.progress.templates
        );
        self.line(&self.paint(DIM, &text))
    }

    /// A line that was no answer; the caller shows the question again.
    pub fn rejected(&self, reason: &str) -> io::Result<()> {
        if self.json {
            return self.event(&Event::Rejected { reason });
        }
        let reason = printable(reason);
        match self.interactive {
            true => self.line(&self.paint(YELLOW, &format!("? {reason}; try again"))),
            false => self.line(&format!("rejected: {reason}")),
        }
    }

    /// Reports a judged answer.
    pub fn answered(&mut self, answered: &Answered, answer: &str) -> io::Result<()> {
        let template = answered.question.template();
        self.answers += 1;
        self.correct += usize::from(answered.verdict.is_correct());
        self.mastered = answered.progress.mastered;
        if self.json {
            return Event::answered(answered, answer).try_for_each(|event| self.event(&event));
        }
        let progress =
            format!("streak {}/{} · mastered {}/{}", answered.streak, self.mastery, self.mastered, self.templates);
        let verdict = match &answered.verdict {
            Verdict::Correct => self.paint(GREEN, "✓ correct"),
            Verdict::Incorrect => self.paint(RED, "✗ incorrect"),
            Verdict::Invalid(reason) => {
                self.paint(YELLOW, &format!("? cannot read that: {}; try again", printable(reason)))
            }
        };
        self.line(&format!("{verdict}  {}", self.paint(DIM, &progress)))?;
        if answered.overdue {
            self.line(&self.paint(YELLOW, "  your time was up: this answer is stored as overdue"))?;
        }
        if let Some(expected) = &answered.expected {
            self.line(&format!("  the answer was {}", self.paint(BOLD, &printable(expected))))?;
        }
        if answered.mastered {
            self.line(&self.paint(GREEN, &format!("★ mastered {}", printable(template))))?;
        }
        Ok(())
    }

    /// Every template mastered.
    pub fn finished(&self, title: &str) -> io::Result<()> {
        if self.json {
            return self.event(&Event::Finished { title });
        }
        self.line(&format!("Finished {:?}: every template mastered.", printable(title)))?;
        self.summary()
    }

    /// The time limit ended the quiz.
    pub fn time_up(&self, title: &str) -> io::Result<()> {
        if self.json {
            return self.event(&Event::TimeUp { title });
        }
        if self.interactive {
            self.line("")?;
        }
        self.line(&format!("Time is up for {:?}.", printable(title)))?;
        self.summary()
    }

    /// The run stopped before the quiz ended: end of input, or Ctrl-C.
    pub fn stopped(&self, title: &str) -> io::Result<()> {
        if self.json {
            return self.event(&Event::Stopped { title });
        }
        if !self.interactive {
            return Ok(());
        }
        self.line("")?;
        self.line("Stopped; every answer so far is saved.")?;
        self.summary()
    }

    fn summary(&self) -> io::Result<()> {
        if self.json {
            return Ok(());
        }
        self.line(&format!(
            "{}, {} correct; {}/{} {} mastered.",
            counted(self.answers, "answer"),
            self.correct,
            self.mastered,
            self.templates,
            plural(self.templates, "template")
        ))
    }

    /// Before the first question, on a terminal: what the quiz is, the rule, and how to stop.
    pub fn banner(&self, title: &str) -> io::Result<()> {
        if !self.interactive {
            return Ok(());
        }
        let rule = match self.mastery {
            1 => "answer each one right once to master it".to_string(),
            n => format!("answer each one right {n} times in a row to master it"),
        };
        self.line(&self.paint(BOLD, &printable(title)))?;
        self.line(&format!("{}; {rule}.", counted(self.templates, "template")))?;
        self.line(&self.paint(
            DIM,
            "Ctrl-D or Ctrl-C stops; every answer is saved as you give it, and the next run resumes where you stopped.",
        ))?;
        self.line("")
    }
}

/// `1 answer`, `2 answers`.
fn counted(count: usize, noun: &str) -> String {
    format!("{count} {}", plural(count, noun))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { noun.to_string() } else { format!("{noun}s") }
}

/// `4:05` or `1:02:03`.
fn clock(left: Duration) -> String {
    let seconds = left.as_secs();
    match seconds / 3600 {
        0 => format!("{}:{:02}", seconds / 60, seconds % 60),
        hours => format!("{hours}:{:02}:{:02}", (seconds / 60) % 60, seconds % 60),
    }
}
