//! `praktijkregister seed --demo`: a small, realistic register so that a new user sees the cycle
//! at work. It goes through the same repositories and state machine as the API: every
//! registration reaches its state by legal transitions, with history.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use praktijkregister_domain::{
    amsterdam_date, CalendarDefaults, ClientRole, CycleCalendar, CycleYear, KpStatus, PracticeTier,
    RegistrationEvent,
};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::ApiError;

use crate::annual_plans::repository::{self as plans, NewPlan};
use crate::annual_plans::Decision;
use crate::clients::{self, Binding, NewClient};
use crate::credentials;
use crate::kp::import::KpRow;
use crate::practices::{LocationInput, NewPracticeRequest};
use crate::registrations::lifecycle::{self, Cause};
use crate::therapists::TherapistFields;

const ACTOR: &str = "demo-seed";

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
    let plan = plans::insert(
        conn,
        &NewPlan {
            id: uuid::Uuid::now_v7(),
            practice_agb: agb,
            cycle_year: y,
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
        plans::assess(
            conn,
            plan.id,
            Decision::Rejected,
            Some(remarks),
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
    plans::assess(
        conn,
        plan.id,
        Decision::Approved,
        Some("Helder jaarplan."),
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
                practice_agb: Some("07000111".into()),
                ..Binding::default()
            },
        ),
        (
            ClientRole::Service,
            "Visitation service (demo)",
            Binding::default(),
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
                    let count = 2 + index % 2;
                    for n in 0..count {
                        let therapist_agb = format!("072{:03}{:02}", index + 1, n + 1);
                        let kp_number = format!("{}", 39_100_000 + (index + 1) * 100 + n + 1);
                        let fields = TherapistFields {
                            name: DEMO_NAMES[(index * 3 + n) % DEMO_NAMES.len()].to_string(),
                            email: None,
                            kp_number: Some(kp_number.clone()),
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
                            kp_number,
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
                        name: name.to_string(),
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
                let actor = Actor {
                    client_id: ACTOR,
                    role: "operator",
                    on_behalf_of: None,
                };
                let event = AuditEvent::success("demo.seed", "register", year.to_string())
                    .with_detail(
                        serde_json::json!({"practices": PRACTICES.len(), "therapists": therapists}),
                    );
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
