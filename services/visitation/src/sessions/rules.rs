//! The facts a session is judged on, gathered from the directory and this service's tables, and
//! judged by the domain's [`session_violations`]: every broken rule at once.

use chrono::{Datelike, NaiveDate};
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{
    session_violations, week_start, CycleYear, PartOfDay, PracticeProfile, PracticeStanding,
    SessionDay, SessionParties, Violation, VisitorStanding,
};
use praktijkregister_platform::error::{ApiError, FieldError};
use uuid::Uuid;

use super::repository;
use crate::directory::{awaiting_visitation, YearDirectory};
use crate::relations;
use crate::visitors;

/// A session as proposed: new, or an existing one (`except`) moved.
pub struct Proposal<'a> {
    pub date: NaiveDate,
    pub part: PartOfDay,
    pub visitor_id: &'a str,
    pub practice_a: &'a str,
    pub practice_b: &'a str,
    pub except: Option<Uuid>,
}

/// The cycle year of a session on `date`.
pub fn year_of(date: NaiveDate) -> Result<CycleYear, ApiError> {
    u16::try_from(date.year())
        .ok()
        .and_then(|y| CycleYear::new(y).ok())
        .ok_or_else(|| {
            ApiError::field(
                "date",
                "year_range",
                format!("{date} lies outside the cycle years the register keeps"),
            )
        })
}

/// Every rule `proposal` breaks, judged on `directory` (read afresh by the caller) and on this
/// service's tables as seen in the caller's transaction, after it locked the visitor.
pub async fn violations(
    conn: &mut AsyncPgConnection,
    directory: &YearDirectory,
    proposal: &Proposal<'_>,
    today: NaiveDate,
) -> Result<Vec<Violation>, ApiError> {
    let year = year_of(proposal.date)?;
    let y = i32::from(year.value());
    let visitor = visitors::repository::lock(conn, proposal.visitor_id).await?;
    let mut practices = Vec::new();
    for agb in [proposal.practice_a, proposal.practice_b] {
        let planned = repository::practice_planned(conn, agb, y, proposal.except).await?;
        // A practice without a registration for the year has no approved plan for it either.
        let (profile, standing) = match directory.practice(agb) {
            Some(practice) => (
                directory.profile(agb).cloned().unwrap_or_default(),
                PracticeStanding {
                    plan_approved_on: practice.plan_approved_on,
                    awaiting_visitation: awaiting_visitation(practice),
                    already_planned: planned,
                },
            ),
            None => (
                PracticeProfile {
                    agb: agb.to_string(),
                    ..PracticeProfile::default()
                },
                PracticeStanding {
                    plan_approved_on: None,
                    awaiting_visitation: false,
                    already_planned: planned,
                },
            ),
        };
        practices.push((profile, standing));
    }
    let (visitor_profile, standing, unknown_visitor) = match &visitor {
        Some(visitor) => {
            let available =
                visitors::repository::is_available(conn, &visitor.id, proposal.date, proposal.part)
                    .await?;
            let monday = week_start(proposal.date);
            let load = repository::visitor_load(
                conn,
                &visitor.id,
                proposal.date,
                proposal.part,
                y,
                (monday, monday + chrono::Days::new(6)),
                proposal.except,
            )
            .await?;
            let standing = VisitorStanding {
                trained_on: Some(visitor.trained_on),
                authorised_from: visitor.authorised_from,
                authorised_until: visitor.authorised_until,
                available,
                busy_in_slot: load.busy_in_slot,
                sessions_in_year: load.in_year,
                sessions_in_week: load.in_week,
                max_per_year: u32::try_from(visitor.max_sessions_per_year).unwrap_or(0),
                max_per_week: u32::try_from(visitor.max_sessions_per_week).unwrap_or(0),
            };
            let profile = directory.visitor_profile(&visitor.id, visitor.therapist_agb.as_deref());
            (profile, standing, None)
        }
        // An unknown visitor is one refusal; the rules of the day and the practices still answer.
        None => (
            directory.visitor_profile(proposal.visitor_id, None),
            VisitorStanding {
                trained_on: Some(proposal.date),
                authorised_from: proposal.date,
                authorised_until: None,
                available: true,
                busy_in_slot: false,
                sessions_in_year: 0,
                sessions_in_week: 0,
                max_per_year: u32::MAX,
                max_per_week: u32::MAX,
            },
            Some(Violation {
                field: "visitor_id",
                code: "unknown_visitor",
                message: format!("visitor {} does not exist", proposal.visitor_id),
            }),
        ),
    };
    let relations = relations::repository::rules(conn).await?;
    let day = SessionDay {
        date: proposal.date,
        today,
        year,
        visitation_deadline: directory.raw.visitation_deadline,
    };
    let parties = SessionParties {
        practice_a: (&practices[0].0, practices[0].1),
        practice_b: (&practices[1].0, practices[1].1),
        visitor: (&visitor_profile, standing),
    };
    let mut found = session_violations(&day, &parties, &relations);
    found.extend(unknown_visitor);
    Ok(found)
}

/// The refusal that lists every broken rule (422), each with its field and code.
pub fn refusal(violations: Vec<Violation>) -> ApiError {
    ApiError::Validation(
        violations
            .into_iter()
            .map(|v| FieldError::new(v.field, v.code, v.message))
            .collect(),
    )
}
