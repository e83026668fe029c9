//! The calendar of one cycle year Y (jaar van de registratiecyclus, DESIGN §3.2): the annual plan
//! deadline, the last visitation date, the entry visitation deadline and the export date.
//!
//! Every business date is a calendar date in Europe/Amsterdam (DESIGN §4). Instants arrive as
//! `DateTime<Utc>` and are turned into an Amsterdam date with [`amsterdam_date`] before they are
//! compared; "now" is always a parameter, never read from a clock here.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::{ContractYear, CycleYear};

/// The calendar date in Europe/Amsterdam at instant `at`; every business deadline is compared on
/// this date (DESIGN §4: business deadlines in Europe/Amsterdam).
pub fn amsterdam_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Amsterdam).date_naive()
}

/// The instant at which `date` starts in Europe/Amsterdam (local midnight), as UTC: the moment an
/// exclusive deadline on `date` passes. For problem details, e.g. the annual plan deadline
/// 1 July 2026 gives `2026-06-30T22:00:00Z` (CEST, +2) and 1 March 2026 gives
/// `2026-02-28T23:00:00Z` (CET, +1).
///
/// Amsterdam changes its clocks at 02:00 and 03:00 local time, so a local midnight always exists
/// and is never ambiguous; were it ever to fall in a gap, the offset in force at that wall-clock
/// reading taken as UTC is used.
pub fn deadline_instant(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    match Amsterdam.from_local_datetime(&midnight) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => {
            let offset = Amsterdam.offset_from_utc_datetime(&midnight).fix();
            let utc = midnight - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
            Utc.from_utc_datetime(&utc)
        }
    }
}

/// One of the four dates of a [`CycleCalendar`] or [`CalendarDefaults`]; names the field an
/// error is about, with the wire name as [`CalendarField::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarField {
    /// Uiterste datum jaarplan: the annual plan must be received before this date.
    AnnualPlanDeadline,
    /// Laatste visitatiedatum: the last date on which a visitation can take place.
    VisitationDeadline,
    /// Uiterste datum entreevisitatie: the entry visitation must have passed before this date.
    EntryVisitationDeadline,
    /// Exportdatum: the day the list goes to the insurers.
    ExportDate,
}

impl CalendarField {
    pub const ALL: [Self; 4] = [
        Self::AnnualPlanDeadline,
        Self::VisitationDeadline,
        Self::EntryVisitationDeadline,
        Self::ExportDate,
    ];

    /// The wire name, identical to the field name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AnnualPlanDeadline => "annual_plan_deadline",
            Self::VisitationDeadline => "visitation_deadline",
            Self::EntryVisitationDeadline => "entry_visitation_deadline",
            Self::ExportDate => "export_date",
        }
    }
}

impl fmt::Display for CalendarField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a calendar (an override for one year, or the defaults) was refused. Each variant names the
/// field; [`CalendarError::code`] is a stable machine code and the `Display` text an English
/// message, for the `errors[{field, code, message}]` of a problem+json response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// The date lies outside the cycle year it belongs to.
    #[error("{field} {date} is not in cycle year {year}")]
    OutsideYear {
        field: CalendarField,
        date: NaiveDate,
        year: CycleYear,
    },
    /// `field` lies before `earlier`, which may be the same day at most.
    #[error("{field} must be on or after {earlier}")]
    NotOnOrAfter {
        field: CalendarField,
        earlier: CalendarField,
    },
    /// `field` lies on or before `earlier`, which must be a strictly earlier day.
    #[error("{field} must be after {earlier}")]
    NotAfter {
        field: CalendarField,
        earlier: CalendarField,
    },
}

impl CalendarError {
    /// The field the error is about.
    pub fn field(&self) -> CalendarField {
        match self {
            Self::OutsideYear { field, .. }
            | Self::NotOnOrAfter { field, .. }
            | Self::NotAfter { field, .. } => *field,
        }
    }

    /// Stable snake_case code for machines; never reworded, unlike the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OutsideYear { .. } => "calendar_date_outside_year",
            Self::NotOnOrAfter { .. } | Self::NotAfter { .. } => "calendar_date_order",
        }
    }
}

