//! UTC calendar days as a count of days since 1970-01-01, printed as `YYYY-MM-DD`.
//!
//! A consent record keeps only the day it was recorded and the day it expires, never an exact
//! time, so whole days are all the arithmetic the consent server needs. The conversions are
//! Howard Hinnant's `civil_from_days` / `days_from_civil` algorithms.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC calendar day, counted from 1970-01-01 (day 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// Today in UTC, from the system clock (a clock before 1970 counts as 1970-01-01).
    pub fn today() -> Day {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Day((secs / 86_400) as i64)
    }

    /// This day plus `days` days.
    pub fn plus(self, days: u32) -> Day {
        Day(self.0 + i64::from(days))
    }

    /// The day for a civil date; `None` when the date does not exist.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Day(era * 146_097 + doe - 719_468))
    }

    /// The civil date `(year, month, day)` of this day.
    pub fn to_ymd(self) -> (i64, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// Parses `YYYY-MM-DD` (exactly that shape).
    pub fn parse(text: &str) -> Option<Day> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits =
            |s: &str| -> Option<i64> { if s.bytes().all(|c| c.is_ascii_digit()) { s.parse().ok() } else { None } };
        let y = digits(text.get(0..4)?)?;
        let m = digits(text.get(5..7)?)?;
        let d = digits(text.get(8..10)?)?;
        Day::from_ymd(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.to_ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::Day;

    #[test]
    fn known_days() {
        assert_eq!(Day(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_ymd(2000, 2, 29).map(|d| d.to_string()).as_deref(), Some("2000-02-29"));
        assert_eq!(Day::from_ymd(2026, 11, 29), Some(Day(20_786)));
        assert_eq!(Day(20_786).plus(395).to_string(), "2027-12-29");
        assert_eq!(Day::from_ymd(2100, 2, 29), None);
        assert_eq!(Day::parse("2024-02-29"), Day::from_ymd(2024, 2, 29));
        assert_eq!(Day::parse("2024-2-29"), None);
    }

    #[test]
    fn round_trip_over_many_years() {
        for n in -800_000..800_000 {
            let day = Day(n);
            let (y, m, d) = day.to_ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(day));
        }
    }
}
