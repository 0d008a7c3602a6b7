//! Generators: named sources of the values substituted into a question.

use std::fmt;
use std::sync::Arc;

use crate::random::RandomSource;
use crate::value::Value;

/// The signature of a function generator. An `Err` is a fault in the generator (a script that ran
/// out of operations, say) and carries a message for the quiz author.
pub type GenerateFn = dyn Fn(&mut dyn RandomSource) -> Result<Value, String> + Send + Sync;

/// Where a placeholder's value comes from.
///
/// ```
/// use mastery_core::{Generator, SplitMix64, Value};
///
/// let mut rng = SplitMix64::new(1);
/// let digit = Generator::range(0, 9);
/// let n = digit.draw(&mut rng).unwrap().as_integer().unwrap();
/// assert!((0..=9).contains(&n));
///
/// let answer = Generator::function(|_rng| Ok(Value::Integer(42)));
/// assert_eq!(answer.draw(&mut rng), Ok(Value::Integer(42)));
/// ```
#[derive(Clone)]
pub enum Generator {
    /// One element drawn uniformly. Must not be empty (the template rejects an empty list).
    List(Arc<[Value]>),
    /// An integer drawn uniformly from `lo..=hi`. `lo <= hi` (the template rejects the reverse).
    Range {
        /// The smallest value.
        lo: i64,
        /// The largest value.
        hi: i64,
    },
    /// Any function of the random source.
    Function(Arc<GenerateFn>),
}

impl Generator {
    /// A list generator over `values`.
    pub fn list<V: Into<Value>>(values: impl IntoIterator<Item = V>) -> Self {
        Generator::List(values.into_iter().map(Into::into).collect())
    }

    /// An inclusive integer range generator.
    pub fn range(lo: i64, hi: i64) -> Self {
        Generator::Range { lo, hi }
    }

    /// A function generator.
    pub fn function(generate: impl Fn(&mut dyn RandomSource) -> Result<Value, String> + Send + Sync + 'static) -> Self {
        Generator::Function(Arc::new(generate))
    }

    /// Draws one value.
    pub fn draw(&self, rng: &mut dyn RandomSource) -> Result<Value, String> {
        match self {
            Generator::List(values) => {
                values.get(rng.index(values.len())).cloned().ok_or_else(|| "the list of values is empty".to_string())
            }
            Generator::Range { lo, hi } => Ok(Value::Integer(rng.integer_in(*lo, *hi))),
            Generator::Function(generate) => generate(rng),
        }
    }

    /// How many distinct values the generator can produce, when that is known without drawing.
    pub fn known_size(&self) -> Option<u128> {
        match self {
            Generator::List(values) => Some(values.len() as u128),
            Generator::Range { lo, hi } => Some((i128::from(*hi) - i128::from(*lo) + 1).max(0) as u128),
            Generator::Function(_) => None,
        }
    }
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Generator::List(values) => f.debug_tuple("List").field(values).finish(),
            Generator::Range { lo, hi } => f.debug_struct("Range").field("lo", lo).field("hi", hi).finish(),
            Generator::Function(_) => f.write_str("Function(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;

    #[test]
    fn a_list_draws_only_its_own_elements() {
        let mut rng = SplitMix64::new(9);
        let words = Generator::list(["a", "b"]);
        for _ in 0..100 {
            let drawn = words.draw(&mut rng).unwrap();
            assert!(drawn == Value::from("a") || drawn == Value::from("b"));
        }
    }

    #[test]
    fn known_sizes() {
        assert_eq!(Generator::range(0, 9).known_size(), Some(10));
        assert_eq!(Generator::list([1i64, 2, 3]).known_size(), Some(3));
        assert_eq!(Generator::function(|_| Ok(Value::Integer(1))).known_size(), None);
    }

    #[test]
    fn an_empty_list_is_an_error_not_a_panic() {
        let empty = Generator::List(Arc::from(Vec::<Value>::new()));
        assert!(empty.draw(&mut SplitMix64::new(1)).is_err());
    }
}