/// Checks the order of the four dates (DESIGN §3.2): annual plan deadline ≤ visitation deadline <
/// entry visitation deadline ≤ export date. The plan comes before the visitation it enables, the
/// last visitation day lies before the (exclusive) entry visitation deadline, and the export of
/// 1 November cannot precede the deadline for the visitations it reports. Blames the later field
/// of the first pair out of order.
fn check_order<T: Ord>(
    annual_plan_deadline: T,
    visitation_deadline: T,
    entry_visitation_deadline: T,
    export_date: T,
) -> Result<(), CalendarError> {
    if visitation_deadline < annual_plan_deadline {
        return Err(CalendarError::NotOnOrAfter {
            field: CalendarField::VisitationDeadline,
            earlier: CalendarField::AnnualPlanDeadline,
        });
    }
    if entry_visitation_deadline <= visitation_deadline {
        return Err(CalendarError::NotAfter {
            field: CalendarField::EntryVisitationDeadline,
            earlier: CalendarField::VisitationDeadline,
        });
    }
    if export_date < entry_visitation_deadline {
        return Err(CalendarError::NotOnOrAfter {
            field: CalendarField::ExportDate,
            earlier: CalendarField::EntryVisitationDeadline,
        });
    }
    Ok(())
}

/// Why a month-day ("MM-DD") was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MonthDayError {
    #[error("a month-day is MM-DD with two digits each, e.g. 07-01")]
    Format,
    #[error("{month:02}-{day:02} is not a date")]
    NotADate { month: u32, day: u32 },
    #[error("02-29 is refused as a default date because it does not exist in every year")]
    LeapDay,
}

impl MonthDayError {
    /// Stable snake_case code for machines; never reworded, unlike the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Format => "month_day_format",
            Self::NotADate { .. } => "month_day_invalid",
            Self::LeapDay => "month_day_leap_day",
        }
    }
}

/// A day of the year without the year ("MM-DD"), for the default dates of every cycle year.
///
/// Valid in every year by construction: checked against the calendar, and 29 February is refused
/// so that [`MonthDay::in_year`] never fails. Ordered by month, then day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MonthDay {
    month: u32,
    day: u32,
}

impl MonthDay {
    /// Only for the constants below, which the tests check.
    const fn known(month: u32, day: u32) -> Self {
        Self { month, day }
    }

    /// Checks that `month`-`day` is a date in every year (29 February is refused).
    pub fn new(month: u32, day: u32) -> Result<Self, MonthDayError> {
        if (month, day) == (2, 29) {
            return Err(MonthDayError::LeapDay);
        }
        // 2001 is not a leap year: every day valid in it is valid in every year.
        match NaiveDate::from_ymd_opt(2001, month, day) {
            Some(_) => Ok(Self { month, day }),
            None => Err(MonthDayError::NotADate { month, day }),
        }
    }

    /// Parses exactly "MM-DD" (two digits, a dash, two digits; surrounding whitespace trimmed).
    pub fn parse(input: &str) -> Result<Self, MonthDayError> {
        let s = input.trim().as_bytes();
        let two_digits = |a: u8, b: u8| {
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        };
        match s {
            [m1, m2, b'-', d1, d2] => match (two_digits(*m1, *m2), two_digits(*d1, *d2)) {
                (Some(month), Some(day)) => Self::new(month, day),
                _ => Err(MonthDayError::Format),
            },
            _ => Err(MonthDayError::Format),
        }
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn day(self) -> u32 {
        self.day
    }

    /// This day in cycle year `year`; total because every month-day is valid in every year.
    pub fn in_year(self, year: CycleYear) -> NaiveDate {
        // A MonthDay is checked against a non-leap year and 02-29 is refused, so this always
        // finds a date; the fallback only keeps the function total.
        NaiveDate::from_ymd_opt(i32::from(year.value()), self.month, self.day).unwrap_or_default()
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl FromStr for MonthDay {
    type Err = MonthDayError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for MonthDay {
    type Error = MonthDayError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<MonthDay> for String {
    fn from(value: MonthDay) -> Self {
        value.to_string()
    }
}

impl utoipa::PartialSchema for MonthDay {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A day of the year as MM-DD (e.g. 07-01), the same in every cycle year; 02-29 is \
                 refused.",
            ))
            .pattern(Some("^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
            .examples(["07-01"])
            .into()
    }
}

impl utoipa::ToSchema for MonthDay {}

/// The default dates of every cycle year, as month-days (DESIGN §3.2: every date configurable per
/// year, these are the defaults). Ordered like a [`CycleCalendar`] by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "CalendarDefaultsFields")]
#[schema(examples(json!({
    "annual_plan_deadline": "07-01",
    "visitation_deadline": "10-15",
    "entry_visitation_deadline": "11-01",
    "export_date": "11-01"
})))]
pub struct CalendarDefaults {
    /// Uiterste datum jaarplan (exclusive): the plan must be received before this day.
    annual_plan_deadline: MonthDay,
    /// Laatste visitatiedatum (inclusive).
    visitation_deadline: MonthDay,
    /// Uiterste datum entreevisitatie (exclusive).
    entry_visitation_deadline: MonthDay,
    /// Exportdatum: the day of the list to the insurers.
    export_date: MonthDay,
}

