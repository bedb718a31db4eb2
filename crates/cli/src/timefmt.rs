//! Human-readable times for `token decode`: UTC dates and "expires in 4m 12s"-style phrases.
//!
//! Pure functions of a timestamp and `now` (both Unix seconds), so they are unit-tested here
//! without a clock.

/// Earliest instant shown as a date: 0001-01-01T00:00:00Z.
const MIN_SECS: i64 = -62_135_596_800;
/// Latest instant shown as a date: 9999-12-31T23:59:59Z.
const MAX_SECS: i64 = 253_402_300_799;

/// Formats Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`, or `None` outside years 1–9999.
pub(crate) fn utc_date(secs: i64) -> Option<String> {
    if !(MIN_SECS..=MAX_SECS).contains(&secs) {
        return None;
    }
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Some(format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    ))
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A span of seconds as its two most significant units: `4m 12s`, `3h`, `2d 5h`, `0s`.
pub(crate) fn span(secs: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (365 * 86_400, "y"),
        (86_400, "d"),
        (3600, "h"),
        (60, "m"),
        (1, "s"),
    ];
    // The most significant unit that fits, then the next unit down when it is not zero.
    let Some(first) = UNITS.iter().position(|&(size, _)| secs >= size) else {
        return "0s".to_owned();
    };
    let (size, name) = UNITS[first];
    let mut text = format!("{}{name}", secs / size);
    if let Some(&(minor_size, minor_name)) = UNITS.get(first + 1) {
        let minor = secs % size / minor_size;
        if minor > 0 {
            text.push_str(&format!(" {minor}{minor_name}"));
        }
    }
    text
}

/// Signed difference `a - b` as a magnitude and whether it is positive.
fn diff(a: i64, b: i64) -> (u64, bool) {
    let d = i128::from(a) - i128::from(b);
    (u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX), d > 0)
}

/// The phrase for an `exp` claim. A token is expired *at* `exp` (RFC 7519 §4.1.4: "on or after").
pub(crate) fn exp_phrase(exp: i64, now: i64) -> String {
    match diff(exp, now) {
        (secs, true) => format!("expires in {}", span(secs)),
        (0, _) => "expired just now".to_owned(),
        (secs, false) => format!("expired {} ago", span(secs)),
    }
}

/// The phrase for an `iat` claim.
pub(crate) fn iat_phrase(iat: i64, now: i64) -> String {
    match diff(iat, now) {
        (secs, true) => format!("issued in the future: in {}", span(secs)),
        (0, _) => "issued just now".to_owned(),
        (secs, false) => format!("issued {} ago", span(secs)),
    }
}

/// The phrase for an `nbf` claim (shown after "not valid before <date>").
pub(crate) fn nbf_phrase(nbf: i64, now: i64) -> String {
    match diff(nbf, now) {
        (secs, true) => format!("in {}", span(secs)),
        (0, _) => "now".to_owned(),
        (secs, false) => format!("{} ago", span(secs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(utc_date(0).unwrap(), "1970-01-01 00:00:00 UTC");
        // RFC 7519 §3.1 example exp.
        assert_eq!(utc_date(1_300_819_380).unwrap(), "2011-03-22 18:43:00 UTC");
        // A leap day, and the day after.
        assert_eq!(utc_date(951_782_400).unwrap(), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(951_868_800).unwrap(), "2000-03-01 00:00:00 UTC");
        assert_eq!(utc_date(1_700_000_000).unwrap(), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_date(-1).unwrap(), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc_date(MIN_SECS).unwrap(), "0001-01-01 00:00:00 UTC");
        assert_eq!(utc_date(MAX_SECS).unwrap(), "9999-12-31 23:59:59 UTC");
    }

    #[test]
    fn dates_out_of_range_are_none() {
        assert_eq!(utc_date(MAX_SECS + 1), None);
        assert_eq!(utc_date(MIN_SECS - 1), None);
        assert_eq!(utc_date(i64::MAX), None);
        assert_eq!(utc_date(i64::MIN), None);
    }

    #[test]
    fn spans_show_two_most_significant_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(10), "10s");
        assert_eq!(span(60), "1m");
        assert_eq!(span(252), "4m 12s");
        assert_eq!(span(125), "2m 5s");
        assert_eq!(span(3 * 3600), "3h");
        assert_eq!(span(3 * 3600 + 12), "3h");
        assert_eq!(span(3 * 3600 + 5 * 60 + 12), "3h 5m");
        assert_eq!(span(86_400 + 3600), "1d 1h");
        assert_eq!(span(86_400 + 59), "1d");
        assert_eq!(span(400 * 86_400), "1y 35d");
        assert_eq!(span(u64::MAX), "584942417355y 26d");
    }

    #[test]
    fn phrases_describe_past_and_future() {
        let now = 1_000_000;
        assert_eq!(exp_phrase(now + 252, now), "expires in 4m 12s");
        assert_eq!(exp_phrase(now - 3 * 3600, now), "expired 3h ago");
        assert_eq!(exp_phrase(now, now), "expired just now");
        assert_eq!(iat_phrase(now - 125, now), "issued 2m 5s ago");
        assert_eq!(iat_phrase(now, now), "issued just now");
        assert_eq!(iat_phrase(now + 10, now), "issued in the future: in 10s");
        assert_eq!(nbf_phrase(now + 10, now), "in 10s");
        assert_eq!(nbf_phrase(now - 60, now), "1m ago");
        assert_eq!(nbf_phrase(now, now), "now");
    }

    #[test]
    fn phrases_survive_extreme_values() {
        assert_eq!(
            exp_phrase(i64::MIN, i64::MAX),
            "expired 584942417355y 26d ago"
        );
        assert!(exp_phrase(i64::MAX, i64::MIN).starts_with("expires in "));
    }
}
