//! Timestamps as the store keeps them: RFC 3339, UTC, microseconds, one fixed width, so that
//! text order is time order and range queries can use an index.

use super::StoreError;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use std::fmt;

/// A point in time written `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 characters, UTC). The caller gives
/// the time of each record, so that replaying the log reproduces it; [`Timestamp::now`] reads the
/// system clock.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// `9999-12-31T23:59:59.999999Z`, the last time four year digits can write.
const MAX_MICROS: i64 = 253_402_300_799_999_999;
/// `0000-01-01T00:00:00.000000Z`.
const MIN_MICROS: i64 = -62_167_219_200_000_000;

impl Timestamp {
    /// Checks the text's shape and ranges (month, day of that month, hour, minute, second).
    pub fn parse(text: &str) -> Result<Timestamp, StoreError> {
        if is_valid(text.as_bytes()) {
            Ok(Timestamp(text.to_owned()))
        } else {
            Err(StoreError::InvalidTimestamp(text.to_owned()))
        }
    }

    /// The time `micros` microseconds after 1970-01-01T00:00:00Z; `None` outside the years
    /// 0000 to 9999.
    pub fn from_unix_micros(micros: i64) -> Option<Timestamp> {
        if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
            return None;
        }
        let days = micros.div_euclid(MICROS_PER_DAY);
        let of_day = micros.rem_euclid(MICROS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let secs = of_day / 1_000_000;
        Some(Timestamp(format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            of_day % 1_000_000
        )))
    }

    /// The system clock's current time (the epoch if the clock is before it).
    pub fn now() -> Timestamp {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(MAX_MICROS))
            .min(MAX_MICROS);
        Timestamp::from_unix_micros(micros).unwrap_or_else(|| Timestamp(EPOCH.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Microseconds since 1970-01-01T00:00:00Z (the inverse of [`Timestamp::from_unix_micros`]).
    pub fn unix_micros(&self) -> i64 {
        let b = self.0.as_bytes();
        let n = |r: std::ops::Range<usize>| {
            b[r].iter().fold(0i64, |acc, d| acc * 10 + i64::from(d.wrapping_sub(b'0')))
        };
        let days = days_from_civil(n(0..4), n(5..7), n(8..10));
        let secs = n(11..13) * 3600 + n(14..16) * 60 + n(17..19);
        days * MICROS_PER_DAY + secs * 1_000_000 + n(20..26)
    }
}

const EPOCH: &str = "1970-01-01T00:00:00.000000Z";

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Timestamp::parse(value.as_str()?).map_err(FromSqlError::other)
    }
}

fn is_valid(b: &[u8]) -> bool {
    const SHAPE: &[u8; 27] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    if b.len() != SHAPE.len() {
        return false;
    }
    let shaped = b.iter().zip(SHAPE).all(|(c, s)| match s {
        b'd' => c.is_ascii_digit(),
        _ => c == s,
    });
    if !shaped {
        return false;
    }
    let num = |at: usize, len: usize| {
        b[at..at + len].iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (num(0, 4), num(5, 2), num(8, 2));
    (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && num(11, 2) < 24
        && num(14, 2) < 60
        && num(17, 2) < 60
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_micros_format_as_rfc3339_utc() {
        let t = |m| Timestamp::from_unix_micros(m).map(|t| t.0);
        assert_eq!(t(0).as_deref(), Some(EPOCH));
        for m in [0, 1_714_564_800_123_456, -62_167_219_200_000_000, 253_402_300_799_999_999] {
            assert_eq!(Timestamp::from_unix_micros(m).map(|t| t.unix_micros()), Some(m));
        }
        assert_eq!(t(1_714_564_800_123_456).as_deref(), Some("2024-05-01T12:00:00.123456Z"));
        assert_eq!(t(951_782_400_000_000).as_deref(), Some("2000-02-29T00:00:00.000000Z"));
        assert_eq!(t(-1).as_deref(), Some("1969-12-31T23:59:59.999999Z"));
        assert_eq!(t(MAX_MICROS).as_deref(), Some("9999-12-31T23:59:59.999999Z"));
        assert_eq!(t(MIN_MICROS).as_deref(), Some("0000-01-01T00:00:00.000000Z"));
        assert_eq!(t(MAX_MICROS + 1), None);
        assert_eq!(t(MIN_MICROS - 1), None);
    }

    #[test]
    fn parse_accepts_only_the_fixed_shape_and_real_dates() {
        assert!(Timestamp::parse("2024-02-29T23:59:59.999999Z").is_ok());
        for bad in [
            "2023-02-29T00:00:00.000000Z",
            "2024-13-01T00:00:00.000000Z",
            "2024-04-31T00:00:00.000000Z",
            "2024-01-01T24:00:00.000000Z",
            "2024-01-01T00:60:00.000000Z",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.000000+00:00",
            "2024-01-01 00:00:00.000000Z",
            "2024-01-01T00:00:00.00000aZ",
            "",
        ] {
            assert!(matches!(Timestamp::parse(bad), Err(StoreError::InvalidTimestamp(_))), "{bad}");
        }
    }

    #[test]
    fn now_is_valid_and_text_order_is_time_order() {
        let now = Timestamp::now();
        assert!(Timestamp::parse(now.as_str()).is_ok());
        let earlier = Timestamp::from_unix_micros(1_000_000);
        assert!(earlier.is_some_and(|e| e < now));
    }
}
