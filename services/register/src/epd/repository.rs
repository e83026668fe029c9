//! SQL for EPD authorisations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{EpdVendorId, OefentherapieAgb};

use super::EpdAuthorization;
use crate::schema::epd_authorizations;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = epd_authorizations)]
struct AuthorizationRow {
    practice_agb: String,
    epd_vendor: String,
    authorized_at: DateTime<Utc>,
    authorized_by: String,
    revoked_at: Option<DateTime<Utc>>,
    revoked_by: Option<String>,
}

impl From<AuthorizationRow> for EpdAuthorization {
    fn from(row: AuthorizationRow) -> Self {
        Self {
            active: row.revoked_at.is_none(),
            practice_agb: row.practice_agb,
            epd_vendor: row.epd_vendor,
            authorized_at: row.authorized_at,
            authorized_by: row.authorized_by,
            revoked_at: row.revoked_at,
            revoked_by: row.revoked_by,
        }
    }
}

/// Whether `vendor` holds an active authorisation of the practice.
pub async fn is_authorized(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    vendor: &EpdVendorId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        epd_authorizations::table
            .find((practice.as_str(), vendor.as_str()))
            .filter(epd_authorizations::revoked_at.is_null()),
    ))
    .get_result(conn)
    .await
}

/// Like [`is_authorized`], and holds the authorisation for the rest of the transaction: a
/// revocation waits until the write that relies on it is done.
pub async fn hold_authorization(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    vendor: &EpdVendorId,
) -> QueryResult<bool> {
    let held: Option<String> = epd_authorizations::table
        .find((practice.as_str(), vendor.as_str()))
        .filter(epd_authorizations::revoked_at.is_null())
        .select(epd_authorizations::epd_vendor)
        .for_share()
        .first(conn)
        .await
        .optional()?;
    Ok(held.is_some())
}

/// Grants the authorisation: creates it, or reactivates a revoked one. The flag tells whether
/// anything changed (false when it already was active).
pub async fn grant(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    vendor: &EpdVendorId,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<(EpdAuthorization, bool)> {
    let inserted = diesel::insert_into(epd_authorizations::table)
        .values((
            epd_authorizations::practice_agb.eq(practice.as_str()),
            epd_authorizations::epd_vendor.eq(vendor.as_str()),
            epd_authorizations::authorized_at.eq(at),
            epd_authorizations::authorized_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .returning(AuthorizationRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(row) = inserted {
        return Ok((row.into(), true));
    }
    let reactivated = diesel::update(
        epd_authorizations::table
            .find((practice.as_str(), vendor.as_str()))
            .filter(epd_authorizations::revoked_at.is_not_null()),
    )
    .set((
        epd_authorizations::authorized_at.eq(at),
        epd_authorizations::authorized_by.eq(by),
        epd_authorizations::revoked_at.eq(None::<DateTime<Utc>>),
        epd_authorizations::revoked_by.eq(None::<String>),
    ))
    .returning(AuthorizationRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    if let Some(row) = reactivated {
        return Ok((row.into(), true));
    }
    let active = epd_authorizations::table
        .find((practice.as_str(), vendor.as_str()))
        .select(AuthorizationRow::as_select())
        .first(conn)
        .await?;
    Ok((active.into(), false))
}

/// Revokes an active authorisation; `None` when there was none.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    vendor: &EpdVendorId,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<Option<EpdAuthorization>> {
    let row = diesel::update(
        epd_authorizations::table
            .find((practice.as_str(), vendor.as_str()))
            .filter(epd_authorizations::revoked_at.is_null()),
    )
    .set((
        epd_authorizations::revoked_at.eq(at),
        epd_authorizations::revoked_by.eq(by),
    ))
    .returning(AuthorizationRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(EpdAuthorization::from))
}

/// The practice's authorisations, active and revoked, by vendor id, from after `after`,
/// `limit + 1` at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    after: Option<String>,
    limit: i64,
) -> QueryResult<Vec<EpdAuthorization>> {
    let mut query = epd_authorizations::table
        .filter(epd_authorizations::practice_agb.eq(practice.as_str().to_string()))
        .select(AuthorizationRow::as_select())
        .order(epd_authorizations::epd_vendor)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(epd_authorizations::epd_vendor.gt(after));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(EpdAuthorization::from).collect())
}
