//! `/v1/visitation-sessions`: the registrar plans, moves and cancels sessions; a visitor reads
//! their own.

use actix_web::{get, patch, post, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::{amsterdam_date, OefentherapieAgb, Text, VisitorId};
use praktijkregister_events::VisitationEventKind;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::conditional::{etag, required_version};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{checked, ApiError, FieldErrors, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_platform::pagination::{Page, PageParams};
use uuid::Uuid;

use super::repository::{self, SessionRow, PLANNED};
use super::rules::{self, Proposal};
use super::{Cancellation, NewSession, Session, SessionChange, SessionFilter};
use crate::events;
use crate::paths::SessionPath;
use crate::scopes;
use crate::startup::VisitationContext;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_session)
        .service(list_sessions)
        .service(get_session)
        .service(reschedule_session)
        .service(cancel_session);
}

/// The session with its visitations.
pub async fn view(
    conn: &mut diesel_async::AsyncPgConnection,
    row: SessionRow,
) -> Result<Session, ApiError> {
    let visitations = repository::visitations_of(conn, row.id).await?;
    row.view(visitations)
}

/// Plan a session
///
/// Plans one part of one day in which a visitor and two practices meet: A is visited with B as
/// colleague practice, and B with A (DESIGN §3.3). Every broken rule is named at once in one 422,
/// each with its field and code: a practice without an approved annual plan for the year
/// (`no_approved_plan`), before the plan's approval (`before_plan_approval`), whose registration
/// awaits no visitation (`registration_not_awaiting_visitation`) or that already has a session in
/// the year (`practice_already_planned`); a date in the past (`date_in_past`) or after the
/// visitation deadline of the register's calendar (`after_visitation_deadline`, inclusive,
/// Europe/Amsterdam); an unknown visitor (`unknown_visitor`), or one not trained
/// (`visitor_not_trained`) or not authorised on that day
/// (`visitor_not_authorised`), not available in that part of the day (`visitor_not_available`),
/// already holding a session then (`visitor_double_booked`) or over capacity
/// (`visitor_over_capacity_year`, `visitor_over_capacity_week`); and each conflict of interest
/// (`same_practice`, `same_kvk`, `same_address`, `declared_relation`, `shared_intervision_group`,
/// `visitor_works_at_practice`, `visitor_declared_relation`, `visitor_shared_intervision_group`).
/// The register's directory is read afresh for this. The register learns of the planned
/// visitation of both practices through the outbox.
#[utoipa::path(
    tag = "Visitation sessions",
    request_body = NewSession,
    responses(
        (status = 201, description = "Planned", body = Session),
        (status = 422, description = "Every broken rule, by field and code", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The register answered badly", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The register did not answer in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-sessions:write"]))
)]
#[post("/v1/visitation-sessions")]
pub async fn create_session(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    body: Json<NewSession>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::VISITATION_SESSIONS_WRITE)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let a = errors.check(
        "practice_a_agb",
        OefentherapieAgb::parse(&body.practice_a_agb),
    );
    let b = errors.check(
        "practice_b_agb",
        OefentherapieAgb::parse(&body.practice_b_agb),
    );
    let visitor = errors.check("visitor_id", VisitorId::parse(&body.visitor_id));
    errors.into_result()?;
    let (a, b, visitor) = (checked(a)?, checked(b)?, checked(visitor)?);
    let year = rules::year_of(body.date)?;
    let directory = ctx.directory.fresh(year).await?;
    let today = amsterdam_date(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    let session = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let proposal = Proposal {
                date: body.date,
                part: body.part_of_day,
                visitor_id: visitor.as_str(),
                practice_a: a.as_str(),
                practice_b: b.as_str(),
                except: None,
            };
            let session = plan(conn, &directory, &proposal, today).await?;
            let event = AuditEvent::success(
                "session.create",
                "visitation_session",
                session.id.to_string(),
            )
            .with_detail(serde_json::json!({
                "date": session.date, "part_of_day": session.part_of_day,
                "visitor_id": session.visitor_id,
                "practices": [session.practice_a_agb, session.practice_b_agb]
            }));
            Ok((session, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/v1/visitation-sessions/{}", session.id),
        ))
        .json(session))
}

