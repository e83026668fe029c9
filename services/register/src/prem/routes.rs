//! `/v1/practices/{agb}/prem-results`: PREM results per practice per month.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::StatusCode;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use praktijkregister_domain::EpdVendorId;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::idempotency::IdempotentRequest;
use praktijkregister_platform::pagination::{Page, PageParams};
use praktijkregister_platform::paths::exact;
use serde_json::{json, Value};

use super::repository;
use super::{parse_prem, PremListParams, PremResult, PremResultRequest};
use crate::access::{data_writer, require_reader, writer_identity};
use crate::deliveries::routes::{denied_event, refuse_patient_data_audited, WriteOutcome};
use crate::deliveries::{parse_period, writable_period};
use crate::paths::{PeriodPath, PracticePath};

/// Registers the PREM routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_prem_result).service(list_prem_results);
}

/// Deliver a month's PREM result
///
/// An EPD vendor that the practice authorised (or the registrar) delivers the practice's PREM
/// result (klantervaringsonderzoek, 001 §1.5) of a month that has begun: the number of responses,
/// the measuring office, the practice's consents to share the results with the national processor
/// (§1.5c) and ZorgkaartNederland (§1.5d), and the mean score per domain. It replaces an earlier
/// result of the month with all its domain scores: 201 when new, 200 when replaced. Never patient
/// data: a field named like a patient identifier or a BSN value refuses the request (422, code
/// `patient_data`). `Idempotency-Key` works as for deliveries.
#[utoipa::path(
    tag = "PREM",
    params(
        PracticePath,
        PeriodPath,
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body answers the first answer again", example = "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10"),
    ),
    request_body = PremResultRequest,
    responses(
        (status = 200, description = "Replaced the month's earlier result", body = PremResult),
        (status = 201, description = "Stored", body = PremResult),
        (status = 403, description = "Not an EPD vendor the practice authorised, nor the registrar", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practice", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named; patient data; a month that has not begun; or an Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["prem:write"]))
)]
#[put("/v1/practices/{agb}/prem-results/{period}")]
pub async fn put_prem_result(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    PeriodPath(period): PeriodPath,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let vendor = writer_identity(&principal, scopes::PREM_WRITE)?;
    let now = ctx.clock.now();
    let period = writable_period(period, now)?;
    let body = body.into_inner();
    let idempotent = IdempotentRequest::from_request(&req, &principal.client_id, &body)?;
    let subject = format!("{agb}/{period}");
    let mut conn = connection(&pool).await?;
    refuse_patient_data_audited(
        &mut conn,
        &principal,
        "prem_result.put",
        "prem_result",
        &subject,
        &body,
    )
    .await?;
    let fields = parse_prem(&body)?;
    let outcome = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                let writer = data_writer(conn, &agb, vendor.as_ref()).await?;
                if let Some(refusal) = writer.refusal(&agb) {
                    let event =
                        denied_event("prem_result.put", "prem_result", subject, writer.vendor());
                    audit::record(conn, (&principal).into(), &event).await?;
                    return Ok(WriteOutcome::Refused(refusal));
                }
                if let Some(idempotent) = &idempotent {
                    if let Some(answer) = idempotent.replay(conn).await? {
                        return Ok(WriteOutcome::Replayed(answer));
                    }
                }
                let (result, created) =
                    repository::upsert(conn, &agb, period, &fields, now, &principal.client_id)
                        .await?;
                let event = AuditEvent::success("prem_result.put", "prem_result", subject)
                    .with_detail(json!({
                        "created": created,
                        "epd_vendor": writer.vendor().map(EpdVendorId::as_str),
                        "responses": fields.responses,
                        "domains": fields.domains.len(),
                    }));
                audit::record(conn, (&principal).into(), &event).await?;
                let status = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                let body = serde_json::to_value(&result).map_err(ApiError::internal)?;
                if let Some(idempotent) = &idempotent {
                    idempotent.remember(conn, status, &body).await?;
                }
                Ok(WriteOutcome::Done(status, body))
            }
            .scope_boxed()
        })
        .await?;
    if matches!(outcome, WriteOutcome::Done(..)) {
        // The year's national PREM means now include these scores (001 §1.5g, DESIGN §7).
        ctx.prem_means
            .forget(chrono::Datelike::year(&period.first_day()));
    }
    outcome.respond()
}

/// List a practice's PREM results
///
/// The practice's PREM results, newest month first, with the scores per domain and the consents;
/// optionally of one month. Keyset-paginated. Readable by the registrar, the practice itself
/// (another practice's is 404) and EPD vendors the practice authorised.
#[utoipa::path(
    tag = "PREM",
    params(PracticePath, PremListParams, PageParams),
    responses(
        (status = 200, description = "A page of PREM results", body = Page<PremResult>),
        (status = 403, description = "An EPD vendor the practice did not authorise", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["deliveries:read"]))
)]
#[get("/v1/practices/{agb}/prem-results")]
pub async fn list_prem_results(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    filter: web::Query<PremListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<PremResult>>, ApiError> {
    let period = filter
        .period
        .as_deref()
        .map(|p| parse_period("period", exact(p)))
        .transpose()?;
    let limit = page.limit()?;
    let after: Option<NaiveDate> = page.after()?;
    let mut conn = connection(&pool).await?;
    require_reader(&mut conn, &principal, &agb).await?;
    let results = repository::list(&mut conn, &agb, period, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("prem_result.list", "practice", agb.as_str()).with_detail(json!({
            "period": period,
            "count": results.len().min(usize::try_from(limit).unwrap_or(usize::MAX)),
        })),
    )
    .await?;
    Ok(web::Json(Page::from_rows(results, limit, |r| {
        r.period.first_day()
    })))
}
