//! The SQL of visitors and their availability.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::PartOfDay;
use praktijkregister_platform::error::ApiError;

use super::{ParsedDetails, Slot, Visitor};
use crate::schema::{visitor_availability, visitors};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = visitors)]
pub struct VisitorRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub therapist_agb: Option<String>,
    pub trained_on: NaiveDate,
    pub authorised_from: NaiveDate,
    pub authorised_until: Option<NaiveDate>,
    pub max_sessions_per_year: i32,
    pub max_sessions_per_week: i32,
}

impl VisitorRow {
    pub fn view(self, availability: Vec<Slot>) -> Visitor {
        Visitor {
            id: self.id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            therapist_agb: self.therapist_agb,
            trained_on: self.trained_on,
            authorised_from: self.authorised_from,
            authorised_until: self.authorised_until,
            max_sessions_per_year: self.max_sessions_per_year,
            max_sessions_per_week: self.max_sessions_per_week,
            availability,
        }
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<VisitorRow>> {
    visitors::table
        .find(id)
        .select(VisitorRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The visitor, locked for the rest of the transaction (sessions of one visitor are checked and
/// written one at a time).
pub async fn lock(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<VisitorRow>> {
    visitors::table
        .find(id)
        .select(VisitorRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<VisitorRow>> {
    visitors::table
        .select(VisitorRow::as_select())
        .order(visitors::id)
        .load(conn)
        .await
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<String>,
    limit: i64,
) -> QueryResult<Vec<VisitorRow>> {
    let mut query = visitors::table
        .select(VisitorRow::as_select())
        .order(visitors::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(visitors::id.gt(after));
    }
    query.load(conn).await
}

/// Creates or replaces the visitor; `true` when it was created.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    id: &str,
    d: &ParsedDetails,
) -> QueryResult<bool> {
    let values = (
        visitors::name.eq(&d.name),
        visitors::email.eq(&d.email),
        visitors::phone.eq(&d.phone),
        visitors::therapist_agb.eq(&d.therapist_agb),
        visitors::trained_on.eq(d.trained_on),
        visitors::authorised_from.eq(d.authorised_from),
        visitors::authorised_until.eq(d.authorised_until),
        visitors::max_sessions_per_year.eq(d.max_sessions_per_year),
        visitors::max_sessions_per_week.eq(d.max_sessions_per_week),
    );
    let updated = diesel::update(visitors::table.find(id))
        .set((
            values,
            visitors::version.eq(visitors::version + 1),
            visitors::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    if updated > 0 {
        return Ok(false);
    }
    diesel::insert_into(visitors::table)
        .values((visitors::id.eq(id), values))
        .execute(conn)
        .await?;
    Ok(true)
}

pub async fn availability(conn: &mut AsyncPgConnection, id: &str) -> Result<Vec<Slot>, ApiError> {
    let rows: Vec<(NaiveDate, String)> = visitor_availability::table
        .filter(visitor_availability::visitor_id.eq(id))
        .select((visitor_availability::day, visitor_availability::part_of_day))
        .order((
            visitor_availability::day,
            visitor_availability::part_of_day.desc(),
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(date, part)| {
            Ok(Slot {
                date,
                part_of_day: PartOfDay::parse(&part).map_err(ApiError::internal)?,
            })
        })
        .collect()
}

/// Every visitor's availability, as (visitor, date, part of day).
pub async fn all_availability(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<(String, NaiveDate, String)>> {
    visitor_availability::table
        .filter(visitor_availability::day.between(from, until))
        .select((
            visitor_availability::visitor_id,
            visitor_availability::day,
            visitor_availability::part_of_day,
        ))
        .order((
            visitor_availability::visitor_id,
            visitor_availability::day,
            visitor_availability::part_of_day.desc(),
        ))
        .load(conn)
        .await
}

pub async fn is_available(
    conn: &mut AsyncPgConnection,
    id: &str,
    date: NaiveDate,
    part: PartOfDay,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        visitor_availability::table
            .filter(visitor_availability::visitor_id.eq(id))
            .filter(visitor_availability::day.eq(date))
            .filter(visitor_availability::part_of_day.eq(part.as_str())),
    ))
    .get_result(conn)
    .await
}

pub async fn replace_availability(
    conn: &mut AsyncPgConnection,
    id: &str,
    slots: &[Slot],
) -> QueryResult<()> {
    diesel::delete(visitor_availability::table.filter(visitor_availability::visitor_id.eq(id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = slots
        .iter()
        .map(|slot| {
            (
                visitor_availability::visitor_id.eq(id),
                visitor_availability::day.eq(slot.date),
                visitor_availability::part_of_day.eq(slot.part_of_day.as_str()),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(visitor_availability::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}
