//! SQL for insurer consents.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{OefentherapieAgb, UzoviCode};

use super::Consent;
use crate::schema::insurer_consents;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = insurer_consents)]
struct ConsentRow {
    practice_agb: String,
    insurer_uzovi: String,
    granted_on: NaiveDate,
    granted_at: DateTime<Utc>,
    granted_by: String,
    revoked_at: Option<DateTime<Utc>>,
    revoked_by: Option<String>,
}

impl From<ConsentRow> for Consent {
    fn from(row: ConsentRow) -> Self {
        Self {
            active: row.revoked_at.is_none(),
            practice_agb: row.practice_agb,
            insurer_uzovi: row.insurer_uzovi,
            granted_on: row.granted_on,
            granted_at: row.granted_at,
            granted_by: row.granted_by,
            revoked_at: row.revoked_at,
            revoked_by: row.revoked_by,
        }
    }
}

/// Whether the practice has an active (not revoked) consent for the insurer.
pub async fn has_consent(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    insurer: &UzoviCode,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        insurer_consents::table
            .find((practice.as_str(), insurer.as_str()))
            .filter(insurer_consents::revoked_at.is_null()),
    ))
    .get_result(conn)
    .await
}

/// Grants consent, or grants it again after a revocation; an active consent gets the new
/// `granted_on`. The flag tells whether no consent was active before.
pub async fn grant(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    insurer: &UzoviCode,
    granted_on: NaiveDate,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<(Consent, bool)> {
    // Locks the row, so that two grants cannot both report the consent as new.
    let was_active = insurer_consents::table
        .find((practice.as_str(), insurer.as_str()))
        .select(insurer_consents::revoked_at.is_null())
        .for_update()
        .first::<bool>(conn)
        .await
        .optional()?
        == Some(true);
    let row = if was_active {
        diesel::update(insurer_consents::table.find((practice.as_str(), insurer.as_str())))
            .set(insurer_consents::granted_on.eq(granted_on))
            .returning(ConsentRow::as_returning())
            .get_result(conn)
            .await?
    } else {
        diesel::insert_into(insurer_consents::table)
            .values((
                insurer_consents::practice_agb.eq(practice.as_str()),
                insurer_consents::insurer_uzovi.eq(insurer.as_str()),
                insurer_consents::granted_on.eq(granted_on),
                insurer_consents::granted_at.eq(at),
                insurer_consents::granted_by.eq(by),
            ))
            .on_conflict((
                insurer_consents::practice_agb,
                insurer_consents::insurer_uzovi,
            ))
            .do_update()
            .set((
                insurer_consents::granted_on.eq(granted_on),
                insurer_consents::granted_at.eq(at),
                insurer_consents::granted_by.eq(by),
                insurer_consents::revoked_at.eq(None::<DateTime<Utc>>),
                insurer_consents::revoked_by.eq(None::<String>),
            ))
            .returning(ConsentRow::as_returning())
            .get_result(conn)
            .await?
    };
    Ok((row.into(), !was_active))
}

/// Revokes the active consent; `None` when there was none.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    insurer: &UzoviCode,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<Option<Consent>> {
    let row = diesel::update(
        insurer_consents::table
            .find((practice.as_str(), insurer.as_str()))
            .filter(insurer_consents::revoked_at.is_null()),
    )
    .set((
        insurer_consents::revoked_at.eq(at),
        insurer_consents::revoked_by.eq(by),
    ))
    .returning(ConsentRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(Consent::from))
}

/// The practice's consents (active and revoked) by UZOVI code, after `after`, `limit + 1` at most.
pub async fn list_for_practice(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    after: Option<String>,
    limit: i64,
) -> QueryResult<Vec<Consent>> {
    let mut query = insurer_consents::table
        .filter(insurer_consents::practice_agb.eq(practice.as_str().to_string()))
        .select(ConsentRow::as_select())
        .order(insurer_consents::insurer_uzovi)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(insurer_consents::insurer_uzovi.gt(after));
    }
    Ok(query
        .load(conn)
        .await?
        .into_iter()
        .map(Consent::from)
        .collect())
}
