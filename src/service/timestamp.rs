//! Points in time for alarm history: parsed from what a client or the store hands in, printed
//! the way Vitrage prints them.
//!
//! Vitrage keeps naive UTC datetimes in its database and prints aware ones with `str()`, so an
//! alarm's `start_timestamp` reads `2026-01-03 07:52:06.497732+00:00`. The API's `start` and `end`
//! parameters go through dateutil; the ISO 8601 forms below are the ones clients send. A time
//! without a zone is UTC, as in Vitrage.

use std::fmt;

/// Microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        Timestamp(since)
    }

    /// Parses `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM[:SS[.fraction]]` and a
    /// zone (`Z`, `±HH`, `±HHMM`, `±HH:MM`). Anything else is `None`.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let (date, rest) = text.split_at_checked(10)?;
        let days = parse_date(date)?;
        let mut micros = days.checked_mul(SECONDS_PER_DAY * MICROS_PER_SECOND)?;
        if rest.is_empty() {
            return Some(Timestamp(micros));
        }
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
        let (time, zone) = rest.split_at(zone_at);
        micros = micros.checked_add(parse_time(time.trim_end())?)?;
        micros = micros.checked_sub(parse_zone(zone)? * MICROS_PER_SECOND)?;
        Some(Timestamp(micros))
    }

    /// ISO 8601 to the second with a `+00:00` zone, as Vitrage's coordination records `created`.
    pub fn iso_seconds(self) -> String {
        let (date, seconds, _) = self.split();
        format!("{date}T{:02}:{:02}:{:02}+00:00", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    fn split(self) -> (String, i64, i64) {
        let days = self.0.div_euclid(SECONDS_PER_DAY * MICROS_PER_SECOND);
        let in_day = self.0.rem_euclid(SECONDS_PER_DAY * MICROS_PER_SECOND);
        let (y, m, d) = civil_from_days(days);
        (format!("{y:04}-{m:02}-{d:02}"), in_day / MICROS_PER_SECOND, in_day % MICROS_PER_SECOND)
    }
}

/// Python's `str()` of an aware UTC datetime: `2026-01-03 07:52:06.497732+00:00`, the fraction
/// left out when it is zero.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (date, seconds, micros) = self.split();
        write!(f, "{date} {:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        f.write_str("+00:00")
    }
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let (y, m, d) = (digits(parts.next()?)?, digits(parts.next()?)?, digits(parts.next()?)?);
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn parse_time(time: &str) -> Option<i64> {
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = clock.split(':');
    let h = digits(parts.next()?)?;
    let m = digits(parts.next()?)?;
    let s = parts.next().map_or(Some(0), digits)?;
    if parts.next().is_some() || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let micros = if time.contains('.') {
        let kept: String = fraction.chars().take(6).collect();
        digits(fraction)?;
        digits(&format!("{kept:0<6}"))?
    } else {
        0
    };
    Some((h * 3600 + m * 60 + s) * MICROS_PER_SECOND + micros)
}

/// The zone's offset east of UTC, in seconds.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let (sign, rest) = match zone.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let compact = rest.replace(':', "");
    if !compact.is_ascii() {
        return None;
    }
    let (h, m) = match compact.len() {
        2 => (digits(&compact)?, 0),
        4 => (digits(&compact[..2])?, digits(&compact[2..])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        Timestamp::parse(text).map_or_else(|| "none".to_owned(), |t| t.to_string())
    }

    #[test]
    fn parses_the_forms_clients_send() {
        assert_eq!(at("2026-01-03"), "2026-01-03 00:00:00+00:00");
        assert_eq!(at("2026-01-03T07:52:06Z"), "2026-01-03 07:52:06+00:00");
        assert_eq!(at("2026-01-03 07:52:06.497732+00:00"), "2026-01-03 07:52:06.497732+00:00");
        assert_eq!(at("2026-01-03T07:52"), "2026-01-03 07:52:00+00:00");
        assert_eq!(at("2026-01-03T09:52:06+02:00"), "2026-01-03 07:52:06+00:00");
        assert_eq!(at("2026-01-03T07:52:06-0130"), "2026-01-03 09:22:06+00:00");
        assert_eq!(at("2026-12-01T20:39:12.104417123"), "2026-12-01 20:39:12.104417+00:00");
        assert_eq!(at("1969-12-31T23:59:59.5"), "1969-12-31 23:59:59.500000+00:00");
        assert_eq!(at("2024-02-29"), "2024-02-29 00:00:00+00:00");
    }

    #[test]
    fn refuses_the_rest() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2023-02-29",
            "2026-01-03X07:00",
            "2026-01-03T25:00",
            "2026-01-03T07:00+5",
            "2026-01-03T07:00:00.",
            "2026-01-03T07:00:00.1x",
            "２０２６-01-03",
            "2026-01-03T07:00+aé",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn prints_iso_seconds() {
        let t = Timestamp::parse("2026-12-01T20:39:12.7").expect("valid");
        assert_eq!(t.iso_seconds(), "2026-12-01T20:39:12+00:00");
        assert!(Timestamp::now() > t.min(Timestamp(0)));
    }
}
