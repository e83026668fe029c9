//! Compliance evidence (DESIGN §3.5): assembled from the register's tables into the domain's
//! [`Evidence`] record, evaluated per criterion for one practice, and streamed for all practices
//! to the insurer-export service.

pub mod repository;
pub mod routes;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{
    CycleYear, Evidence, IntervisionMembership, IopEvidence, KpStatus, MonthEvidence,
    OefentherapieAgb, Period, PremDomainScore, PremEvidence, RegistrationState, SharedAddress,
    TherapistEvidence, TreatmentIndexEvidence, VisitationEvidence,
};
use praktijkregister_platform::db::{connection, decode, DbPool};
use praktijkregister_platform::error::ApiError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::national::NationalCache;

/// A line of the evidence feed: an evidence record, or the trailer that ends the feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EvidenceFeedLine {
    Evidence(Box<Evidence>),
    End(EvidenceFeedEnd),
}

/// The last line of a complete evidence feed: a body without it was broken off.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"end_of_feed": true, "records": 10000}))]
pub struct EvidenceFeedEnd {
    /// Always `true`: this line is the trailer, not an evidence record.
    pub end_of_feed: bool,
    /// How many evidence records the feed sent before this line.
    pub records: u64,
}

/// The insurer a compliance question is asked for: its ceiling and whether the practice consented.
#[derive(Debug, Clone, Copy)]
pub struct InsurerContext {
    pub ceiling: f64,
    pub consent_given: bool,
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

/// The months of `year` that are complete before `as_of`: those a monthly delivery is due for.
pub fn due_months(year: CycleYear, as_of: NaiveDate) -> Vec<Period> {
    let y = i32::from(year.value());
    (1..=12)
        .filter_map(|month| Period::from_first_day(date(y, month, 1)))
        .filter(|period| period.last_day() < as_of)
        .collect()
}

/// The national PREM mean per domain of a year: the benchmark of 001 §1.5g.
pub type NationalPrem = BTreeMap<String, Option<f64>>;

/// The national PREM means of `year`, computed once and shared (DESIGN §7). The computation
/// takes its own connection, so that requests waiting for it hold none.
pub async fn national_prem(
    cache: &NationalCache<NationalPrem>,
    pool: &DbPool,
    year: CycleYear,
) -> Result<Arc<NationalPrem>, ApiError> {
    let y = i32::from(year.value());
    let (from, next_year) = (date(y, 1, 1), date(y + 1, 1, 1));
    cache
        .get_or_compute(y, || async move {
            let mut conn = connection(pool).await?;
            let rows = repository::prem_national(&mut conn, from, next_year).await?;
            Ok::<_, ApiError>(rows.into_iter().map(|r| (r.domain, r.mean)).collect())
        })
        .await
}

fn count(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// The evidence of every practice in `agbs` for `year`, as known on `as_of`, with the national
/// PREM means of that year. Call it in a transaction: it chooses how its statements are planned
/// for the rest of it ([`repository::choose_plans`]).
pub async fn assemble(
    conn: &mut AsyncPgConnection,
    year: CycleYear,
    as_of: NaiveDate,
    practices: &[OefentherapieAgb],
    insurer: Option<InsurerContext>,
    national: &NationalPrem,
) -> Result<Vec<Evidence>, ApiError> {
    repository::choose_plans(conn, practices.len()).await?;
    let agbs: Vec<String> = practices.iter().map(|a| a.as_str().to_string()).collect();
    let agbs = agbs.as_slice();
    let y = i32::from(year.value());
    let (from, to) = (date(y, 1, 1), date(y, 12, 31));
    let next_year = date(y + 1, 1, 1);

    let mut months: BTreeMap<(String, NaiveDate), repository::MonthRow> =
        repository::months(conn, agbs, from, next_year)
            .await?
            .into_iter()
            .map(|row| ((row.practice_agb.clone(), row.period), row))
            .collect();
    let therapist_rows = repository::therapists(conn, agbs, from, to, y).await?;
    let therapist_agbs: Vec<String> = therapist_rows.iter().map(|t| t.agb.clone()).collect();
    let mut intervision: BTreeMap<String, Vec<IntervisionMembership>> = BTreeMap::new();
    for row in repository::intervision(conn, &therapist_agbs, from, to, y).await? {
        intervision
            .entry(row.therapist_agb)
            .or_default()
            .push(IntervisionMembership {
                group_id: row.group_id,
                group_size: count(row.group_size),
                practices_in_group: count(row.practices_in_group),
                physical_meetings_attended: count(row.physical_meetings_attended),
                facilitator_trained_all: row.facilitator_trained_all,
                adap_accredited_for_year: row.adap_accredited_for_year,
            });
    }
    let mut prem: BTreeMap<String, Vec<PremDomainScore>> = BTreeMap::new();
    for row in repository::prem(conn, agbs, from, next_year).await? {
        let scores = prem.entry(row.practice_agb).or_default();
        if let Some(domain) = row.domain {
            scores.push(PremDomainScore {
                benchmark_mean: national.get(&domain).copied().flatten(),
                practice_mean: row.practice_mean,
                domain,
            });
        }
    }
    let indices: BTreeMap<String, TreatmentIndexEvidence> =
        repository::treatment_indices(conn, agbs, i32::from(year.treatment_index_year()))
            .await?
            .into_iter()
            .map(|row| {
                let index = TreatmentIndexEvidence {
                    value: row.value,
                    ci_lower: row.ci_lower,
                    ci_upper: row.ci_upper,
                };
                (row.practice_agb, index)
            })
            .collect();
    let registrations = repository::registrations(conn, agbs, y).await?;
    let mut shared: BTreeMap<String, Vec<SharedAddress>> = BTreeMap::new();
    for row in repository::shared_addresses(conn, agbs).await? {
        let other = decode(
            "practice_locations.practice_agb",
            &row.other_practice_agb,
            OefentherapieAgb::parse,
        )?;
        shared
            .entry(row.practice_agb)
            .or_default()
            .push(SharedAddress {
                other_practice_agb: other,
                own_kvk: row.own_kvk,
                own_entrance: row.own_entrance,
                own_phone: row.own_phone,
                own_website: row.own_website,
                own_waiting_room: row.own_waiting_room,
                own_reception: row.own_reception,
                own_administration: row.own_administration,
                own_logo: row.own_logo,
            });
    }
    let due = due_months(year, as_of);

    let registrations = registrations
        .iter()
        .map(|r| {
            let state = decode("registrations.state", &r.state, RegistrationState::parse)?;
            // Whether the report is uploaded is known once an outcome is recorded: the outcome
            // carries the report's SHA-256 when there is one (001 §1.2g).
            let report_uploaded = r
                .visitation_outcome_date
                .map(|_| r.visitation_report_sha256.is_some());
            Ok((
                r.practice_agb.as_str(),
                r.cycle_year,
                state,
                report_uploaded,
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut evidence = Vec::with_capacity(practices.len());
    for practice_agb in practices {
        let agb = &practice_agb.as_str().to_string();
        let months = due
            .iter()
            .map(
                |period| match months.remove(&(agb.clone(), period.first_day())) {
                    Some(row) => MonthEvidence {
                        period: *period,
                        delivered: true,
                        ldo_upload_date: row.ldo_upload_date,
                        ldo_records_delivered: count(row.ldo_records_delivered),
                        ldo_records_complete: count(row.ldo_records_complete),
                        prem_eligible: count(row.prem_eligible),
                        prem_offered: count(row.prem_offered),
                    },
                    None => MonthEvidence {
                        period: *period,
                        delivered: false,
                        ldo_upload_date: None,
                        ldo_records_delivered: 0,
                        ldo_records_complete: 0,
                        prem_eligible: 0,
                        prem_offered: 0,
                    },
                },
            )
            .collect();
        let therapists = therapist_rows
            .iter()
            .filter(|t| &t.practice_agb == agb)
            .map(|t| {
                Ok(TherapistEvidence {
                    agb: decode("therapists.agb", &t.agb, OefentherapieAgb::parse)?,
                    kp_status: t
                        .kp_status
                        .as_deref()
                        .map(|s| decode("therapists.kp_status", s, KpStatus::parse))
                        .transpose()?,
                    kp_valid_from: t.kp_valid_from,
                    kp_valid_until: t.kp_valid_until,
                    iop: t.iop_drawn_up_on.map(|drawn_up_on| IopEvidence {
                        drawn_up_on,
                        uploaded_to_kp_on: t.iop_uploaded_to_kp_on,
                        // Outer-joined: null only without an IOP, and then there is no IOP here.
                        quarterly_updates: t.iop_quarterly_updates.clone().unwrap_or_default(),
                    }),
                    // A therapist in no group has no memberships.
                    intervision: intervision.get(&t.agb).cloned().unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let state_of = |cycle_year: i32| {
            registrations
                .iter()
                .find(|(practice, year, _, _)| *practice == agb && *year == cycle_year)
                .map(|(_, _, state, report_uploaded)| (*state, *report_uploaded))
        };
        let (this_year, report_uploaded) = state_of(y).unzip();
        let registered_before =
            state_of(y - 1).map(|(state, _)| state) == Some(RegistrationState::Registered);
        let domain_scores = prem.remove(agb);
        evidence.push(Evidence {
            practice_agb: practice_agb.clone(),
            year,
            as_of,
            months,
            therapists,
            prem: PremEvidence {
                measured: domain_scores.is_some(),
                domain_scores: domain_scores.unwrap_or_default(),
            },
            treatment_index: indices.get(agb).copied(),
            insurer_ceiling: insurer.map(|i| i.ceiling),
            consent_given: insurer.map(|i| i.consent_given),
            visitation: VisitationEvidence {
                registered_for_year: this_year == Some(RegistrationState::Registered),
                visitation_positive_in_year: matches!(
                    this_year,
                    Some(RegistrationState::Registered | RegistrationState::AwaitingKp)
                ),
                report_uploaded: report_uploaded.flatten(),
                entry_visitation_in_time: registered_before.then_some(true),
            },
            shared_address: shared.remove(agb).unwrap_or_default(),
        });
    }
    Ok(evidence)
}