/// The unchecked shape of [`CalendarDefaults`] on the wire.
#[derive(Deserialize)]
struct CalendarDefaultsFields {
    annual_plan_deadline: MonthDay,
    visitation_deadline: MonthDay,
    entry_visitation_deadline: MonthDay,
    export_date: MonthDay,
}

impl TryFrom<CalendarDefaultsFields> for CalendarDefaults {
    type Error = CalendarError;

    fn try_from(f: CalendarDefaultsFields) -> Result<Self, Self::Error> {
        Self::new(
            f.annual_plan_deadline,
            f.visitation_deadline,
            f.entry_visitation_deadline,
            f.export_date,
        )
    }
}

impl CalendarDefaults {
    /// Checks the order annual plan deadline ≤ visitation deadline < entry visitation deadline ≤
    /// export date; an error names the field.
    pub fn new(
        annual_plan_deadline: MonthDay,
        visitation_deadline: MonthDay,
        entry_visitation_deadline: MonthDay,
        export_date: MonthDay,
    ) -> Result<Self, CalendarError> {
        check_order(
            annual_plan_deadline,
            visitation_deadline,
            entry_visitation_deadline,
            export_date,
        )?;
        Ok(Self {
            annual_plan_deadline,
            visitation_deadline,
            entry_visitation_deadline,
            export_date,
        })
    }

    /// The dates of the sources: annual plan before 1 July (000), last visitation 15 October
    /// (000 "rond half oktober", DESIGN §3.2), entry visitation before 1 November (001 §1.2a),
    /// export on 1 November (000; 001 §2.2).
    pub const fn standard() -> Self {
        Self {
            annual_plan_deadline: MonthDay::known(7, 1),
            visitation_deadline: MonthDay::known(10, 15),
            entry_visitation_deadline: MonthDay::known(11, 1),
            export_date: MonthDay::known(11, 1),
        }
    }

    pub fn annual_plan_deadline(&self) -> MonthDay {
        self.annual_plan_deadline
    }

    pub fn visitation_deadline(&self) -> MonthDay {
        self.visitation_deadline
    }

    pub fn entry_visitation_deadline(&self) -> MonthDay {
        self.entry_visitation_deadline
    }

    pub fn export_date(&self) -> MonthDay {
        self.export_date
    }
}

impl Default for CalendarDefaults {
    fn default() -> Self {
        Self::standard()
    }
}

/// Kalender van het cyclusjaar: the dates of cycle year Y, all Europe/Amsterdam calendar dates
/// (DESIGN §3.2, §4). Every date lies in Y and the order annual plan deadline ≤ visitation
/// deadline < entry visitation deadline ≤ export date holds, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "CycleCalendarFields")]
#[schema(examples(json!({
    "year": 2026,
    "annual_plan_deadline": "2026-07-01",
    "visitation_deadline": "2026-10-15",
    "entry_visitation_deadline": "2026-11-01",
    "export_date": "2026-11-01"
})))]
pub struct CycleCalendar {
    /// Jaar van de registratiecyclus (cycle year Y).
    year: CycleYear,
    /// Uiterste datum jaarplan (exclusive): the annual plan must be received before the start of
    /// this day in Amsterdam; default 1 July Y (000).
    annual_plan_deadline: NaiveDate,
    /// Laatste visitatiedatum (inclusive): the last day a visitation can take place, and the last
    /// day a rejected plan can be resubmitted; default 15 October Y (000, DESIGN §3.2).
    visitation_deadline: NaiveDate,
    /// Uiterste datum entreevisitatie (exclusive): a practice new to the register must have passed
    /// its entry visitation before this day to be on the list for contract year Y+1; default
    /// 1 November Y (001 §1.2a).
    entry_visitation_deadline: NaiveDate,
    /// Exportdatum: the day the list of registered practices goes to the insurers, for contracts
    /// from 1 January Y+1; default 1 November Y (000; 001 §2.2).
    export_date: NaiveDate,
}

