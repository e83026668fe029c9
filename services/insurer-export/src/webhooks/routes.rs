//! Webhook endpoints of an insurer and their deliveries.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::UzoviCode;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_scopes::insurer_export as scopes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::paths::{DeliveryPath, InsurerPath, WebhookPath};
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::startup::ExportContext;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(redeliver);
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.zv-oost.example/praktijkregister"}))]
pub struct NewWebhook {
    /// Where every change is posted: `https`, resolving to a public address.
    pub url: String,
}

/// An endpoint as listed (without its secret).
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
#[schema(example = json!({"id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "url": "https://hooks.zv-oost.example/praktijkregister", "created_at": "2026-09-01T10:00:00Z"}))]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// A created endpoint with its secret, shown only now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "url": "https://hooks.zv-oost.example/praktijkregister",
    "created_at": "2026-09-01T10:00:00Z", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYq="
}))]
pub struct CreatedWebhook {
    pub id: Uuid,
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// The signing secret (Standard Webhooks `whsec_…`); verify `webhook-signature` with it.
    pub secret: String,
}

/// The endpoints of an insurer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// The insurer's endpoint `id`, or 404; `removed` also finds one that was removed.
async fn require_endpoint(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    id: Uuid,
    removed: bool,
) -> Result<(), ApiError> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::insurer_uzovi.eq(uzovi.as_str().to_string()))
        .select(webhook_endpoints::id)
        .into_boxed();
    if !removed {
        query = query.filter(webhook_endpoints::deleted_at.is_null());
    }
    query
        .first::<Uuid>(conn)
        .await
        .optional()?
        .map(drop)
        .ok_or_else(|| ApiError::not_found("webhook", id))
}

/// Register a webhook endpoint
///
/// Registers an endpoint of the insurer; every change of its list from now on is posted to it,
/// signed with the secret in the answer (shown only now). Outside development the URL must be
/// `https` and resolve to public addresses only (loopback, private and link-local addresses are
/// refused). An insurer registers only its own endpoints.
#[utoipa::path(
    tag = "Webhooks",
    params(InsurerPath),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered", body = CreatedWebhook),
        (status = 404, description = "No such insurer (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an https URL, or an internal address", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["webhooks:manage"]))
)]
#[post("/v1/insurers/{uzovi}/webhooks")]
pub async fn create_webhook(
    ctx: web::Data<ExportContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    body: Json<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    principal.require_insurer(scopes::WEBHOOKS_MANAGE, uzovi.as_str(), "insurer")?;
    let url = super::check_endpoint(&body.url, ctx.environment, "url").await?;
    let mut conn = connection(&pool).await?;
    crate::insurers::find(&mut conn, &uzovi).await?;
    let secret = super::new_secret();
    let key = &ctx.webhook_key;
    let location = uzovi.to_string();
    let created = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let id = Uuid::now_v7();
            let webhook: Webhook = diesel::insert_into(webhook_endpoints::table)
                .values((
                    webhook_endpoints::id.eq(id),
                    webhook_endpoints::insurer_uzovi.eq(uzovi.as_str()),
                    webhook_endpoints::url.eq(url.as_str()),
                    webhook_endpoints::sealed_secret.eq(key.seal(id, &secret)?),
                ))
                .returning(Webhook::as_returning())
                .get_result(conn)
                .await?;
            let event = AuditEvent::success("webhook.create", "webhook", id.to_string())
                .with_detail(serde_json::json!({"insurer": uzovi, "url": url.as_str()}));
            Ok((
                CreatedWebhook {
                    id: webhook.id,
                    url: webhook.url,
                    created_at: webhook.created_at,
                    secret,
                },
                event,
            ))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/v1/insurers/{location}/webhooks/{}", created.id),
        ))
        .json(created))
}

/// List an insurer's webhook endpoints
///
/// The endpoints the insurer registered (without their secrets).
#[utoipa::path(
    tag = "Webhooks",
    params(InsurerPath),
    responses(
        (status = 200, description = "The endpoints", body = WebhookList),
        (status = 404, description = "No such insurer (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["webhooks:manage"]))
)]
#[get("/v1/insurers/{uzovi}/webhooks")]
pub async fn list_webhooks(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
) -> Result<web::Json<WebhookList>, ApiError> {
    principal.require_insurer(scopes::WEBHOOKS_MANAGE, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    crate::insurers::find(&mut conn, &uzovi).await?;
    let items = webhook_endpoints::table
        .filter(webhook_endpoints::insurer_uzovi.eq(uzovi.as_str()))
        .filter(webhook_endpoints::deleted_at.is_null())
        .order(webhook_endpoints::created_at)
        .select(Webhook::as_select())
        .load(&mut conn)
        .await?;
    Ok(web::Json(WebhookList { items }))
}

/// Remove a webhook endpoint
///
/// No further changes are sent to it; pending deliveries are dropped as failed. Removing an
/// endpoint that was removed before answers 204 again.
#[utoipa::path(
    tag = "Webhooks",
    params(InsurerPath, WebhookPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["webhooks:manage"]))
)]
#[delete("/v1/insurers/{uzovi}/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    WebhookPath(id): WebhookPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_insurer(scopes::WEBHOOKS_MANAGE, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            require_endpoint(conn, &uzovi, id, true).await?;
            diesel::update(
                webhook_endpoints::table
                    .find(id)
                    .filter(webhook_endpoints::deleted_at.is_null()),
            )
            .set(webhook_endpoints::deleted_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::endpoint_id.eq(id))
                    .filter(webhook_deliveries::status.eq("pending")),
            )
            .set(webhook_deliveries::status.eq("failed"))
            .execute(conn)
            .await?;
            Ok((
                (),
                AuditEvent::success("webhook.delete", "webhook", id.to_string()),
            ))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status; `None` when it did not answer.
    pub status: Option<i32>,
    pub error: Option<String>,
}

