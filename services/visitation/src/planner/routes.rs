//! `POST /v1/cycles/{year}/visitation-plan`: the planner, dry or accepted.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{post, web};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{amsterdam_date, week_start, CycleYear, PartOfDay};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    propose, Candidate, PlanInput, PlannerVisitor, ProposedSession, UnplacedPractice,
    UnplacedReason,
};
use crate::directory::{awaiting_visitation, due, YearDirectory};
use crate::paths::CycleYearPath;
use crate::sessions::routes::plan;
use crate::sessions::rules::Proposal;
use crate::sessions::{repository as sessions, Session};
use crate::startup::VisitationContext;
use crate::{relations, scopes, visitors};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(visitation_plan);
}

/// Whether to only propose.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanParams {
    /// `true` (the default): only propose; `false`: create the proposed sessions.
    #[param(value_type = Option<bool>, example = true)]
    pub dry_run: Option<String>,
}

/// The planner's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "cycle_year": 2026, "dry_run": true,
    "sessions": [{"date": "2026-09-14", "part_of_day": "morning", "visitor_id": "visitor-jansen",
        "practice_a_agb": "07012345", "practice_b_agb": "07054321", "same_region": true, "met_last_year": false}],
    "unplaced": [{"practice_agb": "07099999", "reason": "odd_one_out"}],
    "created": []
}))]
pub struct VisitationPlan {
    pub cycle_year: u16,
    pub dry_run: bool,
    /// The proposed sessions, by date, part of day and visitor.
    pub sessions: Vec<ProposedSession>,
    /// Every due practice awaiting a visitation that is not in a proposed session, with the reason.
    pub unplaced: Vec<UnplacedPractice>,
    /// The sessions created (when not a dry run).
    pub created: Vec<Session>,
}

fn parse_dry_run(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ApiError::field(
            "dry_run",
            "boolean",
            "dry_run is true or false",
        )),
    }
}

/// Plan a cycle year's visitations
///
/// Proposes, for every practice that is due in the year (see the due list), has an approved annual
/// plan, awaits a visitation and has no session yet, reciprocal pairs free of every conflict of
/// interest, a visitor without conflicts per session, and a date and part of the day within the
/// visitor's availability and capacity, from today through the visitation deadline. It places as
/// many practices as possible: a maximum matching on the graph of conflict-free pairs (Edmonds'
/// blossom algorithm), preferring pairs in the same postal region that did not meet last year,
/// then visitors by maximum flow. Every practice it could not place is listed with the reason
/// (`no_approved_plan`, `no_conflict_free_partner`, `no_conflict_free_partner_left`,
/// `odd_one_out`, `no_visitor_or_slot`). The same input gives the same plan. With
/// `dry_run=false` the proposal is created in one transaction, every session checked again against
/// every rule; if one fails, none is created (422 with the broken rules). The register's
/// directory is read afresh for an accepted plan.
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath, PlanParams),
    responses(
        (status = 200, description = "The plan (and, when accepted, the sessions created)", body = VisitationPlan),
        (status = 422, description = "Not a valid year or dry_run, or a proposed session breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The register answered badly", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The register did not answer in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-plan:manage"]))
)]
#[post("/v1/cycles/{year}/visitation-plan")]
pub async fn visitation_plan(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    year: CycleYearPath,
    params: web::Query<PlanParams>,
) -> Result<web::Json<VisitationPlan>, ApiError> {
    principal.require(scopes::VISITATION_PLAN_MANAGE)?;
    let dry_run = parse_dry_run(params.dry_run.as_deref())?;
    let year = *year;
    let directory = if dry_run {
        ctx.directory.cached(year).await?
    } else {
        ctx.directory.fresh(year).await?
    };
    let today = amsterdam_date(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    let (input, mut unplaced) = gather(&mut conn, &directory, year, today).await?;
    let proposal = propose(&input);
    unplaced.extend(proposal.unplaced);
    unplaced.sort_by(|a, b| a.practice_agb.cmp(&b.practice_agb));
    let mut answer = VisitationPlan {
        cycle_year: year.value(),
        dry_run,
        sessions: proposal.sessions,
        unplaced,
        created: Vec::new(),
    };
    if dry_run {
        return Ok(web::Json(answer));
    }
    let proposed = answer.sessions.clone();
    let principal = &principal;
    let created = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let mut created = Vec::with_capacity(proposed.len());
            for s in &proposed {
                let proposal = Proposal {
                    date: s.date,
                    part: s.part_of_day,
                    visitor_id: &s.visitor_id,
                    practice_a: &s.practice_a_agb,
                    practice_b: &s.practice_b_agb,
                    except: None,
                };
                let session = plan(conn, &directory, &proposal, today).await?;
                let line = AuditEvent::success(
                    "session.create",
                    "visitation_session",
                    session.id.to_string(),
                )
                .with_detail(serde_json::json!({
                    "date": session.date, "part_of_day": session.part_of_day,
                    "visitor_id": session.visitor_id,
                    "practices": [session.practice_a_agb, session.practice_b_agb],
                    "planner": true
                }));
                audit::record(conn, principal.into(), &line).await?;
                created.push(session);
            }
            let event = AuditEvent::success("plan.accept", "cycle_year", year.to_string())
                .with_detail(serde_json::json!({"sessions": created.len()}));
            Ok((created, event))
        }
        .scope_boxed()
    })
    .await?;
    answer.created = created;
    Ok(web::Json(answer))
}

