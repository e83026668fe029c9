//! `/v1/practices/{agb}/deliveries`: monthly deliveries from the EPD and their processing reports.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::StatusCode;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use praktijkregister_domain::{
    amsterdam_date, assess_delivery, EpdVendorId, OefentherapieAgb, Period,
};
use praktijkregister_platform::audit::{self, AuditEvent, Outcome};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::idempotency::{IdempotentRequest, StoredAnswer};
use praktijkregister_platform::pagination::{Page, PageParams};
use praktijkregister_platform::paths::exact;
use serde_json::{json, Map, Value};

use super::repository::{self, DeliveryRecord, NewDelivery};
use super::{
    parse_delivery, parse_period, processing_report, refuse_patient_data, writable_period,
    Delivery, DeliveryListParams, DeliveryRequest, DeliverySummary, DeliveryVersionParams,
    ProcessingReport,
};
use crate::access::{require_reader, writer_identity, DataWriter};
use crate::paths::{PeriodPath, PracticePath};

/// Registers the delivery routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_delivery)
        .service(list_deliveries)
        .service(get_delivery);
}

/// How a write of practice data ended inside its transaction. A refusal is an `Ok` so that its
/// audit line is committed; the handler then answers the error.
pub(crate) enum WriteOutcome {
    Done(StatusCode, Value),
    Replayed(StoredAnswer),
    Refused(ApiError),
}

impl WriteOutcome {
    pub(crate) fn respond(self) -> Result<HttpResponse, ApiError> {
        match self {
            Self::Done(status, body) => Ok(HttpResponse::build(status).json(body)),
            Self::Replayed(answer) => Ok(answer.response()),
            Self::Refused(error) => Err(error),
        }
    }
}

/// Refuses a body with patient data (DESIGN §3.1) before anything else is done with it. The audit
/// line names the fields, never their values.
pub(crate) async fn refuse_patient_data_audited(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    action: &'static str,
    subject_type: &'static str,
    subject_id: &str,
    body: &Value,
) -> Result<(), ApiError> {
    let Err(refusal) = refuse_patient_data(body) else {
        return Ok(());
    };
    let fields: Vec<&str> = match &refusal {
        ApiError::Validation(errors) => errors.iter().map(|e| e.field.as_str()).collect(),
        _ => Vec::new(),
    };
    let event = AuditEvent::success(action, subject_type, subject_id)
        .with_outcome(Outcome::Failed)
        .with_detail(json!({"reason": "patient_data", "fields": fields}));
    audit::record(conn, principal.into(), &event).await?;
    Err(refusal)
}

/// The audit line of a vendor refused for lack of the practice's authorisation.
pub(crate) fn denied_event(
    action: &'static str,
    subject_type: &'static str,
    subject_id: String,
    vendor: Option<&EpdVendorId>,
) -> AuditEvent {
    let vendor = vendor.map(EpdVendorId::as_str);
    AuditEvent::success(action, subject_type, subject_id)
        .with_outcome(Outcome::Denied)
        .with_detail(json!({"reason": "no_epd_authorization", "epd_vendor": vendor}))
}

fn nothing_accepted(report: &ProcessingReport) -> Result<ApiError, ApiError> {
    let mut extensions = Map::new();
    extensions.insert(
        "report".into(),
        serde_json::to_value(report).map_err(ApiError::internal)?,
    );
    Ok(ApiError::Unprocessable {
        detail: format!(
            "no row of the delivery for {} was accepted, so nothing was stored; correct the rows \
             in `report.rejected` and send the month again",
            report.period
        ),
        extensions,
    })
}

