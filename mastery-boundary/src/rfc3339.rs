//! RFC 3339 instants, as quiz files and the schedule API write them, to milliseconds since the
//! Unix epoch.

/// Parses `2026-11-30T09:00:00Z`, `2026-11-30T10:00:00.5+01:00` and the like into milliseconds
/// since the Unix epoch.
///
/// ```
/// assert_eq!(mastery_boundary::parse_rfc3339("1970-01-01T01:00:00+01:00"), Ok(0));
/// ```
pub fn parse_rfc3339(text: &str) -> Result<u64, String> {
    let fail = || format!("{text:?} is not an RFC 3339 date and time such as 2026-11-30T09:00:00Z");
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err(fail());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = text.get(range).ok_or_else(fail)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail());
        }
        part.parse().map_err(|_| fail())
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if bytes[13] != b':' || bytes[16] != b':' {
        return Err(fail());
    }
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(fail());
        }
        let first_three: String = fraction[..digits].chars().chain("000".chars()).take(3).collect();
        millis = first_three.parse::<i64>().map_err(|_| fail())?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(fail()),
            };
            let hours: i64 = rest[1..3].parse().map_err(|_| fail())?;
            let minutes: i64 = rest[4..6].parse().map_err(|_| fail())?;
            sign * (hours * 60 + minutes)
        }
        _ => return Err(fail()),
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(fail()),
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return Err(fail());
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
    u64::try_from(seconds * 1000 + millis).map_err(|_| format!("{text:?} is before 1970"))
}

/// Writes milliseconds since the Unix epoch as an RFC 3339 instant in UTC, to the second.
///
/// ```
/// assert_eq!(mastery_boundary::format_rfc3339(1_764_374_400_000), "2025-11-29T00:00:00Z");
/// ```
pub fn format_rfc3339(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's civil-from-days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", in_day / 3600, in_day % 3600 / 60, in_day % 60)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_every_written_form() {
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Ok(951_782_400_000));
        assert_eq!(parse_rfc3339("2025-11-29T00:00:00.000Z"), Ok(1_764_374_400_000));
        for ms in [0, 951_782_400_000, 1_764_374_400_000, 4_107_542_399_000] {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Ok(ms));
        }
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.25Z"), Ok(1_250));
        for bad in [
            "",
            "tomorrow",
            "2026-02-30T00:00:00Z",
            "2026-11-30T25:00:00Z",
            "2026-11-30T09:00:00",
            "2026-11-30T09:00:00+1",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
    }
}