/// Checks `proposal` and writes it as a new session with the register's events, on the caller's
/// transaction (the planner's acceptance writes many in one).
pub async fn plan(
    conn: &mut diesel_async::AsyncPgConnection,
    directory: &crate::directory::YearDirectory,
    proposal: &Proposal<'_>,
    today: chrono::NaiveDate,
) -> Result<Session, ApiError> {
    let found = rules::violations(conn, directory, proposal, today).await?;
    if !found.is_empty() {
        return Err(rules::refusal(found));
    }
    let year = rules::year_of(proposal.date)?;
    let row = SessionRow {
        id: Uuid::now_v7(),
        cycle_year: i32::from(year.value()),
        session_date: proposal.date,
        part_of_day: proposal.part.as_str().to_string(),
        visitor_id: proposal.visitor_id.to_string(),
        practice_a_agb: proposal.practice_a.to_string(),
        practice_b_agb: proposal.practice_b.to_string(),
        status: PLANNED.to_string(),
        cancel_reason: None,
        version: 1,
    };
    repository::insert(conn, &row).await?;
    for practice in [proposal.practice_a, proposal.practice_b] {
        events::planning(
            conn,
            VisitationEventKind::VisitationPlanned,
            practice,
            year,
            proposal.date,
            None,
        )
        .await?;
    }
    view(conn, row).await
}

/// List sessions
///
/// Sessions, oldest first, optionally of one cycle year. A visitor client sees only their own.
#[utoipa::path(
    tag = "Visitation sessions",
    params(SessionFilter, PageParams),
    responses(
        (status = 200, description = "A page of sessions", body = Page<Session>),
        (status = 422, description = "Invalid year, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-sessions:read"]))
)]
#[get("/v1/visitation-sessions")]
pub async fn list_sessions(
    principal: Principal,
    pool: web::Data<DbPool>,
    filter: web::Query<SessionFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Session>>, ApiError> {
    principal.require(scopes::VISITATION_SESSIONS_READ)?;
    let year = crate::parse_year_filter(filter.cycle_year.as_deref())?;
    let limit = page.limit()?;
    let after: Option<Uuid> = page.after()?;
    let visitor = principal.visitor().map(|v| v.as_str().to_string());
    let mut conn = connection(&pool).await?;
    let rows = repository::page(&mut conn, year, visitor.as_deref(), after, limit).await?;
    let mut sessions = Vec::with_capacity(rows.len());
    for row in rows {
        sessions.push(view(&mut conn, row).await?);
    }
    Ok(web::Json(Page::from_rows(sessions, limit, |s| s.id)))
}

/// A session the caller may see: a visitor's own only; any other is answered 404.
async fn visible(
    conn: &mut diesel_async::AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<SessionRow, ApiError> {
    let row = if lock {
        repository::lock(conn, id).await?
    } else {
        repository::find(conn, id).await?
    };
    let row = row.ok_or_else(|| ApiError::not_found("visitation session", id))?;
    match principal.visitor() {
        Some(own) if own.as_str() != row.visitor_id => {
            Err(ApiError::not_found("visitation session", id))
        }
        _ => Ok(row),
    }
}

/// Read a session
///
/// The session with the visitation of each practice. A visitor client reads only their own;
/// another is answered 404.
#[utoipa::path(
    tag = "Visitation sessions",
    params(SessionPath),
    responses(
        (status = 200, description = "The session", body = Session),
        (status = 404, description = "No such session (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-sessions:read"]))
)]
#[get("/v1/visitation-sessions/{id}")]
pub async fn get_session(
    principal: Principal,
    pool: web::Data<DbPool>,
    id: SessionPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::VISITATION_SESSIONS_READ)?;
    let mut conn = connection(&pool).await?;
    let row = visible(&mut conn, &principal, *id, false).await?;
    Ok(with_etag(view(&mut conn, row).await?))
}

/// The session with its version as ETag, for `If-Match` on a reschedule.
fn with_etag(session: Session) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(session.version)))
        .json(session)
}

