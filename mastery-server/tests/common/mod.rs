//! What the server's test files share.

/// The right answer to a demo question shown as `LEFT OP RIGHT` (`7 × 8`), worked out from its
/// text as a learner would: no reply shows a drawn value.
pub fn solve(asked: &str) -> String {
    let parts: Vec<&str> = asked.split(' ').collect();
    let (left, right): (i64, i64) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
    match parts[1] {
        "+" => left + right,
        "-" => left - right,
        _ => left * right,
    }
    .to_string()
}
