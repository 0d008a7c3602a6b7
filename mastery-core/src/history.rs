//! Stored history folded back into streaks and mastery, by the rule a quiz applies.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::checker::Verdict;
use crate::quiz::AnswerOutcome;

/// One learner's streaks and mastered templates, folded from their answers in the order given.
///
/// It applies [`AnswerOutcome::after`], the same rule as [`Quiz::answer_question`], so a report
/// read from stored rows and the quiz that produced them can never disagree.
///
/// ```
/// use mastery_core::{MasteryFold, Verdict};
///
/// let mut fold = MasteryFold::default();
/// fold.apply("addition", &Verdict::Correct, 2);
/// fold.apply("addition", &Verdict::Invalid("l2 is no number".into()), 2);
/// assert_eq!(fold.streak("addition"), 1);
/// assert!(fold.apply("addition", &Verdict::Correct, 2).mastered);
/// assert_eq!(fold.mastered().collect::<Vec<_>>(), ["addition"]);
/// ```
///
/// [`Quiz::answer_question`]: crate::Quiz::answer_question
#[derive(Debug, Clone, Default)]
pub struct MasteryFold {
    streaks: HashMap<String, u32, BuildHasherDefault<Fnv>>,
    mastered: Vec<String>,
}

/// FNV-1a: a fold looks a template's name up once per stored answer (a million times for a
/// report), and a quiz's own template names need no defence against crafted collisions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

impl MasteryFold {
    /// Applies one answer to `template`, in a quiz that needs `mastery` correct answers in a row.
    pub fn apply(&mut self, template: &str, verdict: &Verdict, mastery: u32) -> AnswerOutcome {
        let streak = self.streak(template);
        let outcome = AnswerOutcome::after(streak, verdict, mastery);
        let kept = if outcome.mastered { 0 } else { outcome.streak };
        if kept != streak {
            match self.streaks.get_mut(template) {
                Some(slot) => *slot = kept,
                None => drop(self.streaks.insert(template.to_string(), kept)),
            }
        }
        if outcome.mastered && !self.is_mastered(template) {
            self.mastered.push(template.to_string());
        }
        outcome
    }

    /// The template's current streak (0 for one never answered, or just mastered).
    pub fn streak(&self, template: &str) -> u32 {
        self.streaks.get(template).copied().unwrap_or(0)
    }

    /// Whether the template has been mastered.
    pub fn is_mastered(&self, template: &str) -> bool {
        self.mastered.iter().any(|name| name == template)
    }

    /// Mastered templates, in the order they were mastered.
    pub fn mastered(&self) -> impl Iterator<Item = &str> {
        self.mastered.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_answer_resets_the_streak_and_an_invalid_one_keeps_it() {
        let mut fold = MasteryFold::default();
        fold.apply("t", &Verdict::Correct, 3);
        fold.apply("t", &Verdict::Correct, 3);
        assert_eq!(fold.apply("t", &Verdict::Invalid("?".into()), 3).streak, 2);
        assert_eq!(fold.apply("t", &Verdict::Incorrect, 3).streak, 0);
        assert_eq!(fold.streak("t"), 0);
        assert!(fold.mastered().next().is_none());
    }

    #[test]
    fn mastering_clears_the_streak_and_is_listed_once_in_order() {
        let mut fold = MasteryFold::default();
        for template in ["b", "a", "b", "a"] {
            fold.apply(template, &Verdict::Correct, 2);
        }
        assert_eq!(fold.mastered().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!((fold.streak("a"), fold.streak("b")), (0, 0));
        fold.apply("a", &Verdict::Correct, 1);
        assert_eq!(fold.mastered().count(), 2);
    }
}
