//! SQL for the KP data of therapists.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{KpNumber, OefentherapieAgb};

use super::import::{KpRow, Lookup};
use super::verifier::KpRecord;
use super::KpSource;
use crate::schema::therapists;

/// Which of `agbs` are therapists of the register, and who holds each of `kp_numbers`.
pub async fn lookup(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
    kp_numbers: &[String],
) -> QueryResult<Lookup> {
    let known: Vec<String> = therapists::table
        .filter(therapists::agb.eq_any(agbs))
        .select(therapists::agb)
        .load(conn)
        .await?;
    let holders: Vec<(Option<String>, String)> = therapists::table
        .filter(therapists::kp_number.eq_any(kp_numbers))
        .select((therapists::kp_number, therapists::agb))
        .load(conn)
        .await?;
    Ok(Lookup {
        known_agbs: known.into_iter().collect(),
        kp_holders: holders
            .into_iter()
            .filter_map(|(number, agb)| Some((number?, agb)))
            .collect(),
    })
}

/// Stores the imported rows in one statement; returns the number of therapists changed.
pub async fn apply_import(conn: &mut AsyncPgConnection, rows: &[KpRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let agbs: Vec<&str> = rows.iter().map(|r| r.agb.as_str()).collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.kp_number.as_str()).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    let from: Vec<Option<NaiveDate>> = rows.iter().map(|r| r.valid_from).collect();
    let until: Vec<Option<NaiveDate>> = rows.iter().map(|r| r.valid_until).collect();
    diesel::sql_query(
        "UPDATE therapists AS t SET kp_number = u.kp_number, kp_status = u.status, \
             kp_valid_from = u.valid_from, kp_valid_until = u.valid_until, kp_source = $6, \
             kp_verified_at = now(), version = t.version + 1, updated_at = now() \
         FROM unnest($1, $2, $3, $4, $5) AS u(agb, kp_number, status, valid_from, valid_until) \
         WHERE t.agb = u.agb",
    )
    .bind::<Array<Text>, _>(agbs)
    .bind::<Array<Text>, _>(numbers)
    .bind::<Array<Text>, _>(statuses)
    .bind::<Array<Nullable<Date>>, _>(from)
    .bind::<Array<Nullable<Date>>, _>(until)
    .bind::<Text, _>(KpSource::Import.as_str())
    .execute(conn)
    .await
}

/// Stores a verification result, provided the therapist still has `kp_number`; `false` otherwise.
pub async fn store_verification(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
    kp_number: &KpNumber,
    record: &KpRecord,
) -> QueryResult<bool> {
    let updated = diesel::update(
        therapists::table
            .filter(therapists::agb.eq(agb.as_str()))
            .filter(therapists::kp_number.eq(kp_number.as_str())),
    )
    .set((
        therapists::kp_status.eq(record.status.as_str()),
        therapists::kp_valid_from.eq(record.valid_from),
        therapists::kp_valid_until.eq(record.valid_until),
        therapists::kp_verified_at.eq(diesel::dsl::now),
        therapists::kp_source.eq(KpSource::Verifier.as_str()),
        therapists::version.eq(therapists::version + 1),
        therapists::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(updated > 0)
}
