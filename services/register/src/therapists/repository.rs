//! SQL for therapists and their practice memberships.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{KpNumber, KpStatus, OefentherapieAgb};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

use super::{Membership, PracticeMembership, PracticeTherapist, Therapist, TherapistFields};
use crate::kp::{KpRegistration, KpSource};
use crate::schema::{practice_memberships, therapists};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = therapists)]
pub(crate) struct TherapistRow {
    agb: String,
    name: String,
    email: Option<String>,
    kp_number: Option<String>,
    kp_status: Option<String>,
    kp_valid_from: Option<NaiveDate>,
    kp_valid_until: Option<NaiveDate>,
    kp_verified_at: Option<DateTime<Utc>>,
    kp_source: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = practice_memberships)]
struct MembershipRow {
    practice_agb: String,
    therapist_agb: String,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
}

impl From<MembershipRow> for PracticeMembership {
    fn from(row: MembershipRow) -> Self {
        Self {
            practice_agb: row.practice_agb,
            therapist_agb: row.therapist_agb,
            start_date: row.start_date,
            end_date: row.end_date,
        }
    }
}

/// The stored KP status, if any; a name outside the known ones is a fault in the data.
#[track_caller]
fn kp_status(raw: Option<&str>) -> Result<Option<KpStatus>, ApiError> {
    raw.map(|raw| decode("therapists.kp_status", raw, KpStatus::parse))
        .transpose()
}

fn assemble(row: TherapistRow, memberships: Vec<Membership>) -> Result<Therapist, ApiError> {
    Ok(Therapist {
        kp: KpRegistration {
            number: row.kp_number,
            status: kp_status(row.kp_status.as_deref())?,
            valid_from: row.kp_valid_from,
            valid_until: row.kp_valid_until,
            verified_at: row.kp_verified_at,
            source: row
                .kp_source
                .as_deref()
                .map(|raw| decode("therapists.kp_source", raw, KpSource::parse))
                .transpose()?,
        },
        agb: row.agb,
        name: row.name,
        email: row.email,
        memberships,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Whether `error` is a unique violation, e.g. a KP number taken by a concurrent change.
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

pub async fn exists(conn: &mut AsyncPgConnection, agb: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(therapists::table.find(agb)))
        .get_result(conn)
        .await
}

/// The AGB code of the therapist holding `kp_number`, if any.
pub async fn kp_number_holder(
    conn: &mut AsyncPgConnection,
    kp_number: &KpNumber,
) -> QueryResult<Option<String>> {
    therapists::table
        .filter(therapists::kp_number.eq(kp_number.as_str()))
        .select(therapists::agb)
        .first(conn)
        .await
        .optional()
}

/// Why an insert did not happen.
pub enum InsertConflict {
    Agb,
    KpNumber,
}

/// Inserts the therapist; a KP number entered here has no status yet (source `registrar`).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
    fields: &TherapistFields,
) -> Result<Result<Therapist, InsertConflict>, ApiError> {
    let agb = agb.as_str();
    let inserted = diesel::insert_into(therapists::table)
        .values((
            therapists::agb.eq(agb),
            therapists::name.eq(fields.name.as_str()),
            therapists::email.eq(fields.email.as_ref().map(|e| e.as_str())),
            therapists::kp_number.eq(fields.kp_number.as_ref().map(KpNumber::as_str)),
            therapists::kp_source.eq(fields
                .kp_number
                .as_ref()
                .map(|_| KpSource::Registrar.as_str())),
        ))
        // Covers both unique keys (AGB and KP number); which one is told apart below.
        .on_conflict_do_nothing()
        .returning(TherapistRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(row) => Ok(Ok(assemble(row, Vec::new())?)),
        None if exists(conn, agb).await? => Ok(Err(InsertConflict::Agb)),
        None => Ok(Err(InsertConflict::KpNumber)),
    }
}

async fn memberships_of(
    conn: &mut AsyncPgConnection,
    therapist_agb: &str,
    only_practice: Option<&OefentherapieAgb>,
) -> QueryResult<Vec<Membership>> {
    let mut query = practice_memberships::table
        .filter(practice_memberships::therapist_agb.eq(therapist_agb))
        .order((
            practice_memberships::start_date,
            practice_memberships::practice_agb,
        ))
        .select(MembershipRow::as_select())
        .into_boxed();
    if let Some(practice) = only_practice {
        query = query.filter(practice_memberships::practice_agb.eq(practice.as_str().to_owned()));
    }
    Ok(query
        .load(conn)
        .await?
        .into_iter()
        .map(|row| Membership {
            practice_agb: row.practice_agb,
            start_date: row.start_date,
            end_date: row.end_date,
        })
        .collect())
}

/// The therapist with memberships; `only_practice` limits the memberships to one practice.
pub async fn find(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
    only_practice: Option<&OefentherapieAgb>,
) -> Result<Option<Therapist>, ApiError> {
    let agb = agb.as_str();
    let Some(row) = therapists::table
        .find(agb)
        .select(TherapistRow::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let memberships = memberships_of(conn, agb, only_practice).await?;
    Ok(Some(assemble(row, memberships)?))
}

/// Outcome of an update guarded by the version the client last saw.
pub enum Update {
    Done(Therapist),
    Stale,
    Missing,
    /// Another therapist took the KP number meanwhile.
    KpNumberTaken,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
    expected_version: Option<i32>,
    fields: &TherapistFields,
) -> Result<Update, ApiError> {
    let agb = agb.as_str();
    let kp_number = fields.kp_number.as_ref().map(KpNumber::as_str);
    let target = therapists::table.filter(therapists::agb.eq(agb));
    // The version guard makes the check and the write one statement: no lost update.
    let query = match expected_version {
        Some(version) => {
            diesel::update(target.filter(therapists::version.eq(version))).into_boxed()
        }
        None => diesel::update(target).into_boxed(),
    };
    let common = (
        therapists::name.eq(fields.name.as_str()),
        therapists::email.eq(fields.email.as_ref().map(|e| e.as_str())),
        therapists::version.eq(therapists::version + 1),
        therapists::updated_at.eq(diesel::dsl::now),
    );
    let updated = if fields.kp_number_changed {
        // Status, period and verification belonged to the previous number.
        query
            .set((
                common,
                therapists::kp_number.eq(kp_number),
                therapists::kp_status.eq(None::<String>),
                therapists::kp_valid_from.eq(None::<NaiveDate>),
                therapists::kp_valid_until.eq(None::<NaiveDate>),
                therapists::kp_verified_at.eq(None::<DateTime<Utc>>),
                therapists::kp_source.eq(fields
                    .kp_number
                    .as_ref()
                    .map(|_| KpSource::Registrar.as_str())),
            ))
            .returning(TherapistRow::as_returning())
            .get_result(conn)
            .await
            .optional()
    } else {
        query
            .set(common)
            .returning(TherapistRow::as_returning())
            .get_result(conn)
            .await
            .optional()
    };
    let updated = match updated {
        Err(error) if is_unique_violation(&error) => return Ok(Update::KpNumberTaken),
        other => other?,
    };
    let Some(row) = updated else {
        return Ok(if exists(conn, agb).await? {
            Update::Stale
        } else {
            Update::Missing
        });
    };
    let memberships = memberships_of(conn, agb, None).await?;
    Ok(Update::Done(assemble(row, memberships)?))
}

/// Whether the therapist has (or had) a membership of the practice.
pub async fn has_membership(
    conn: &mut AsyncPgConnection,
    practice_agb: &OefentherapieAgb,
    therapist_agb: &OefentherapieAgb,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        practice_memberships::table.find((practice_agb.as_str(), therapist_agb.as_str())),
    ))
    .get_result(conn)
    .await
}

