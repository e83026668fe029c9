//! `praktijkregister seed --demo`: a small, realistic register so that a new user sees the cycle
//! at work. It goes through the same repositories and state machine as the API: every
//! registration reaches its state by legal transitions, with history.
//!
//! Beside the cycle it fills the practice data the compliance criteria read, with mixed results:
//! EPD authorisations and monthly deliveries of the current year, PREM results, intervision
//! groups, IOPs, treatment indices of the year before, insurer consents and an improvement plan.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use praktijkregister_domain::{
    amsterdam_date, assess_delivery, quarters_ended, CalendarDefaults, ClientRole, CycleCalendar,
    CycleYear, DeliveryRowInput, EpdVendorId, KpNumber, KpStatus, OefentherapieAgb, Period,
    PracticeTier, RegistrationEvent, Text, TherapistFigures, Thresholds, UzoviCode,
};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::ApiError;

use crate::annual_plans::repository::{self as plans, NewPlan};
use crate::annual_plans::{Decision, MAX_REMARKS};
use crate::clients::{self, Binding, NewClient};
use crate::credentials;
use crate::deliveries::processing_report;
use crate::deliveries::repository::{self as deliveries, NewDelivery};
use crate::improvement_plans::{Measure, PlanFields};
use crate::intervision::MeetingFields;
use crate::kp::import::KpRow;
use crate::practices::{LocationInput, NewPracticeRequest};
use crate::prem::{PremDomainScore, PremFields};
use crate::quality::{IopFields, TreatmentIndexFields};
use crate::registrations::lifecycle::{self, Cause};
use crate::therapists::TherapistFields;

const ACTOR: &str = "demo-seed";

/// The EPD vendor of the demo, bound to the demo's EPD client.
pub const DEMO_EPD_VENDOR: &str = "demo-epd";
/// The insurer of the demo (UZOVI), bound to the demo's insurer client.
pub const DEMO_INSURER: &str = "3311";
/// A second insurer some practices consent to.
const OTHER_INSURER: &str = "7095";
/// The practice of the walkthrough: it has not yet delivered the last complete month.
pub const WALKTHROUGH_PRACTICE: &str = "07000111";
/// The one practice that has not authorised the demo EPD vendor.
pub const UNAUTHORISED_PRACTICE: &str = "07000112";
/// The practice with a month delivered twice: the second version counts.
const REDELIVERING_PRACTICE: &str = "07000102";
/// The practice above the ceiling with an improvement plan for the demo insurer.
const PRACTICE_WITH_PLAN: &str = "07000102";

/// A one-page PDF standing in for an annual plan.
const DEMO_PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
/Resources << /Font << /F1 5 0 R >> >> >> endobj\n\
4 0 obj << /Length 58 >> stream\nBT /F1 18 Tf 72 760 Td (Jaarplan - demonstratie) Tj ET\nendstream endobj\n\
5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n\
trailer << /Root 1 0 R >>\n%%EOF\n";

/// Where a demo practice's registration for the current year ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Registered,
    AwaitingKp,
    VisitationPlanned,
    PlanApproved,
    PlanSubmitted,
    PlanRejected,
    Refused,
    Withdrawn,
    Applied,
    /// Registered last year only.
    PreviousYearOnly,
}

struct DemoPractice {
    agb: &'static str,
    name: &'static str,
    city: &'static str,
    street: &'static str,
    postal_code: &'static str,
    tier: PracticeTier,
    scenario: Scenario,
    /// Also registered for the previous year.
    registered_last_year: bool,
}

const fn practice(
    agb: &'static str,
    name: &'static str,
    city: &'static str,
    street: &'static str,
    postal_code: &'static str,
    scenario: Scenario,
    registered_last_year: bool,
) -> DemoPractice {
    DemoPractice {
        agb,
        name,
        city,
        street,
        postal_code,
        tier: PracticeTier::Praktijkregister,
        scenario,
        registered_last_year,
    }
}

const PRACTICES: [DemoPractice; 12] = [
    practice(
        "07000101",
        "Oefentherapie De Beweging",
        "Utrecht",
        "Oudegracht",
        "3511 AB",
        Scenario::Registered,
        true,
    ),
    practice(
        "07000102",
        "Cesar Oefentherapie Amersfoort",
        "Amersfoort",
        "Langestraat",
        "3811 AE",
        Scenario::Registered,
        true,
    ),
    DemoPractice {
        tier: PracticeTier::Basispraktijkregister,
        ..practice(
            "07000103",
            "Mensendieck Praktijk Zwolle",
            "Zwolle",
            "Diezerstraat",
            "8011 RD",
            Scenario::Registered,
            false,
        )
    },
    practice(
        "07000104",
        "Oefenpraktijk Noord",
        "Groningen",
        "Herestraat",
        "9711 LC",
        Scenario::AwaitingKp,
        false,
    ),
    practice(
        "07000105",
        "Houding & Beweging Leiden",
        "Leiden",
        "Breestraat",
        "2311 CK",
        Scenario::VisitationPlanned,
        true,
    ),
    practice(
        "07000106",
        "Oefentherapie Centrum Eindhoven",
        "Eindhoven",
        "Stratumseind",
        "5611 EN",
        Scenario::PlanApproved,
        false,
    ),
    practice(
        "07000107",
        "Beweegpunt Tilburg",
        "Tilburg",
        "Heuvelstraat",
        "5038 AA",
        Scenario::PlanSubmitted,
        false,
    ),
    practice(
        "07000108",
        "Praktijk Balans Haarlem",
        "Haarlem",
        "Grote Houtstraat",
        "2011 SM",
        Scenario::PlanRejected,
        true,
    ),
    practice(
        "07000109",
        "Oefentherapie Maasoever",
        "Maastricht",
        "Wycker Brugstraat",
        "6221 EC",
        Scenario::Refused,
        false,
    ),
    practice(
        "07000110",
        "Cesar Centrum Arnhem",
        "Arnhem",
        "Bakkerstraat",
        "6811 EG",
        Scenario::Withdrawn,
        true,
    ),
    practice(
        "07000111",
        "Praktijk In Beweging Delft",
        "Delft",
        "Oude Delft",
        "2611 BD",
        Scenario::Applied,
        false,
    ),
    practice(
        "07000112",
        "Oefentherapie Nijmegen-Oost",
        "Nijmegen",
        "Berg en Dalseweg",
        "6522 BE",
        Scenario::PreviousYearOnly,
        true,
    ),
];