/// The unchecked shape of [`CycleCalendar`] on the wire.
#[derive(Deserialize)]
struct CycleCalendarFields {
    year: CycleYear,
    annual_plan_deadline: NaiveDate,
    visitation_deadline: NaiveDate,
    entry_visitation_deadline: NaiveDate,
    export_date: NaiveDate,
}

impl TryFrom<CycleCalendarFields> for CycleCalendar {
    type Error = CalendarError;

    fn try_from(f: CycleCalendarFields) -> Result<Self, Self::Error> {
        Self::new(
            f.year,
            f.annual_plan_deadline,
            f.visitation_deadline,
            f.entry_visitation_deadline,
            f.export_date,
        )
    }
}

impl CycleCalendar {
    /// A calendar with overridden dates (DESIGN §3.2: every date configurable per year). Refuses
    /// a date outside `year` and dates out of the order annual plan deadline ≤ visitation
    /// deadline < entry visitation deadline ≤ export date; the error names the field.
    pub fn new(
        year: CycleYear,
        annual_plan_deadline: NaiveDate,
        visitation_deadline: NaiveDate,
        entry_visitation_deadline: NaiveDate,
        export_date: NaiveDate,
    ) -> Result<Self, CalendarError> {
        for (field, date) in [
            (CalendarField::AnnualPlanDeadline, annual_plan_deadline),
            (CalendarField::VisitationDeadline, visitation_deadline),
            (
                CalendarField::EntryVisitationDeadline,
                entry_visitation_deadline,
            ),
            (CalendarField::ExportDate, export_date),
        ] {
            if date.year() != i32::from(year.value()) {
                return Err(CalendarError::OutsideYear { field, date, year });
            }
        }
        check_order(
            annual_plan_deadline,
            visitation_deadline,
            entry_visitation_deadline,
            export_date,
        )?;
        Ok(Self {
            year,
            annual_plan_deadline,
            visitation_deadline,
            entry_visitation_deadline,
            export_date,
        })
    }

    /// The defaults placed in `year`; total, because the defaults are ordered and valid in every
    /// year.
    pub fn from_defaults(year: CycleYear, defaults: &CalendarDefaults) -> Self {
        Self {
            year,
            annual_plan_deadline: defaults.annual_plan_deadline.in_year(year),
            visitation_deadline: defaults.visitation_deadline.in_year(year),
            entry_visitation_deadline: defaults.entry_visitation_deadline.in_year(year),
            export_date: defaults.export_date.in_year(year),
        }
    }

    /// The calendar of the sources for `year`: [`CalendarDefaults::standard`].
    pub fn standard(year: CycleYear) -> Self {
        Self::from_defaults(year, &CalendarDefaults::standard())
    }

    pub fn year(&self) -> CycleYear {
        self.year
    }

    pub fn annual_plan_deadline(&self) -> NaiveDate {
        self.annual_plan_deadline
    }

    pub fn visitation_deadline(&self) -> NaiveDate {
        self.visitation_deadline
    }

    pub fn entry_visitation_deadline(&self) -> NaiveDate {
        self.entry_visitation_deadline
    }

    pub fn export_date(&self) -> NaiveDate {
        self.export_date
    }

    /// The contract year served by this cycle's export: Y+1 (000; 001 §2.2).
    pub fn contract_year(&self) -> ContractYear {
        ContractYear::for_cycle(self.year)
    }

    /// The year of Vektis's national treatment index used for contract year Y+1: Y-1 (001).
    pub fn treatment_index_year(&self) -> u16 {
        self.year.treatment_index_year()
    }

    /// Whether an annual plan received at `received_at` is in time for the first submission of Y.
    ///
    /// Source: 000 (jaarplan "voor 1 juli van het lopende jaar binnen"): received before the
    /// start of the deadline day in Amsterdam, so with the default 30 June 23:59:59 Amsterdam is in
    /// time and 1 July 00:00 Amsterdam (30 June 22:00 UTC) is late.
    pub fn annual_plan_in_time(&self, received_at: DateTime<Utc>) -> bool {
        amsterdam_date(received_at) < self.annual_plan_deadline
    }

    /// Whether a plan resubmitted at `received_at` after a rejection is accepted: also after the
    /// annual plan deadline, as long as a visitation can still take place, i.e. received on or
    /// before the visitation deadline (Amsterdam date).
    ///
    /// Source: 000 ("nieuwe pogingen mogelijk. Maar de laatste mogelijkheid voor een visitatie is
    /// altijd rond half oktober"); DESIGN §3.2.
    pub fn resubmission_allowed(&self, received_at: DateTime<Utc>) -> bool {
        amsterdam_date(received_at) <= self.visitation_deadline
    }

