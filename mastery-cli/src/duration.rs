//! Durations as people write them: `90s`, `5m`, `1h30m`, `250ms`.

use std::time::Duration;

/// Parses `90s`, `5m`, `1h30m`, `250ms`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a duration must not be empty (try 90s or 5m)".into());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let unit_end = rest[digits..].find(|c: char| c.is_ascii_digit()).map_or(rest.len(), |at| digits + at);
        let amount: u64 = rest[..digits].parse().map_err(|_| format!("{text:?} is not a duration (try 90s or 5m)"))?;
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
