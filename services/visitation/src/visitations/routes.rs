//! `/v1/visitations`: findings, report and outcome of a visitation; `/v1/cycles/{year}/components`:
//! the components a year's visitations are scored on.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{
    amsterdam_date, check_outcome, check_pdf, unexplained_deviations, IndicatorDeviation,
    ReportError, Text, OUTCOME_INDICATORS,
};
use praktijkregister_events::VisitationOutcome;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::{Binding, Principal};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::{ApiError, FieldErrors, Problem};
use praktijkregister_platform::http::{read_limited_body, Json};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::json;
use uuid::Uuid;

use super::repository::{self, Finalising, Scope, VisitationRow, OPEN};
use super::{
    ComponentList, ComponentListInput, Deviation, Finding, FindingsInput, OutcomeInput, Visitation,
    VisitationFilter,
};
use crate::events;
use crate::paths::{CycleYearPath, VisitationPath};
use crate::scopes;
use crate::settings::{valid_component, VisitationSettings};
use crate::startup::VisitationContext;

/// Longest remarks and explanations.
const MAX_TEXT: usize = 4000;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_visitations)
        .service(get_visitation)
        .service(put_findings)
        .service(put_report)
        .service(get_report)
        .service(finalise_outcome)
        .service(get_components)
        .service(put_components);
}

/// The year's components and whether they are frozen: the stored list, else the configured one.
pub async fn components_of(
    conn: &mut AsyncPgConnection,
    settings: &VisitationSettings,
    year: i32,
) -> Result<(Vec<String>, bool), ApiError> {
    Ok(repository::component_list(conn, year)
        .await?
        .unwrap_or_else(|| (settings.components.clone(), false)))
}

/// Whether `principal` may see `row`: the registrar all, a visitor those of their sessions, a
/// practice its own.
fn may_see(principal: &Principal, row: &VisitationRow) -> bool {
    match &principal.binding {
        Binding::None => true,
        Binding::Visitor(own) => own.as_str() == row.visitor_id,
        Binding::Practice(own) => own.as_str() == row.practice_agb,
        Binding::EpdVendor(_) | Binding::Insurer(_) => false,
    }
}

/// The visitation if the caller may see it; another tenant's is answered 404 like a missing one.
async fn visible(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<VisitationRow, ApiError> {
    let row = if lock {
        repository::lock(conn, id).await?
    } else {
        repository::find(conn, id).await?
    };
    row.filter(|row| may_see(principal, row))
        .ok_or_else(|| ApiError::not_found("visitation", id))
}

fn require_open(row: &VisitationRow) -> Result<(), ApiError> {
    if row.status == OPEN {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "the visitation is {}; it can no longer change",
            row.status
        )))
    }
}

/// List visitations
///
/// Visitations, oldest first, optionally of one cycle year. A visitor client sees those of their
/// own sessions, a practice client its own.
#[utoipa::path(
    tag = "Visitations",
    params(VisitationFilter, PageParams),
    responses(
        (status = 200, description = "A page of visitations", body = Page<Visitation>),
        (status = 422, description = "Invalid year, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitations:read"]))
)]
#[get("/v1/visitations")]
pub async fn list_visitations(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    filter: web::Query<VisitationFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Visitation>>, ApiError> {
    principal.require(scopes::VISITATIONS_READ)?;
    let year = crate::parse_year_filter(filter.cycle_year.as_deref())?;
    let limit = page.limit()?;
    let after: Option<Uuid> = page.after()?;
    let scope = match &principal.binding {
        Binding::Visitor(own) => Scope::Visitor(own.as_str()),
        Binding::Practice(own) => Scope::Practice(own.as_str()),
        _ => Scope::All,
    };
    let mut conn = connection(&pool).await?;
    let rows = repository::page(&mut conn, year, scope, after, limit).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let (components, _) = components_of(&mut conn, &ctx.settings, row.cycle_year).await?;
        items.push(repository::view(&mut conn, row, components).await?);
    }
    Ok(web::Json(Page::from_rows(items, limit, |v| v.id)))
}