/// What a demo practice's EPD and measurements report, and how it compares.
struct DataProfile {
    agb: &'static str,
    /// LDO records complete per thousand delivered: some at or above 90%, some between 80% and
    /// 90%, some below 80%.
    ldo_fill: u32,
    /// Patients offered the PREM per thousand eligible: around and below 70%.
    prem_offered: u32,
    /// Treatments per closed episode.
    episode: u32,
    /// Mean PREM score in tenths; `None`: no PREM results.
    prem_score: Option<u32>,
    /// Whether the practice passes its PREM results on to ZorgkaartNederland.
    zorgkaart: bool,
    /// Treatment index of the year before: value, lower and upper confidence bound.
    index: Option<(f64, Option<f64>, Option<f64>)>,
    /// The insurers the practice consents to share its quality data with.
    consents: &'static [&'static str],
}

const fn profile(
    agb: &'static str,
    ldo_fill: u32,
    prem_offered: u32,
    episode: u32,
    prem_score: Option<u32>,
    index: Option<(f64, Option<f64>, Option<f64>)>,
    consents: &'static [&'static str],
) -> DataProfile {
    DataProfile {
        agb,
        ldo_fill,
        prem_offered,
        episode,
        prem_score,
        zorgkaart: true,
        index,
        consents,
    }
}

/// Every practice but [`UNAUTHORISED_PRACTICE`] delivers through the demo EPD.
const PROFILES: [DataProfile; 11] = [
    profile(
        "07000101",
        958,
        780,
        8,
        Some(87),
        Some((128.4, Some(121.0), Some(136.2))),
        &[DEMO_INSURER, OTHER_INSURER],
    ),
    profile(
        "07000102",
        934,
        725,
        9,
        Some(84),
        Some((160.0, Some(151.0), Some(168.0))),
        &[DEMO_INSURER, OTHER_INSURER],
    ),
    profile(
        "07000103",
        921,
        700,
        7,
        Some(85),
        Some((141.2, None, None)),
        &[DEMO_INSURER],
    ),
    DataProfile {
        zorgkaart: false,
        ..profile(
            "07000104",
            862,
            650,
            11,
            Some(79),
            Some((155.0, Some(140.0), Some(170.0))),
            &[DEMO_INSURER],
        )
    },
    profile(
        "07000105",
        944,
        740,
        12,
        Some(82),
        Some((172.5, Some(158.3), Some(186.9))),
        &[DEMO_INSURER],
    ),
    profile(
        "07000106",
        873,
        690,
        8,
        Some(86),
        Some((118.9, Some(110.2), Some(127.5))),
        &[DEMO_INSURER],
    ),
    profile(
        "07000107",
        741,
        520,
        10,
        None,
        Some((152.3, None, None)),
        &[],
    ),
    profile(
        "07000108",
        836,
        600,
        9,
        Some(77),
        Some((136.0, Some(127.9), Some(144.1))),
        &[DEMO_INSURER],
    ),
    profile("07000109", 776, 580, 10, None, None, &[]),
    DataProfile {
        zorgkaart: false,
        ..profile(
            "07000110",
            905,
            710,
            7,
            Some(83),
            Some((99.5, Some(92.0), Some(107.0))),
            &[OTHER_INSURER],
        )
    },
    profile(
        "07000111",
        887,
        680,
        9,
        Some(81),
        Some((133.0, Some(124.0), Some(142.0))),
        &[],
    ),
];

fn profile_of(agb: &str) -> Option<&'static DataProfile> {
    PROFILES.iter().find(|p| p.agb == agb)
}

/// The treatment index of the practice that has not authorised the EPD: known, below the ceiling.
const UNAUTHORISED_INDEX: (f64, Option<f64>, Option<f64>) = (145.8, Some(133.0), Some(158.0));

/// PREM domains with the offset of their mean from the practice's score, in tenths.
const PREM_DOMAINS: [(&str, i32); 4] = [
    ("bejegening", 3),
    ("communicatie", 1),
    ("informatie", -2),
    ("organisatie", -1),
];

