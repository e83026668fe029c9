//! SQL for cycle calendars.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CalendarDefaults, CycleCalendar, CycleYear};

use super::CalendarSource;
use crate::schema::cycle_calendars;

/// The calendar of `year`: the registrar's override if there is one, else the defaults.
pub async fn calendar_for(
    conn: &mut AsyncPgConnection,
    year: CycleYear,
    defaults: &CalendarDefaults,
) -> QueryResult<(CycleCalendar, CalendarSource)> {
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
    // A stored override was validated when it was set; should it ever fail now, the defaults hold.
    Ok(stored
        .and_then(|(a, v, e, x)| CycleCalendar::new(year, a, v, e, x).ok())
        .map(|calendar| (calendar, CalendarSource::Override))
        .unwrap_or_else(|| {
            (
                CycleCalendar::from_defaults(year, defaults),
                CalendarSource::Default,
            )
        }))
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
