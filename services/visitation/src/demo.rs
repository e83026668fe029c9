//! Demonstration data beside the register's demo (`seed --demo`): two visitors with their
//! availability, a session planned for next week between two practices of the register's demo whose
//! plans are approved (the register learns it through the outbox), and a visitation that took place
//! with findings on every component, a report and a positive outcome, of a practice the register's
//! demo registered.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use praktijkregister_domain::{amsterdam_date, ComponentScore, CycleYear, PartOfDay};
use praktijkregister_events::{VisitationEventKind, VisitationOutcome};
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::ApiError;
use uuid::Uuid;

use crate::sessions::repository::{self as sessions, SessionRow, PLANNED};
use crate::visitations::repository::{self as visitations, Finalising};
use crate::visitations::{Deviation, Finding};
use crate::visitors::repository as visitors;
use crate::visitors::{ParsedDetails, Slot};
use crate::{events, schema};

/// The visitor the walkthrough uses.
pub const DEMO_VISITOR: &str = "demo-visitor-1";
const ACTOR: &str = "demo";
/// Practices of the register's demo: plan approved and visitation planned, and registered.
const PLANNED_PAIR: (&str, &str) = ("07000105", "07000106");
const VISITED_PAIR: (&str, &str) = ("07000101", "07000102");
/// A one-page PDF standing in for a visitation report.
const DEMO_REPORT: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the visitation service already has visitors; the demo only fills an empty one")]
    NotEmpty,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("no database connection: {0}")]
    Pool(String),
}

/// What the demo created.
pub struct DemoSummary {
    pub visitors: Vec<String>,
    pub planned_on: NaiveDate,
    pub visited_on: NaiveDate,
}

fn details(name: &str, email: &str, today: NaiveDate) -> ParsedDetails {
    ParsedDetails {
        name: name.into(),
        email: email.into(),
        phone: None,
        therapist_agb: None,
        trained_on: today - Days::new(400),
        authorised_from: today - Days::new(365),
        authorised_until: None,
        max_sessions_per_year: 20,
        max_sessions_per_week: 3,
    }
}

/// Fills an empty visitation service; `now` places it, as for the register's demo.
pub async fn seed(pool: &DbPool, now: DateTime<Utc>) -> Result<DemoSummary, DemoError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| DemoError::Pool(e.to_string()))?;
    let today = amsterdam_date(now);
    let year = CycleYear::new(u16::try_from(today.year()).unwrap_or(2026))
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let planned_on = today + Days::new(7);
    let visited_on = NaiveDate::from_ymd_opt(today.year(), 9, 8)
        .filter(|d| *d < today)
        .unwrap_or(today - Days::new(1));
    let summary = conn
        .transaction::<_, DemoError, _>(|conn| {
            async move {
                if !visitors::all(conn).await?.is_empty() {
                    return Err(DemoError::NotEmpty);
                }
                let names = [
                    (DEMO_VISITOR, "Anna de Vries", "a.devries@example.nl"),
                    ("demo-visitor-2", "Bram Jansen", "b.jansen@example.nl"),
                ];
                for (id, name, email) in names {
                    visitors::upsert(conn, id, &details(name, email, today)).await?;
                    // Every weekday of the next eight weeks, morning and afternoon.
                    let slots: Vec<Slot> = (0..56)
                        .map(|n| today + Days::new(n))
                        .filter(|d| d.weekday().number_from_monday() <= 5)
                        .flat_map(|date| {
                            [PartOfDay::Morning, PartOfDay::Afternoon]
                                .map(|part_of_day| Slot { date, part_of_day })
                        })
                        .collect();
                    visitors::replace_availability(conn, id, &slots).await?;
                }
                // A session next week; the register learns it through the outbox.
                let y = i32::from(year.value());
                let planned = SessionRow {
                    id: Uuid::now_v7(),
                    cycle_year: y,
                    session_date: planned_on,
                    part_of_day: PartOfDay::Morning.as_str().into(),
                    visitor_id: DEMO_VISITOR.into(),
                    practice_a_agb: PLANNED_PAIR.0.into(),
                    practice_b_agb: PLANNED_PAIR.1.into(),
                    status: PLANNED.into(),
                    cancel_reason: None,
                    version: 1,
                };
                sessions::insert(conn, &planned).await?;
                for practice in [PLANNED_PAIR.0, PLANNED_PAIR.1] {
                    events::planning(
                        conn,
                        VisitationEventKind::VisitationPlanned,
                        practice,
                        year,
                        planned_on,
                        None,
                    )
                    .await?;
                }
                // A visitation that took place: findings, report, outcome. The register's demo
                // registered the practice already, so nothing is sent.
                let visited = SessionRow {
                    id: Uuid::now_v7(),
                    session_date: visited_on,
                    practice_a_agb: VISITED_PAIR.0.into(),
                    practice_b_agb: VISITED_PAIR.1.into(),
                    visitor_id: "demo-visitor-2".into(),
                    ..planned.clone()
                };
                sessions::insert(conn, &visited).await?;
                let visitation: Uuid = {
                    use diesel::prelude::*;
                    use diesel_async::RunQueryDsl;
                    schema::visitations::table
                        .filter(schema::visitations::session_id.eq(visited.id))
                        .filter(schema::visitations::practice_agb.eq(VISITED_PAIR.0))
                        .select(schema::visitations::id)
                        .first(conn)
                        .await?
                };
                let components: Vec<String> = praktijkregister_domain::DEFAULT_COMPONENTS
                    .iter()
                    .map(|c| c.to_string())
                    .collect();
                visitations::store_component_list(conn, y, &components, true, ACTOR).await?;
                let findings: Vec<Finding> = components
                    .iter()
                    .map(|component| Finding {
                        component: component.clone(),
                        score: ComponentScore::Sufficient,
                        remarks: None,
                    })
                    .collect();
                let deviations = [Deviation {
                    indicator: "treatment_index".into(),
                    explanation: Some(
                        "Veel complexe patiënten na de fusie van het ziekenhuis.".into(),
                    ),
                }];
                visitations::replace_findings(conn, visitation, &findings, &deviations, ACTOR, now)
                    .await?;
                visitations::store_report(
                    conn,
                    visitation,
                    DEMO_REPORT,
                    &sha256_hex(DEMO_REPORT),
                    ACTOR,
                    now,
                )
                .await?;
                visitations::finalise(
                    conn,
                    visitation,
                    &Finalising {
                        outcome: VisitationOutcome::Positive,
                        remarks: Some("Alle onderdelen voldoende."),
                        event_id: Uuid::now_v7(),
                        by: ACTOR,
                        at: now,
                    },
                )
                .await?;
                Ok(DemoSummary {
                    visitors: names.iter().map(|(id, _, _)| id.to_string()).collect(),
                    planned_on,
                    visited_on,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(summary)
}