/// Read a visitation
///
/// The visitation with its findings, deviations, report (hash and size) and outcome. A visitor
/// client reads those of their own sessions, a practice client its own; others are answered 404.
#[utoipa::path(
    tag = "Visitations",
    params(VisitationPath),
    responses(
        (status = 200, description = "The visitation", body = Visitation),
        (status = 404, description = "No such visitation (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitations:read"]))
)]
#[get("/v1/visitations/{id}")]
pub async fn get_visitation(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitationPath,
) -> Result<web::Json<Visitation>, ApiError> {
    principal.require(scopes::VISITATIONS_READ)?;
    let mut conn = connection(&pool).await?;
    let row = visible(&mut conn, &principal, *id, false).await?;
    let (components, _) = components_of(&mut conn, &ctx.settings, row.cycle_year).await?;
    Ok(web::Json(
        repository::view(&mut conn, row, components).await?,
    ))
}

/// Every refusal of a findings body at once: components of the year's list, once each; known
/// indicators, once each, each with the practice's explanation (001 §1.2f).
fn check_findings(input: &FindingsInput, components: &[String]) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    let mut seen = BTreeMap::new();
    for (i, finding) in input.components.iter().enumerate() {
        let field = format!("components[{i}].component");
        if !components.contains(&finding.component) {
            errors.push(
                &field,
                "unknown_component",
                format!("the year's components are {}", components.join(", ")),
            );
        } else if seen.insert(finding.component.clone(), i).is_some() {
            errors.push(
                &field,
                "repeated_component",
                "each component is scored once",
            );
        }
        if let Some(remarks) = &finding.remarks {
            errors.check(
                &format!("components[{i}].remarks"),
                Text::lines(remarks, MAX_TEXT),
            );
        }
    }
    let mut seen = BTreeMap::new();
    for (i, deviation) in input.deviations.iter().enumerate() {
        let field = format!("deviations[{i}].indicator");
        if !OUTCOME_INDICATORS.contains(&deviation.indicator.as_str()) {
            errors.push(
                &field,
                "unknown_indicator",
                format!("an indicator is one of {}", OUTCOME_INDICATORS.join(", ")),
            );
        } else if seen.insert(deviation.indicator.clone(), i).is_some() {
            errors.push(
                &field,
                "repeated_indicator",
                "each indicator is listed once",
            );
        }
        if let Some(explanation) = deviation
            .explanation
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            errors.check(
                &format!("deviations[{i}].explanation"),
                Text::lines(explanation, MAX_TEXT),
            );
        }
    }
    for (i, deviation) in input.deviations.iter().enumerate() {
        let unexplained = unexplained_deviations(&[rule(deviation)]);
        if !unexplained.is_empty() {
            errors.push(
                format!("deviations[{i}].explanation"),
                "explanation_required",
                "a deviating outcome indicator needs the practice's explanation (001 §1.2f)",
            );
        }
    }
    errors.into_result()
}

fn rule(deviation: &Deviation) -> IndicatorDeviation {
    IndicatorDeviation {
        indicator: deviation.indicator.clone(),
        explanation: deviation.explanation.clone(),
    }
}

