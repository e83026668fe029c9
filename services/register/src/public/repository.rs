//! SQL for the public register: practices with a `registered` registration in one of the public
//! cycle years, with their addresses and those years; no other column is read.

use crate::practices::repository::PracticeFilter;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CycleYear, OefentherapieAgb, PracticeTier};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

use super::{PublicLocation, PublicPractice};
use crate::schema::{practice_locations, practices, registrations};

const REGISTERED: &str = "registered";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = practices)]
struct PublicPracticeRow {
    agb: String,
    name: String,
    tier: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = practice_locations)]
struct PublicLocationRow {
    practice_agb: String,
    street: String,
    house_number: String,
    postal_code: String,
    city: String,
}

impl From<PublicLocationRow> for PublicLocation {
    fn from(row: PublicLocationRow) -> Self {
        Self {
            street: row.street,
            house_number: row.house_number,
            postal_code: row.postal_code,
            city: row.city,
        }
    }
}

fn year_values(years: &[CycleYear]) -> Vec<i32> {
    years.iter().map(|y| i32::from(y.value())).collect()
}

/// Up to `limit + 1` publicly registered practices after `after`, ordered by AGB code.
pub async fn list(
    conn: &mut AsyncPgConnection,
    years: &[CycleYear],
    filter: &PracticeFilter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<PublicPractice>, ApiError> {
    let year_values = year_values(years);
    let registered = registrations::table
        .filter(registrations::practice_agb.eq(practices::agb))
        .filter(registrations::state.eq(REGISTERED))
        .filter(registrations::cycle_year.eq_any(year_values.clone()));
    let mut query = practices::table
        .filter(diesel::dsl::exists(registered))
        .select(PublicPracticeRow::as_select())
        .order(practices::agb)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(practices::agb.gt(after));
    }
    query = crate::practices::repository::filtered(query, filter);
    let rows = query.load(conn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let agbs: Vec<String> = rows.iter().map(|r| r.agb.clone()).collect();
    let mut locations: Vec<PublicLocationRow> = practice_locations::table
        .filter(practice_locations::practice_agb.eq_any(&agbs))
        .order((
            practice_locations::practice_agb,
            practice_locations::position,
        ))
        .select(PublicLocationRow::as_select())
        .load(conn)
        .await?;
    let mut registered_years: Vec<(String, i32)> = registrations::table
        .filter(registrations::practice_agb.eq_any(&agbs))
        .filter(registrations::state.eq(REGISTERED))
        .filter(registrations::cycle_year.eq_any(year_values))
        .order((
            registrations::practice_agb,
            registrations::cycle_year.desc(),
        ))
        .select((registrations::practice_agb, registrations::cycle_year))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let locations: Vec<PublicLocation> = locations
                .extract_if(.., |l| l.practice_agb == row.agb)
                .map(PublicLocation::from)
                .collect();
            let registered_for = registered_years
                .extract_if(.., |(agb, _)| *agb == row.agb)
                .filter_map(|(_, year)| {
                    years.iter().copied().find(|y| i32::from(y.value()) == year)
                })
                .collect();
            Ok(PublicPractice {
                tier: decode("practices.tier", &row.tier, PracticeTier::parse)?,
                city: <[PublicLocation]>::first(&locations).map(|l| l.city.clone()),
                agb: row.agb,
                name: row.name,
                locations,
                registered_for,
            })
        })
        .collect()
}

/// The practice with AGB code `agb` when it is publicly registered.
pub async fn find(
    conn: &mut AsyncPgConnection,
    years: &[CycleYear],
    agb: &OefentherapieAgb,
) -> Result<Option<PublicPractice>, ApiError> {
    let filter = PracticeFilter {
        only_agb: Some(agb.clone()),
        ..PracticeFilter::default()
    };
    Ok(list(conn, years, &filter, None, 1)
        .await?
        .into_iter()
        .next())
}
