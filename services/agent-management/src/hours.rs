//! Business hours: weekly opening intervals in an IANA time zone, and whether an instant falls
//! inside them (daylight saving included, since local times are resolved in the zone).

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Most intervals per department.
const MAX_INTERVALS: usize = 50;

/// One opening interval, local to the department's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u32,
    /// "HH:MM".
    pub open: String,
    /// "HH:MM", after `open`.
    pub close: String,
}

/// Weekly hours, as stored (JSON) and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    pub time_zone: String,
    pub intervals: Vec<Interval>,
}

/// Why hours were refused: the field and a reason for the client.
pub type Invalid = (&'static str, String);

impl BusinessHours {
    /// Checks the zone, the weekdays and every interval.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.time_zone.parse::<Tz>().map_err(|_| {
            (
                "business_hours.time_zone",
                "unknown IANA time zone".to_owned(),
            )
        })?;
        if self.intervals.len() > MAX_INTERVALS {
            return Err((
                "business_hours.intervals",
                "at most 50 intervals".to_owned(),
            ));
        }
        for interval in &self.intervals {
            if !(1..=7).contains(&interval.weekday) {
                return Err((
                    "business_hours.intervals",
                    "weekday must be 1 (Monday) to 7 (Sunday)".to_owned(),
                ));
            }
            let (open, close) = (parse_time(&interval.open)?, parse_time(&interval.close)?);
            if open >= close {
                return Err((
                    "business_hours.intervals",
                    "open must be before close (split a night shift in two)".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// Whether `now` falls inside an interval, in the hours' time zone. Invalid stored hours
    /// count as always open, so a bad row never hides the chat.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let Ok(zone) = self.time_zone.parse::<Tz>() else {
            return true;
        };
        let local = now.with_timezone(&zone);
        let weekday = local.weekday().number_from_monday();
        let time = local.time();
        self.intervals.iter().any(|interval| {
            interval.weekday == weekday
                && matches!(
                    (parse_time(&interval.open), parse_time(&interval.close)),
                    (Ok(open), Ok(close)) if open <= time && time < close
                )
        })
    }
}

fn parse_time(value: &str) -> Result<NaiveTime, Invalid> {
    let valid = value.len() == 5 && value.as_bytes()[2] == b':';
    valid
        .then(|| NaiveTime::parse_from_str(value, "%H:%M").ok())
        .flatten()
        .ok_or((
            "business_hours.intervals",
            format!("{value:?} is not HH:MM"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hours(zone: &str, intervals: &[(u32, &str, &str)]) -> BusinessHours {
        BusinessHours {
            time_zone: zone.to_owned(),
            intervals: intervals
                .iter()
                .map(|(weekday, open, close)| Interval {
                    weekday: *weekday,
                    open: (*open).to_owned(),
                    close: (*close).to_owned(),
                })
                .collect(),
        }
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn opening_is_decided_in_the_departments_time_zone() {
        // Shanghai, Monday to Friday 09:00-18:00 (UTC+8, no DST).
        let shanghai = hours(
            "Asia/Shanghai",
            &[(1, "09:00", "18:00"), (5, "09:00", "18:00")],
        );
        // Monday 2026-11-23 01:00 UTC = 09:00 in Shanghai: open; 10:00 UTC = 18:00: closed.
        assert!(shanghai.is_open(utc(2026, 11, 23, 1, 0)));
        assert!(!shanghai.is_open(utc(2026, 11, 23, 0, 59)));
        assert!(!shanghai.is_open(utc(2026, 11, 23, 10, 0)));
        // Sunday 2026-11-22 23:30 UTC is already Monday 07:30 in Shanghai: closed, not Sunday.
        assert!(!shanghai.is_open(utc(2026, 11, 22, 23, 30)));
        // Tuesday is not listed.
        assert!(!shanghai.is_open(utc(2026, 11, 24, 3, 0)));
    }

    #[test]
    fn daylight_saving_moves_the_utc_window() {
        // New York, Monday 09:00-17:00: 14:00 UTC in winter (EST), 13:00 UTC in summer (EDT).
        let new_york = hours("America/New_York", &[(1, "09:00", "17:00")]);
        assert!(new_york.is_open(utc(2026, 1, 5, 14, 0)));
        assert!(!new_york.is_open(utc(2026, 1, 5, 13, 30)));
        assert!(new_york.is_open(utc(2026, 7, 6, 13, 0)));
        assert!(!new_york.is_open(utc(2026, 7, 6, 21, 0)));
    }

    #[test]
    fn bad_hours_are_refused() {
        assert!(
            hours("Asia/Shanghai", &[(1, "09:00", "18:00")])
                .validate()
                .is_ok()
        );
        assert!(hours("Mars/Olympus", &[]).validate().is_err());
        assert!(hours("UTC", &[(0, "09:00", "18:00")]).validate().is_err());
        assert!(hours("UTC", &[(8, "09:00", "18:00")]).validate().is_err());
        assert!(hours("UTC", &[(1, "18:00", "09:00")]).validate().is_err());
        assert!(hours("UTC", &[(1, "09:00", "09:00")]).validate().is_err());
        assert!(hours("UTC", &[(1, "24:00", "25:00")]).validate().is_err());
        assert!(hours("UTC", &[(1, "9:00", "18:00")]).validate().is_err());
        assert!(
            hours("UTC", &[(1, "09:00:00", "18:00")])
                .validate()
                .is_err()
        );
        let many: Vec<(u32, &str, &str)> = (0..51).map(|_| (1, "09:00", "10:00")).collect();
        assert!(hours("UTC", &many).validate().is_err());
    }
}
