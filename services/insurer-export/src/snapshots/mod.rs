//! The yearly snapshot of an insurer's list (000: once a year, on the export date, the registered
//! practices go to the insurers that contract differentiated; 001 §2.2: the insurer receives an
//! overview of the practices that take part and meet the register's requirements and its Plus
//! conditions). A snapshot lists exactly the practices registered for cycle year Y when it is
//! built, for contract year Y+1, each judged on the insurer's criteria set by the same
//! `evaluate_criterion` the register's compliance endpoint uses, over the register's evidence
//! feed. Without the practice's consent for the insurer (001 §1.3c), criteria that read quality
//! data answer `no_consent` and show no figures.
//!
//! A snapshot never changes: its body is canonical JSON (RFC 8785), its id the SHA-256 of that
//! body, and it is signed with a detached JWS (Ed25519). A correction is a new snapshot that
//! supersedes the first, with a reason; the first stays readable.

pub mod formats;
pub mod routes;
pub mod stream;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{
    evaluate_criterion, ComplianceStatus, ContractYear, CriteriaSet, Criterion, Evidence,
    EvidenceItem, Thresholds, UzoviCode,
};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::canonical_json;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::service_client::ServiceClient;
use praktijkregister_platform::signing::TokenSigner;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::insurers::{self, CriteriaVersion};
use crate::schema::{consents, practices, registrations, snapshots};

/// The format of the body, so that a reader knows what it reads.
pub const FORMAT: &str = "praktijkregister-insurer-snapshot/1";

/// The answer on one criterion for one practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    Met,
    NotMet,
    /// The evidence needed is missing.
    Unknown,
    /// The criterion reads quality data the practice did not consent to share with the insurer
    /// (001 §1.3c).
    NoConsent,
}

impl CriterionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::NotMet => "not_met",
            Self::Unknown => "unknown",
            Self::NoConsent => "no_consent",
        }
    }
}

impl From<ComplianceStatus> for CriterionStatus {
    fn from(status: ComplianceStatus) -> Self {
        match status {
            ComplianceStatus::Met => Self::Met,
            ComplianceStatus::NotMet => Self::NotMet,
            ComplianceStatus::Unknown => Self::Unknown,
        }
    }
}

/// One criterion of the insurer's set, judged for one practice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CriterionOutcome {
    pub id: Criterion,
    pub title: String,
    /// The section of 001 the criterion comes from.
    pub source: String,
    pub status: CriterionStatus,
    /// The figures, dates and ids it was judged on; empty for `no_consent`.
    pub evidence: Vec<EvidenceItem>,
    /// Why it is not met, unknown or not judged; `None` when met.
    pub reason: Option<String>,
}

/// A location (vestiging) of a listed practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListedLocation {
    /// AGB code of the location (vestiging).
    pub agb: String,
    pub kvk_branch_number: String,
    pub street: String,
    pub house_number: String,
    pub postal_code: String,
    pub city: String,
}

/// One practice on the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListedPractice {
    /// AGB code of the practice (onderneming).
    pub agb: String,
    pub name: String,
    pub kvk_number: String,
    /// Register tier (`basis`, `plus`, ...).
    pub tier: String,
    /// When the registration for the cycle year became registered.
    pub registered_at: Option<DateTime<Utc>>,
    pub locations: Vec<ListedLocation>,
    /// Whether the practice consented to share its quality data with this insurer.
    pub consent: bool,
    /// Every criterion met.
    pub eligible: bool,
    /// `not_met` when any criterion is not met; else `unknown` when any is unknown or not judged
    /// for want of consent; else `met`.
    pub outcome: CriterionStatus,
    pub criteria: Vec<CriterionOutcome>,
}

/// The insurer a snapshot is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotInsurer {
    pub uzovi: String,
    pub name: String,
}

/// The criteria set a snapshot applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotCriteria {
    pub version: i32,
    pub base_set: Option<CriteriaSet>,
    pub criteria: Vec<Criterion>,
    pub thresholds: Thresholds,
}