    /// Whether a visitation may take place on `date`: within cycle year Y and on or before the
    /// visitation deadline (inclusive). That the annual plan of Y is approved first is the
    /// registration state machine's rule, not the calendar's.
    ///
    /// Source: 000 ("de laatste mogelijkheid voor een visitatie is altijd rond half oktober");
    /// DESIGN §3.2 (last possible date 15 October Y).
    pub fn visitation_date_allowed(&self, date: NaiveDate) -> bool {
        date.year() == i32::from(self.year.value()) && date <= self.visitation_deadline
    }

    /// Whether an entry visitation (entreevisitatie) passed on `passed_on` is in time for the list
    /// of contract year Y+1: before the entry visitation deadline (exclusive).
    ///
    /// Source: 001 §1.2a ("entreevisitatie vóór 1 november ... met goed gevolg doorlopen").
    pub fn entry_visitation_in_time(&self, passed_on: NaiveDate) -> bool {
        passed_on < self.entry_visitation_deadline
    }

    /// Days from `today` until the visitation deadline: 0 on the deadline itself (the last
    /// possible day), negative once it has passed. Source: 000, DESIGN §3.2.
    pub fn days_until_visitation_deadline(&self, today: NaiveDate) -> i64 {
        self.visitation_deadline
            .signed_duration_since(today)
            .num_days()
    }

    /// The instant the annual plan deadline passes (start of the deadline day in Amsterdam), for
    /// problem details; default `Y-06-30T22:00:00Z`. Source: 000.
    pub fn annual_plan_deadline_instant(&self) -> DateTime<Utc> {
        deadline_instant(self.annual_plan_deadline)
    }

    /// The instant a resubmission is no longer accepted: the start of the day after the
    /// visitation deadline in Amsterdam; default `Y-10-15T22:00:00Z`. Source: 000.
    pub fn resubmission_deadline_instant(&self) -> DateTime<Utc> {
        deadline_instant(self.visitation_deadline + TimeDelta::days(1))
    }

