//! Changes after the snapshot (DESIGN §3.6): every change the register reports that touches an
//! insurer's list (a practice withdrawn or refused, registered late, its name, KvK number or
//! locations changed, consent given or revoked), kept in the order received. An insurer reads
//! them as a feed resumable by cursor, and every webhook endpoint is sent each of them.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_scopes::insurer_export as scopes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::paths::InsurerPath;
use crate::schema::{changes, snapshots, webhook_deliveries, webhook_endpoints};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_changes);
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// The registration of a cycle year became registered (after the export: a late registration).
    Registered,
    /// The registration was withdrawn (teruggetrokken).
    Withdrawn,
    /// The registration was refused (a negative visitation).
    Refused,
    /// The practice's name, KvK number or locations changed.
    PracticeChanged,
    /// The practice gave the insurer consent to see its quality data (001 §1.3c).
    ConsentGiven,
    /// The practice revoked that consent.
    ConsentRevoked,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Withdrawn => "withdrawn",
            Self::Refused => "refused",
            Self::PracticeChanged => "practice_changed",
            Self::ConsentGiven => "consent_given",
            Self::ConsentRevoked => "consent_revoked",
        }
    }
}

/// One change of an insurer's list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "type": "withdrawn", "practice_agb": "07012345",
    "cycle_year": 2026, "insurer_uzovi": null,
    "before": {"state": "registered"}, "after": {"state": "withdrawn", "reason": "Practice closed"},
    "occurred_at": "2026-11-03T09:00:00Z"
}))]
pub struct Change {
    /// The register's event id: the same change has the same id in the feed and at a webhook.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub practice_agb: String,
    /// The cycle year of a registration change.
    pub cycle_year: Option<u16>,
    /// The insurer a consent change is about; `None` for changes every insurer sees.
    pub insurer_uzovi: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub occurred_at: DateTime<Utc>,
}

/// A change as it is recorded.
pub struct NewChange<'a> {
    pub id: Uuid,
    pub change_type: ChangeType,
    pub practice_agb: &'a str,
    pub cycle_year: Option<u16>,
    pub insurer_uzovi: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub occurred_at: DateTime<Utc>,
}

/// The body a webhook endpoint receives for a change (Standard Webhooks: `type`, `timestamp`,
/// `data`).
pub fn webhook_payload(change: &Change) -> Result<Value, ApiError> {
    Ok(serde_json::json!({
        "type": format!("practice.{}", change.change_type.as_str()),
        "timestamp": change.occurred_at,
        "data": serde_json::to_value(change).map_err(ApiError::internal)?,
    }))
}

/// Records the change and queues it for every webhook endpoint that sees it, on the caller's
/// connection (the transaction that applied the event). The change's sequence number.
pub async fn record(
    conn: &mut AsyncPgConnection,
    change: NewChange<'_>,
    retry_period_seconds: u64,
) -> Result<i64, ApiError> {
    let seq: i64 = diesel::insert_into(changes::table)
        .values((
            changes::id.eq(change.id),
            changes::change_type.eq(change.change_type.as_str()),
            changes::practice_agb.eq(change.practice_agb),
            changes::cycle_year.eq(change.cycle_year.map(i32::from)),
            changes::insurer_uzovi.eq(change.insurer_uzovi),
            changes::before.eq(&change.before),
            changes::after.eq(&change.after),
            changes::occurred_at.eq(change.occurred_at),
        ))
        .returning(changes::seq)
        .get_result(conn)
        .await?;
    let view = Change {
        id: change.id,
        change_type: change.change_type,
        practice_agb: change.practice_agb.to_string(),
        cycle_year: change.cycle_year,
        insurer_uzovi: change.insurer_uzovi.map(str::to_string),
        before: change.before,
        after: change.after,
        occurred_at: change.occurred_at,
    };
    let payload = webhook_payload(&view)?;
    let mut endpoints = webhook_endpoints::table
        .filter(webhook_endpoints::deleted_at.is_null())
        .select(webhook_endpoints::id)
        .into_boxed();
    if let Some(uzovi) = change.insurer_uzovi {
        endpoints = endpoints.filter(webhook_endpoints::insurer_uzovi.eq(uzovi.to_string()));
    }
    let endpoints: Vec<Uuid> = endpoints.load(conn).await?;
    let retry = i64::try_from(retry_period_seconds).unwrap_or(i64::MAX);
    let give_up_at = Utc::now() + chrono::Duration::seconds(retry);
    for endpoint in endpoints {
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(Uuid::now_v7()),
                webhook_deliveries::endpoint_id.eq(endpoint),
                webhook_deliveries::change_seq.eq(seq),
                webhook_deliveries::payload.eq(&payload),
                webhook_deliveries::status.eq("pending"),
                webhook_deliveries::give_up_at.eq(give_up_at),
            ))
            .execute(conn)
            .await?;
    }
    Ok(seq)
}

