//! "Did you mean": the known key closest to a misspelt one.

/// The known key closest to `name` (the first of a tie), when it is within two edits of it.
pub(super) fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known.iter().copied().filter(|k| edit_distance(k, name) <= 2).min_by_key(|k| edit_distance(k, name))
}

/// Levenshtein distance between short names, in characters: what "did you mean" suggestions
/// (a misspelt key, a misspelt quiz title) are ranked by.
///
/// ```
/// assert_eq!(mastery_boundary::edit_distance("arithmetc", "arithmetic"), 1);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
