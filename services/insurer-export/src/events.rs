//! The register's events, received once each through the platform's inbox (DESIGN §2), kept as
//! this service's view of the practices, their registrations and consents; every change that
//! touches an insurer's list is recorded for the change feed and the webhooks.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{OefentherapieAgb, Text as DomainText, UzoviCode};
use praktijkregister_events::{PracticeChange, PracticeEvent, RegisterEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_platform::inbox;
use praktijkregister_scopes::insurer_export as scopes;
use serde_json::{json, Value};

use crate::changes::{self, ChangeType, NewChange};
use crate::schema::practices;
use crate::startup::ExportContext;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(receive_register_event);
}

/// Receive an event of the register
///
/// Internal, for the register's outbox relay: a registration state change, a change of a
/// practice's data, or a consent given or revoked (and the register's KP events, which do not
/// change the list). Applied once per `event_id`: a repeat answers the first answer with
/// `Idempotent-Replayed: true`; the same id with another body is refused with 422.
#[utoipa::path(
    tag = "Internal",
    request_body = RegisterEvent,
    responses(
        (status = 200, description = "Applied (or applied before)", body = Object, example = json!({"applied": true, "change": "withdrawn"})),
        (status = 422, description = "Not an event of the register, or an event id reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["register-events:write"]))
)]
#[post("/v1/internal/register-events")]
pub async fn receive_register_event(
    ctx: web::Data<ExportContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    body: Json<RegisterEvent>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::REGISTER_EVENTS_WRITE)?;
    let event = body.into_inner();
    if let RegisterEvent::Practice(practice) = &event {
        check_practice_event(practice)?;
    }
    let retry_period = ctx.settings.webhooks.retry_period_seconds;
    let mut conn = connection(&pool).await?;
    let event_ref = &event;
    let received = inbox::receive(&mut conn, event_ref, move |conn| {
        async move { apply(conn, event_ref, retry_period).await }.scope_boxed()
    })
    .await?;
    Ok(received.into_response())
}

/// Refuses an event the register cannot have sent: its identifiers must parse and its texts
/// follow the one text rule, so that nothing a database cannot hold reaches the view.
fn check_practice_event(event: &PracticeEvent) -> Result<(), ApiError> {
    OefentherapieAgb::parse(&event.practice_agb)
        .map_err(|e| ApiError::invalid("practice_agb", &e))?;
    let text = |field: &str, value: &str| {
        if value.is_empty() {
            return Ok(());
        }
        DomainText::lines(value, 1_000)
            .map(drop)
            .map_err(|e| ApiError::invalid(field, &e))
    };
    match &event.change {
        PracticeChange::Data {
            name,
            kvk_number,
            tier,
            locations,
        } => {
            text("change.name", name)?;
            text("change.kvk_number", kvk_number)?;
            text("change.tier", tier)?;
            for (i, l) in locations.iter().enumerate() {
                for (key, value) in [
                    ("agb", &l.agb),
                    ("kvk_branch_number", &l.kvk_branch_number),
                    ("street", &l.street),
                    ("house_number", &l.house_number),
                    ("postal_code", &l.postal_code),
                    ("city", &l.city),
                ] {
                    text(&format!("change.locations[{i}].{key}"), value)?;
                }
            }
        }
        PracticeChange::Registration {
            from_state,
            to_state,
            reason,
            ..
        } => {
            text("change.to_state", to_state)?;
            text("change.from_state", from_state.as_deref().unwrap_or(""))?;
            text("change.reason", reason.as_deref().unwrap_or(""))?;
        }
        PracticeChange::Consent { insurer_uzovi, .. } => {
            UzoviCode::parse(insurer_uzovi)
                .map_err(|e| ApiError::invalid("change.insurer_uzovi", &e))?;
        }
    }
    Ok(())
}

/// Applies one event to this service's view; the answer stored with it in the inbox.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    event: &RegisterEvent,
    retry_period_seconds: u64,
) -> Result<Value, ApiError> {
    let RegisterEvent::Practice(event) = event else {
        return Ok(json!({"applied": false, "reason": "KP events do not change the list"}));
    };
    let change = match &event.change {
        PracticeChange::Data { .. } => practice_data(conn, event).await?,
        PracticeChange::Registration { .. } => registration(conn, event).await?,
        PracticeChange::Consent {
            insurer_uzovi,
            given,
        } => consent(conn, event, insurer_uzovi, *given).await?,
    };
    if let Some(change) = &change {
        changes::record(conn, change.borrowed(), retry_period_seconds).await?;
    }
    Ok(json!({"applied": true, "change": change.map(|c| c.change_type)}))
}

/// A change to record, owned until it is written.
struct Recorded {
    id: uuid::Uuid,
    change_type: ChangeType,
    practice_agb: String,
    cycle_year: Option<u16>,
    insurer_uzovi: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
    occurred_at: DateTime<Utc>,
}

impl Recorded {
    fn borrowed(&self) -> NewChange<'_> {
        NewChange {
            id: self.id,
            change_type: self.change_type,
            practice_agb: &self.practice_agb,
            cycle_year: self.cycle_year,
            insurer_uzovi: self.insurer_uzovi.as_deref(),
            before: self.before.clone(),
            after: self.after.clone(),
            occurred_at: self.occurred_at,
        }
    }
}