/// Record the findings of a visitation
///
/// Replaces the scores (`sufficient` or `insufficient`, with remarks) of the components of the
/// year's list (000; by default the 8 components) and the deviating outcome indicators (`prem`,
/// `results`, `treatment_index`), each with the practice's explanation, which is required
/// (001 §1.2f). Components may be scored over several calls; all are needed for the outcome.
/// Recording the first findings of a year freezes the year's component list. Only an open
/// visitation takes findings (409 otherwise). A visitor client records those of their own
/// sessions only; others are answered 404.
#[utoipa::path(
    tag = "Visitations",
    params(VisitationPath),
    request_body = FindingsInput,
    responses(
        (status = 200, description = "Recorded", body = Visitation),
        (status = 404, description = "No such visitation (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The visitation is finalised or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or repeated components or indicators, or a deviation without explanation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["findings:write"]))
)]
#[put("/v1/visitations/{id}/findings")]
pub async fn put_findings(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitationPath,
    body: Json<FindingsInput>,
) -> Result<web::Json<Visitation>, ApiError> {
    principal.require(scopes::FINDINGS_WRITE)?;
    let input = body.into_inner();
    let id = id.into_inner();
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let settings = &ctx.settings;
    let visitation = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let row = visible(conn, principal, id, true).await?;
            require_open(&row)?;
            let (components, _) = components_of(conn, settings, row.cycle_year).await?;
            check_findings(&input, &components)?;
            // The list is the year's from the first finding on.
            repository::store_component_list(
                conn,
                row.cycle_year,
                &components,
                true,
                &principal.client_id,
            )
            .await?;
            let findings: Vec<Finding> = input
                .components
                .into_iter()
                .map(|f| Finding {
                    remarks: f.remarks.filter(|r| !r.trim().is_empty()),
                    ..f
                })
                .collect();
            repository::replace_findings(
                conn,
                id,
                &findings,
                &input.deviations,
                &principal.client_id,
                now,
            )
            .await?;
            let event = AuditEvent::success("visitation.findings", "visitation", id.to_string())
                .with_detail(
                    json!({"components": findings.len(), "deviations": input.deviations.len()}),
                );
            Ok((repository::view(conn, row, components).await?, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(visitation))
}

/// 415 unless the request declares `application/pdf`.
fn require_pdf_media_type(req: &HttpRequest) -> Result<(), ApiError> {
    let refused = || ApiError::UnsupportedMediaType("send the report as application/pdf".into());
    let mime = actix_web::HttpMessage::mime_type(req)
        .map_err(|_| refused())?
        .ok_or_else(refused)?;
    if mime.type_() == "application" && mime.subtype() == "pdf" {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Upload the report of a visitation
///
/// The visitation report (001 §1.2g): the body is the PDF itself (`Content-Type:
/// application/pdf`, at most 20 MiB by default). It is checked by its content, never by the
/// declared type: a body that does not start with a PDF header (a PNG, say) is answered 415, one
/// without the structure of a PDF (objects and the `%%EOF` marker) 422, one over the limit 413;
/// in each case nothing is stored. The report is kept with its SHA-256, which the outcome carries
/// to the register. A new upload replaces the previous one while the visitation is open (409
/// after). A visitor client uploads for their own sessions only; others are answered 404.
#[utoipa::path(
    tag = "Visitations",
    params(VisitationPath),
    request_body(content = Vec<u8>, content_type = "application/pdf", description = "The report as PDF"),
    responses(
        (status = 200, description = "Stored", body = Visitation),
        (status = 404, description = "No such visitation (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The visitation is finalised or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not declared or not recognised as a PDF", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A PDF header without the structure of a PDF", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-reports:write"]))
)]
#[put("/v1/visitations/{id}/report")]
pub async fn put_report(
    ctx: web::Data<VisitationContext>,
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitationPath,
    payload: web::Payload,
) -> Result<web::Json<Visitation>, ApiError> {
    principal.require(scopes::REPORTS_WRITE)?;
    require_pdf_media_type(&req)?;
    let content = read_limited_body(&req, payload, ctx.settings.report_max_bytes).await?;
    match check_pdf(&content) {
        Ok(()) => {}
        Err(ReportError::NotPdf) => {
            return Err(ApiError::UnsupportedMediaType(
                ReportError::NotPdf.to_string(),
            ))
        }
        Err(error) => return Err(ApiError::invalid("report", &error)),
    }
    let sha256 = sha256_hex(&content);
    let id = id.into_inner();
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let settings = &ctx.settings;
    let visitation = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let row = visible(conn, principal, id, true).await?;
            require_open(&row)?;
            repository::store_report(conn, id, &content, &sha256, &principal.client_id, now)
                .await?;
            let (components, _) = components_of(conn, settings, row.cycle_year).await?;
            let event =
                AuditEvent::success("visitation.report_upload", "visitation", id.to_string())
                    .with_detail(json!({"sha256": sha256, "size_bytes": content.len()}));
            Ok((repository::view(conn, row, components).await?, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(visitation))
}

/// Download the report of a visitation
///
/// The PDF as uploaded, with its SHA-256 as the ETag. The registrar, the visitor of the session
/// and the visited practice may download it; others are answered 404. Every download is audited.
#[utoipa::path(
    tag = "Visitations",
    params(VisitationPath),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such visitation or report (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-reports:read"]))
)]
#[get("/v1/visitations/{id}/report")]
pub async fn get_report(
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitationPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::REPORTS_READ)?;
    let id = id.into_inner();
    let mut conn = connection(&pool).await?;
    visible(&mut conn, &principal, id, false).await?;
    let (content, sha256) = repository::report_content(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("visitation report", id))?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("visitation.report_download", "visitation", id.to_string())
            .with_detail(json!({"sha256": sha256})),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::ETAG, format!("\"{sha256}\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(content))
}

