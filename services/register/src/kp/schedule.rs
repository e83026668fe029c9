//! When the register re-verifies every therapist with KP (DESIGN §3.1, §3.2): on configured
//! weekdays, and on configured days before the visitation deadline and the export date of the
//! cycle year, at one time of day, Europe/Amsterdam. Pure: the job asks [`latest_slot`] whether a
//! run is due.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Europe::Amsterdam;
use praktijkregister_platform::config::Check;
use serde::Deserialize;

/// `[register.kp_verification]`.
#[derive(Debug, Clone, Deserialize)]
pub struct KpVerificationSettings {
    /// The schedule runs at all (hand-started runs are always possible).
    pub enabled: bool,
    /// Days of the week a run starts: `mon` … `sun`.
    pub weekdays: Vec<String>,
    /// Time of day (`HH:MM`, Europe/Amsterdam) a scheduled run starts.
    pub time: String,
    /// Extra runs this many days before the visitation deadline and the export date.
    pub days_before: Vec<u32>,
    /// Requests to KP at the same time.
    pub concurrency: u32,
    /// Requests to KP per second, at most.
    pub requests_per_second: f64,
    /// Attempts per therapist for a timeout or a 5xx answer.
    pub max_attempts: u32,
    pub retry_backoff_ms: u64,
    pub retry_backoff_max_ms: u64,
    /// A run stops after this many therapists in a row could not be verified.
    pub stop_after_failures: u32,
    /// The expiry watch window, in days.
    pub expiry_window_days: u32,
    /// How often the scheduler looks for a due or interrupted run.
    pub check_interval_seconds: u64,
}

/// The most days ahead an expiry window may reach: one KP registration period (5 years) and a day.
pub const MAX_WINDOW_DAYS: u32 = 1827;

impl KpVerificationSettings {
    pub fn validate(&self, check: &mut Check<'_>) {
        check.require(
            "weekdays",
            self.weekdays.iter().all(|d| parse_weekday(d).is_some()),
            "lists days as mon, tue, wed, thu, fri, sat or sun",
        );
        check.require(
            "time",
            parse_time(&self.time).is_some(),
            "is a time of day as HH:MM",
        );
        check.require(
            "days_before",
            self.days_before.iter().all(|d| *d <= 60),
            "lists days from 0 to 60",
        );
        check.require(
            "concurrency",
            (1..=64).contains(&self.concurrency),
            "is from 1 to 64",
        );
        check.require(
            "requests_per_second",
            self.requests_per_second.is_finite()
                && self.requests_per_second > 0.0
                && self.requests_per_second <= 1000.0,
            "is a number above 0 and at most 1000",
        );
        check.require(
            "max_attempts",
            (1..=10).contains(&self.max_attempts),
            "is from 1 to 10",
        );
        check.positive("retry_backoff_ms", self.retry_backoff_ms);
        check.require(
            "retry_backoff_max_ms",
            self.retry_backoff_max_ms >= self.retry_backoff_ms,
            "is at least retry_backoff_ms",
        );
        check.positive("stop_after_failures", u64::from(self.stop_after_failures));
        check.require(
            "expiry_window_days",
            (1..=MAX_WINDOW_DAYS).contains(&self.expiry_window_days),
            format!("is from 1 to {MAX_WINDOW_DAYS}"),
        );
        check.positive("check_interval_seconds", self.check_interval_seconds);
    }

    /// The schedule, once validated.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            weekdays: self
                .weekdays
                .iter()
                .filter_map(|d| parse_weekday(d))
                .collect(),
            time: parse_time(&self.time).unwrap_or(NaiveTime::MIN),
            days_before: self.days_before.clone(),
        }
    }

    /// The pause between two requests to KP.
    pub fn request_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(1.0 / self.requests_per_second)
    }
}