/// Therapists without an IOP of the current year.
const WITHOUT_IOP: [&str; 2] = ["07200203", "07200702"];
/// A therapist whose IOP missed the update of the second quarter.
const IOP_NOT_UPDATED: &str = "07200602";
/// A therapist whose IOP was not uploaded to KP.
const IOP_NOT_UPLOADED: &str = "07200801";

/// An intervision group of the demo: the practices (by index in [`PRACTICES`]) whose therapists
/// are members, and its meetings (month, day) of the current year.
struct DemoGroup {
    name: &'static str,
    members_of: &'static [usize],
    meetings: &'static [(u32, u32)],
    physical: bool,
    facilitator: &'static str,
    facilitator_trained: bool,
    adap: bool,
    /// Joined in the year before, rather than in January.
    joined_last_year: bool,
    /// A member who missed one meeting (the second).
    absentee: Option<&'static str>,
}

const GROUPS: [DemoGroup; 3] = [
    // 7 members from 3 practices, 5 physical meetings: meets every intervision criterion.
    DemoGroup {
        name: "Intervisiegroep Utrecht-Amersfoort",
        members_of: &[0, 1, 4],
        meetings: &[(2, 10), (4, 14), (6, 9), (9, 15), (11, 10)],
        physical: true,
        facilitator: "M. Bakker",
        facilitator_trained: true,
        adap: true,
        joined_last_year: true,
        absentee: None,
    },
    // 8 members from 3 practices, 4 physical meetings; one member missed one of them.
    DemoGroup {
        name: "Intervisiegroep Brabant-Kennemerland",
        members_of: &[5, 6, 7],
        meetings: &[(3, 3), (5, 12), (9, 22), (10, 27)],
        physical: true,
        facilitator: "R. Verhoeven",
        facilitator_trained: true,
        adap: true,
        joined_last_year: true,
        absentee: Some("07200702"),
    },
    // 3 members of one practice meeting online, without a trained facilitator or accreditation.
    DemoGroup {
        name: "Online intervisie Groningen",
        members_of: &[3],
        meetings: &[(2, 5), (5, 6), (9, 9), (11, 4)],
        physical: false,
        facilitator: "S. Hoekstra",
        facilitator_trained: false,
        adap: false,
        joined_last_year: false,
        absentee: None,
    },
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the register already holds practices; the demo fills only an empty register")]
    NotEmpty,
    #[error("no database connection")]
    Pool(#[from] praktijkregister_platform::db::PoolError),
    #[error("database error")]
    Database(#[from] diesel::result::Error),
    #[error("{}", describe(.0))]
    Api(#[from] ApiError),
    #[error("could not hash a secret: {0}")]
    Hash(String),
}

fn describe(error: &ApiError) -> String {
    let problem = error.to_problem();
    match problem.errors.first() {
        Some(field) => format!("{}: {} ({})", problem.detail, field.field, field.message),
        None => problem.detail,
    }
}

/// Credentials of the clients the demo creates, to show once.
pub struct DemoClient {
    pub role: ClientRole,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}

pub struct DemoSummary {
    pub cycle_year: CycleYear,
    pub practices: usize,
    pub therapists: usize,
    pub calendar_opened: Option<CycleCalendar>,
    pub clients: Vec<DemoClient>,
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// A value of the demo's own data; one that does not parse is a fault in the demo.
fn known<T, E: std::fmt::Display>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|e| ApiError::internal(anyhow::anyhow!("demo value {raw:?}: {e}")))
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn demo_practice_request(p: &DemoPractice, index: usize) -> NewPracticeRequest {
    let slug: String = p
        .name
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    NewPracticeRequest {
        agb: p.agb.to_string(),
        name: p.name.to_string(),
        kvk_number: format!("{:08}", 61_000_000 + index * 137),
        tier: Some(p.tier),
        contact: Some(crate::practices::Contact {
            name: Some("Praktijkmanager".to_string()),
            email: Some(format!("info@{slug}.nl")),
            phone: Some(format!("0{}{:07}", 30 + index, 1_234_000 + index)),
        }),
        locations: vec![LocationInput {
            agb: format!("079{}", &p.agb[3..]),
            kvk_branch_number: format!("{:012}", 100_000_000_000_u64 + index as u64 * 7919),
            street: p.street.to_string(),
            house_number: format!("{}", 10 + index * 3),
            postal_code: p.postal_code.to_string(),
            city: p.city.to_string(),
            phone: None,
            website: Some(format!("https://www.{slug}.nl")),
            own_entrance: true,
            own_waiting_room: true,
            own_reception: !index.is_multiple_of(4),
            own_administration: true,
            own_logo: true,
        }],
    }
}

fn therapist_count(index: usize) -> usize {
    2 + index % 2
}

/// A constant of the demo that the domain refuses is a fault of the demo: a 500.
fn parsed<T, E: std::error::Error + Send + Sync + 'static>(
    value: Result<T, E>,
) -> Result<T, ApiError> {
    value.map_err(ApiError::internal)
}

fn therapist_agb(index: usize, n: usize) -> String {
    format!("072{:03}{:02}", index + 1, n + 1)
}

fn therapist_agbs(index: usize) -> Vec<String> {
    (0..therapist_count(index))
        .map(|n| therapist_agb(index, n))
        .collect()
}

/// `total` scaled by `per_mille`, moved by `jitter`, within `0..=total`.
fn scaled(total: u32, per_mille: u32, jitter: i32) -> u32 {
    ((total * per_mille + 500) / 1000)
        .saturating_add_signed(jitter)
        .min(total)
}

/// One therapist's figures of a month, varying by therapist and month around the profile.
fn therapist_figures(
    profile: &DataProfile,
    size: u32,
    n: u32,
    month: u32,
    upload: NaiveDate,
) -> TherapistFigures {
    let jitter = |shift: u32| i32::try_from((month + n + shift) % 3).unwrap_or(1) - 1;
    let patients = 25 + size + 5 * n + (month * 7 + n * 3) % 9;
    let treatments = patients * 4 + (month * 5 + n) % 13;
    let closed_episodes = patients / 4 + (month + n) % 3;
    let ldo_records_delivered = patients - (month + n) % 2;
    let prem_eligible = closed_episodes + 2;
    TherapistFigures {
        patients,
        treatments,
        closed_episodes,
        treatments_in_closed_episodes: (closed_episodes * profile.episode + month % 3)
            .min(treatments),
        ldo_records_delivered,
        ldo_records_complete: scaled(ldo_records_delivered, profile.ldo_fill, jitter(0)),
        prem_eligible,
        prem_offered: scaled(prem_eligible, profile.prem_offered, jitter(1)),
        ldo_upload_date: Some(upload),
    }
}

/// The rows of a practice's delivery for `period`, one per therapist.
fn month_rows(index: usize, profile: &DataProfile, period: Period) -> Vec<DeliveryRowInput> {
    let month = period.first_day().month();
    let day = 24 + u32::try_from(index % 4).unwrap_or(0);
    // Practices differ in size: a few patients a month more or fewer per therapist.
    let size = u32::try_from(index * 4 % 9).unwrap_or(0);
    let upload = period
        .first_day()
        .with_day(day)
        .unwrap_or(period.last_day());
    therapist_agbs(index)
        .into_iter()
        .enumerate()
        .map(|(n, therapist_agb)| DeliveryRowInput {
            therapist_agb,
            figures: therapist_figures(profile, size, u32::try_from(n).unwrap_or(0), month, upload),
        })
        .collect()
}

/// A few days into the month after `period`, and never after `now`.
fn after_month(period: Period, days: i64, hour: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    let next = period.last_day() + Duration::days(1 + days);
    at(next, hour).min(now)
}

/// Stores a delivery as the PUT handler does: the rows assessed against the practice's roster,
/// the accepted ones stored under the next version with the processing report.
async fn deliver(
    conn: &mut AsyncPgConnection,
    delivered_by: &str,
    practice_agb: &str,
    period: Period,
    rows: &[DeliveryRowInput],
    delivered_at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let practice_agb = &known(practice_agb, OefentherapieAgb::parse)?;
    let vendor = known(DEMO_EPD_VENDOR, EpdVendorId::parse)?;
    let agbs: Vec<OefentherapieAgb> = rows
        .iter()
        .map(|row| known(&row.therapist_agb, OefentherapieAgb::parse))
        .collect::<Result<_, _>>()?;
    let roster = deliveries::roster(conn, practice_agb, period, &agbs).await?;
    let assessment = assess_delivery(period, amsterdam_date(delivered_at), rows, |therapist| {
        roster.status(therapist)
    });
    if assessment.accepted.is_empty() {
        return Err(ApiError::internal(anyhow::anyhow!(
            "no demo row of {practice_agb} for {period} was accepted"
        )));
    }
    let id = uuid::Uuid::now_v7();
    let version = roster.latest_version + 1;
    let mut report = processing_report(practice_agb, period, delivered_at, &assessment);
    report.delivery_id = Some(id);
    report.version = Some(version);
    let report = serde_json::to_value(&report).map_err(ApiError::internal)?;
    let delivery = NewDelivery {
        id,
        practice_agb,
        period,
        version,
        delivered_at,
        delivered_by,
        epd_vendor: Some(&vendor),
        report: &report,
    };
    deliveries::insert(conn, &delivery, &assessment.accepted).await?;
    Ok(())
}

/// What the practice data of the demo holds, for the audit line.
#[derive(Debug, Default, serde::Serialize)]
struct DataCounts {
    epd_authorizations: usize,
    deliveries: usize,
    prem_results: usize,
    intervision_groups: usize,
    intervision_meetings: usize,
    iops: usize,
    treatment_indices: usize,
    consents: usize,
    improvement_plans: usize,
}

fn round_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The practice data the compliance criteria read, for the current `year` up to `now`, delivered
/// by the EPD client `vendor_client`.
async fn seed_practice_data(
    conn: &mut AsyncPgConnection,
    year: CycleYear,
    now: DateTime<Utc>,
    vendor_client: &str,
) -> Result<DataCounts, ApiError> {
    let y = i32::from(year.value());
    let today = amsterdam_date(now);
    let due = crate::evidence::due_months(year, today);
    let mut counts = DataCounts::default();

    // EPD authorisations and monthly deliveries.
    let redelivered = if due.len() >= 2 {
        due.first().copied()
    } else {
        due.last().copied()
    };
    for (index, p) in PRACTICES.iter().enumerate() {
        let Some(profile) = profile_of(p.agb) else {
            continue;
        };
        let offset = u32::try_from(index).unwrap_or(0);
        crate::epd::repository::grant(
            conn,
            &known(p.agb, OefentherapieAgb::parse)?,
            &known(DEMO_EPD_VENDOR, EpdVendorId::parse)?,
            at(date(y - 1, 12, 1 + offset), 9),
            ACTOR,
        )
        .await?;
        counts.epd_authorizations += 1;
        for period in &due {
            // The walkthrough practice has yet to deliver the last complete month.
            if p.agb == WALKTHROUGH_PRACTICE && Some(period) == due.last() {
                continue;
            }
            let rows = month_rows(index, profile, *period);
            let delivered_at = after_month(*period, i64::from(offset % 4) + 1, 7, now);
            if p.agb == REDELIVERING_PRACTICE && Some(*period) == redelivered {
                // The first version offered the PREM to more patients than were eligible in one
                // row, which was rejected; the practice corrected it and sent the month again.
                let mut first = rows.clone();
                if let Some(row) = first.last_mut() {
                    row.figures.prem_offered = row.figures.prem_eligible + 3;
                }
                deliver(conn, vendor_client, p.agb, *period, &first, delivered_at).await?;
                let again = after_month(*period, i64::from(offset % 4) + 4, 10, now);
                deliver(conn, vendor_client, p.agb, *period, &rows, again).await?;
                counts.deliveries += 2;
            } else {
                deliver(conn, vendor_client, p.agb, *period, &rows, delivered_at).await?;
                counts.deliveries += 1;
            }
        }
    }

    // PREM results of every other month and of the last complete one.
    let prem_months: Vec<Period> = due
        .iter()
        .filter(|period| period.first_day().month() % 2 == 0 || Some(*period) == due.last())
        .copied()
        .collect();
    for (index, profile) in PROFILES.iter().enumerate() {
        let Some(score) = profile.prem_score else {
            continue;
        };
        let offset = u32::try_from(index).unwrap_or(0);
        for period in &prem_months {
            let month = period.first_day().month();
            let responses = 14 + (offset * 7 + month * 3) % 20;
            let drift = i32::try_from(month % 3).unwrap_or(1) - 1;
            let domains = PREM_DOMAINS
                .iter()
                .zip(0u32..)
                .map(|((domain, shift), d)| {
                    let tenths = i32::try_from(score).unwrap_or(80) + shift + drift;
                    PremDomainScore {
                        domain: (*domain).to_string(),
                        responses: responses - d % 3,
                        mean_score: round_tenth(f64::from(tenths) / 10.0),
                    }
                })
                .collect();
            let fields = PremFields {
                responses,
                measuring_office: Some("Meetbureau Demo".to_string()),
                consent_national_processor: true,
                consent_zorgkaart: profile.zorgkaart,
                domains,
            };
            let submitted = after_month(*period, i64::from(offset % 5) + 6, 11, now);
            crate::prem::repository::upsert(
                conn,
                &known(profile.agb, OefentherapieAgb::parse)?,
                *period,
                &fields,
                submitted,
                vendor_client,
            )
            .await?;
            counts.prem_results += 1;
        }
    }

    // Intervision groups of the current year.
    for (g, group) in GROUPS.iter().enumerate() {
        let owner = group
            .members_of
            .first()
            .map(|i| known(PRACTICES[*i].agb, OefentherapieAgb::parse))
            .transpose()?;
        let created = at(date(y - 1, 11, 20 + u32::try_from(g).unwrap_or(0)), 10).min(now);
        let row = crate::intervision::repository::insert_group(
            conn,
            uuid::Uuid::now_v7(),
            &known(group.name, |raw| Text::line(raw, 200))?,
            owner.as_ref(),
            created,
            ACTOR,
        )
        .await?;
        counts.intervision_groups += 1;
        let joined_on = if group.joined_last_year {
            date(y - 1, 12, 1)
        } else {
            date(y, 1, 15)
        };
        let members: Vec<String> = group
            .members_of
            .iter()
            .flat_map(|i| therapist_agbs(*i))
            .collect();
        for member in &members {
            let member = known(member, OefentherapieAgb::parse)?;
            crate::intervision::repository::put_member(conn, row.id, &member, joined_on, None)
                .await?;
        }
        for (m, (month, day)) in group.meetings.iter().enumerate() {
            let held_on = date(y, *month, *day);
            if held_on > today || held_on < joined_on {
                continue;
            }
            let attendees: Vec<String> = members
                .iter()
                .filter(|agb| m != 1 || group.absentee != Some(agb.as_str()))
                .cloned()
                .collect();
            let fields = MeetingFields {
                held_on,
                physical: group.physical,
                duration_minutes: if group.physical { 120 } else { 75 },
                facilitator_name: group.facilitator.to_string(),
                facilitator_trained: group.facilitator_trained,
                adap_accreditation_number: group.adap.then(|| format!("ADAP-{y}-{:05}", 4711 + g)),
                adap_accreditation_year: group.adap.then_some(y),
                attendees,
            };
            crate::intervision::repository::insert_meeting(
                conn,
                row.id,
                uuid::Uuid::now_v7(),
                &fields,
            )
            .await?;
            counts.intervision_meetings += 1;
        }
    }

    // IOPs of the current year, updated in every quarter that has ended; a few are missing.
    let quarters = quarters_ended(year, today);
    for (index, p) in PRACTICES.iter().enumerate() {
        if p.agb == UNAUTHORISED_PRACTICE || p.scenario == Scenario::Refused {
            continue;
        }
        for (n, agb) in therapist_agbs(index).into_iter().enumerate() {
            if WITHOUT_IOP.contains(&agb.as_str()) {
                continue;
            }
            let n = u32::try_from(n).unwrap_or(0);
            let drawn_up_on =
                date(y, 1, 12 + 3 * n + u32::try_from(index % 5).unwrap_or(0)).min(today);
            let uploaded_to_kp_on =
                (agb != IOP_NOT_UPLOADED).then(|| (drawn_up_on + Duration::days(5)).min(today));
            let quarterly_updates: Vec<NaiveDate> = (2..=quarters)
                .filter(|quarter| !(agb == IOP_NOT_UPDATED && *quarter == 2))
                .map(|quarter| date(y, 3 * quarter - 1, 10 + n))
                .collect();
            let last = quarterly_updates
                .last()
                .copied()
                .or(uploaded_to_kp_on)
                .unwrap_or(drawn_up_on);
            let fields = IopFields {
                drawn_up_on,
                uploaded_to_kp_on,
                quarterly_updates,
                used_in_appraisal: true,
                used_in_360_feedback: n % 2 == 0,
            };
            crate::quality::repository::put_iop(
                conn,
                &known(&agb, OefentherapieAgb::parse)?,
                year,
                &fields,
                at(last, 16).min(now),
                ACTOR,
            )
            .await?;
            counts.iops += 1;
        }
    }

    // Treatment indices of the year before: the one the compliance of this year reads.
    let index_year = i32::from(year.treatment_index_year());
    let entered = at(date(y, 1, 20), 10).min(now);
    for (index, p) in PRACTICES.iter().enumerate() {
        let figures = match profile_of(p.agb) {
            Some(profile) => profile.index,
            None if p.agb == UNAUTHORISED_PRACTICE => Some(UNAUTHORISED_INDEX),
            None => None,
        };
        let Some((value, ci_lower, ci_upper)) = figures else {
            continue;
        };
        let fields = TreatmentIndexFields {
            value,
            ci_lower,
            ci_upper,
            patient_count: 180 + 23 * i32::try_from(index).unwrap_or(0),
            source: known("Vektis", |raw| Text::line(raw, 100))?,
        };
        crate::quality::repository::put_treatment_index(
            conn,
            &known(p.agb, OefentherapieAgb::parse)?,
            index_year,
            &fields,
            entered,
            ACTOR,
        )
        .await?;
        counts.treatment_indices += 1;
    }

    // Consents to share quality data with insurers, and an improvement plan for the demo insurer.
    for (index, profile) in PROFILES.iter().enumerate() {
        for insurer in profile.consents {
            let granted_on = date(y - 1, 10, 1 + u32::try_from(index).unwrap_or(0));
            crate::consents::repository::grant(
                conn,
                &known(profile.agb, OefentherapieAgb::parse)?,
                &known(insurer, UzoviCode::parse)?,
                granted_on,
                at(granted_on, 11),
                ACTOR,
            )
            .await?;
            counts.consents += 1;
        }
    }
    if let Some((value, ..)) = profile_of(PRACTICE_WITH_PLAN).and_then(|p| p.index) {
        let ceiling = Thresholds::default().treatment_index_ceiling;
        let fields = PlanFields {
            insurer_uzovi: known(DEMO_INSURER, UzoviCode::parse)?,
            year: index_year,
            measure: Measure::TreatmentIndex,
            current_value: value,
            ceiling,
            target: ceiling - 4.0,
            plan: known(
                "Klachten van de lage rug worden binnen 12 behandelingen uitbehandeld.",
                |raw| Text::lines(raw, 4000),
            )?,
            do_text: known(
                "Zelfmanagementadviezen vanaf het eerste contact; evalueren na 4, 8 en 12 \
                      behandelingen met klinimetrie.",
                |raw| Text::lines(raw, 4000),
            )?,
            check: known(
                "De cliënt past de adviezen toe, zodat minder behandelingen nodig zijn.",
                |raw| Text::lines(raw, 4000),
            )?,
            act: known(
                "Blijft de verandering uit, dan de interventie in overleg met de cliënt \
                  aanpassen.",
                |raw| Text::lines(raw, 4000),
            )?,
            evaluation_points: vec![4, 8, 12],
        };
        crate::improvement_plans::repository::insert(
            conn,
            uuid::Uuid::now_v7(),
            &known(PRACTICE_WITH_PLAN, OefentherapieAgb::parse)?,
            &fields,
            at(date(y, 2, 16), 14).min(now),
            ACTOR,
        )
        .await?;
        counts.improvement_plans += 1;
    }
    Ok(counts)
}

/// Runs the cycle of one practice for `year` up to `target`, at plausible dates of that year.
async fn run_cycle(
    conn: &mut AsyncPgConnection,
    agb: &str,
    year: CycleYear,
    target: Scenario,
    offset: u32,
) -> Result<(), ApiError> {
    let y = i32::from(year.value());
    let cause = |at: DateTime<Utc>, reason: Option<&'static str>| Cause {
        actor_client_id: ACTOR,
        reason,
        at,
    };
    let submitted = at(date(y, 5, 4 + offset), 8);
    let registration =
        lifecycle::find_or_apply(conn, agb, year, cause(submitted - Duration::days(30), None))
            .await?;
    if target == Scenario::Applied {
        return Ok(());
    }
    let registration = lifecycle::apply(
        conn,
        &registration,
        &RegistrationEvent::PlanSubmitted,
        Vec::new(),
        cause(submitted, None),
    )
    .await?;
    let practice = OefentherapieAgb::parse(agb).map_err(|e| ApiError::invalid("agb", &e))?;
    let plan = plans::insert(
        conn,
        &NewPlan {
            id: uuid::Uuid::now_v7(),
            practice_agb: &practice,
            cycle_year: year,
            version: 1,
            filename: Some(&format!("jaarplan-{y}.pdf")),
            sha256: &sha256_hex(DEMO_PDF),
            submitted_at: submitted,
            submitted_by: ACTOR,
            document: DEMO_PDF,
        },
    )
    .await?;
    if target == Scenario::PlanSubmitted {
        return Ok(());
    }
    let assessed = at(date(y, 5, 25 + offset.min(5)), 13);
    if target == Scenario::PlanRejected {
        let remarks = "De evaluatie van de doelen van vorig jaar ontbreekt.";
        let text =
            Text::lines(remarks, MAX_REMARKS).map_err(|e| ApiError::invalid("remarks", &e))?;
        plans::assess(
            conn,
            plan.id,
            Decision::Rejected,
            Some(&text),
            assessed,
            ACTOR,
        )
        .await?;
        lifecycle::apply(
            conn,
            &registration,
            &RegistrationEvent::PlanRejected,
            Vec::new(),
            cause(assessed, Some(remarks)),
        )
        .await?;
        return Ok(());
    }
    let text = Text::lines("Helder jaarplan.", MAX_REMARKS)
        .map_err(|e| ApiError::invalid("remarks", &e))?;
    plans::assess(
        conn,
        plan.id,
        Decision::Approved,
        Some(&text),
        assessed,
        ACTOR,
    )
    .await?;
    let registration = lifecycle::apply(
        conn,
        &registration,
        &RegistrationEvent::PlanApproved,
        Vec::new(),
        cause(assessed, None),
    )
    .await?;
    if target == Scenario::PlanApproved {
        return Ok(());
    }
    let visit = date(y, 9, 8 + offset);
    let registration = lifecycle::apply(
        conn,
        &registration,
        &RegistrationEvent::VisitationPlanned { date: visit },
        Vec::new(),
        cause(at(date(y, 6, 15), 10), None),
    )
    .await?;
    match target {
        Scenario::VisitationPlanned => Ok(()),
        Scenario::Refused => {
            lifecycle::apply(
                conn,
                &registration,
                &RegistrationEvent::VisitationNegative,
                Vec::new(),
                cause(at(visit, 15), Some("Dossiertoets onvoldoende.")),
            )
            .await?;
            Ok(())
        }
        _ => {
            let (met, lacking) = lifecycle::kp_check(conn, agb, visit).await?;
            let event = RegistrationEvent::VisitationPositive {
                all_therapists_kp_registered: met,
            };
            let registration = lifecycle::apply(
                conn,
                &registration,
                &event,
                lacking,
                cause(at(visit, 15), None),
            )
            .await?;
            if target == Scenario::Withdrawn {
                let reason = Some("De praktijk stopt per 1 januari.");
                lifecycle::apply(
                    conn,
                    &registration,
                    &RegistrationEvent::Withdrawn,
                    Vec::new(),
                    cause(at(visit, 15) + Duration::days(20), reason),
                )
                .await?;
            }
            Ok(())
        }
    }
}

/// Fills an empty register. `now` places the demo: the current cycle year is its Amsterdam year.
pub async fn seed(
    pool: &DbPool,
    now: DateTime<Utc>,
    defaults: &CalendarDefaults,
) -> Result<DemoSummary, DemoError> {
    let mut conn = pool.get().await?;
    let today = amsterdam_date(now);
    let year = CycleYear::new(u16::try_from(today.year()).unwrap_or(2026))
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let previous =
        CycleYear::new(year.value() - 1).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let mut secrets = Vec::new();
    for (role, name, binding) in [
        (
            ClientRole::Practice,
            "Praktijk In Beweging Delft (demo)",
            Binding {
                practice_agb: Some(parsed(OefentherapieAgb::parse("07000111"))?),
                ..Binding::default()
            },
        ),
        (
            ClientRole::Service,
            "Visitation service (demo)",
            Binding::default(),
        ),
        (
            ClientRole::EpdVendor,
            "Demo EPD (demo)",
            Binding {
                epd_vendor: Some(parsed(EpdVendorId::parse(DEMO_EPD_VENDOR))?),
                ..Binding::default()
            },
        ),
        (
            ClientRole::Insurer,
            "Demo verzekeraar (demo)",
            Binding {
                insurer_uzovi: Some(parsed(UzoviCode::parse(DEMO_INSURER))?),
                ..Binding::default()
            },
        ),
    ] {
        let secret = credentials::generate_secret();
        let hash = credentials::hash_secret(&secret).map_err(|e| DemoError::Hash(e.to_string()))?;
        secrets.push((role, name, binding, secret, hash));
    }
    let summary = conn
        .transaction::<_, DemoError, _>(|conn| {
            async move {
                if crate::practices::repository::any(conn).await? {
                    return Err(DemoError::NotEmpty);
                }
                // Outside the season the current year is opened up, so that the walkthrough
                // (submit, approve, visit) can be done today.
                let mut calendar_opened = None;
                let (calendar, _) =
                    crate::cycles::repository::calendar_for(conn, year, defaults).await?;
                if !calendar.annual_plan_in_time(now) {
                    let y = i32::from(year.value());
                    if let Ok(open) = CycleCalendar::new(
                        year,
                        date(y, 12, 29),
                        date(y, 12, 29),
                        date(y, 12, 30),
                        date(y, 12, 31),
                    ) {
                        if open.annual_plan_in_time(now) {
                            crate::cycles::repository::upsert(conn, &open, ACTOR).await?;
                            calendar_opened = Some(open);
                        }
                    }
                }
                let mut therapists = 0;
                let mut kp_rows = Vec::new();
                for (index, p) in PRACTICES.iter().enumerate() {
                    let (agb, fields) = demo_practice_request(p, index).parse()?;
                    crate::practices::repository::insert(conn, &agb, &fields).await?;
                    for n in 0..therapist_count(index) {
                        let therapist_agb = OefentherapieAgb::parse(&therapist_agb(index, n))
                            .map_err(|e| ApiError::invalid("agb", &e))?;
                        let kp_number = format!("{}", 39_100_000 + (index + 1) * 100 + n + 1);
                        let fields = TherapistFields {
                            name: Text::line(DEMO_NAMES[(index * 3 + n) % DEMO_NAMES.len()], 200)
                                .map_err(|e| ApiError::invalid("name", &e))?,
                            email: None,
                            kp_number: Some(
                                KpNumber::parse(&kp_number)
                                    .map_err(|e| ApiError::invalid("kp_number", &e))?,
                            ),
                            kp_number_changed: false,
                        };
                        crate::therapists::repository::insert(conn, &therapist_agb, &fields)
                            .await?
                            .map_err(|_| ApiError::conflict("demo therapist exists"))?;
                        crate::therapists::repository::put_membership(
                            conn,
                            &agb,
                            &therapist_agb,
                            date(i32::from(previous.value()) - 2, 1, 1),
                            None,
                        )
                        .await?;
                        // In the practice waiting for KP, one therapist has only a diploma registration.
                        let status = if p.scenario == Scenario::AwaitingKp && n == 0 {
                            KpStatus::Diplomageregistreerd
                        } else {
                            KpStatus::Kwaliteitsgeregistreerd
                        };
                        kp_rows.push(KpRow {
                            agb: therapist_agb,
                            kp_number: KpNumber::parse(&kp_number)
                                .map_err(|e| ApiError::invalid("kp_number", &e))?,
                            status,
                            valid_from: Some(date(i32::from(previous.value()) - 2, 1, 1)),
                            valid_until: Some(date(i32::from(year.value()) + 3, 12, 31)),
                        });
                        therapists += 1;
                    }
                }
                crate::kp::repository::apply_import(conn, &kp_rows).await?;
                for (index, p) in PRACTICES.iter().enumerate() {
                    let offset = u32::try_from(index).unwrap_or(0);
                    if p.registered_last_year {
                        run_cycle(conn, p.agb, previous, Scenario::Registered, offset).await?;
                    }
                    if p.scenario != Scenario::PreviousYearOnly {
                        run_cycle(conn, p.agb, year, p.scenario, offset).await?;
                    }
                }
                let mut demo_clients = Vec::new();
                for (role, name, binding, secret, hash) in secrets {
                    let actor = Actor {
                        client_id: ACTOR,
                        role: "operator",
                        on_behalf_of: None,
                    };
                    let new = NewClient {
                        name: parsed(Text::line(name, crate::clients::MAX_NAME))?,
                        role,
                        binding,
                        scopes: None,
                    };
                    let client = clients::create(conn, actor, &new, &hash).await?;
                    demo_clients.push(DemoClient {
                        role,
                        name: name.to_string(),
                        client_id: client.client_id,
                        client_secret: secret,
                    });
                }
                let vendor_client = demo_clients
                    .iter()
                    .find(|c| c.role == ClientRole::EpdVendor)
                    .map(|c| c.client_id.clone())
                    .unwrap_or_else(|| ACTOR.to_string());
                let data = seed_practice_data(conn, year, now, &vendor_client).await?;
                let actor = Actor {
                    client_id: ACTOR,
                    role: "operator",
                    on_behalf_of: None,
                };
                let event = AuditEvent::success("demo.seed", "register", year.to_string())
                    .with_detail(serde_json::json!({
                        "practices": PRACTICES.len(),
                        "therapists": therapists,
                        "data": data,
                    }));
                audit::record(conn, actor, &event)
                    .await
                    .map_err(ApiError::from)?;
                Ok(DemoSummary {
                    cycle_year: year,
                    practices: PRACTICES.len(),
                    therapists,
                    calendar_opened,
                    clients: demo_clients,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(summary)
}

const DEMO_NAMES: [&str; 12] = [
    "A. de Jong",
    "B. Jansen",
    "C. de Vries",
    "D. van den Berg",
    "E. Bakker",
    "F. Visser",
    "G. Smit",
    "H. Meijer",
    "I. de Boer",
    "J. Mulder",
    "K. de Groot",
    "L. Bos",
];