/// What the list shows of a practice: its name, KvK number and locations.
fn listed(name: &str, kvk_number: &str, locations: &Value) -> Value {
    json!({"name": name, "kvk_number": kvk_number, "locations": locations})
}

async fn practice_data(
    conn: &mut AsyncPgConnection,
    event: &PracticeEvent,
) -> Result<Option<Recorded>, ApiError> {
    let PracticeChange::Data {
        name,
        kvk_number,
        tier,
        locations,
    } = &event.change
    else {
        return Ok(None);
    };
    let locations = serde_json::to_value(locations).map_err(ApiError::internal)?;
    let before: Option<(String, String, Value, DateTime<Utc>)> = practices::table
        .find(&event.practice_agb)
        .select((
            practices::name,
            practices::kvk_number,
            practices::locations,
            practices::updated_at,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    // An older event delivered late does not undo a newer one.
    if before
        .as_ref()
        .is_some_and(|(_, _, _, at)| *at > event.occurred_at)
    {
        return Ok(None);
    }
    diesel::insert_into(practices::table)
        .values((
            practices::agb.eq(&event.practice_agb),
            practices::name.eq(name),
            practices::kvk_number.eq(kvk_number),
            practices::tier.eq(tier),
            practices::locations.eq(&locations),
            practices::updated_at.eq(event.occurred_at),
        ))
        .on_conflict(practices::agb)
        .do_update()
        .set((
            practices::name.eq(name),
            practices::kvk_number.eq(kvk_number),
            practices::tier.eq(tier),
            practices::locations.eq(&locations),
            practices::updated_at.eq(event.occurred_at),
        ))
        .execute(conn)
        .await?;
    let Some((old_name, old_kvk, old_locations, _)) = before else {
        return Ok(None);
    };
    let old = listed(&old_name, &old_kvk, &old_locations);
    let new = listed(name, kvk_number, &locations);
    Ok((old != new).then(|| Recorded {
        id: event.event_id,
        change_type: ChangeType::PracticeChanged,
        practice_agb: event.practice_agb.clone(),
        cycle_year: None,
        insurer_uzovi: None,
        before: Some(old),
        after: Some(new),
        occurred_at: event.occurred_at,
    }))
}

async fn registration(
    conn: &mut AsyncPgConnection,
    event: &PracticeEvent,
) -> Result<Option<Recorded>, ApiError> {
    let PracticeChange::Registration {
        cycle_year,
        from_state,
        to_state,
        registered_at,
        reason,
    } = &event.change
    else {
        return Ok(None);
    };
    // An older event delivered late does not undo a newer one.
    let applied = diesel::sql_query(
        "INSERT INTO registrations (practice_agb, cycle_year, state, registered_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (practice_agb, cycle_year) DO UPDATE \
         SET state = EXCLUDED.state, registered_at = EXCLUDED.registered_at, \
         updated_at = EXCLUDED.updated_at WHERE registrations.updated_at <= EXCLUDED.updated_at",
    )
    .bind::<Text, _>(&event.practice_agb)
    .bind::<Integer, _>(i32::from(*cycle_year))
    .bind::<Text, _>(to_state)
    .bind::<Nullable<Timestamptz>, _>(registered_at)
    .bind::<Timestamptz, _>(event.occurred_at)
    .execute(conn)
    .await?;
    let change_type = match to_state.as_str() {
        "registered" => ChangeType::Registered,
        "withdrawn" => ChangeType::Withdrawn,
        "refused" => ChangeType::Refused,
        _ => return Ok(None),
    };
    if applied == 0 {
        return Ok(None);
    }
    Ok(Some(Recorded {
        id: event.event_id,
        change_type,
        practice_agb: event.practice_agb.clone(),
        cycle_year: Some(*cycle_year),
        insurer_uzovi: None,
        before: Some(json!({"state": from_state})),
        after: Some(json!({"state": to_state, "registered_at": registered_at, "reason": reason})),
        occurred_at: event.occurred_at,
    }))
}

async fn consent(
    conn: &mut AsyncPgConnection,
    event: &PracticeEvent,
    insurer_uzovi: &str,
    given: bool,
) -> Result<Option<Recorded>, ApiError> {
    let applied = diesel::sql_query(
        "INSERT INTO consents (practice_agb, insurer_uzovi, given, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (practice_agb, insurer_uzovi) DO UPDATE \
         SET given = EXCLUDED.given, updated_at = EXCLUDED.updated_at \
         WHERE consents.updated_at <= EXCLUDED.updated_at",
    )
    .bind::<Text, _>(&event.practice_agb)
    .bind::<Text, _>(insurer_uzovi)
    .bind::<Bool, _>(given)
    .bind::<Timestamptz, _>(event.occurred_at)
    .execute(conn)
    .await?;
    if applied == 0 {
        return Ok(None);
    }
    Ok(Some(Recorded {
        id: event.event_id,
        change_type: if given {
            ChangeType::ConsentGiven
        } else {
            ChangeType::ConsentRevoked
        },
        practice_agb: event.practice_agb.clone(),
        cycle_year: None,
        insurer_uzovi: Some(insurer_uzovi.to_string()),
        before: Some(json!({"consent": !given})),
        after: Some(json!({"consent": given})),
        occurred_at: event.occurred_at,
    }))
}