fn parse_weekday(day: &str) -> Option<Weekday> {
    Some(match day.trim() {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_time(time: &str) -> Option<NaiveTime> {
    let time = time.trim();
    (time.len() == 5)
        .then(|| NaiveTime::parse_from_str(time, "%H:%M").ok())
        .flatten()
}

/// The days and the time of scheduled runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub weekdays: Vec<Weekday>,
    pub time: NaiveTime,
    pub days_before: Vec<u32>,
}

impl Schedule {
    /// Whether a run is scheduled on `day`, given the deadlines of its cycle year (visitation
    /// deadline, export date).
    pub fn runs_on(&self, day: NaiveDate, deadlines: &[NaiveDate]) -> bool {
        self.weekdays.contains(&day.weekday())
            || deadlines.iter().any(|deadline| {
                self.days_before
                    .iter()
                    .any(|before| *deadline - Duration::days(i64::from(*before)) == day)
            })
    }

    /// `time` on `day` in Amsterdam, as an instant (the later one of a repeated hour, the first
    /// valid one after a skipped hour).
    pub fn instant_on(&self, day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_time(self.time);
        match Amsterdam.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(_, at) => at.with_timezone(&Utc),
            LocalResult::None => Amsterdam
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
                .map_or_else(
                    || day.and_time(self.time).and_utc(),
                    |at| at.with_timezone(&Utc),
                ),
        }
    }
}

/// The latest scheduled start at or before `now`, no older than `catch_up` (a replica that was
/// down at the time starts the missed run when it comes back, but not one of last month).
/// `deadlines(year)` gives the visitation deadline and export date of a year.
pub fn latest_slot(
    schedule: &Schedule,
    now: DateTime<Utc>,
    catch_up: Duration,
    deadlines: impl Fn(i32) -> Vec<NaiveDate>,
) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&Amsterdam).date_naive();
    let earliest = now - catch_up;
    (0..=catch_up.num_days() + 1)
        .map(|back| today - Duration::days(back))
        .filter(|day| schedule.runs_on(*day, &deadlines(day.year())))
        .map(|day| schedule.instant_on(day))
        .find(|at| *at <= now && *at >= earliest)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            weekdays: vec![Weekday::Mon],
            time: NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
            days_before: vec![1],
        }
    }

    fn deadlines(year: i32) -> Vec<NaiveDate> {
        vec![
            NaiveDate::from_ymd_opt(year, 10, 15).unwrap(),
            NaiveDate::from_ymd_opt(year, 11, 1).unwrap(),
        ]
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn weekly_and_the_days_before_the_deadlines_design_3_2() {
        let s = schedule();
        // Monday 2026-10-12, 03:00 Amsterdam (CEST) is 01:00 UTC.
        assert_eq!(
            latest_slot(&s, at("2026-10-12T01:30:00Z"), Duration::days(1), deadlines),
            Some(at("2026-10-12T01:00:00Z"))
        );
        assert_eq!(
            latest_slot(&s, at("2026-10-12T00:59:00Z"), Duration::days(1), deadlines),
            None
        );
        // The day before the visitation deadline (Wednesday 14 October).
        assert_eq!(
            latest_slot(&s, at("2026-10-14T02:00:00Z"), Duration::days(1), deadlines),
            Some(at("2026-10-14T01:00:00Z"))
        );
        // The day before the export date (Saturday 31 October, still CEST until 1 November? no:
        // the clocks go back on 25 October 2026, so 03:00 CET is 02:00 UTC).
        assert_eq!(
            latest_slot(&s, at("2026-10-31T02:00:00Z"), Duration::days(1), deadlines),
            Some(at("2026-10-31T02:00:00Z"))
        );
        // A slot older than the catch-up is not started any more.
        assert_eq!(
            latest_slot(
                &s,
                at("2026-10-13T09:00:00Z"),
                Duration::hours(12),
                deadlines
            ),
            None
        );
    }

    #[test]
    fn settings_read_days_and_times() {
        assert_eq!(parse_weekday("sun"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("Sunday"), None);
        assert!(parse_time("03:00").is_some());
        assert!(parse_time("3:00").is_none());
        assert!(parse_time("24:00").is_none());
    }
}