/// Deliver a month's figures
///
/// An EPD vendor that the practice authorised (or the registrar) delivers the practice's figures
/// of one month (`YYYY-MM`, a month that has begun in Europe/Amsterdam), one row per therapist:
/// patients, treatments, closed episodes and their treatments, LDO records delivered and complete,
/// PREM eligible and offered, and the day of the LDO upload.
///
/// The answer is the processing report (verwerkingsverslag): the accepted rows, warnings on them
/// (stored anyway; e.g. no LDO upload in the month, a fill rate under 90%), and the rejected rows
/// with each field and reason (figures that contradict each other, a therapist without a
/// membership of the practice in the month, a second row for a therapist), so that the practice
/// can correct and send the month again. Each delivery of a month is a new version that counts
/// instead of the earlier ones, which stay readable. When no row is accepted, nothing is stored
/// and the 422 carries the report.
///
/// Never patient data (DESIGN §3.1): a field named like a patient identifier (`bsn`,
/// `patient_id`, `date_of_birth`, ...) or a value that is a BSN refuses the whole delivery (422,
/// code `patient_data`) and nothing of it is stored. Send `Idempotency-Key` to make retries safe:
/// the same key with the same body answers the first answer again (header
/// `Idempotent-Replayed: true`); with another body it is 422.
#[utoipa::path(
    tag = "Deliveries",
    params(
        PracticePath,
        PeriodPath,
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body answers the first answer again", example = "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10"),
    ),
    request_body = DeliveryRequest,
    responses(
        (status = 200, description = "Stored; the processing report", body = ProcessingReport,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same key"))),
        (status = 403, description = "Not an EPD vendor the practice authorised, nor the registrar", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practice", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named; patient data (`patient_data`); a month that has not begun; no row accepted (the report is in `report`); or an Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["deliveries:write"]))
)]
#[put("/v1/practices/{agb}/deliveries/{period}")]
pub async fn put_delivery(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    PeriodPath(period): PeriodPath,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let vendor = writer_identity(&principal, scopes::DELIVERIES_WRITE)?;
    let now = ctx.clock.now();
    let period = writable_period(period, now)?;
    let body = body.into_inner();
    let idempotent = IdempotentRequest::from_request(&req, &principal.client_id, &body)?;
    let subject = format!("{agb}/{period}");
    let mut conn = connection(&pool).await?;
    refuse_patient_data_audited(
        &mut conn,
        &principal,
        "delivery.put",
        "delivery",
        &subject,
        &body,
    )
    .await?;
    let rows = parse_delivery(&body)?;
    let today = amsterdam_date(now);
    let outcome = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                let idempotency_lock = idempotent.as_ref().map(IdempotentRequest::lock_key);
                let standing = repository::open(
                    conn,
                    &agb,
                    period,
                    vendor.as_ref(),
                    idempotency_lock.as_deref(),
                )
                .await?;
                let writer = DataWriter::standing(
                    &agb,
                    vendor.as_ref(),
                    standing.practice_exists,
                    standing.vendor_authorised,
                )?;
                if let Some(refusal) = writer.refusal(&agb) {
                    let event = denied_event("delivery.put", "delivery", subject, writer.vendor());
                    audit::record(conn, (&principal).into(), &event).await?;
                    return Ok(WriteOutcome::Refused(refusal));
                }
                if let Some(idempotent) = &idempotent {
                    if let Some(answer) = idempotent.replay_locked(conn).await? {
                        return Ok(WriteOutcome::Replayed(answer));
                    }
                }
                // Malformed codes are not looked up; the assessment rejects their rows.
                let agbs: Vec<OefentherapieAgb> = rows
                    .iter()
                    .filter_map(|row| OefentherapieAgb::parse(&row.therapist_agb).ok())
                    .collect();
                let roster = repository::roster(conn, &agb, period, &agbs).await?;
                let assessment =
                    assess_delivery(period, today, &rows, |therapist| roster.status(therapist));
                let mut report = processing_report(&agb, period, now, &assessment);
                if assessment.accepted.is_empty() {
                    let event = AuditEvent::success("delivery.put", "delivery", subject)
                        .with_outcome(Outcome::Failed)
                        .with_detail(json!({
                            "reason": "no_row_accepted",
                            "rows_rejected": report.totals.rows_rejected,
                        }));
                    audit::record(conn, (&principal).into(), &event).await?;
                    return Ok(WriteOutcome::Refused(nothing_accepted(&report)?));
                }
                let id = uuid::Uuid::now_v7();
                let version = roster.latest_version + 1;
                report.delivery_id = Some(id);
                report.version = Some(version);
                let report = serde_json::to_value(&report).map_err(ApiError::internal)?;
                let delivery = NewDelivery {
                    id,
                    practice_agb: &agb,
                    period,
                    version,
                    delivered_at: now,
                    delivered_by: &principal.client_id,
                    epd_vendor: writer.vendor(),
                    report: &report,
                };
                repository::insert(conn, &delivery, &assessment.accepted).await?;
                let event = AuditEvent::success("delivery.put", "delivery", id.to_string())
                    .with_detail(json!({
                        "practice_agb": agb,
                        "period": period,
                        "version": version,
                        "epd_vendor": writer.vendor().map(EpdVendorId::as_str),
                        "rows_accepted": assessment.accepted.len(),
                        "rows_rejected": assessment.rows_received - assessment.accepted.len(),
                        "warnings": assessment.warnings.len(),
                        "idempotency_key": idempotent.as_ref().map(IdempotentRequest::key),
                    }));
                match &idempotent {
                    Some(idempotent) => {
                        idempotent
                            .remember_recorded(
                                conn,
                                StatusCode::OK,
                                &report,
                                (&principal).into(),
                                &event,
                            )
                            .await?
                    }
                    None => audit::record(conn, (&principal).into(), &event).await?,
                }
                Ok(WriteOutcome::Done(StatusCode::OK, report))
            }
            .scope_boxed()
        })
        .await?;
    if matches!(outcome, WriteOutcome::Done(..)) {
        // The year's national benchmark now includes this delivery (DESIGN §7).
        ctx.benchmarks
            .forget(chrono::Datelike::year(&period.first_day()));
    }
    outcome.respond()
}