/// Reschedule a session
///
/// Moves a planned session to another date, part of the day or visitor; the practices stay. Send
/// `If-Match` with the ETag you read: a session changed since answers 412, a request without it
/// 428.
/// Everything is checked again as for a new session (the session itself does not count against
/// the visitor or the practices), every broken rule named in one 422. A session that is
/// cancelled, or whose outcome is recorded, cannot move (409). When the date changes, the
/// register learns the new date of both practices through the outbox.
#[utoipa::path(
    tag = "Visitation sessions",
    params(
        SessionPath,
        ("If-Match" = String, Header, description = "ETag of the session as read", example = "\"1\""),
    ),
    request_body = SessionChange,
    responses(
        (status = 200, description = "Moved", body = Session),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled, or an outcome is recorded", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The session changed since the given ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every broken rule, by field and code", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The register answered badly", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The register did not answer in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-sessions:write"]))
)]
#[patch("/v1/visitation-sessions/{id}")]
pub async fn reschedule_session(
    ctx: web::Data<VisitationContext>,
    req: actix_web::HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    id: SessionPath,
    body: Json<SessionChange>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::VISITATION_SESSIONS_WRITE)?;
    let expected = required_version(&req)?;
    let change = body.into_inner();
    let visitor = match change.visitor_id.as_deref() {
        Some(v) => Some(VisitorId::parse(v).map_err(|e| ApiError::invalid("visitor_id", &e))?),
        None => None,
    };
    let id = id.into_inner();
    let mut conn = connection(&pool).await?;
    let current = visible(&mut conn, &principal, id, false).await?;
    let date = change.date.unwrap_or(current.session_date);
    let year = rules::year_of(date)?;
    if i32::from(year.value()) != current.cycle_year {
        return Err(ApiError::field(
            "date",
            "date_outside_cycle_year",
            format!(
                "a session of {} stays in {}",
                current.cycle_year, current.cycle_year
            ),
        ));
    }
    let directory = ctx.directory.fresh(year).await?;
    let today = amsterdam_date(ctx.clock.now());
    let session = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let current = repository::lock(conn, id)
                .await?
                .ok_or_else(|| ApiError::not_found("visitation session", id))?;
            if expected.is_some_and(|v| v != current.version) {
                return Err(ApiError::PreconditionFailed(format!(
                    "the session changed since; its ETag is now {}",
                    etag(current.version)
                )));
            }
            require_movable(conn, &current).await?;
            let part = change.part_of_day.map_or_else(|| current.part(), Ok)?;
            let visitor_id = visitor
                .map(|v| v.as_str().to_string())
                .unwrap_or_else(|| current.visitor_id.clone());
            let proposal = Proposal {
                date,
                part,
                visitor_id: &visitor_id,
                practice_a: &current.practice_a_agb,
                practice_b: &current.practice_b_agb,
                except: Some(id),
            };
            let found = rules::violations(conn, &directory, &proposal, today).await?;
            if !found.is_empty() {
                return Err(rules::refusal(found));
            }
            repository::move_to(conn, id, date, part, &visitor_id).await?;
            if date != current.session_date {
                for practice in [&current.practice_a_agb, &current.practice_b_agb] {
                    events::planning(conn, VisitationEventKind::VisitationPlanned, practice, year, date, None)
                        .await?;
                }
            }
            let moved = repository::find(conn, id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("session just moved")))?;
            let event = AuditEvent::success("session.reschedule", "visitation_session", id.to_string())
                .with_detail(serde_json::json!({
                    "from": {"date": current.session_date, "part_of_day": current.part_of_day, "visitor_id": current.visitor_id},
                    "to": {"date": date, "part_of_day": part, "visitor_id": visitor_id}
                }));
            Ok((view(conn, moved).await?, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(with_etag(session))
}

/// 409 unless the session is planned and none of its visitations has an outcome.
async fn require_movable(
    conn: &mut diesel_async::AsyncPgConnection,
    session: &SessionRow,
) -> Result<(), ApiError> {
    if session.status != PLANNED {
        return Err(ApiError::conflict("the session is cancelled"));
    }
    let visitations = repository::visitations_of(conn, session.id).await?;
    if visitations.iter().any(|v| v.status == "finalised") {
        return Err(ApiError::conflict(
            "an outcome of the session is recorded; it can no longer change",
        ));
    }
    Ok(())
}

/// Cancel a session
///
/// Cancels a planned session with a reason; its visitations are cancelled with it and the
/// register moves both practices' registrations back to `plan_approved` (through the outbox), so
/// that they can be planned again. A session whose outcome is recorded cannot be cancelled (409).
#[utoipa::path(
    tag = "Visitation sessions",
    params(SessionPath),
    request_body = Cancellation,
    responses(
        (status = 200, description = "Cancelled", body = Session),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled, or an outcome is recorded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-sessions:write"]))
)]
#[post("/v1/visitation-sessions/{id}/cancellation")]
pub async fn cancel_session(
    principal: Principal,
    pool: web::Data<DbPool>,
    id: SessionPath,
    body: Json<Cancellation>,
) -> Result<web::Json<Session>, ApiError> {
    principal.require(scopes::VISITATION_SESSIONS_WRITE)?;
    let reason = Text::lines(&body.reason, 2000)
        .map_err(|e| ApiError::invalid("reason", &e))?
        .into_string();
    let id = id.into_inner();
    let mut conn = connection(&pool).await?;
    let session = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let current = repository::lock(conn, id)
                .await?
                .ok_or_else(|| ApiError::not_found("visitation session", id))?;
            require_movable(conn, &current).await?;
            repository::cancel(conn, id, &reason).await?;
            let year = rules::year_of(current.session_date)?;
            for practice in [&current.practice_a_agb, &current.practice_b_agb] {
                events::planning(
                    conn,
                    VisitationEventKind::VisitationCancelled,
                    practice,
                    year,
                    current.session_date,
                    Some(&reason),
                )
                .await?;
            }
            let cancelled = repository::find(conn, id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("session just cancelled")))?;
            let event = AuditEvent::success("session.cancel", "visitation_session", id.to_string())
                .with_detail(serde_json::json!({"reason": reason}));
            Ok((view(conn, cancelled).await?, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(session))
}
