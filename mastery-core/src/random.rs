//! Randomness as a value passed in.
//!
//! The core never reaches for global or thread-local randomness: every function that draws takes a
//! `&mut dyn RandomSource`. That is what makes a quiz reproducible from its seed, and what lets a
//! stored session be rebuilt by replaying its responses.

/// A source of uniformly distributed random bits.
///
/// Only [`next_u64`](RandomSource::next_u64) must be provided; the other methods derive from it.
pub trait RandomSource {
    /// Returns the next 64 uniformly distributed bits.
    fn next_u64(&mut self) -> u64;

    /// Returns an index uniformly distributed in `0..len`.
    ///
    /// `len` must be non-zero; a zero `len` returns 0 rather than panicking.
    fn index(&mut self, len: usize) -> usize {
        if len <= 1 {
            return 0;
        }
        self.below(len as u64) as usize
    }

    /// Returns an integer uniformly distributed in `lo..=hi` (the bounds may come in either order).
    fn integer_in(&mut self, lo: i64, hi: i64) -> i64 {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        // The width of the whole i64 range does not fit in u64 + 1, so draw raw bits for it.
        let width = hi.wrapping_sub(lo) as u64;
        if width == u64::MAX {
            return self.next_u64() as i64;
        }
        lo.wrapping_add(self.below(width + 1) as i64)
    }

    /// Returns a value uniformly distributed in `0..bound` without modulo bias (`bound > 0`).
    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Lemire's multiply-shift with rejection: one multiplication in the common case.
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }
}

/// SplitMix64: a tiny, fast, seedable generator with good statistical quality for quizzes.
///
/// Not cryptographic — a learner who knows the seed can predict the questions, which is the point
/// of a seed.
///
/// ```
/// use mastery_core::{RandomSource, SplitMix64};
///
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let die = a.integer_in(1, 6);
/// assert!((1..=6).contains(&die));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates a generator whose sequence is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sequence_and_different_seeds_differ() {
        let draw = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn integer_in_stays_inside_bounds_and_reaches_both_ends() {
        let mut rng = SplitMix64::new(3);
        let draws: Vec<i64> = (0..2_000).map(|_| rng.integer_in(-2, 2)).collect();
        assert!(draws.iter().all(|d| (-2..=2).contains(d)));
        assert!(draws.contains(&-2) && draws.contains(&2));
    }

    #[test]
    fn integer_in_accepts_reversed_and_extreme_bounds() {
        let mut rng = SplitMix64::new(4);
        assert!((1..=5).contains(&rng.integer_in(5, 1)));
        assert_eq!(rng.integer_in(9, 9), 9);
        // The full range must not overflow.
        let _any: i64 = rng.integer_in(i64::MIN, i64::MAX);
        assert!((i64::MAX - 1..=i64::MAX).contains(&rng.integer_in(i64::MAX - 1, i64::MAX)));
    }

    #[test]
    fn index_of_a_single_element_is_zero() {
        let mut rng = SplitMix64::new(5);
        assert_eq!(rng.index(1), 0);
        assert_eq!(rng.index(0), 0);
        assert!(rng.index(3) < 3);
    }
}