fn stored_report(record: &DeliveryRecord) -> Result<ProcessingReport, ApiError> {
    serde_json::from_value(record.report.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored report of {}: {e}", record.id)))
}

fn stored_period(record: &DeliveryRecord) -> Result<Period, ApiError> {
    Period::from_first_day(record.period).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "stored period {} of {}",
            record.period,
            record.id
        ))
    })
}

/// List a practice's deliveries
///
/// Every stored delivery of the practice with its processing report, newest month first and
/// within a month newest version first; `current` marks the version that counts. Optionally of
/// one month. Keyset-paginated. Readable by the registrar, the practice itself (another practice's
/// is 404) and EPD vendors the practice authorised.
#[utoipa::path(
    tag = "Deliveries",
    params(PracticePath, DeliveryListParams, PageParams),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<DeliverySummary>),
        (status = 403, description = "An EPD vendor the practice did not authorise", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["deliveries:read"]))
)]
#[get("/v1/practices/{agb}/deliveries")]
pub async fn list_deliveries(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    filter: web::Query<DeliveryListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<DeliverySummary>>, ApiError> {
    let period = filter
        .period
        .as_deref()
        .map(|p| parse_period("period", exact(p)))
        .transpose()?;
    let limit = page.limit()?;
    let after: Option<(NaiveDate, i32)> = page.after()?;
    let mut conn = connection(&pool).await?;
    require_reader(&mut conn, &principal, &agb).await?;
    let records = repository::list(&mut conn, &agb, period, after, limit).await?;
    let periods: Vec<NaiveDate> = records.iter().map(|r| r.period).collect();
    let current = repository::current_versions(&mut conn, &agb, &periods).await?;
    let summaries = records
        .iter()
        .map(|record| {
            Ok(DeliverySummary {
                delivery_id: record.id,
                practice_agb: record.practice_agb.clone(),
                period: stored_period(record)?,
                version: record.version,
                current: current.get(&record.period) == Some(&record.version),
                delivered_at: record.delivered_at,
                delivered_by: record.delivered_by.clone(),
                epd_vendor: record.epd_vendor.clone(),
                report: stored_report(record)?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("delivery.list", "practice", agb.as_str()).with_detail(json!({
            "period": period,
            "count": summaries.len().min(usize::try_from(limit).unwrap_or(usize::MAX)),
        })),
    )
    .await?;
    Ok(web::Json(Page::from_rows(summaries, limit, |d| {
        (d.period.first_day(), d.version)
    })))
}

/// Read a month's delivery
///
/// The version of the month that counts (the latest), or with `version` an earlier one, with its
/// rows, their derived figures (LDO fill rate, PREM offered rate, treatments per closed episode)
/// and its processing report. Readable by the registrar, the practice itself (another practice's
/// is 404) and EPD vendors the practice authorised.
#[utoipa::path(
    tag = "Deliveries",
    params(
        PracticePath,
        PeriodPath,
        DeliveryVersionParams,
    ),
    responses(
        (status = 200, description = "The delivery", body = Delivery),
        (status = 403, description = "An EPD vendor the practice did not authorise", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practice (or not yours), or no delivery (of that version) for the month", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period or version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["deliveries:read"]))
)]
#[get("/v1/practices/{agb}/deliveries/{period}")]
pub async fn get_delivery(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    PeriodPath(period): PeriodPath,
    params: web::Query<DeliveryVersionParams>,
) -> Result<web::Json<Delivery>, ApiError> {
    let version = params.version()?;
    let mut conn = connection(&pool).await?;
    require_reader(&mut conn, &principal, &agb).await?;
    let record = repository::find(&mut conn, &agb, period, version)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(match version {
                Some(version) => {
                    format!("practice {agb} has no version {version} of a delivery for {period}")
                }
                None => format!("practice {agb} has no delivery for {period}"),
            })
        })?;
    let current = repository::current_versions(&mut conn, &agb, &[record.period]).await?;
    let rows = repository::rows_of(&mut conn, record.id).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("delivery.read", "delivery", record.id.to_string())
            .with_detail(json!({"practice_agb": agb, "period": period, "version": record.version})),
    )
    .await?;
    Ok(web::Json(Delivery {
        delivery_id: record.id,
        practice_agb: record.practice_agb.clone(),
        period: stored_period(&record)?,
        version: record.version,
        current: current.get(&record.period) == Some(&record.version),
        delivered_at: record.delivered_at,
        delivered_by: record.delivered_by.clone(),
        epd_vendor: record.epd_vendor.clone(),
        rows,
        report: stored_report(&record)?,
    }))
}
