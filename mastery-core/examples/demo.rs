//! The demo quiz driven by the core alone: one answer per line on stdin.
//!
//! `cargo run -p mastery-core --example demo` — a tour of the functional core without workers,
//! storage or a command line. The `mastery` binary is the real way to take a quiz.

use std::io::{self, BufRead, Write};
use std::time::SystemTime;

use mastery_core::{Response, SplitMix64, Timestamp, examples};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut quiz = examples::arithmetic_quiz();
    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_nanos() as u64;
    let mut rng = SplitMix64::new(seed);
    let mut lines = io::stdin().lock().lines();
    while let Some(question) = quiz.select_question(&mut rng)? {
        print!("{}: {} = ", question.template().instructions(), question.asked());
        io::stdout().flush()?;
        loop {
            let Some(line) = lines.next().transpose()? else { return Ok(()) };
            let response = Response::new(&quiz, "demo@example.com", line, Timestamp::from(SystemTime::now()))?;
            let verdict = response.verdict().clone();
            let outcome = quiz.answer_question(response)?;
            println!("{verdict} (streak {})", outcome.streak);
            if !matches!(verdict, mastery_core::Verdict::Invalid(_)) {
                break;
            }
            print!("try again: ");
            io::stdout().flush()?;
        }
    }
    println!("finished: every template mastered");
    Ok(())
}
