//! The SQL of sessions and of the two visitations each holds.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::PartOfDay;
use praktijkregister_platform::error::ApiError;
use uuid::Uuid;

use super::{Session, SessionVisitation};
use crate::schema::{visitation_sessions as s, visitations as v};

pub const PLANNED: &str = "planned";
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = s)]
pub struct SessionRow {
    pub id: Uuid,
    pub cycle_year: i32,
    pub session_date: NaiveDate,
    pub part_of_day: String,
    pub visitor_id: String,
    pub practice_a_agb: String,
    pub practice_b_agb: String,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub version: i32,
}

impl SessionRow {
    pub fn part(&self) -> Result<PartOfDay, ApiError> {
        PartOfDay::parse(&self.part_of_day).map_err(ApiError::internal)
    }

    pub fn view(self, visitations: Vec<SessionVisitation>) -> Result<Session, ApiError> {
        Ok(Session {
            part_of_day: self.part()?,
            id: self.id,
            cycle_year: self.cycle_year,
            date: self.session_date,
            visitor_id: self.visitor_id,
            practice_a_agb: self.practice_a_agb,
            practice_b_agb: self.practice_b_agb,
            status: self.status,
            cancel_reason: self.cancel_reason,
            version: self.version,
            visitations,
        })
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<SessionRow>> {
    s::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<SessionRow>> {
    s::table
        .find(id)
        .select(SessionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    year: Option<i32>,
    visitor: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<SessionRow>> {
    let mut query = s::table
        .select(SessionRow::as_select())
        .order(s::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(year) = year {
        query = query.filter(s::cycle_year.eq(year));
    }
    if let Some(visitor) = visitor {
        query = query.filter(s::visitor_id.eq(visitor.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(s::id.gt(after));
    }
    query.load(conn).await
}

/// The planned sessions of a year, for the planner.
pub async fn planned_in_year(
    conn: &mut AsyncPgConnection,
    year: i32,
) -> QueryResult<Vec<SessionRow>> {
    s::table
        .filter(s::cycle_year.eq(year))
        .filter(s::status.eq(PLANNED))
        .select(SessionRow::as_select())
        .order(s::id)
        .load(conn)
        .await
}

pub async fn visitations_of(
    conn: &mut AsyncPgConnection,
    session: Uuid,
) -> QueryResult<Vec<SessionVisitation>> {
    let rows: Vec<(Uuid, String, String, String)> = v::table
        .filter(v::session_id.eq(session))
        .select((v::id, v::practice_agb, v::colleague_practice_agb, v::status))
        .order(v::id)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, practice_agb, colleague_practice_agb, status)| SessionVisitation {
                id,
                practice_agb,
                colleague_practice_agb,
                status,
            },
        )
        .collect())
}

/// Writes the session and a visitation of each practice. A practice that already has a visitation
/// in the year (a race the rules did not see) is answered as the rule does.
pub async fn insert(conn: &mut AsyncPgConnection, row: &SessionRow) -> Result<(), ApiError> {
    diesel::insert_into(s::table)
        .values((
            s::id.eq(row.id),
            s::cycle_year.eq(row.cycle_year),
            s::session_date.eq(row.session_date),
            s::part_of_day.eq(&row.part_of_day),
            s::visitor_id.eq(&row.visitor_id),
            s::practice_a_agb.eq(&row.practice_a_agb),
            s::practice_b_agb.eq(&row.practice_b_agb),
        ))
        .execute(conn)
        .await
        .map_err(|e| unique_as_rule(e, "visitor_id", "visitor_double_booked"))?;
    for (practice, colleague, field) in [
        (&row.practice_a_agb, &row.practice_b_agb, "practice_a_agb"),
        (&row.practice_b_agb, &row.practice_a_agb, "practice_b_agb"),
    ] {
        diesel::insert_into(v::table)
            .values((
                v::id.eq(Uuid::now_v7()),
                v::session_id.eq(row.id),
                v::cycle_year.eq(row.cycle_year),
                v::practice_agb.eq(practice),
                v::colleague_practice_agb.eq(colleague),
            ))
            .execute(conn)
            .await
            .map_err(|e| unique_as_rule(e, field, "practice_already_planned"))?;
    }
    Ok(())
}

fn unique_as_rule(error: diesel::result::Error, field: &str, code: &str) -> ApiError {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => ApiError::field(field, code, "another session took this place meanwhile"),
        other => other.into(),
    }
}

pub async fn move_to(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    date: NaiveDate,
    part: PartOfDay,
    visitor: &str,
) -> Result<(), ApiError> {
    diesel::update(s::table.find(id))
        .set((
            s::session_date.eq(date),
            s::part_of_day.eq(part.as_str()),
            s::visitor_id.eq(visitor),
            s::version.eq(s::version + 1),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map_err(|e| unique_as_rule(e, "visitor_id", "visitor_double_booked"))?;
    Ok(())
}

pub async fn cancel(conn: &mut AsyncPgConnection, id: Uuid, reason: &str) -> QueryResult<()> {
    diesel::update(s::table.find(id))
        .set((
            s::status.eq(CANCELLED),
            s::cancel_reason.eq(reason),
            s::version.eq(s::version + 1),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    diesel::update(v::table.filter(v::session_id.eq(id)))
        .set(v::status.eq("cancelled"))
        .execute(conn)
        .await
        .map(drop)
}

/// Whether the practice has a visitation in the year that is not cancelled, other than in
/// session `except`.
pub async fn practice_planned(
    conn: &mut AsyncPgConnection,
    agb: &str,
    year: i32,
    except: Option<Uuid>,
) -> QueryResult<bool> {
    let mut query = v::table
        .filter(v::practice_agb.eq(agb.to_string()))
        .filter(v::cycle_year.eq(year))
        .filter(v::status.ne("cancelled"))
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(v::session_id.ne(except));
    }
    diesel::select(diesel::dsl::exists(query))
        .get_result(conn)
        .await
}

/// Planned sessions of the visitor other than `except`: in that part of that day, in the year, and
/// from `from` through `until`.
pub struct VisitorLoad {
    pub busy_in_slot: bool,
    pub in_year: u32,
    pub in_week: u32,
}

pub async fn visitor_load(
    conn: &mut AsyncPgConnection,
    visitor: &str,
    date: NaiveDate,
    part: PartOfDay,
    year: i32,
    week: (NaiveDate, NaiveDate),
    except: Option<Uuid>,
) -> QueryResult<VisitorLoad> {
    let rows: Vec<(NaiveDate, String, i32)> = s::table
        .filter(s::visitor_id.eq(visitor))
        .filter(s::status.eq(PLANNED))
        .filter(s::id.ne(except.unwrap_or(Uuid::nil())))
        .select((s::session_date, s::part_of_day, s::cycle_year))
        .load(conn)
        .await?;
    let count = |keep: &dyn Fn(&(NaiveDate, String, i32)) -> bool| {
        u32::try_from(rows.iter().filter(|r| keep(r)).count()).unwrap_or(u32::MAX)
    };
    Ok(VisitorLoad {
        busy_in_slot: rows
            .iter()
            .any(|(d, p, _)| *d == date && p == part.as_str()),
        in_year: count(&|(_, _, y)| *y == year),
        in_week: count(&|(d, _, _)| *d >= week.0 && *d <= week.1),
    })
}