/// Finalise the outcome of a visitation
///
/// Records the outcome (`positive` or `negative`) once the visitation has taken place (its date
/// not after today, Europe/Amsterdam) and sends it to the register through the outbox, with the
/// report's SHA-256 when one is uploaded; the register moves the registration as it does for any
/// outcome. Every component of the year's list must be scored and every deviation explained
/// (001 §1.2f); a `positive` outcome needs every component sufficient (000): otherwise 422 naming
/// the components (`insufficient_components`, `components_unscored`) or indicators
/// (`explanation_required`). The event carries an id kept with the outcome: the register applies
/// it once however often it is delivered. A visitation is finalised once (409 after). A visitor
/// client finalises their own sessions only; others are answered 404.
#[utoipa::path(
    tag = "Visitations",
    params(VisitationPath),
    request_body = OutcomeInput,
    responses(
        (status = 200, description = "Finalised", body = Visitation),
        (status = 404, description = "No such visitation (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already finalised, or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not held yet, unscored or insufficient components, or an unexplained deviation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-outcomes:finalise"]))
)]
#[post("/v1/visitations/{id}/outcome")]
pub async fn finalise_outcome(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitationPath,
    body: Json<OutcomeInput>,
) -> Result<web::Json<Visitation>, ApiError> {
    principal.require(scopes::OUTCOMES_FINALISE)?;
    let input = body.into_inner();
    let remarks = match input.remarks.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(r) => Some(
            Text::lines(r, MAX_TEXT)
                .map_err(|e| ApiError::invalid("remarks", &e))?
                .into_string(),
        ),
        None => None,
    };
    let id = id.into_inner();
    let now = ctx.clock.now();
    let today = amsterdam_date(now);
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let settings = &ctx.settings;
    let visitation = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let row = visible(conn, principal, id, true).await?;
            require_open(&row)?;
            if row.date > today {
                return Err(ApiError::field(
                    "outcome",
                    "visitation_not_held_yet",
                    format!("the visitation takes place on {}", row.date),
                ));
            }
            let (components, _) = components_of(conn, settings, row.cycle_year).await?;
            let scores = repository::findings(conn, id)
                .await?
                .into_iter()
                .map(|f| (f.component, f.score))
                .collect();
            let deviations: Vec<IndicatorDeviation> = repository::deviations(conn, id)
                .await?
                .iter()
                .map(rule)
                .collect();
            let positive = input.outcome == VisitationOutcome::Positive;
            if let Err(refusal) = check_outcome(&components, &scores, &deviations, positive) {
                let mut problem = serde_json::Map::new();
                problem.insert("code".into(), json!(refusal.code()));
                problem.insert("components".into(), json!(refusal.subjects()));
                return Err(ApiError::Unprocessable {
                    detail: refusal.to_string(),
                    extensions: problem,
                });
            }
            repository::store_component_list(
                conn,
                row.cycle_year,
                &components,
                true,
                &principal.client_id,
            )
            .await?;
            let event_id = Uuid::now_v7();
            repository::finalise(
                conn,
                id,
                &Finalising {
                    outcome: input.outcome,
                    remarks: remarks.as_deref(),
                    event_id,
                    by: &principal.client_id,
                    at: now,
                },
            )
            .await?;
            let report = repository::report_info(conn, id).await?;
            let year = crate::sessions::rules::year_of(row.date)?;
            events::outcome(
                conn,
                events::Outcome {
                    event_id,
                    practice_agb: &row.practice_agb,
                    year,
                    date: row.date,
                    outcome: input.outcome,
                    remarks: remarks.as_deref(),
                    report_sha256: report.as_ref().map(|r| r.sha256.as_str()),
                },
            )
            .await?;
            let finalised = repository::find(conn, id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("visitation just finalised")))?;
            let event = AuditEvent::success("visitation.finalise", "visitation", id.to_string())
                .with_detail(json!({"outcome": input.outcome, "event_id": event_id}));
            Ok((repository::view(conn, finalised, components).await?, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(visitation))
}