/// Creates or replaces the membership; the flag tells whether it was created.
pub async fn put_membership(
    conn: &mut AsyncPgConnection,
    practice_agb: &OefentherapieAgb,
    therapist_agb: &OefentherapieAgb,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
) -> QueryResult<(PracticeMembership, bool)> {
    let (row, created) = diesel::insert_into(practice_memberships::table)
        .values((
            practice_memberships::practice_agb.eq(practice_agb.as_str()),
            practice_memberships::therapist_agb.eq(therapist_agb.as_str()),
            practice_memberships::start_date.eq(start_date),
            practice_memberships::end_date.eq(end_date),
        ))
        .on_conflict((
            practice_memberships::practice_agb,
            practice_memberships::therapist_agb,
        ))
        .do_update()
        .set((
            practice_memberships::start_date.eq(excluded(practice_memberships::start_date)),
            practice_memberships::end_date.eq(excluded(practice_memberships::end_date)),
        ))
        // `xmax = 0` only for a freshly inserted row: one statement tells created from replaced.
        .returning((
            MembershipRow::as_returning(),
            diesel::dsl::sql::<diesel::sql_types::Bool>("xmax = 0"),
        ))
        .get_result::<(MembershipRow, bool)>(conn)
        .await?;
    Ok((row.into(), created))
}

/// Deletes the membership; `false` when there was none.
pub async fn delete_membership(
    conn: &mut AsyncPgConnection,
    practice_agb: &OefentherapieAgb,
    therapist_agb: &OefentherapieAgb,
) -> QueryResult<bool> {
    let deleted = diesel::delete(
        practice_memberships::table.find((practice_agb.as_str(), therapist_agb.as_str())),
    )
    .execute(conn)
    .await?;
    Ok(deleted > 0)
}

/// The therapists of a practice ordered by AGB code, from after `after`, `limit + 1` at most;
/// with `active_on` only memberships that include that day.
pub async fn list_for_practice(
    conn: &mut AsyncPgConnection,
    practice_agb: &OefentherapieAgb,
    active_on: Option<NaiveDate>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<PracticeTherapist>, ApiError> {
    let mut query = practice_memberships::table
        .inner_join(therapists::table)
        .filter(practice_memberships::practice_agb.eq(practice_agb.as_str().to_owned()))
        .order(therapists::agb)
        .limit(limit + 1)
        .select((
            therapists::agb,
            therapists::name,
            practice_memberships::start_date,
            practice_memberships::end_date,
            therapists::kp_number,
            therapists::kp_status,
            therapists::kp_valid_until,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(therapists::agb.gt(after));
    }
    if let Some(day) = active_on {
        query = query
            .filter(practice_memberships::start_date.le(day))
            .filter(
                practice_memberships::end_date
                    .is_null()
                    .or(practice_memberships::end_date.ge(day)),
            );
    }
    type Row = (
        String,
        String,
        NaiveDate,
        Option<NaiveDate>,
        Option<String>,
        Option<String>,
        Option<NaiveDate>,
    );
    let rows: Vec<Row> = query.load(conn).await?;
    rows.into_iter()
        .map(
            |(agb, name, start_date, end_date, kp_number, kp_status, kp_valid_until)| {
                Ok(PracticeTherapist {
                    agb,
                    name,
                    start_date,
                    end_date,
                    kp_number,
                    kp_status: self::kp_status(kp_status.as_deref())?,
                    kp_valid_until,
                })
            },
        )
        .collect()
}
