//! The Jalali (Solar Hijri) calendar, Iran's civil calendar, through ICU4X's Persian calendar.
//!
//! ICU4X computes it with the 33-year arithmetic rule and a table of the years where that rule
//! and the astronomical calendar disagree, which makes it exact for 1178–3000 AP
//! (1799–3621 CE).

use chrono::{Datelike, NaiveDate};
use icu_calendar::Date;
use icu_calendar::cal::{Iso, Persian};
use serde::{Deserialize, Serialize};

/// A date of the Jalali calendar: year (AP), month 1–12 (1 = Farvardin), day 1–31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JalaliDate {
    /// The year, Anno Persico (1405 began on 21 March 2026).
    pub year: i32,
    /// The month, 1 (Farvardin) to 12 (Esfand).
    pub month: u8,
    /// The day of the month, from 1.
    pub day: u8,
}

impl JalaliDate {
    /// The Jalali date of a Gregorian date, or `None` outside years −9999..=9999.
    pub fn from_gregorian(date: NaiveDate) -> Option<Self> {
        let iso = Date::try_new_iso(
            date.year(),
            u8::try_from(date.month()).ok()?,
            u8::try_from(date.day()).ok()?,
        )
        .ok()?;
        let persian = iso.to_calendar(Persian::new());
        Some(Self {
            year: persian.year().extended_year(),
            month: persian.month().ordinal,
            day: persian.day_of_month().0,
        })
    }

    /// The Gregorian date of this Jalali date, or `None` when no such day exists (30 Esfand of
    /// a common year, month 13, …) or it lies out of range.
    pub fn to_gregorian(self) -> Option<NaiveDate> {
        let persian = Date::try_new_persian(self.year, self.month, self.day).ok()?;
        let iso = persian.to_calendar(Iso);
        NaiveDate::from_ymd_opt(
            iso.year().extended_year(),
            u32::from(iso.month().ordinal),
            u32::from(iso.day_of_month().0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jalali(y: i32, m: u32, d: u32) -> JalaliDate {
        JalaliDate::from_gregorian(NaiveDate::from_ymd_opt(y, m, d).unwrap()).unwrap()
    }

    #[test]
    fn known_pairs() {
        let pairs = [
            ((2025, 3, 20), (1403, 12, 30)),
            ((2025, 3, 21), (1404, 1, 1)),
            ((2026, 3, 20), (1404, 12, 29)),
            ((2026, 3, 21), (1405, 1, 1)),
            ((2024, 3, 20), (1403, 1, 1)),
            ((2023, 3, 21), (1402, 1, 1)),
            ((1979, 2, 11), (1357, 11, 22)),
        ];
        for ((gy, gm, gd), (jy, jm, jd)) in pairs {
            let expected = JalaliDate {
                year: jy,
                month: jm,
                day: jd,
            };
            assert_eq!(jalali(gy, gm, gd), expected, "{gy}-{gm}-{gd}");
            assert_eq!(
                expected.to_gregorian(),
                NaiveDate::from_ymd_opt(gy, gm, gd),
                "{jy}-{jm}-{jd}"
            );
        }
    }

    #[test]
    fn days_that_do_not_exist_have_no_gregorian_date() {
        // 1404 is a common year: Esfand has 29 days.
        let no_day = JalaliDate {
            year: 1404,
            month: 12,
            day: 30,
        };
        assert_eq!(no_day.to_gregorian(), None);
        let no_month = JalaliDate {
            year: 1404,
            month: 13,
            day: 1,
        };
        assert_eq!(no_month.to_gregorian(), None);
    }

    fn next_jalali_day(j: JalaliDate) -> JalaliDate {
        let same_month = JalaliDate {
            day: j.day + 1,
            ..j
        };
        if same_month.to_gregorian().is_some() {
            same_month
        } else if j.month < 12 {
            JalaliDate {
                year: j.year,
                month: j.month + 1,
                day: 1,
            }
        } else {
            JalaliDate {
                year: j.year + 1,
                month: 1,
                day: 1,
            }
        }
    }

    proptest! {
        #[test]
        fn round_trips_and_consecutive_days_stay_consecutive(offset in 0i64..(300 * 366)) {
            let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
            let day = start + chrono::Days::new(u64::try_from(offset).unwrap());
            prop_assume!(day.year() < 2200);
            let j = JalaliDate::from_gregorian(day).unwrap();
            prop_assert!((1..=12).contains(&j.month));
            prop_assert!((1..=31).contains(&j.day));
            prop_assert_eq!(j.to_gregorian(), Some(day));
            let tomorrow = JalaliDate::from_gregorian(day.succ_opt().unwrap()).unwrap();
            prop_assert_eq!(tomorrow, next_jalali_day(j));
        }
    }
}
