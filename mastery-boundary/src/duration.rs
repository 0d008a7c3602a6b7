//! Durations as people write them: `90s`, `5m`, `1h30m`, `250ms`.

use std::time::Duration;

/// The longest duration accepted: no quiz runs for longer than a year, and every clock can add
/// this much to "now" without overflowing.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3_600);

/// Parses `90s`, `5m`, `1h30m`, `250ms`; a bare number is seconds. At most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let total = parse_any_duration(text)?;
    if total > MAX_DURATION {
        return Err(format!("{:?} is longer than the limit of 366 days", text.trim()));
    }
    Ok(total)
}

fn parse_any_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a duration must not be empty (try 90s or 5m)".into());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        if seconds == 0 {
            return Err(format!("{text:?} is no time at all"));
        }
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let unit_end = rest[digits..].find(|c: char| c.is_ascii_digit()).map_or(rest.len(), |at| digits + at);
        let amount: u64 = match rest[..digits].parse() {
            Ok(amount) => amount,
            Err(_) if digits > 0 => return Err(format!("{text:?} is too long")),
            Err(_) => return Err(format!("{text:?} is not a duration (try 90s or 5m)")),
        };
        let unit = match &rest[digits..unit_end] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3_600),
            other => return Err(format!("unknown unit {other:?} in {text:?} (use ms, s, m or h)")),
        };
        total = unit
            .checked_mul(u32::try_from(amount).map_err(|_| format!("{text:?} is too long"))?)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("{text:?} is too long"))?;
        rest = &rest[unit_end..];
    }
    if total.is_zero() {
        return Err(format!("{text:?} is no time at all"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_people_write() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn durations_past_a_year_are_refused_not_overflowed() {
        assert_eq!(parse_duration("366d"), Err("unknown unit \"d\" in \"366d\" (use ms, s, m or h)".into()));
        assert_eq!(parse_duration("8784h"), Ok(MAX_DURATION));
        for long in ["8785h", "18446744073709551615", "4294967295h", "99999999999999999999"] {
            let error = parse_duration(long).unwrap_err();
            assert!(error.contains("366 days") || error.contains("too long"), "{long}: {error}");
        }
    }

    #[test]
    fn nonsense_is_refused_with_the_value() {
        assert_eq!(
            parse_duration("5 parsecs").unwrap_err(),
            "unknown unit \" parsecs\" in \"5 parsecs\" (use ms, s, m or h)"
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999h").is_err());
    }
}
