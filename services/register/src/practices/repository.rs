//! SQL for practices and their locations.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{OefentherapieAgb, PracticeTier};
use praktijkregister_platform::db::{decode, like_escape};
use praktijkregister_platform::error::ApiError;

use super::{Contact, Location, Practice, PracticeFields};
use crate::schema::{practice_locations, practices};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = practices)]
struct PracticeRow {
    agb: String,
    name: String,
    kvk_number: String,
    tier: String,
    contact_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = practice_locations)]
struct LocationRow {
    practice_agb: String,
    agb: String,
    kvk_branch_number: String,
    street: String,
    house_number: String,
    postal_code: String,
    city: String,
    phone: Option<String>,
    website: Option<String>,
    own_entrance: bool,
    own_waiting_room: bool,
    own_reception: bool,
    own_administration: bool,
    own_logo: bool,
}

impl From<LocationRow> for Location {
    fn from(row: LocationRow) -> Self {
        Self {
            agb: row.agb,
            kvk_branch_number: row.kvk_branch_number,
            street: row.street,
            house_number: row.house_number,
            postal_code: row.postal_code,
            city: row.city,
            phone: row.phone,
            website: row.website,
            own_entrance: row.own_entrance,
            own_waiting_room: row.own_waiting_room,
            own_reception: row.own_reception,
            own_administration: row.own_administration,
            own_logo: row.own_logo,
        }
    }
}