    /// The instant the entry visitation deadline passes (start of the day in Amsterdam); default
    /// `Y-10-31T23:00:00Z` (CET, after the October clock change). Source: 001 §1.2a.
    pub fn entry_visitation_deadline_instant(&self) -> DateTime<Utc> {
        deadline_instant(self.entry_visitation_deadline)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn year(y: u16) -> CycleYear {
        CycleYear::new(y).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn cal2026() -> CycleCalendar {
        CycleCalendar::standard(year(2026))
    }

    // 000, 001 §1.2a, §2.2, DESIGN §3.2: the default dates.
    #[test]
    fn standard_calendar_has_the_dates_of_the_sources() {
        let cal = cal2026();
        assert_eq!(cal.year(), year(2026));
        assert_eq!(cal.annual_plan_deadline(), date("2026-07-01"));
        assert_eq!(cal.visitation_deadline(), date("2026-10-15"));
        assert_eq!(cal.entry_visitation_deadline(), date("2026-11-01"));
        assert_eq!(cal.export_date(), date("2026-11-01"));
        assert_eq!(CalendarDefaults::default(), CalendarDefaults::standard());
        // The standard defaults pass their own check.
        let d = CalendarDefaults::standard();
        assert_eq!(
            CalendarDefaults::new(
                d.annual_plan_deadline(),
                d.visitation_deadline(),
                d.entry_visitation_deadline(),
                d.export_date()
            )
            .unwrap(),
            d
        );
        assert_eq!(
            CycleCalendar::new(
                cal.year(),
                cal.annual_plan_deadline(),
                cal.visitation_deadline(),
                cal.entry_visitation_deadline(),
                cal.export_date()
            )
            .unwrap(),
            cal
        );
    }

    // 001: contract year Y+1 uses the national index of Y-1; 000, 001 §2.2: the list serves Y+1.
    #[test]
    fn treatment_index_and_contract_year() {
        assert_eq!(cal2026().treatment_index_year(), 2025);
        assert_eq!(cal2026().contract_year().value(), 2027);
    }

    // 000: the annual plan must be received before 1 July, Amsterdam time (CEST, +2 in summer).
    #[test]
    fn annual_plan_deadline_edges_in_summer_time() {
        let cal = cal2026();
        // 30 June 23:59 Amsterdam = 21:59 UTC.
        assert!(cal.annual_plan_in_time(utc("2026-06-30T21:59:00Z")));
        assert!(cal.annual_plan_in_time(utc("2026-06-30T21:59:59Z")));
        assert!(cal.annual_plan_in_time(utc("2026-06-30T21:59:59.999Z")));
        // 1 July 00:00 Amsterdam = 30 June 22:00 UTC: late.
        assert!(!cal.annual_plan_in_time(utc("2026-06-30T22:00:00Z")));
        assert!(!cal.annual_plan_in_time(utc("2026-07-01T10:00:00Z")));
        // Early in the year is in time.
        assert!(cal.annual_plan_in_time(utc("2026-01-02T09:00:00Z")));
        assert_eq!(
            cal.annual_plan_deadline_instant(),
            utc("2026-06-30T22:00:00Z")
        );
        assert_eq!(
            cal.annual_plan_deadline_instant()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "2026-06-30T22:00:00Z"
        );
    }

    // 000 with an overridden deadline in winter time (CET, +1), DESIGN §3.2 (configurable).
    #[test]
    fn overridden_deadline_in_winter_time() {
        let cal = CycleCalendar::new(
            year(2026),
            date("2026-03-01"),
            date("2026-10-15"),
            date("2026-11-01"),
            date("2026-11-01"),
        )
        .unwrap();
        assert!(cal.annual_plan_in_time(utc("2026-02-28T22:59:59Z")));
        assert!(!cal.annual_plan_in_time(utc("2026-02-28T23:00:00Z")));
        assert_eq!(
            cal.annual_plan_deadline_instant(),
            utc("2026-02-28T23:00:00Z")
        );
    }

    // DESIGN §4: business deadlines in Europe/Amsterdam, across both clock changes of 2026
    // (29 March and 25 October).
    #[test]
    fn deadline_instant_around_clock_changes() {
        assert_eq!(
            deadline_instant(date("2026-03-29")),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            deadline_instant(date("2026-03-30")),
            utc("2026-03-29T22:00:00Z")
        );
        assert_eq!(
            deadline_instant(date("2026-10-25")),
            utc("2026-10-24T22:00:00Z")
        );
        assert_eq!(
            deadline_instant(date("2026-10-26")),
            utc("2026-10-25T23:00:00Z")
        );
        assert_eq!(
            cal2026().entry_visitation_deadline_instant(),
            utc("2026-10-31T23:00:00Z")
        );
    }

    #[test]
    fn amsterdam_date_follows_local_midnight() {
        assert_eq!(
            amsterdam_date(utc("2026-06-30T21:59:59Z")),
            date("2026-06-30")
        );
        assert_eq!(
            amsterdam_date(utc("2026-06-30T22:00:00Z")),
            date("2026-07-01")
        );
        assert_eq!(
            amsterdam_date(utc("2026-12-31T22:59:59Z")),
            date("2026-12-31")
        );
        assert_eq!(
            amsterdam_date(utc("2026-12-31T23:00:00Z")),
            date("2027-01-01")
        );
    }

    // 000: after a rejection new attempts are possible, but the last visitation is around
    // mid-October: a resubmission is accepted up to and including 15 October, Amsterdam time.
    #[test]
    fn resubmission_until_the_visitation_deadline() {
        let cal = cal2026();
        // After 1 July is fine.
        assert!(cal.resubmission_allowed(utc("2026-08-01T12:00:00Z")));
        // 15 October 23:59 Amsterdam = 21:59 UTC (CEST).
        assert!(cal.resubmission_allowed(utc("2026-10-15T21:59:00Z")));
        assert!(cal.resubmission_allowed(utc("2026-10-15T21:59:59Z")));
        // 16 October 00:00 Amsterdam = 15 October 22:00 UTC.
        assert!(!cal.resubmission_allowed(utc("2026-10-15T22:00:00Z")));
        assert_eq!(
            cal.resubmission_deadline_instant(),
            utc("2026-10-15T22:00:00Z")
        );
    }

    // 000, DESIGN §3.2: last possible visitation date 15 October Y, inclusive, within Y.
    #[test]
    fn visitation_dates_within_y_up_to_the_deadline() {
        let cal = cal2026();
        assert!(cal.visitation_date_allowed(date("2026-10-15")));
        assert!(cal.visitation_date_allowed(date("2026-01-05")));
        assert!(!cal.visitation_date_allowed(date("2026-10-16")));
        assert!(!cal.visitation_date_allowed(date("2025-12-01")));
        assert!(!cal.visitation_date_allowed(date("2027-01-05")));
    }

    // 001 §1.2a: the entry visitation must have passed before 1 November.
    #[test]
    fn entry_visitation_before_1_november() {
        let cal = cal2026();
        assert!(cal.entry_visitation_in_time(date("2026-10-31")));
        assert!(!cal.entry_visitation_in_time(date("2026-11-01")));
    }

    // 000, DESIGN §3.2: days left until the last visitation date.
    #[test]
    fn days_until_visitation_deadline_counts_down_past_zero() {
        let cal = cal2026();
        assert_eq!(cal.days_until_visitation_deadline(date("2026-01-01")), 287);
        assert_eq!(cal.days_until_visitation_deadline(date("2026-10-01")), 14);
        assert_eq!(cal.days_until_visitation_deadline(date("2026-10-14")), 1);
        assert_eq!(cal.days_until_visitation_deadline(date("2026-10-15")), 0);
        assert_eq!(cal.days_until_visitation_deadline(date("2026-10-16")), -1);
        assert_eq!(cal.days_until_visitation_deadline(date("2026-11-01")), -17);
    }

    // DESIGN §3.2: dates are configurable per year, but an override must stay in Y and in order.
    #[test]
    fn inconsistent_overrides_are_refused_with_the_field() {
        let y = year(2026);
        let ok = ["2026-07-01", "2026-10-15", "2026-11-01", "2026-11-01"];
        let with = |i: usize, value: &str| {
            let mut d = ok.map(date);
            d[i] = date(value);
            CycleCalendar::new(y, d[0], d[1], d[2], d[3])
        };
        let cases = [
            (
                0,
                "2025-07-01",
                CalendarField::AnnualPlanDeadline,
                "calendar_date_outside_year",
            ),
            (
                1,
                "2027-10-15",
                CalendarField::VisitationDeadline,
                "calendar_date_outside_year",
            ),
            (
                2,
                "2027-01-01",
                CalendarField::EntryVisitationDeadline,
                "calendar_date_outside_year",
            ),
            (
                3,
                "2027-11-01",
                CalendarField::ExportDate,
                "calendar_date_outside_year",
            ),
            (
                0,
                "2026-10-16",
                CalendarField::VisitationDeadline,
                "calendar_date_order",
            ),
            (
                1,
                "2026-06-30",
                CalendarField::VisitationDeadline,
                "calendar_date_order",
            ),
            (
                1,
                "2026-11-01",
                CalendarField::EntryVisitationDeadline,
                "calendar_date_order",
            ),
            (
                2,
                "2026-10-15",
                CalendarField::EntryVisitationDeadline,
                "calendar_date_order",
            ),
            (
                3,
                "2026-10-31",
                CalendarField::ExportDate,
                "calendar_date_order",
            ),
        ];
        for (i, value, field, code) in cases {
            let err = with(i, value).unwrap_err();
            assert_eq!(err.field(), field, "{i} {value}");
            assert_eq!(err.code(), code, "{i} {value}");
        }
        // Equal where equality is allowed.
        assert!(with(1, "2026-07-01").is_ok());
        assert!(with(3, "2026-11-01").is_ok());
        assert!(with(2, "2026-10-16").is_ok());
        assert_eq!(
            with(0, "2025-07-01").unwrap_err().to_string(),
            "annual_plan_deadline 2025-07-01 is not in cycle year 2026"
        );
        assert_eq!(
            with(1, "2026-11-01").unwrap_err().to_string(),
            "entry_visitation_deadline must be after visitation_deadline"
        );
        assert_eq!(
            with(3, "2026-10-31").unwrap_err().to_string(),
            "export_date must be on or after entry_visitation_deadline"
        );
    }

    #[test]
    fn defaults_refuse_an_inconsistent_order() {
        let md = |s: &str| MonthDay::parse(s).unwrap();
        let err =
            CalendarDefaults::new(md("07-01"), md("11-01"), md("11-01"), md("11-01")).unwrap_err();
        assert_eq!(err.field(), CalendarField::EntryVisitationDeadline);
        assert_eq!(err.code(), "calendar_date_order");
        let err =
            CalendarDefaults::new(md("10-16"), md("10-15"), md("11-01"), md("11-01")).unwrap_err();
        assert_eq!(err.field(), CalendarField::VisitationDeadline);
        let custom =
            CalendarDefaults::new(md("06-15"), md("10-01"), md("10-20"), md("11-01")).unwrap();
        let cal = CycleCalendar::from_defaults(year(2028), &custom);
        assert_eq!(cal.annual_plan_deadline(), date("2028-06-15"));
        assert_eq!(cal.export_date(), date("2028-11-01"));
    }

    #[test]
    fn month_day_parses_mm_dd() {
        let md = MonthDay::parse(" 07-01 ").unwrap();
        assert_eq!((md.month(), md.day()), (7, 1));
        assert_eq!(md.to_string(), "07-01");
        assert_eq!(
            "12-31".parse::<MonthDay>().unwrap().in_year(year(2026)),
            date("2026-12-31")
        );
        assert_eq!(
            MonthDay::parse("02-28").unwrap().in_year(year(2028)),
            date("2028-02-28")
        );
        assert!(MonthDay::parse("07-01").unwrap() < MonthDay::parse("10-15").unwrap());
        assert!(MonthDay::parse("09-30").unwrap() < MonthDay::parse("10-01").unwrap());
        for bad in [
            "", "7-1", "07/01", "0701", "07-1", "007-01", "+7-01", "07-01x", "ab-cd", "07--1",
        ] {
            assert_eq!(
                MonthDay::parse(bad).unwrap_err().code(),
                "month_day_format",
                "{bad:?}"
            );
        }
        for bad in ["02-30", "04-31", "13-01", "00-10", "01-00", "12-32"] {
            assert_eq!(
                MonthDay::parse(bad).unwrap_err().code(),
                "month_day_invalid",
                "{bad:?}"
            );
        }
        assert_eq!(
            MonthDay::parse("02-30").unwrap_err().to_string(),
            "02-30 is not a date"
        );
        assert_eq!(
            MonthDay::parse("02-29").unwrap_err(),
            MonthDayError::LeapDay
        );
        assert_eq!(
            MonthDay::new(2, 29).unwrap_err().code(),
            "month_day_leap_day"
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let json = serde_json::to_value(cal2026()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "year": 2026,
                "annual_plan_deadline": "2026-07-01",
                "visitation_deadline": "2026-10-15",
                "entry_visitation_deadline": "2026-11-01",
                "export_date": "2026-11-01"
            })
        );
        assert_eq!(
            serde_json::from_value::<CycleCalendar>(json).unwrap(),
            cal2026()
        );
        let bad = serde_json::json!({
            "year": 2026,
            "annual_plan_deadline": "2026-07-01",
            "visitation_deadline": "2026-11-15",
            "entry_visitation_deadline": "2026-11-01",
            "export_date": "2026-11-01"
        });
        let err = serde_json::from_value::<CycleCalendar>(bad).unwrap_err();
        assert!(
            err.to_string()
                .contains("entry_visitation_deadline must be after"),
            "{err}"
        );

        let defaults = serde_json::to_value(CalendarDefaults::standard()).unwrap();
        assert_eq!(
            defaults,
            serde_json::json!({
                "annual_plan_deadline": "07-01",
                "visitation_deadline": "10-15",
                "entry_visitation_deadline": "11-01",
                "export_date": "11-01"
            })
        );
        assert_eq!(
            serde_json::from_value::<CalendarDefaults>(defaults).unwrap(),
            CalendarDefaults::standard()
        );
        let bad = serde_json::json!({
            "annual_plan_deadline": "02-30",
            "visitation_deadline": "10-15",
            "entry_visitation_deadline": "11-01",
            "export_date": "11-01"
        });
        let err = serde_json::from_value::<CalendarDefaults>(bad).unwrap_err();
        assert!(err.to_string().contains("02-30 is not a date"), "{err}");
    }

    #[test]
    fn schemas_carry_examples() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(CycleCalendar::schema()).unwrap();
        assert_eq!(schema["examples"][0]["annual_plan_deadline"], "2026-07-01");
        assert_eq!(
            schema["properties"]["visitation_deadline"]["format"],
            "date"
        );
        let schema = serde_json::to_value(CalendarDefaults::schema()).unwrap();
        assert_eq!(schema["examples"][0]["export_date"], "11-01");
        let mut collected = Vec::new();
        <CycleCalendar as utoipa::ToSchema>::schemas(&mut collected);
        <CalendarDefaults as utoipa::ToSchema>::schemas(&mut collected);
        let names: Vec<_> = collected.iter().map(|(name, _)| name.as_str()).collect();
        assert!(names.contains(&"CycleYear"), "{names:?}");
        assert!(names.contains(&"MonthDay"), "{names:?}");
        let schema = serde_json::to_value(MonthDay::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["examples"][0], "07-01");
    }
}