/// One change sent (or to be sent) to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d12", "status": "delivered", "attempts": [
        {"attempted_at": "2026-11-03T09:00:01Z", "status": 503, "error": "status 503"},
        {"attempted_at": "2026-11-03T09:00:03Z", "status": 204, "error": null}],
    "payload": {"type": "practice.withdrawn", "timestamp": "2026-11-03T09:00:00Z", "data": {}},
    "next_attempt_at": "2026-11-03T09:00:03Z", "give_up_at": "2026-11-06T09:00:00Z",
    "created_at": "2026-11-03T09:00:00Z", "delivered_at": "2026-11-03T09:00:03Z"
}))]
pub struct Delivery {
    /// Also the `webhook-id` the receiver sees.
    pub id: Uuid,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub payload: Value,
    pub attempts: Vec<Attempt>,
    pub next_attempt_at: DateTime<Utc>,
    /// After this the delivery is marked failed.
    pub give_up_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The deliveries of an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
}

type DeliveryRow = (
    Uuid,
    String,
    Value,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// List an endpoint's deliveries
///
/// The latest 100 deliveries of the endpoint, newest first, each with its attempts.
#[utoipa::path(
    tag = "Webhooks",
    params(InsurerPath, WebhookPath),
    responses(
        (status = 200, description = "The deliveries", body = DeliveryList),
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["webhooks:manage"]))
)]
#[get("/v1/insurers/{uzovi}/webhooks/{webhook_id}/deliveries")]
pub async fn list_deliveries(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    WebhookPath(id): WebhookPath,
) -> Result<web::Json<DeliveryList>, ApiError> {
    principal.require_insurer(scopes::WEBHOOKS_MANAGE, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    require_endpoint(&mut conn, &uzovi, id, false).await?;
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(id))
        .order(webhook_deliveries::created_at.desc())
        .limit(100)
        .select((
            webhook_deliveries::id,
            webhook_deliveries::status,
            webhook_deliveries::payload,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::give_up_at,
            webhook_deliveries::created_at,
            webhook_deliveries::delivered_at,
        ))
        .load(&mut conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let attempts: Vec<(Uuid, Attempt)> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order(webhook_attempts::id)
        .select((webhook_attempts::delivery_id, Attempt::as_select()))
        .load(&mut conn)
        .await?;
    let mut by_delivery: std::collections::HashMap<Uuid, Vec<Attempt>> =
        std::collections::HashMap::new();
    for (delivery, attempt) in attempts {
        by_delivery.entry(delivery).or_default().push(attempt);
    }
    let items = rows
        .into_iter()
        .map(
            |(id, status, payload, next_attempt_at, give_up_at, created_at, delivered_at)| {
                Delivery {
                    attempts: by_delivery.remove(&id).unwrap_or_default(),
                    id,
                    status,
                    payload,
                    next_attempt_at,
                    give_up_at,
                    created_at,
                    delivered_at,
                }
            },
        )
        .collect();
    Ok(web::Json(DeliveryList { items }))
}

/// Redeliver
///
/// Sends the delivery again (as soon as the relay runs), with a fresh retry period: after it
/// failed, or to have it again although it was delivered. The receiver sees the same
/// `webhook-id`.
#[utoipa::path(
    tag = "Webhooks",
    params(InsurerPath, WebhookPath, DeliveryPath),
    responses(
        (status = 202, description = "Queued"),
        (status = 404, description = "No such endpoint or delivery (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["webhooks:manage"]))
)]
#[post("/v1/insurers/{uzovi}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    ctx: web::Data<ExportContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    WebhookPath(id): WebhookPath,
    DeliveryPath(delivery): DeliveryPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_insurer(scopes::WEBHOOKS_MANAGE, uzovi.as_str(), "insurer")?;
    let period = i64::try_from(ctx.settings.webhooks.retry_period_seconds).unwrap_or(i64::MAX);
    let give_up_at = ctx.clock.now() + chrono::Duration::seconds(period);
    let mut conn = connection(&pool).await?;
    audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            require_endpoint(conn, &uzovi, id, false).await?;
            let updated = diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq(delivery))
                    .filter(webhook_deliveries::endpoint_id.eq(id)),
            )
            .set((
                webhook_deliveries::status.eq("pending"),
                webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
                webhook_deliveries::give_up_at.eq(give_up_at),
                webhook_deliveries::delivered_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
            if updated == 0 {
                return Err(ApiError::not_found("delivery", delivery));
            }
            Ok((
                (),
                AuditEvent::success(
                    "webhook.redeliver",
                    "webhook_delivery",
                    delivery.to_string(),
                ),
            ))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}