/// The body of a snapshot: what is hashed and signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "format": "praktijkregister-insurer-snapshot/1",
    "insurer": {"uzovi": "3311", "name": "Zorgverzekeraar Oost"},
    "contract_year": 2027, "cycle_year": 2026, "built_at": "2026-10-31T23:00:00Z",
    "criteria_set": {"version": 1, "base_set": "basis", "criteria": ["basis.kp_registered", "basis.prem_measured"],
        "thresholds": {"ldo_fill_rate_ldi": 0.8, "ldo_fill_rate_plus": 0.9, "prem_offered_rate_plus": 0.7,
        "intervision_min_physical_meetings": 4, "intervision_group_min": 4, "intervision_group_max": 12,
        "intervision_min_practices": 2, "treatment_index_ceiling": 149}},
    "supersedes": null, "correction_reason": null,
    "practices": [{"agb": "07012345", "name": "Oefentherapie De Linde", "kvk_number": "12345678", "tier": "basis",
        "registered_at": "2026-06-01T10:00:00Z",
        "locations": [{"agb": "07012346", "kvk_branch_number": "000012345678", "street": "Lindelaan", "house_number": "1",
            "postal_code": "3511 AB", "city": "Utrecht"}],
        "consent": false, "eligible": false, "outcome": "unknown",
        "criteria": [{"id": "basis.prem_measured", "title": "Patient experiences are measured with the PREM",
            "source": "001 Voorwaarden Basisovereenkomst, condition 2", "status": "no_consent", "evidence": [],
            "reason": "the practice has not consented to share quality data with this insurer (001 §1.3c)"}]}]
}))]
pub struct SnapshotBody {
    pub format: String,
    pub insurer: SnapshotInsurer,
    pub contract_year: u16,
    /// Cycle year Y whose registered practices are listed (the contract year minus one).
    pub cycle_year: u16,
    pub built_at: DateTime<Utc>,
    pub criteria_set: SnapshotCriteria,
    /// The snapshot this one corrects.
    pub supersedes: Option<String>,
    pub correction_reason: Option<String>,
    /// Exactly the practices registered for the cycle year, by AGB code.
    pub practices: Vec<ListedPractice>,
}

/// A snapshot as stored, without its body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = snapshots)]
#[schema(example = json!({
    "id": "9f2c0e4a6b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f", "insurer_uzovi": "3311",
    "contract_year": 2027, "practices": 812, "supersedes": null, "correction_reason": null,
    "superseded_by": null, "built_by": "schedule", "created_at": "2026-10-31T23:00:00Z"
}))]
pub struct SnapshotSummary {
    /// SHA-256 of the body, lower-case hex; also the `ETag` of the export.
    pub id: String,
    pub insurer_uzovi: String,
    pub contract_year: i32,
    /// Practices listed.
    pub practices: i32,
    pub supersedes: Option<String>,
    pub correction_reason: Option<String>,
    /// The correction that replaced this snapshot, if any.
    pub superseded_by: Option<String>,
    /// The client that built it, or `schedule`.
    pub built_by: String,
    pub created_at: DateTime<Utc>,
}

/// Judges one practice on the insurer's criteria: the same rules as the register's compliance,
/// over the register's evidence, with the insurer's thresholds and the practice's consent.
pub fn judge(
    evidence: Option<&Evidence>,
    consent: bool,
    criteria: &[Criterion],
    thresholds: &Thresholds,
) -> Vec<CriterionOutcome> {
    let evidence = evidence.map(|e| Evidence {
        consent_given: Some(consent),
        // The insurer's ceiling is its threshold.
        insurer_ceiling: None,
        ..e.clone()
    });
    criteria
        .iter()
        .map(|criterion| match &evidence {
            _ if !consent && criterion.needs_quality_data() => CriterionOutcome {
                id: *criterion,
                title: criterion.title().to_string(),
                source: criterion.source().to_string(),
                status: CriterionStatus::NoConsent,
                evidence: Vec::new(),
                reason: Some(
                    "the practice has not consented to share quality data with this insurer \
                     (001 §1.3c)"
                        .to_string(),
                ),
            },
            None => CriterionOutcome {
                id: *criterion,
                title: criterion.title().to_string(),
                source: criterion.source().to_string(),
                status: CriterionStatus::Unknown,
                evidence: Vec::new(),
                reason: Some("the register's evidence feed has no record of the practice".into()),
            },
            Some(evidence) => {
                let result = evaluate_criterion(*criterion, evidence, thresholds);
                CriterionOutcome {
                    id: result.id,
                    title: result.title,
                    source: result.source,
                    status: result.status.into(),
                    evidence: result.evidence,
                    reason: result.reason,
                }
            }
        })
        .collect()
}

