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

#[derive(Debug, QueryableByName)]
struct PublicLookupRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    tier: String,
    /// `[{street, house_number, postal_code, city}]` in the practice's order.
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    locations: serde_json::Value,
    /// The public years it is registered for, newest first.
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Integer>)]
    years: Vec<i32>,
}

/// The public lookup: one prepared statement (the busiest read of the register, DESIGN §7).
pub const LOOKUP: &str = "SELECT p.name, p.tier, \
        coalesce((SELECT jsonb_agg(jsonb_build_object('street', l.street, \
                'house_number', l.house_number, 'postal_code', l.postal_code, 'city', l.city) \
                ORDER BY l.position) \
            FROM practice_locations l WHERE l.practice_agb = p.agb), '[]'::jsonb) AS locations, \
        ARRAY(SELECT r.cycle_year FROM registrations r WHERE r.practice_agb = p.agb \
            AND r.state = 'registered' AND r.cycle_year = ANY($2) ORDER BY r.cycle_year DESC) AS years \
    FROM practices p WHERE p.agb = $1";

/// The practice with AGB code `agb` when it is publicly registered.
pub async fn find(
    conn: &mut AsyncPgConnection,
    years: &[CycleYear],
    agb: &OefentherapieAgb,
) -> Result<Option<PublicPractice>, ApiError> {
    let Some(row) = praktijkregister_platform::db::prepared(LOOKUP)
        .bind::<diesel::sql_types::Text, _>(agb.as_str())
        .bind::<diesel::sql_types::Array<diesel::sql_types::Integer>, _>(year_values(years))
        .get_result::<PublicLookupRow>(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let registered_for: Vec<CycleYear> = row
        .years
        .iter()
        .filter_map(|year| {
            years
                .iter()
                .copied()
                .find(|y| i32::from(y.value()) == *year)
        })
        .collect();
    // Registered for none of the public years: not in the public register.
    if registered_for.is_empty() {
        return Ok(None);
    }
    let locations: Vec<PublicLocation> = serde_json::from_value(row.locations).map_err(|e| {
        ApiError::internal(anyhow::anyhow!("practice_locations of {agb} as JSON: {e}"))
    })?;
    Ok(Some(PublicPractice {
        tier: decode("practices.tier", &row.tier, PracticeTier::parse)?,
        city: <[PublicLocation]>::first(&locations).map(|l| l.city.clone()),
        agb: agb.as_str().to_string(),
        name: row.name,
        locations,
        registered_for,
    }))
}