/// Read the components of a cycle year
///
/// The components the year's visitations are scored on: the year's own list, else the configured
/// default (the 8 components of 000), and whether it is frozen (findings of the year exist).
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath),
    responses(
        (status = 200, description = "The year's components", body = ComponentList),
        (status = 422, description = "Not a valid cycle year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitations:read"]))
)]
#[get("/v1/cycles/{year}/components")]
pub async fn get_components(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    year: CycleYearPath,
) -> Result<web::Json<ComponentList>, ApiError> {
    principal.require(scopes::VISITATIONS_READ)?;
    let mut conn = connection(&pool).await?;
    let (components, frozen) =
        components_of(&mut conn, &ctx.settings, i32::from(year.value())).await?;
    Ok(web::Json(ComponentList {
        cycle_year: year.value(),
        components,
        frozen,
    }))
}

/// Set the components of a cycle year
///
/// Sets the components the year's visitations are scored on, e.g. the checklist of 001 §1.2e
/// instead of the 8 components of 000: 1 to 50 distinct names of lower-case letters, digits and
/// `_`. Once findings of the year are recorded the list is frozen (409).
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath),
    request_body = ComponentListInput,
    responses(
        (status = 200, description = "The year's components", body = ComponentList),
        (status = 409, description = "Frozen: findings of the year exist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid year or list", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-plan:manage"]))
)]
#[put("/v1/cycles/{year}/components")]
pub async fn put_components(
    principal: Principal,
    pool: web::Data<DbPool>,
    year: CycleYearPath,
    body: Json<ComponentListInput>,
) -> Result<web::Json<ComponentList>, ApiError> {
    principal.require(scopes::VISITATION_PLAN_MANAGE)?;
    let components = body.into_inner().components;
    let mut unique = components.clone();
    unique.sort();
    unique.dedup();
    let valid = (1..=50).contains(&components.len())
        && unique.len() == components.len()
        && components.iter().all(|c| valid_component(c));
    if !valid {
        return Err(ApiError::field(
            "components",
            "component_list",
            "list 1 to 50 distinct names of lower-case letters, digits or `_`",
        ));
    }
    let y = i32::from(year.value());
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let list = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            if let Some((_, true)) = repository::component_list(conn, y).await? {
                return Err(ApiError::conflict(
                    "findings of the year are recorded; its components are frozen",
                ));
            }
            repository::store_component_list(conn, y, &components, false, &principal.client_id)
                .await?;
            let event = AuditEvent::success("cycle.components", "cycle_year", y.to_string())
                .with_detail(json!({"components": components}));
            Ok((
                ComponentList {
                    cycle_year: year.value(),
                    components,
                    frozen: false,
                },
                event,
            ))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(list))
}