/// The overall answer: not met when any is; else unknown when any is unknown or not judged;
/// else met (DESIGN §3.5).
pub fn outcome(criteria: &[CriterionOutcome]) -> CriterionStatus {
    let statuses: BTreeSet<&str> = criteria.iter().map(|c| c.status.as_str()).collect();
    if statuses.contains("not_met") {
        CriterionStatus::NotMet
    } else if statuses.contains("unknown") || statuses.contains("no_consent") {
        CriterionStatus::Unknown
    } else {
        CriterionStatus::Met
    }
}

/// The evidence of every practice for `cycle_year`, from the register's NDJSON feed; refused
/// unless the feed ends with its trailer and the trailer's count.
pub async fn evidence_feed(
    register: &ServiceClient,
    cycle_year: u16,
) -> Result<BTreeMap<String, Evidence>, ApiError> {
    let body = register
        .get_bytes(
            &format!("/v1/internal/evidence/{cycle_year}"),
            "application/x-ndjson",
        )
        .await?;
    let broken = |detail: String| ApiError::BadGateway(format!("the evidence feed {detail}"));
    let mut records = BTreeMap::new();
    let mut trailer = None;
    for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        if trailer.is_some() {
            return Err(broken("has lines after its trailer".into()));
        }
        let value: Value = serde_json::from_slice(line)
            .map_err(|e| broken(format!("has a line that is not JSON: {e}")))?;
        if value.get("end_of_feed") == Some(&Value::Bool(true)) {
            trailer = value.get("records").and_then(Value::as_u64);
            if trailer.is_none() {
                return Err(broken("has a trailer without a count".into()));
            }
            continue;
        }
        let evidence: Evidence = serde_json::from_value(value)
            .map_err(|e| broken(format!("has a record that is not evidence: {e}")))?;
        records.insert(evidence.practice_agb.as_str().to_string(), evidence);
    }
    match trailer {
        Some(count) if count == records.len() as u64 => Ok(records),
        Some(count) => Err(broken(format!(
            "announced {count} records but sent {}",
            records.len()
        ))),
        None => Err(broken("ended without its trailer".into())),
    }
}

#[derive(Queryable)]
struct RegisteredRow {
    agb: String,
    name: String,
    kvk_number: String,
    tier: String,
    locations: Value,
    registered_at: Option<DateTime<Utc>>,
}

/// What a build needs besides the database.
pub struct Builder<'a> {
    pub signer: &'a TokenSigner,
    pub register: &'a ServiceClient,
    pub now: DateTime<Utc>,
}

/// Why a build is for a correction.
pub struct Correction<'a> {
    pub reason: &'a str,
}