fn assemble(row: PracticeRow, locations: Vec<Location>) -> Result<Practice, ApiError> {
    Ok(Practice {
        tier: decode("practices.tier", &row.tier, PracticeTier::parse)?,
        agb: row.agb,
        name: row.name,
        kvk_number: row.kvk_number,
        contact: Contact {
            name: row.contact_name,
            email: row.contact_email,
            phone: row.contact_phone,
        },
        locations,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Whether the register holds any practice at all.
pub async fn any(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(practices::table.select(practices::agb)))
        .get_result(conn)
        .await
}

pub async fn exists(conn: &mut AsyncPgConnection, agb: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(practices::table.find(agb)))
        .get_result(conn)
        .await
}

async fn insert_locations(
    conn: &mut AsyncPgConnection,
    agb: &str,
    locations: &[Location],
) -> QueryResult<()> {
    let rows: Vec<_> = locations
        .iter()
        .enumerate()
        .map(|(position, l)| {
            (
                practice_locations::practice_agb.eq(agb),
                practice_locations::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                practice_locations::agb.eq(&l.agb),
                practice_locations::kvk_branch_number.eq(&l.kvk_branch_number),
                practice_locations::street.eq(&l.street),
                practice_locations::house_number.eq(&l.house_number),
                practice_locations::postal_code.eq(&l.postal_code),
                practice_locations::city.eq(&l.city),
                practice_locations::phone.eq(&l.phone),
                practice_locations::website.eq(&l.website),
                practice_locations::own_entrance.eq(l.own_entrance),
                practice_locations::own_waiting_room.eq(l.own_waiting_room),
                practice_locations::own_reception.eq(l.own_reception),
                practice_locations::own_administration.eq(l.own_administration),
                practice_locations::own_logo.eq(l.own_logo),
            )
        })
        .collect();
    diesel::insert_into(practice_locations::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the practice; `Ok(None)` when the AGB code is already registered.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
    fields: &PracticeFields,
) -> Result<Option<Practice>, ApiError> {
    let agb = agb.as_str();
    let inserted = diesel::insert_into(practices::table)
        .values((
            practices::agb.eq(agb),
            practices::name.eq(&fields.name),
            practices::kvk_number.eq(fields.kvk_number.as_str()),
            practices::tier.eq(fields.tier.as_str()),
            practices::contact_name.eq(&fields.contact.name),
            practices::contact_email.eq(&fields.contact.email),
            practices::contact_phone.eq(&fields.contact.phone),
        ))
        .on_conflict_do_nothing()
        .returning(PracticeRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(row) = inserted else { return Ok(None) };
    insert_locations(conn, agb, &fields.locations).await?;
    let practice = assemble(row, fields.locations.clone())?;
    crate::export_events::practice_data(conn, &practice).await?;
    Ok(Some(practice))
}

async fn locations_of(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
) -> QueryResult<Vec<LocationRow>> {
    practice_locations::table
        .filter(practice_locations::practice_agb.eq_any(agbs))
        .order((
            practice_locations::practice_agb,
            practice_locations::position,
        ))
        .select(LocationRow::as_select())
        .load(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
) -> Result<Option<Practice>, ApiError> {
    let agb = agb.as_str();
    let Some(row) = practices::table
        .find(agb)
        .select(PracticeRow::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let locations = locations_of(conn, &[agb.to_string()]).await?;
    Ok(Some(assemble(
        row,
        locations.into_iter().map(Location::from).collect(),
    )?))
}

/// Outcome of an update guarded by the version the client last saw.
pub enum Update {
    Done(Practice),
    Stale,
    Missing,
}

#[derive(AsChangeset)]
#[diesel(table_name = practices, treat_none_as_null = true)]
struct PracticeChanges<'a> {
    name: &'a str,
    kvk_number: &'a str,
    tier: &'a str,
    contact_name: Option<&'a str>,
    contact_email: Option<&'a str>,
    contact_phone: Option<&'a str>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
    expected_version: Option<i32>,
    fields: &PracticeFields,
) -> Result<Update, ApiError> {
    let agb = agb.as_str();
    let changes = (
        PracticeChanges {
            name: &fields.name,
            kvk_number: fields.kvk_number.as_str(),
            tier: fields.tier.as_str(),
            contact_name: fields.contact.name.as_deref(),
            contact_email: fields.contact.email.as_deref(),
            contact_phone: fields.contact.phone.as_deref(),
        },
        practices::version.eq(practices::version + 1),
        practices::updated_at.eq(diesel::dsl::now),
    );
    let target = practices::table.filter(practices::agb.eq(agb));
    // The version guard makes the check and the write one statement: no lost update.
    let updated = match expected_version {
        Some(version) => diesel::update(target.filter(practices::version.eq(version)))
            .set(changes)
            .returning(PracticeRow::as_returning())
            .get_result(conn)
            .await
            .optional()?,
        None => diesel::update(target)
            .set(changes)
            .returning(PracticeRow::as_returning())
            .get_result(conn)
            .await
            .optional()?,
    };
    let Some(row) = updated else {
        return Ok(if exists(conn, agb).await? {
            Update::Stale
        } else {
            Update::Missing
        });
    };
    diesel::delete(practice_locations::table.filter(practice_locations::practice_agb.eq(agb)))
        .execute(conn)
        .await?;
    insert_locations(conn, agb, &fields.locations).await?;
    let practice = assemble(row, fields.locations.clone())?;
    crate::export_events::practice_data(conn, &practice).await?;
    Ok(Update::Done(practice))
}

/// Filters of the practice list.
#[derive(Debug, Default)]
pub struct PracticeFilter {
    pub name_contains: Option<String>,
    pub city: Option<String>,
    pub postal_code_prefix: Option<String>,
    /// Only this practice (exact AGB code).
    pub only_agb: Option<OefentherapieAgb>,
}

impl PracticeFilter {
    /// The filter of a search as typed: blank text is no filter, and the postal-code prefix is
    /// normalised the way postal codes are stored.
    pub fn from_query(
        name: Option<String>,
        city: Option<String>,
        postal_code_prefix: Option<String>,
        only_agb: Option<OefentherapieAgb>,
    ) -> Self {
        let non_blank =
            |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Self {
            name_contains: non_blank(name),
            city: non_blank(city),
            postal_code_prefix: non_blank(postal_code_prefix)
                .map(|p| super::normalise_postal_code_prefix(&p)),
            only_agb,
        }
    }
}

/// Applies the list filters to any query over practices (the registrar's list and the public register).
pub fn filtered<'a, ST: 'a>(
    mut query: practices::BoxedQuery<'a, Pg, ST>,
    filter: &PracticeFilter,
) -> practices::BoxedQuery<'a, Pg, ST> {
    if let Some(agb) = &filter.only_agb {
        query = query.filter(practices::agb.eq(agb.as_str().to_owned()));
    }
    if let Some(name) = &filter.name_contains {
        query = query.filter(practices::name.ilike(format!("%{}%", like_escape(name))));
    }
    if let Some(city) = &filter.city {
        let in_city = practice_locations::table
            .filter(practice_locations::practice_agb.eq(practices::agb))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "lower(practice_locations.city) = lower(",
                )
                .bind::<diesel::sql_types::Text, _>(city.clone())
                .sql(")"),
            );
        query = query.filter(diesel::dsl::exists(in_city));
    }
    if let Some(prefix) = &filter.postal_code_prefix {
        let with_prefix = practice_locations::table
            .filter(practice_locations::practice_agb.eq(practices::agb))
            .filter(practice_locations::postal_code.like(format!("{}%", like_escape(prefix))));
        query = query.filter(diesel::dsl::exists(with_prefix));
    }
    query
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &PracticeFilter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<Practice>, ApiError> {
    let mut query = practices::table
        .select(PracticeRow::as_select())
        .order(practices::agb)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(practices::agb.gt(after));
    }
    query = filtered(query, filter);
    let rows = query.load(conn).await?;
    let agbs: Vec<String> = rows.iter().map(|r| r.agb.clone()).collect();
    let mut locations = locations_of(conn, &agbs).await?;
    rows.into_iter()
        .map(|row| {
            let mine: Vec<Location> = locations
                .extract_if(.., |l| l.practice_agb == row.agb)
                .map(Location::from)
                .collect();
            assemble(row, mine)
        })
        .collect()
}