/// The planner's input from the directory and the tables, and the due practices it cannot place
/// for want of an approved plan.
async fn gather(
    conn: &mut AsyncPgConnection,
    directory: &YearDirectory,
    year: CycleYear,
    today: NaiveDate,
) -> Result<(PlanInput, Vec<UnplacedPractice>), ApiError> {
    let y = i32::from(year.value());
    let season = (today, directory.raw.visitation_deadline);
    let planned = sessions::planned_in_year(conn, y).await?;
    let mut busy_practices = BTreeSet::new();
    for s in &planned {
        busy_practices.insert(s.practice_a_agb.clone());
        busy_practices.insert(s.practice_b_agb.clone());
    }
    let mut candidates = Vec::new();
    let mut unplaced = Vec::new();
    for p in &directory.raw.practices {
        let rhythm = due(p, year);
        if rhythm.is_err() || busy_practices.contains(&p.agb) {
            continue;
        }
        let Some(approved) = p.plan_approved_on.filter(|_| awaiting_visitation(p)) else {
            unplaced.push(UnplacedPractice {
                practice_agb: p.agb.clone(),
                reason: UnplacedReason::NoApprovedPlan,
            });
            continue;
        };
        let Some(profile) = directory.profile(&p.agb).cloned() else {
            continue;
        };
        candidates.push(Candidate {
            region: p
                .locations
                .first()
                .map(|l| l.address_key.chars().take(2).collect())
                .unwrap_or_default(),
            earliest: approved.max(today),
            profile,
        });
    }
    candidates.sort_by(|a, b| a.profile.agb.cmp(&b.profile.agb));

    let mut taken: BTreeSet<(String, NaiveDate, String)> = BTreeSet::new();
    let mut year_load: BTreeMap<String, u32> = BTreeMap::new();
    let mut week_load: BTreeMap<(String, NaiveDate), u32> = BTreeMap::new();
    for s in &planned {
        taken.insert((s.visitor_id.clone(), s.session_date, s.part_of_day.clone()));
        *year_load.entry(s.visitor_id.clone()).or_default() += 1;
        *week_load
            .entry((s.visitor_id.clone(), week_start(s.session_date)))
            .or_default() += 1;
    }
    let mut availability: BTreeMap<String, Vec<(NaiveDate, PartOfDay)>> = BTreeMap::new();
    for (visitor, date, part) in
        visitors::repository::all_availability(conn, season.0, season.1).await?
    {
        if taken.contains(&(visitor.clone(), date, part.clone())) {
            continue;
        }
        let part = PartOfDay::parse(&part).map_err(ApiError::internal)?;
        availability.entry(visitor).or_default().push((date, part));
    }
    let mut planner_visitors = Vec::new();
    for v in visitors::repository::all(conn).await? {
        let mut slots: Vec<(NaiveDate, PartOfDay)> = availability
            .remove(&v.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|(date, _)| {
                v.trained_on <= *date
                    && v.authorised_from <= *date
                    && v.authorised_until.is_none_or(|until| until >= *date)
            })
            .collect();
        slots.sort();
        let max_year = u32::try_from(v.max_sessions_per_year).unwrap_or(0);
        let max_week = u32::try_from(v.max_sessions_per_week).unwrap_or(0);
        let week_left = week_load
            .iter()
            .filter(|((id, _), _)| *id == v.id)
            .map(|((_, week), used)| (*week, max_week.saturating_sub(*used)))
            .collect();
        planner_visitors.push(PlannerVisitor {
            profile: directory.visitor_profile(&v.id, v.therapist_agb.as_deref()),
            slots,
            year_left: max_year.saturating_sub(year_load.get(&v.id).copied().unwrap_or(0)),
            week_left,
            max_per_week: max_week,
        });
    }
    let met_last_year = sessions::planned_in_year(conn, y - 1)
        .await?
        .into_iter()
        .map(|s| {
            let (a, b) = (s.practice_a_agb, s.practice_b_agb);
            if a <= b {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect();
    let input = PlanInput {
        candidates,
        visitors: planner_visitors,
        relations: relations::repository::rules(conn).await?,
        met_last_year,
        season,
    };
    Ok((input, unplaced))
}
