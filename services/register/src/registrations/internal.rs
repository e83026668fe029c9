//! `POST /v1/internal/visitation-outcomes`: the visitation service reports a planned visitation or
//! its outcome. Idempotent on the event id: delivery is at least once.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{post, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CycleYear, OefentherapieAgb, RegistrationEvent};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use crate::settings::RegisterSettings;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::{ApiError, FieldErrors, Problem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::lifecycle::{self, Cause};
use super::Registration;
use crate::cycles::repository::calendar_for;
use crate::schema::processed_events;

/// What the visitation service reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitationEventKind {
    /// Visitatie gepland: the visitation has (another) date.
    VisitationPlanned,
    /// Visitatie afgerond: the visitation took place with an outcome.
    VisitationOutcome,
}

/// Uitkomst: positive when every one of the 8 components is sufficient (000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitationOutcome {
    Positive,
    Negative,
}

/// An event of the visitation service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "kind": "visitation_outcome", "practice_agb": "07012345",
    "cycle_year": 2026, "visitation_date": "2026-09-14", "outcome": "positive"
}))]
pub struct VisitationEvent {
    /// The event's id: the same id is applied once.
    pub event_id: uuid::Uuid,
    pub kind: VisitationEventKind,
    pub practice_agb: String,
    pub cycle_year: u16,
    /// The planned date, or the day the visitation took place.
    pub visitation_date: NaiveDate,
    /// Required for `visitation_outcome`, absent otherwise.
    pub outcome: Option<VisitationOutcome>,
    pub remarks: Option<String>,
}

struct Parsed {
    practice_agb: String,
    year: CycleYear,
}

impl VisitationEvent {
    fn parse(&self) -> Result<Parsed, ApiError> {
        let mut errors = FieldErrors::new();
        let agb = errors.check("practice_agb", OefentherapieAgb::parse(&self.practice_agb));
        let year = errors.check("cycle_year", CycleYear::new(self.cycle_year));
        match (self.kind, self.outcome) {
            (VisitationEventKind::VisitationOutcome, None) => errors.push(
                "outcome",
                "outcome_required",
                "an outcome event needs `outcome`",
            ),
            (VisitationEventKind::VisitationPlanned, Some(_)) => errors.push(
                "outcome",
                "outcome_not_allowed",
                "a planning event has no outcome",
            ),
            _ => {}
        }
        if self
            .remarks
            .as_ref()
            .is_some_and(|r| r.chars().count() > 4000)
        {
            errors.push(
                "remarks",
                "remarks_length",
                "remarks have at most 4000 characters",
            );
        }
        errors.into_result()?;
        match (agb, year) {
            (Some(agb), Some(year)) => Ok(Parsed {
                practice_agb: agb.as_str().to_string(),
                year,
            }),
            _ => Err(ApiError::internal(anyhow::anyhow!(
                "validated event fields missing"
            ))),
        }
    }
}

async fn already_processed(
    conn: &mut AsyncPgConnection,
    event_id: uuid::Uuid,
) -> QueryResult<Option<(String, Value)>> {
    processed_events::table
        .find(event_id)
        .select((processed_events::request_sha256, processed_events::response))
        .first(conn)
        .await
        .optional()
}

