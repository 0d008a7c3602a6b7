//! The values a generator draws and a question substitutes into its text.

use std::fmt;
use std::sync::Arc;

/// One substitution value: an integer or a piece of text.
///
/// Text is reference-counted so that drawing it from a list is a counter increment, not a copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A whole number.
    Integer(i64),
    /// A piece of text.
    Text(Arc<str>),
}

impl Value {
    /// The integer, if this value is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(*n),
            Value::Text(_) => None,
        }
    }

    /// The text, if this value is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Integer(_) => None,
            Value::Text(text) => Some(text),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(n) => write!(f, "{n}"),
            Value::Text(text) => f.write_str(text),
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Integer(n)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(Arc::from(text))
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(Arc::from(text))
    }
}

/// The substitutions of one question: each generator's name with the value drawn for it.
///
/// A borrowed view: the names live once in the template, the values in the question.
///
/// ```
/// use mastery_core::examples;
/// use mastery_core::{Question, SplitMix64, Value};
///
/// let template = examples::single_digit_addition();
/// let question = Question::new(&template, &mut SplitMix64::new(1)).unwrap();
/// let left = question.substitutions().get("left").and_then(Value::as_integer).unwrap();
/// assert!((0..=9).contains(&left));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Substitutions<'a> {
    names: &'a [Arc<str>],
    values: &'a [Value],
}

impl<'a> Substitutions<'a> {
    /// Pairs names with values; both slices have one entry per generator, in the same order.
    pub fn new(names: &'a [Arc<str>], values: &'a [Value]) -> Self {
        debug_assert_eq!(names.len(), values.len());
        Self { names, values }
    }

    /// The value drawn for `name`, if the template has such a generator.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        let position = self.names.iter().position(|n| &**n == name)?;
        self.values.get(position)
    }

    /// Every `(name, value)` pair, in the template's generator order (sorted by name).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a Value)> + 'a {
        self.names.iter().map(|n| &**n).zip(self.values.iter())
    }

    /// The number of substitutions.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the question has no substitutions at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}