impl Builder<'_> {
    /// Builds, signs and stores the snapshot of `uzovi` for `contract_year`; with `correction`,
    /// one that supersedes the current snapshot. 409 when the insurer does not contract
    /// differentiated, has no criteria for the year, already has a snapshot (without
    /// `correction`) or has none to correct.
    pub async fn build(
        &self,
        pool: &DbPool,
        actor: Actor<'_>,
        uzovi: &UzoviCode,
        contract_year: ContractYear,
        correction: Option<Correction<'_>>,
    ) -> Result<SnapshotSummary, ApiError> {
        let cycle_year = contract_year.cycle_year().value();
        {
            // Refuse early, before the feed is read, what the transaction would refuse anyway.
            let mut conn = connection(pool).await?;
            precheck(&mut conn, uzovi, contract_year, correction.is_some()).await?;
        }
        let evidence = evidence_feed(self.register, cycle_year).await?;
        let mut conn = connection(pool).await?;
        let built_at = self.now;
        let signer = self.signer;
        let actor_id = actor.client_id.to_string();
        let summary = audit::transaction(&mut conn, actor, |conn| {
            async move {
                let (insurer, criteria, current) =
                    precheck(conn, uzovi, contract_year, correction.is_some()).await?;
                let listed = list(conn, uzovi, cycle_year, &criteria, &evidence).await?;
                let body = SnapshotBody {
                    format: FORMAT.to_string(),
                    insurer: SnapshotInsurer {
                        uzovi: insurer.uzovi.clone(),
                        name: insurer.name.clone(),
                    },
                    contract_year: contract_year.value(),
                    cycle_year,
                    built_at,
                    criteria_set: SnapshotCriteria {
                        version: criteria.version,
                        base_set: criteria.base_set,
                        criteria: criteria.criteria.clone(),
                        thresholds: criteria.thresholds,
                    },
                    supersedes: current.clone(),
                    correction_reason: correction.as_ref().map(|c| c.reason.to_string()),
                    practices: listed,
                };
                let bytes = canonical_json::to_vec_of(&body).map_err(ApiError::internal)?;
                let id = sha256_hex(&bytes);
                let signature = signer.sign_detached(&bytes).map_err(ApiError::internal)?;
                if let Some(previous) = &current {
                    diesel::update(snapshots::table.find(previous))
                        .set(snapshots::superseded_by.eq(&id))
                        .execute(conn)
                        .await?;
                }
                let changes_seq = crate::changes::last_seq(conn).await?;
                let summary: SnapshotSummary = diesel::insert_into(snapshots::table)
                    .values((
                        snapshots::id.eq(&id),
                        snapshots::insurer_uzovi.eq(uzovi.as_str()),
                        snapshots::contract_year.eq(i32::from(contract_year.value())),
                        snapshots::criteria_set_id.eq(criteria.id),
                        snapshots::body.eq(&bytes),
                        snapshots::signature.eq(&signature),
                        snapshots::practices
                            .eq(i32::try_from(body.practices.len()).unwrap_or(i32::MAX)),
                        snapshots::changes_seq.eq(changes_seq),
                        snapshots::supersedes.eq(&current),
                        snapshots::correction_reason.eq(&body.correction_reason),
                        snapshots::built_by.eq(&actor_id),
                        snapshots::created_at.eq(built_at),
                    ))
                    .returning(SnapshotSummary::as_returning())
                    .get_result(conn)
                    .await?;
                insurers::freeze(conn, criteria.id).await?;
                let event = AuditEvent::success(
                    if current.is_some() {
                        "snapshot.correct"
                    } else {
                        "snapshot.build"
                    },
                    "snapshot",
                    &id,
                )
                .with_detail(serde_json::json!({
                    "insurer": uzovi, "contract_year": contract_year.value(),
                    "practices": summary.practices, "supersedes": current,
                }));
                Ok((summary, event))
            }
            .scope_boxed()
        })
        .await?;
        Ok(summary)
    }
}

/// The insurer, the criteria version to apply and the current snapshot's id, or the 409 that
/// refuses the build.
async fn precheck(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    contract_year: ContractYear,
    correction: bool,
) -> Result<(insurers::Insurer, CriteriaVersion, Option<String>), ApiError> {
    let insurer = insurers::find(conn, uzovi).await?;
    if !insurer.differentiated {
        return Err(ApiError::conflict(format!(
            "insurer {uzovi} does not contract differentiated and receives no list"
        )));
    }
    let criteria = insurers::versions(conn, uzovi, contract_year)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "insurer {uzovi} has no criteria set for {contract_year}"
            ))
        })?;
    let current = current_id(conn, uzovi, contract_year).await?;
    match (&current, correction) {
        (Some(id), false) => Err(ApiError::conflict(format!(
            "the snapshot of insurer {uzovi} for {contract_year} exists ({id}); publish a correction instead"
        ))),
        (None, true) => Err(ApiError::conflict(format!(
            "insurer {uzovi} has no snapshot for {contract_year} to correct"
        ))),
        _ => Ok((insurer, criteria, current)),
    }
}

/// The id of the snapshot of the insurer and year that no correction replaced.
pub async fn current_id(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    contract_year: ContractYear,
) -> Result<Option<String>, ApiError> {
    Ok(snapshots::table
        .filter(snapshots::insurer_uzovi.eq(uzovi.as_str()))
        .filter(snapshots::contract_year.eq(i32::from(contract_year.value())))
        .filter(snapshots::superseded_by.is_null())
        .select(snapshots::id)
        .first(conn)
        .await
        .optional()?)
}

