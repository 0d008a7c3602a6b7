//! What a run prints: JSON events for scripts, or text for people.

use std::io::{self, Write};
use std::time::Duration;

use mastery_boundary::Answered;
use mastery_core::{Question, Verdict};
use serde::Serialize;

use crate::text::printable;

/// One line of `--json` output. Field names and order are the command line's contract.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A question to answer.
    Question {
        /// The template's name.
        template: &'a str,
        /// The template's category.
        category: &'a str,
        /// The question's text.
        asked: &'a str,
        /// The template's instructions (empty when it has none).
        instructions: &'a str,
    },
    /// An answer, printed only once its response is durable.
    Answer {
        /// The template answered.
        template: &'a str,
        /// The answer as given.
        answer: &'a str,
        /// The book's yes/no.
        correct: bool,
        /// `correct`, `incorrect` or `invalid`.
        verdict: &'a str,
        /// The template's streak after this answer.
        streak: u32,
        /// Why an invalid answer could not be judged; absent for the other verdicts.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
    /// A line that is no answer at all (blank, or over the answer limit); the same question
    /// follows.
    Rejected {
        /// Why.
        reason: &'a str,
    },
    /// A template was mastered.
    Mastered {
        /// The template.
        template: &'a str,
    },
    /// Every template is mastered.
    Finished {
        /// The quiz.
        title: &'a str,
    },
    /// The time limit ended the quiz.
    TimeUp {
        /// The quiz.
        title: &'a str,
    },
    /// The run stopped before the quiz ended: end of input, or Ctrl-C.
    Stopped {
        /// The quiz.
        title: &'a str,
    },
}

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

    /// Shows a question (and, for people, its instructions and a prompt).
    pub fn question(&self, question: &Question, time_left: Option<Duration>) -> io::Result<()> {
        let template = question.template();
        if self.json {
            return self.event(&Event::Question {
                template: template.name(),
                category: template.category(),
                asked: question.asked(),
                instructions: template.instructions(),
            });
        }
        // Quiz files are untrusted: their text is shown, never interpreted by the terminal.
        let asked = printable(question.asked());
        if !self.interactive {
            return self.line(&asked);
        }
        let mut header = format!("{} · {}", printable(template.category()), printable(template.name()));
        if let Some(left) = time_left {
            header.push_str(&format!(" · {} left", clock(left)));
        }
        self.line(&self.paint(DIM, &header))?;
        if !template.instructions().is_empty() {
            self.line(&printable(template.instructions()))?;
        }
        let mut out = io::stdout().lock();
        write!(out, "{} {} ", self.paint(BOLD, &asked), self.paint(DIM, "›"))?;
        out.flush()
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
        let template = answered.question.template().name();
        self.answers += 1;
        self.correct += usize::from(answered.verdict.is_correct());
        self.mastered += usize::from(answered.mastered);
        if self.json {
            let reason = match &answered.verdict {
                Verdict::Invalid(reason) => Some(reason.as_str()),
                _ => None,
            };
            self.event(&Event::Answer {
                template,
                answer,
                correct: answered.verdict.is_correct(),
                verdict: answered.verdict.kind(),
                streak: answered.streak,
                reason,
            })?;
            if answered.mastered {
                self.event(&Event::Mastered { template })?;
            }
            return Ok(());
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
            "{} answers, {} correct; {}/{} templates mastered.",
            self.answers, self.correct, self.mastered, self.templates
        ))
    }
}

/// `4:05` or `1:02:03`.
fn clock(left: Duration) -> String {
    let seconds = left.as_secs();
    match seconds / 3600 {
        0 => format!("{}:{:02}", seconds / 60, seconds % 60),
        hours => format!("{hours}:{:02}:{:02}", (seconds / 60) % 60, seconds % 60),
    }
}
