//! `/v1/declared-relations`: the registrar declares and reads business relations.

use actix_web::{get, post, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::{OefentherapieAgb, Text, VisitorId};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{checked, ApiError, FieldErrors, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_platform::pagination::{Page, PageParams};
use uuid::Uuid;

use super::repository::{self, RelationRow};
use super::{NewRelation, Relation};
use crate::scopes;
use crate::visitors;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_relation).service(list_relations);
}

/// Declare a business relation
///
/// Records a tie between a practice and another practice, or between a practice and a visitor
/// (001 §1.2c "verbonden of zakelijk belang"), with a reason and the period it holds. While it
/// holds, a session that pairs the two is refused (`declared_relation`,
/// `visitor_declared_relation`) and the planner never proposes it.
#[utoipa::path(
    tag = "Declared relations",
    request_body = NewRelation,
    responses(
        (status = 201, description = "Declared", body = Relation),
        (status = 422, description = "Invalid fields, both or neither of the other parties, or an unknown visitor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["declared-relations:manage"]))
)]
#[post("/v1/declared-relations")]
pub async fn create_relation(
    principal: Principal,
    pool: web::Data<DbPool>,
    body: Json<NewRelation>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::DECLARED_RELATIONS_MANAGE)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let practice = errors.check("practice_agb", OefentherapieAgb::parse(&body.practice_agb));
    let other = body
        .other_practice_agb
        .as_deref()
        .and_then(|agb| errors.check("other_practice_agb", OefentherapieAgb::parse(agb)));
    let visitor = body
        .visitor_id
        .as_deref()
        .and_then(|id| errors.check("visitor_id", VisitorId::parse(id)));
    if body.other_practice_agb.is_some() == body.visitor_id.is_some() {
        errors.push(
            "other_practice_agb",
            "one_party",
            "name exactly one of other_practice_agb and visitor_id",
        );
    }
    if let (Some(a), Some(b)) = (&practice, &other) {
        if a == b {
            errors.push(
                "other_practice_agb",
                "same_practice",
                "a relation is between two different practices",
            );
        }
    }
    let reason = errors.check("reason", Text::lines(&body.reason, 2000));
    if body
        .valid_until
        .is_some_and(|until| until < body.valid_from)
    {
        errors.push(
            "valid_until",
            "relation_period",
            "the relation ends on or after the day it starts",
        );
    }
    errors.into_result()?;
    let row = RelationRow {
        id: Uuid::now_v7(),
        practice_agb: checked(practice)?.as_str().to_string(),
        other_practice_agb: other.map(|o| o.as_str().to_string()),
        visitor_id: visitor.map(|v| v.as_str().to_string()),
        reason: checked(reason)?.into_string(),
        valid_from: body.valid_from,
        valid_until: body.valid_until,
    };
    let mut conn = connection(&pool).await?;
    let by = principal.client_id.clone();
    let relation = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            if let Some(visitor) = &row.visitor_id {
                if visitors::repository::find(conn, visitor).await?.is_none() {
                    return Err(ApiError::field(
                        "visitor_id",
                        "unknown_visitor",
                        format!("visitor {visitor} does not exist"),
                    ));
                }
            }
            repository::insert(conn, &row, &by).await?;
            let event =
                AuditEvent::success("relation.declare", "declared_relation", row.id.to_string());
            Ok((row.view(), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created().json(relation))
}

/// List declared relations
///
/// Every declared relation, oldest first.
#[utoipa::path(
    tag = "Declared relations",
    params(PageParams),
    responses(
        (status = 200, description = "A page of relations", body = Page<Relation>),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["declared-relations:manage"]))
)]
#[get("/v1/declared-relations")]
pub async fn list_relations(
    principal: Principal,
    pool: web::Data<DbPool>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Relation>>, ApiError> {
    principal.require(scopes::DECLARED_RELATIONS_MANAGE)?;
    let limit = page.limit()?;
    let after: Option<Uuid> = page.after()?;
    let mut conn = connection(&pool).await?;
    let rows = repository::page(&mut conn, after, limit).await?;
    let relations: Vec<Relation> = rows.into_iter().map(RelationRow::view).collect();
    Ok(web::Json(Page::from_rows(relations, limit, |r| r.id)))
}
