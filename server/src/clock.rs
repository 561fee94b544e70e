//! Wall-clock time as the API shows it: seconds since the Unix epoch and RFC 3339 UTC strings
//! (`2026-01-31T12:00:00Z`). Small enough not to need a date crate; civil-date conversion after
//! Howard Hinnant's `days_from_civil` / `civil_from_days` (public domain).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970): the resolution of
/// staged rotations, which switch within a second of their time.
pub fn now_unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Formats `unix_millis` as RFC 3339 UTC, with milliseconds only when they are not zero.
pub fn format_rfc3339_millis(unix_millis: i64) -> String {
    let seconds = format_rfc3339(unix_millis.div_euclid(1000));
    match unix_millis.rem_euclid(1000) {
        0 => seconds,
        millis => format!("{}.{millis:03}Z", seconds.trim_end_matches('Z')),
    }
}

/// Parses like [`parse_rfc3339`] into Unix milliseconds, keeping the first three digits of a
/// fraction (later digits are dropped, never rounded up).
pub fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    let seconds = parse_rfc3339(text)?;
    let millis = match text.get(19..).and_then(|rest| rest.strip_prefix('.')) {
        Some(frac) => {
            let digits: String = frac.chars().take_while(char::is_ascii_digit).take(3).collect();
            if digits.is_empty() {
                return None;
            }
            format!("{digits:0<3}").parse::<i64>().ok()?
        }
        None => 0,
    };
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// Formats `unix` seconds as RFC 3339 UTC with a `Z` suffix.
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` into Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (num_in(rest, 1..3)? * 3600 + num_in(rest, 4..6)? * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

fn num_in(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    text.get(range)?.parse().ok()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        for t in [0, 951_782_400, 1_700_000_000, 4_102_444_799, -86_400] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2000-02-29T01:00:00+01:00"),
            Some(951_782_400)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00.123Z"), Some(951_782_400));
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn milliseconds_round_trip_and_truncate() {
        assert_eq!(parse_rfc3339_millis("2000-02-29T00:00:00.5Z"), Some(951_782_400_500));
        assert_eq!(parse_rfc3339_millis("2000-02-29T00:00:00.123999Z"), Some(951_782_400_123));
        assert_eq!(parse_rfc3339_millis("2000-02-29T01:00:00+01:00"), Some(951_782_400_000));
        assert_eq!(parse_rfc3339_millis("2000-02-29T00:00:00.Z"), None);
        for t in [0, 951_782_400_000, 951_782_400_007, 1_700_000_000_250] {
            assert_eq!(parse_rfc3339_millis(&format_rfc3339_millis(t)), Some(t));
        }
        assert_eq!(format_rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339_millis(951_782_400_040), "2000-02-29T00:00:00.040Z");
    }
}