/// Record a visitation event
///
/// Internal: the visitation service reports that a visitation of a practice is planned (the
/// registration moves to `visitation_planned`; the date must be on or before the visitation
/// deadline) or took place with an outcome. A positive outcome registers the practice only if
/// every therapist working there on the visitation day is kwaliteitsgeregistreerd in KP; if not,
/// the registration waits in `awaiting_kp` with the list of therapists, and becomes `registered`
/// as soon as KP data makes it true. The same `event_id` is applied once: a repeat with the same
/// body answers the first answer again (header `Idempotent-Replayed: true`) and changes nothing;
/// with another body it is refused with 422.
#[utoipa::path(
    tag = "Registrations",
    request_body = VisitationEvent,
    responses(
        (status = 200, description = "Applied (or replayed)", body = Registration),
        (status = 404, description = "The practice has no registration for the year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The registration's state does not accept the event", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid event, a date after the visitation deadline, or an event id reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-outcomes:write"]))
)]
#[post("/v1/internal/visitation-outcomes")]
pub async fn record_visitation_event(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    body: web::Json<VisitationEvent>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::VISITATION_OUTCOMES_WRITE)?;
    let event = body.into_inner();
    let parsed = event.parse()?;
    let fingerprint = sha256_hex(&serde_json::to_vec(&event).map_err(ApiError::internal)?);
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let (response, replayed) = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                // Two deliveries of one event at the same moment take turns.
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind::<diesel::sql_types::Text, _>(event.event_id.to_string())
                    .execute(conn)
                    .await?;
                if let Some((stored_fingerprint, response)) = already_processed(conn, event.event_id).await? {
                    if stored_fingerprint != fingerprint {
                        return Err(ApiError::field(
                            "event_id",
                            "event_id_reused",
                            "this event id was already applied with another body",
                        ));
                    }
                    return Ok((response, true));
                }
                let registration = apply_event(conn, &event, &parsed, &ctx.settings, &principal, now).await?;
                let response = serde_json::to_value(&registration).map_err(ApiError::internal)?;
                diesel::insert_into(processed_events::table)
                    .values((
                        processed_events::event_id.eq(event.event_id),
                        processed_events::kind.eq(serde_json::to_value(event.kind).map_err(ApiError::internal)?.as_str().unwrap_or_default().to_string()),
                        processed_events::request_sha256.eq(&fingerprint),
                        processed_events::response.eq(&response),
                    ))
                    .execute(conn)
                    .await?;
                let audit_event = AuditEvent::success(
                    "registration.visitation_event",
                    "registration",
                    format!("{}/{}", parsed.practice_agb, parsed.year),
                )
                .with_detail(serde_json::json!({"event_id": event.event_id, "kind": event.kind, "outcome": event.outcome}));
                audit::record(conn, (&principal).into(), &audit_event).await?;
                Ok((response, false))
            }
            .scope_boxed()
        })
        .await?;
    let mut answer = HttpResponse::Ok();
    if replayed {
        answer.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(answer.json(response))
}

async fn apply_event(
    conn: &mut AsyncPgConnection,
    event: &VisitationEvent,
    parsed: &Parsed,
    settings: &RegisterSettings,
    principal: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Registration, ApiError> {
    let row = lifecycle::existing(conn, &parsed.practice_agb, parsed.year).await?;
    let cause = Cause {
        actor_client_id: &principal.client_id,
        reason: event.remarks.as_deref(),
        at: now,
    };
    let (domain_event, lacking) = match (event.kind, event.outcome) {
        (VisitationEventKind::VisitationPlanned, _) => {
            let (calendar, _) = calendar_for(conn, parsed.year, &settings.cycle.calendar).await?;
            if !calendar.visitation_date_allowed(event.visitation_date) {
                let mut extensions = serde_json::Map::new();
                extensions.insert(
                    "visitation_deadline".into(),
                    serde_json::json!(calendar.visitation_deadline()),
                );
                return Err(ApiError::Unprocessable {
                    detail: format!(
                        "a visitation of {} must take place in {} on or before {}",
                        parsed.year,
                        parsed.year,
                        calendar.visitation_deadline()
                    ),
                    extensions,
                });
            }
            (
                RegistrationEvent::VisitationPlanned {
                    date: event.visitation_date,
                },
                Vec::new(),
            )
        }
        (VisitationEventKind::VisitationOutcome, Some(VisitationOutcome::Positive)) => {
            let (met, lacking) =
                lifecycle::kp_check(conn, &parsed.practice_agb, event.visitation_date).await?;
            (
                RegistrationEvent::VisitationPositive {
                    all_therapists_kp_registered: met,
                },
                lacking,
            )
        }
        (VisitationEventKind::VisitationOutcome, _) => {
            (RegistrationEvent::VisitationNegative, Vec::new())
        }
    };
    let row = lifecycle::apply(conn, &row, &domain_event, lacking, cause).await?;
    let row = match event.kind {
        VisitationEventKind::VisitationOutcome => {
            super::repository::set_visited_on(conn, row.id, event.visitation_date).await?
        }
        VisitationEventKind::VisitationPlanned => row,
    };
    Ok(row.view())
}
