//! `POST /v1/internal/visitation-outcomes`: the visitation service reports a planned visitation or
//! its outcome. Delivery is at least once; the platform's inbox applies each event id once.

use actix_web::{post, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{
    amsterdam_date, check_visitation_date, CycleYear, OefentherapieAgb, RegistrationEvent,
    ReportDigest, Text, VisitationDateError,
};
use praktijkregister_events::{VisitationEvent, VisitationEventKind, VisitationOutcome};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, FieldErrors, Problem};
use praktijkregister_platform::inbox;

use super::lifecycle::{self, Cause};
use super::Registration;
use crate::cycles::repository::calendar_for;
use crate::scopes;
use crate::settings::RegisterSettings;
use crate::startup::RegisterContext;

struct Parsed {
    practice_agb: String,
    year: CycleYear,
    remarks: Option<String>,
    report_sha256: Option<ReportDigest>,
}

/// Longest remarks a visitation event carries.
const MAX_REMARKS: usize = 4000;

impl Parsed {
    fn from_event(event: &VisitationEvent) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        let agb = errors.check("practice_agb", OefentherapieAgb::parse(&event.practice_agb));
        let year = errors.check("cycle_year", CycleYear::new(event.cycle_year));
        match (event.kind, event.outcome) {
            (VisitationEventKind::VisitationOutcome, None) => errors.push(
                "outcome",
                "outcome_required",
                "an outcome event needs `outcome`",
            ),
            (
                VisitationEventKind::VisitationPlanned | VisitationEventKind::VisitationCancelled,
                Some(_),
            ) => errors.push(
                "outcome",
                "outcome_not_allowed",
                "a planning or cancellation event has no outcome",
            ),
            _ => {}
        }
        let report_sha256 = match (event.kind, event.report_sha256.as_deref()) {
            (_, None) => None,
            (VisitationEventKind::VisitationOutcome, Some(raw)) => {
                errors.check("report_sha256", ReportDigest::parse(raw))
            }
            (_, Some(_)) => {
                errors.push(
                    "report_sha256",
                    "report_not_allowed",
                    "only an outcome event carries the report's SHA-256",
                );
                None
            }
        };
        // Blank remarks are no remarks; any others keep the text rule.
        let remarks = event
            .remarks
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .and_then(|r| errors.check("remarks", Text::lines(r, MAX_REMARKS)))
            .map(Text::into_string);
        errors.into_result()?;
        match (agb, year) {
            (Some(agb), Some(year)) => Ok(Parsed {
                practice_agb: agb.as_str().to_string(),
                year,
                remarks,
                report_sha256,
            }),
            _ => Err(ApiError::internal(anyhow::anyhow!(
                "validated event fields missing"
            ))),
        }
    }
}

/// Record a visitation event
///
/// Internal: the visitation service reports that a visitation of a practice is planned (the
/// registration moves to `visitation_planned`), cancelled (back to `plan_approved`), or took
/// place with an outcome. Either date lies
/// in the cycle year, on or after the day the annual plan was approved and on or before the
/// visitation deadline; an outcome's date is not after today (Europe/Amsterdam). A date outside
/// these is refused with 422 naming the bound (`visitation_deadline`, `plan_approved_on` or
/// `today`) and a `code`. A positive outcome registers the practice only if
/// every therapist working there on the visitation day is kwaliteitsgeregistreerd in KP; if not,
/// the registration waits in `awaiting_kp` with the list of therapists, and becomes `registered`
/// as soon as KP data makes it true. An outcome may carry the SHA-256 of the visitation report
/// (`report_sha256`, 64 hexadecimal digits; 001 §1.2g): the register keeps it as the evidence that
/// the report is uploaded. The same `event_id` is applied once: a repeat with the same
/// body answers the first answer again (header `Idempotent-Replayed: true`) and changes nothing;
/// with another body it is refused with 422.
#[utoipa::path(
    tag = "Registrations",
    request_body = VisitationEvent,
    responses(
        (status = 200, description = "Applied (or replayed)", body = Registration),
        (status = 404, description = "The practice has no registration for the year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The registration's state does not accept the event", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid event, a date after the visitation deadline, before the plan's approval or (for an outcome) after today, or an event id reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-outcomes:write"]))
)]
#[post("/v1/internal/visitation-outcomes")]
pub async fn record_visitation_event(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    body: praktijkregister_platform::http::Json<VisitationEvent>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::VISITATION_OUTCOMES_WRITE)?;
    let event = body.into_inner();
    let parsed = Parsed::from_event(&event)?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let (event, parsed, principal) = (&event, &parsed, &principal);
    let received = inbox::receive(&mut conn, event, |conn| {
        async move {
            let registration = apply_event(conn, event, parsed, &ctx.settings, principal, now).await?;
            let audit_event = AuditEvent::success(
                "registration.visitation_event",
                "registration",
                format!("{}/{}", parsed.practice_agb, parsed.year),
            )
            .with_detail(serde_json::json!({"event_id": event.event_id, "kind": event.kind, "outcome": event.outcome}));
            audit::record(conn, principal.into(), &audit_event).await?;
            serde_json::to_value(&registration).map_err(ApiError::internal)
        }
        .scope_boxed()
    })
    .await?;
    Ok(received.into_response())
}

/// Refuses a visitation dated outside the season of its cycle year, before the plan's approval,
/// or (for an outcome) after today; see [`check_visitation_date`].
async fn check_date(
    conn: &mut AsyncPgConnection,
    event: &VisitationEvent,
    parsed: &Parsed,
    settings: &RegisterSettings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let (calendar, _) = calendar_for(conn, parsed.year, &settings.cycle.calendar).await?;
    let approved_on = super::repository::plan_approved_at(conn, &parsed.practice_agb, parsed.year)
        .await?
        .map(amsterdam_date);
    let outcome = event.kind == VisitationEventKind::VisitationOutcome;
    let today = amsterdam_date(now);
    check_visitation_date(
        &calendar,
        event.visitation_date,
        outcome,
        approved_on,
        today,
    )
    .map_err(|error| {
        let mut extensions = serde_json::Map::new();
        let (key, value) = match error {
            VisitationDateError::OutsideSeason { deadline } => ("visitation_deadline", deadline),
            VisitationDateError::BeforeApproval { approved_on } => {
                ("plan_approved_on", approved_on)
            }
            VisitationDateError::InFuture { today } => ("today", today),
        };
        extensions.insert(key.into(), serde_json::json!(value));
        extensions.insert("code".into(), serde_json::json!(error.code()));
        ApiError::Unprocessable {
            detail: format!("visitation_date {}: {error}", event.visitation_date),
            extensions,
        }
    })
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
        reason: parsed.remarks.as_deref(),
        at: now,
    };
    // A cancellation withdraws a date that was checked when it was planned.
    if event.kind != VisitationEventKind::VisitationCancelled {
        check_date(conn, event, parsed, settings, now).await?;
    }
    let (domain_event, lacking) = match (event.kind, event.outcome) {
        (VisitationEventKind::VisitationCancelled, _) => {
            (RegistrationEvent::VisitationCancelled, Vec::new())
        }
        (VisitationEventKind::VisitationPlanned, _) => (
            RegistrationEvent::VisitationPlanned {
                date: event.visitation_date,
            },
            Vec::new(),
        ),
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
            super::repository::record_outcome(
                conn,
                row.id,
                event.visitation_date,
                parsed.report_sha256.as_ref().map(ReportDigest::as_str),
            )
            .await?
        }
        VisitationEventKind::VisitationPlanned | VisitationEventKind::VisitationCancelled => row,
    };
    row.view()
}
