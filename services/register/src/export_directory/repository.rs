//! The queries behind the export directory: one per kind of fact, each over every practice, read
//! in one repeatable-read snapshot by the caller so that the three agree.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_events::{
    ExportDirectory, ExportDirectoryConsent, ExportDirectoryPractice, ExportDirectoryRegistration,
    PracticeLocation,
};
use praktijkregister_platform::error::ApiError;

#[derive(diesel::QueryableByName)]
struct PracticeRow {
    #[diesel(sql_type = Text)]
    agb: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kvk_number: String,
    #[diesel(sql_type = Text)]
    tier: String,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

#[derive(diesel::QueryableByName)]
struct LocationRow {
    #[diesel(sql_type = Text)]
    practice_agb: String,
    #[diesel(sql_type = Text)]
    agb: String,
    #[diesel(sql_type = Text)]
    kvk_branch_number: String,
    #[diesel(sql_type = Text)]
    street: String,
    #[diesel(sql_type = Text)]
    house_number: String,
    #[diesel(sql_type = Text)]
    postal_code: String,
    #[diesel(sql_type = Text)]
    city: String,
}

#[derive(diesel::QueryableByName)]
struct RegistrationRow {
    #[diesel(sql_type = Text)]
    practice_agb: String,
    #[diesel(sql_type = Int4)]
    cycle_year: i32,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    registered_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

#[derive(diesel::QueryableByName)]
struct ConsentRow {
    #[diesel(sql_type = Text)]
    practice_agb: String,
    #[diesel(sql_type = Text)]
    insurer_uzovi: String,
    #[diesel(sql_type = Bool)]
    given: bool,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

/// Every practice with its locations, registrations and consents.
pub async fn directory(conn: &mut AsyncPgConnection) -> Result<ExportDirectory, ApiError> {
    let practices: Vec<PracticeRow> = diesel::sql_query(
        "SELECT agb, name, kvk_number, tier, updated_at FROM practices ORDER BY agb",
    )
    .load(conn)
    .await?;
    let locations: Vec<LocationRow> = diesel::sql_query(
        "SELECT practice_agb, agb, kvk_branch_number, street, house_number, postal_code, city \
         FROM practice_locations ORDER BY practice_agb, position",
    )
    .load(conn)
    .await?;
    let registrations: Vec<RegistrationRow> = diesel::sql_query(
        "SELECT practice_agb, cycle_year, state, registered_at, updated_at FROM registrations \
         ORDER BY practice_agb, cycle_year",
    )
    .load(conn)
    .await?;
    // A consent's time is that of its last event: the revocation, or else the grant.
    let consents: Vec<ConsentRow> = diesel::sql_query(
        "SELECT practice_agb, insurer_uzovi, revoked_at IS NULL AS given, \
           COALESCE(revoked_at, granted_at) AS updated_at \
         FROM insurer_consents ORDER BY practice_agb, insurer_uzovi",
    )
    .load(conn)
    .await?;
    assemble(practices, locations, registrations, consents)
}

fn assemble(
    practices: Vec<PracticeRow>,
    locations: Vec<LocationRow>,
    registrations: Vec<RegistrationRow>,
    consents: Vec<ConsentRow>,
) -> Result<ExportDirectory, ApiError> {
    let mut locations_of: BTreeMap<String, Vec<PracticeLocation>> = BTreeMap::new();
    for l in locations {
        locations_of
            .entry(l.practice_agb)
            .or_default()
            .push(PracticeLocation {
                agb: l.agb,
                kvk_branch_number: l.kvk_branch_number,
                street: l.street,
                house_number: l.house_number,
                postal_code: l.postal_code,
                city: l.city,
            });
    }
    let mut registrations_of: BTreeMap<String, Vec<ExportDirectoryRegistration>> = BTreeMap::new();
    for r in registrations {
        registrations_of
            .entry(r.practice_agb)
            .or_default()
            .push(ExportDirectoryRegistration {
                cycle_year: u16::try_from(r.cycle_year).map_err(ApiError::internal)?,
                state: r.state,
                registered_at: r.registered_at,
                updated_at: r.updated_at,
            });
    }
    let mut consents_of: BTreeMap<String, Vec<ExportDirectoryConsent>> = BTreeMap::new();
    for c in consents {
        consents_of
            .entry(c.practice_agb)
            .or_default()
            .push(ExportDirectoryConsent {
                insurer_uzovi: c.insurer_uzovi,
                given: c.given,
                updated_at: c.updated_at,
            });
    }
    let practices = practices
        .into_iter()
        .map(|p| ExportDirectoryPractice {
            locations: locations_of.remove(&p.agb).unwrap_or_default(),
            registrations: registrations_of.remove(&p.agb).unwrap_or_default(),
            consents: consents_of.remove(&p.agb).unwrap_or_default(),
            agb: p.agb,
            name: p.name,
            kvk_number: p.kvk_number,
            tier: p.tier,
            updated_at: p.updated_at,
        })
        .collect();
    Ok(ExportDirectory { practices })
}
