//! SQL for cycle calendars.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CalendarDefaults, CycleCalendar, CycleYear};
use praktijkregister_platform::error::ApiError;

use super::CalendarSource;
use crate::schema::cycle_calendars;

/// The calendar of `year`: the registrar's override if there is one, else the defaults. A stored
/// override was validated when it was set; one that no longer keeps the calendar's rules is a
/// fault in the data (a logged 500), never silently replaced by the defaults.
pub async fn calendar_for(
    conn: &mut AsyncPgConnection,
    year: CycleYear,
    defaults: &CalendarDefaults,
) -> Result<(CycleCalendar, CalendarSource), ApiError> {
    let stored: Option<(NaiveDate, NaiveDate, NaiveDate, NaiveDate)> = cycle_calendars::table
        .find(i32::from(year.value()))
        .select((
            cycle_calendars::annual_plan_deadline,
            cycle_calendars::visitation_deadline,
            cycle_calendars::entry_visitation_deadline,
            cycle_calendars::export_date,
        ))
        .first(conn)
        .await
        .optional()?;
    match stored {
        None => Ok((
            CycleCalendar::from_defaults(year, defaults),
            CalendarSource::Default,
        )),
        Some((a, v, e, x)) => CycleCalendar::new(year, a, v, e, x)
            .map(|calendar| (calendar, CalendarSource::Override))
            .map_err(|error| {
                ApiError::internal(anyhow::Error::new(error).context(format!(
                    "the stored calendar of cycle year {year} ({a}, {v}, {e}, {x}) is not valid"
                )))
            }),
    }
}

pub async fn upsert(
    conn: &mut AsyncPgConnection,
    calendar: &CycleCalendar,
    actor: &str,
) -> QueryResult<()> {
    let values = (
        cycle_calendars::cycle_year.eq(i32::from(calendar.year().value())),
        cycle_calendars::annual_plan_deadline.eq(calendar.annual_plan_deadline()),
        cycle_calendars::visitation_deadline.eq(calendar.visitation_deadline()),
        cycle_calendars::entry_visitation_deadline.eq(calendar.entry_visitation_deadline()),
        cycle_calendars::export_date.eq(calendar.export_date()),
        cycle_calendars::updated_by.eq(actor),
    );
    diesel::insert_into(cycle_calendars::table)
        .values(values)
        .on_conflict(cycle_calendars::cycle_year)
        .do_update()
        .set((values, cycle_calendars::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}