/// The highest sequence number so far (0 when there is none): a snapshot's position in the feed.
pub async fn last_seq(conn: &mut AsyncPgConnection) -> Result<i64, ApiError> {
    let seq: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::seq))
        .first(conn)
        .await?;
    Ok(seq.unwrap_or(0))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = changes)]
struct ChangeRow {
    seq: i64,
    id: Uuid,
    change_type: String,
    practice_agb: String,
    cycle_year: Option<i32>,
    insurer_uzovi: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
    occurred_at: DateTime<Utc>,
}

impl ChangeRow {
    fn view(self) -> Result<Change, ApiError> {
        let change_type =
            serde_json::from_value(Value::String(self.change_type)).map_err(ApiError::internal)?;
        Ok(Change {
            id: self.id,
            change_type,
            practice_agb: self.practice_agb,
            cycle_year: self.cycle_year.and_then(|y| u16::try_from(y).ok()),
            insurer_uzovi: self.insurer_uzovi,
            before: self.before,
            after: self.after,
            occurred_at: self.occurred_at,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// The `next_cursor` of the previous page; none: from the insurer's latest snapshot.
    pub cursor: Option<String>,
    /// Changes per page, 1 to 500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<String>,
}

/// A page of the feed. `next_cursor` always resumes after the last change read (also when the
/// page is empty: poll with it later).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": "42", "snapshot_id": null}))]
pub struct ChangePage {
    pub items: Vec<Change>,
    pub next_cursor: String,
    /// The snapshot the feed starts after when no cursor is given.
    pub snapshot_id: Option<String>,
}

/// Read the changes after the snapshot
///
/// Every change since the insurer's latest snapshot that touches its list, in the order
/// received: a practice withdrawn or refused, registered late (e.g. `awaiting_kp` → `registered`
/// after the export), its name, KvK number or locations changed, consent given or revoked for
/// this insurer. Resume with `cursor` = the `next_cursor` of the previous page. An insurer reads
/// only its own feed (another UZOVI answers 404). Every read is in the audit trail.
#[utoipa::path(
    tag = "Changes",
    params(InsurerPath, ChangeParams),
    responses(
        (status = 200, description = "A page of changes", body = ChangePage),
        (status = 404, description = "No such insurer (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:read"]))
)]
#[get("/v1/insurers/{uzovi}/changes")]
pub async fn list_changes(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    params: web::Query<ChangeParams>,
) -> Result<web::Json<ChangePage>, ApiError> {
    principal.require_insurer(scopes::EXPORTS_READ, uzovi.as_str(), "insurer")?;
    let limit = match params.limit.as_deref().map(|l| l.trim().parse::<i64>()) {
        None => 100,
        Some(Ok(n)) if (1..=500).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                "limit_range",
                "limit must be between 1 and 500",
            ))
        }
    };
    let mut conn = connection(&pool).await?;
    crate::insurers::find(&mut conn, &uzovi).await?;
    let latest: Option<(String, i64)> = snapshots::table
        .filter(snapshots::insurer_uzovi.eq(uzovi.as_str()))
        .order(snapshots::created_at.desc())
        .select((snapshots::id, snapshots::changes_seq))
        .first(&mut conn)
        .await
        .optional()?;
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => cursor
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| {
                ApiError::field(
                    "cursor",
                    "cursor_invalid",
                    "the cursor is not one this API handed out",
                )
            })?,
        None => latest.as_ref().map_or(0, |(_, seq)| *seq),
    };
    let rows: Vec<ChangeRow> = changes::table
        .filter(changes::seq.gt(after))
        .filter(
            changes::insurer_uzovi
                .is_null()
                .or(changes::insurer_uzovi.eq(uzovi.as_str())),
        )
        .order(changes::seq)
        .limit(limit)
        .select(ChangeRow::as_select())
        .load(&mut conn)
        .await?;
    let next = rows.last().map_or(after, |r| r.seq);
    let items = rows
        .into_iter()
        .map(ChangeRow::view)
        .collect::<Result<Vec<_>, _>>()?;
    let event = AuditEvent::success("changes.read", "insurer", uzovi.as_str())
        .with_detail(serde_json::json!({"after": after, "count": items.len()}));
    audit::record(&mut conn, (&principal).into(), &event).await?;
    Ok(web::Json(ChangePage {
        items,
        next_cursor: next.to_string(),
        snapshot_id: latest.map(|(id, _)| id),
    }))
}