/// Exactly the practices registered for `cycle_year` now, by AGB code, judged.
async fn list(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    cycle_year: u16,
    criteria: &CriteriaVersion,
    evidence: &BTreeMap<String, Evidence>,
) -> Result<Vec<ListedPractice>, ApiError> {
    let rows: Vec<RegisteredRow> = registrations::table
        .inner_join(practices::table.on(practices::agb.eq(registrations::practice_agb)))
        .filter(registrations::cycle_year.eq(i32::from(cycle_year)))
        .filter(registrations::state.eq("registered"))
        .order(practices::agb)
        .select((
            practices::agb,
            practices::name,
            practices::kvk_number,
            practices::tier,
            practices::locations,
            registrations::registered_at,
        ))
        .load(conn)
        .await?;
    let consenting: BTreeSet<String> = consents::table
        .filter(consents::insurer_uzovi.eq(uzovi.as_str()))
        .filter(consents::given.eq(true))
        .select(consents::practice_agb)
        .load::<String>(conn)
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|row| {
            let consent = consenting.contains(&row.agb);
            let outcomes = judge(
                evidence.get(&row.agb),
                consent,
                &criteria.criteria,
                &criteria.thresholds,
            );
            let overall = outcome(&outcomes);
            Ok(ListedPractice {
                locations: serde_json::from_value(row.locations).map_err(ApiError::internal)?,
                agb: row.agb,
                name: row.name,
                kvk_number: row.kvk_number,
                tier: row.tier,
                registered_at: row.registered_at,
                consent,
                eligible: overall == CriterionStatus::Met,
                outcome: overall,
                criteria: outcomes,
            })
        })
        .collect()
}

/// A stored snapshot: summary, body and signature.
pub struct Stored {
    pub summary: SnapshotSummary,
    pub body: Vec<u8>,
    pub signature: String,
}

/// The snapshot `id` of the insurer, or 404.
pub async fn stored(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    id: &str,
) -> Result<Stored, ApiError> {
    let row: Option<(SnapshotSummary, Vec<u8>, String)> = snapshots::table
        .filter(snapshots::insurer_uzovi.eq(uzovi.as_str()))
        .filter(snapshots::id.eq(id))
        .select((
            SnapshotSummary::as_select(),
            snapshots::body,
            snapshots::signature,
        ))
        .first(conn)
        .await
        .optional()?;
    let (summary, body, signature) = row.ok_or_else(|| ApiError::not_found("snapshot", id))?;
    Ok(Stored {
        summary,
        body,
        signature,
    })
}

/// Bytes of a stored body read at a time when it is streamed.
pub const BODY_CHUNK_BYTES: i32 = 256 * 1024;

/// The summary of snapshot `id` of the insurer and the length of its body, without the body;
/// 404 when there is none.
pub async fn summary_of(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    id: &str,
) -> Result<(SnapshotSummary, i32), ApiError> {
    snapshots::table
        .filter(snapshots::insurer_uzovi.eq(uzovi.as_str()))
        .filter(snapshots::id.eq(id))
        .select((
            SnapshotSummary::as_select(),
            diesel::dsl::sql::<diesel::sql_types::Integer>("length(body)"),
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("snapshot", id))
}

/// `len` bytes of the body of snapshot `id` from byte `offset` (0-based).
pub async fn body_chunk(
    conn: &mut AsyncPgConnection,
    id: &str,
    offset: i32,
    len: i32,
) -> Result<Vec<u8>, ApiError> {
    #[derive(QueryableByName)]
    struct Chunk {
        #[diesel(sql_type = diesel::sql_types::Binary)]
        bytes: Vec<u8>,
    }
    let chunk: Chunk = diesel::sql_query(
        "SELECT substring(body FROM $2 FOR $3) AS bytes FROM snapshots WHERE id = $1",
    )
    .bind::<diesel::sql_types::Text, _>(id)
    .bind::<diesel::sql_types::Integer, _>(offset.saturating_add(1))
    .bind::<diesel::sql_types::Integer, _>(len)
    .get_result(conn)
    .await?;
    Ok(chunk.bytes)
}

/// Every snapshot of the insurer, newest first.
pub async fn list_stored(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
) -> Result<Vec<SnapshotSummary>, ApiError> {
    Ok(snapshots::table
        .filter(snapshots::insurer_uzovi.eq(uzovi.as_str()))
        .order((
            snapshots::contract_year.desc(),
            snapshots::created_at.desc(),
        ))
        .select(SnapshotSummary::as_select())
        .load(conn)
        .await?)
}

/// The insurers that contract differentiated and have criteria for `contract_year` but no
/// snapshot yet: those the schedule builds for.
pub async fn due_insurers(
    conn: &mut AsyncPgConnection,
    contract_year: ContractYear,
) -> Result<Vec<UzoviCode>, ApiError> {
    use crate::schema::{criteria_sets, insurers as insurer_table};
    let year = i32::from(contract_year.value());
    let uzovis: Vec<String> = insurer_table::table
        .filter(insurer_table::differentiated.eq(true))
        .filter(diesel::dsl::exists(
            criteria_sets::table
                .filter(criteria_sets::insurer_uzovi.eq(insurer_table::uzovi))
                .filter(criteria_sets::contract_year.eq(year)),
        ))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            snapshots::table
                .filter(snapshots::insurer_uzovi.eq(insurer_table::uzovi))
                .filter(snapshots::contract_year.eq(year)),
        )))
        .order(insurer_table::uzovi)
        .select(insurer_table::uzovi)
        .load(conn)
        .await?;
    uzovis
        .iter()
        .map(|raw| praktijkregister_platform::db::decode("insurers.uzovi", raw, UzoviCode::parse))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::NaiveDate;
    use praktijkregister_domain::{
        CycleYear, MonthEvidence, OefentherapieAgb, Period, PremEvidence, TreatmentIndexEvidence,
        VisitationEvidence,
    };

    use super::*;

    fn evidence(index: f64, delivered: u32, complete: u32) -> Evidence {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        Evidence {
            practice_agb: OefentherapieAgb::parse("07000101").unwrap(),
            year: CycleYear::new(2026).unwrap(),
            as_of: day(11, 1),
            months: vec![MonthEvidence {
                period: Period::from_first_day(day(1, 1)).unwrap(),
                delivered: true,
                ldo_upload_date: Some(day(2, 3)),
                ldo_records_delivered: delivered,
                ldo_records_complete: complete,
                prem_eligible: 10,
                prem_offered: 10,
            }],
            therapists: Vec::new(),
            prem: PremEvidence {
                measured: true,
                domain_scores: Vec::new(),
            },
            treatment_index: Some(TreatmentIndexEvidence {
                value: index,
                ci_lower: None,
                ci_upper: None,
            }),
            // The register's default; the insurer's own threshold replaces it in a snapshot.
            insurer_ceiling: Some(1000.0),
            consent_given: None,
            visitation: VisitationEvidence {
                registered_for_year: true,
                visitation_positive_in_year: true,
                report_uploaded: Some(true),
                entry_visitation_in_time: Some(true),
            },
            shared_address: Vec::new(),
        }
    }

    fn status(
        evidence: Option<&Evidence>,
        consent: bool,
        criterion: Criterion,
        thresholds: Thresholds,
    ) -> CriterionStatus {
        judge(evidence, consent, &[criterion], &thresholds)[0].status
    }

    #[test]
    fn thresholds_at_their_edges_decide_as_the_insurer_set_them() {
        let at_ceiling = evidence(140.0, 10, 9);
        let ceiling = |value| Thresholds {
            treatment_index_ceiling: value,
            ..Thresholds::default()
        };
        let index = Criterion::PlusTreatmentIndex;
        assert_eq!(
            status(Some(&at_ceiling), true, index, ceiling(140.0)),
            CriterionStatus::Met
        );
        assert_eq!(
            status(Some(&at_ceiling), true, index, ceiling(139.9)),
            CriterionStatus::NotMet
        );

        let fill = |value| Thresholds {
            ldo_fill_rate_plus: value,
            ..Thresholds::default()
        };
        let rate = Criterion::PlusLdoFillRate;
        assert_eq!(
            status(Some(&at_ceiling), true, rate, fill(0.9)),
            CriterionStatus::Met
        );
        assert_eq!(
            status(Some(&at_ceiling), true, rate, fill(0.91)),
            CriterionStatus::NotMet
        );
    }

    #[test]
    fn without_consent_quality_criteria_are_not_judged_and_the_rest_are() {
        let evidence = evidence(100.0, 10, 10);
        let criteria = [Criterion::PlusTreatmentIndex, Criterion::PlusRegistered];
        let outcomes = judge(Some(&evidence), false, &criteria, &Thresholds::default());
        assert_eq!(outcomes[0].status, CriterionStatus::NoConsent);
        assert!(outcomes[0].evidence.is_empty());
        assert_eq!(outcomes[1].status, CriterionStatus::Met);
        assert_eq!(outcome(&outcomes), CriterionStatus::Unknown);
        let with = judge(Some(&evidence), true, &criteria, &Thresholds::default());
        assert_eq!(outcome(&with), CriterionStatus::Met);
        let missing = judge(None, true, &criteria, &Thresholds::default());
        assert!(missing.iter().all(|o| o.status == CriterionStatus::Unknown));
        let mut refused = with.clone();
        refused[1].status = CriterionStatus::NotMet;
        assert_eq!(outcome(&refused), CriterionStatus::NotMet);
    }
}
