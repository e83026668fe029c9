//! `GET /v1/practices/{agb}/compliance/{year}` and the evidence feed `GET /v1/internal/evidence/{year}`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use futures_util::{StreamExt as _, TryStreamExt as _};
use praktijkregister_domain::{
    amsterdam_date, evaluate, evaluate_for_insurer, ComplianceReport, CriteriaSet, CycleYear,
    OefentherapieAgb, UzoviCode,
};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::{Binding, Principal};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{assemble, national_prem, EvidenceFeedEnd, EvidenceFeedLine, InsurerContext};
use crate::access;
use crate::insurer_criteria::Lookup;
use crate::paths::{CycleYearPath, PracticePath};
use crate::problems::Problems as _;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_compliance).service(evidence_feed);
}

/// Practices per batch of the feed: few queries per batch, bounded memory.
const FEED_BATCH: i64 = 500;
/// Batches of the feed gathered at once (the memory held is this many batches).
const FEED_BATCHES_AT_ONCE: usize = 2;

/// The day a year is evaluated on: today, or the first day after the year once it is over.
fn as_of(year: CycleYear, today: NaiveDate) -> NaiveDate {
    let after = NaiveDate::from_ymd_opt(i32::from(year.value()) + 1, 1, 1).unwrap_or(today);
    today.min(after)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceParams {
    /// `basis`, `ldi` (module Leren door Inzicht) or `plus` (default).
    #[param(value_type = Option<praktijkregister_domain::CriteriaSet>, inline, example = "plus")]
    pub criteria: Option<String>,
    /// Evaluate for this insurer (UZOVI): its treatment-index ceiling and the practice's consent.
    /// An insurer client is always evaluated for itself.
    #[param(value_type = Option<praktijkregister_domain::UzoviCode>, inline, example = "7095")]
    pub insurer: Option<String>,
}

/// Read a practice's compliance per criterion
///
/// Evaluates every criterion of the chosen set (001: Basis, module Leren door Inzicht, Plus) for
/// the practice and cycle year and answers, per criterion, `met`, `not_met` or `unknown` with the
/// evidence (figures, dates, ids) and the section of 001 it comes from. Thresholds come from the
/// configuration; with an insurer, its treatment-index ceiling and the practice's consent count.
/// Asked for one insurer (`insurer`, or an insurer client) without a named `criteria`, the
/// insurer's own criteria set for contract year Y+1 applies, criteria and thresholds, read from
/// the insurer-export service (kept a minute); `insurer_criteria` names its version. When the
/// insurer has none, or the service cannot be read, the register's set applies and
/// `insurer_criteria.note` says why.
/// A practice reads only its own compliance; an insurer only that of practices that consented to
/// share quality data with it (else 404). Every read is in the audit trail.
#[utoipa::path(
    tag = "Compliance",
    params(PracticePath, CycleYearPath, ComplianceParams),
    responses(
        (status = 200, description = "The evaluation", body = ComplianceReport),
        (status = 404, description = "No such practice (or not visible to you)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown criteria set, insurer or year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["compliance:read"]))
)]
#[get("/v1/practices/{agb}/compliance/{year}")]
pub async fn get_compliance(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    CycleYearPath(year): CycleYearPath,
    params: web::Query<ComplianceParams>,
) -> Result<web::Json<ComplianceReport>, ApiError> {
    principal.require(scopes::COMPLIANCE_READ)?;
    let set = match params.criteria.as_deref() {
        None => CriteriaSet::Plus,
        Some(raw) => {
            CriteriaSet::parse(raw).map_err(|e| ApiError::field("criteria", e.code(), e))?
        }
    };
    let requested_insurer = params
        .insurer
        .as_deref()
        .map(|raw| UzoviCode::parse(raw).map_err(|e| ApiError::invalid("insurer", &e)))
        .transpose()?;
    // An insurer is always evaluated for itself; a practice reads only its own compliance.
    let insurer = match &principal.binding {
        Binding::Insurer(own) => Some(own.clone()),
        Binding::Practice(own) if *own != agb => {
            return Err(crate::access::hidden(
                &principal,
                "practice",
                agb.as_str(),
                "practice",
            ))
        }
        Binding::None | Binding::Practice(_) | Binding::EpdVendor(_) | Binding::Visitor(_) => {
            requested_insurer
        }
    };
    // The insurer's own criteria set for contract year Y+1, unless a named set was asked for.
    let lookup = match &insurer {
        Some(uzovi) if params.criteria.is_none() => {
            ctx.insurer_criteria
                .lookup(uzovi, year.value().saturating_add(1))
                .await
        }
        _ => Lookup::NotConfigured,
    };
    // Before a connection is taken: a request waiting for the national means holds none.
    let national = national_prem(&ctx.prem_means, &pool, year).await?;
    let mut conn = connection(&pool).await?;
    let as_of = as_of(year, amsterdam_date(ctx.clock.now()));
    let thresholds = &ctx.settings.compliance;
    // One transaction: the evidence is read in it (see `assemble`), and the audit line is
    // stored with it.
    let report = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                access::require_exists(conn, &agb).await?;
                let insurer_context = match &insurer {
                    Some(uzovi) => {
                        let consent_given = if principal.insurer().is_some() {
                            access::require_consent(conn, &principal, uzovi, &agb).await?;
                            true
                        } else {
                            access::has_consent(conn, uzovi, &agb).await?
                        };
                        Some(InsurerContext {
                            ceiling: match &lookup {
                                Lookup::Set(own) => own.thresholds.treatment_index_ceiling,
                                _ => thresholds.ceiling_for(uzovi.as_str()),
                            },
                            consent_given,
                        })
                    }
                    None => None,
                };
                let evidence = assemble(
                    conn,
                    year,
                    as_of,
                    std::slice::from_ref(&agb),
                    insurer_context,
                    &national,
                )
                .await?;
                let evidence = evidence
                    .into_iter()
                    .next()
                    .ok_or_else(|| ApiError::practice_not_found(&agb))?;
                let report = match lookup {
                    Lookup::Set(own) => evaluate_for_insurer(&own, &evidence),
                    Lookup::Fallback(applied) => ComplianceReport {
                        insurer_criteria: Some(applied),
                        ..evaluate(set, &evidence, &thresholds.thresholds)
                    },
                    Lookup::NotConfigured => evaluate(set, &evidence, &thresholds.thresholds),
                };
                let event = AuditEvent::success("compliance.read", "practice", agb.as_str()).with_detail(serde_json::json!({
                    "year": year.value(), "criteria": report.criteria_set.as_str(), "insurer": insurer, "outcome": report.outcome,
                    "insurer_criteria": report.insurer_criteria.as_ref().and_then(|c| c.version),
                }));
                audit::record(conn, (&principal).into(), &event).await?;
                Ok(report)
            }
            .scope_boxed()
        })
        .await?;
    Ok(web::Json(report))
}

/// Stream the evidence of every practice
///
/// Internal, for the insurer-export service: one JSON evidence record per practice per line
/// (`application/x-ndjson`), ordered by AGB code, for cycle year Y as known today (or, for a past
/// year, as known at its end). It carries no insurer-specific figures: the consumer applies each
/// insurer's ceiling, consent and criteria set with the same evaluation code. Streamed in
/// batches, so the national register is served without holding it in memory. The pull is in the
/// audit trail.
///
/// The last line is the trailer `{"end_of_feed": true, "records": N}` with the number of
/// evidence records before it. A feed that fails after it has begun is broken off without the
/// trailer (the connection is aborted): a body without the trailer, or with another count, is
/// incomplete and must not be used.
#[utoipa::path(
    tag = "Compliance",
    params(CycleYearPath),
    responses(
        (status = 200, description = "One `Evidence` record per line, then the trailer `EvidenceFeedEnd`", content_type = "application/x-ndjson", body = EvidenceFeedLine),
        (status = 422, description = "The year is not a cycle year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["evidence:read"]))
)]
#[get("/v1/internal/evidence/{year}")]
pub async fn evidence_feed(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    CycleYearPath(year): CycleYearPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::EVIDENCE_READ)?;
    let as_of = as_of(year, amsterdam_date(ctx.clock.now()));
    {
        let mut conn = connection(&pool).await?;
        let event = AuditEvent::success("evidence.feed.read", "evidence", year.to_string());
        audit::record(&mut conn, (&principal).into(), &event).await?;
    }
    let national = national_prem(&ctx.prem_means, &pool, year).await?;
    let pool = pool.into_inner();
    // The practices in batches, in order; each batch's evidence is gathered on its own
    // connection, two batches at a time (PostgreSQL runs one statement on one core), and sent
    // in order.
    let batches = futures_util::stream::try_unfold(Cursor::After(None), {
        let pool = pool.clone();
        move |cursor: Cursor| {
            let pool = pool.clone();
            async move {
                let Cursor::After(after) = cursor else {
                    return Ok(None);
                };
                let mut conn = connection(&pool).await?;
                let agbs = super::repository::practice_batch(&mut conn, after.as_ref(), FEED_BATCH)
                    .await?;
                if agbs.is_empty() {
                    return Ok(None);
                }
                let next = match agbs.last() {
                    Some(last) if agbs.len() as i64 == FEED_BATCH => {
                        Cursor::After(Some(last.clone()))
                    }
                    _ => Cursor::Done,
                };
                Ok::<_, ApiError>(Some((agbs, next)))
            }
        }
    });
    let records = Arc::new(AtomicU64::new(0));
    let lines = {
        let records = records.clone();
        batches
            .map_ok(move |agbs| {
                let pool = pool.clone();
                let national = national.clone();
                async move {
                    let mut conn = connection(&pool).await?;
                    conn.transaction::<_, ApiError, _>(|conn| {
                        async move { assemble(conn, year, as_of, &agbs, None, &national).await }
                            .scope_boxed()
                    })
                    .await
                }
            })
            .try_buffered(FEED_BATCHES_AT_ONCE)
            .and_then(move |evidence| {
                let records = records.clone();
                async move {
                    let mut lines = Vec::with_capacity(evidence.len() * 512);
                    for record in &evidence {
                        serde_json::to_writer(&mut lines, record).map_err(ApiError::internal)?;
                        lines.push(b'\n');
                    }
                    records.fetch_add(evidence.len() as u64, Ordering::Relaxed);
                    Ok(web::Bytes::from(lines))
                }
            })
    };
    // Polled only once every batch is sent.
    let trailer = futures_util::stream::once(async move {
        let end = EvidenceFeedLine::End(EvidenceFeedEnd {
            end_of_feed: true,
            records: records.load(Ordering::Relaxed),
        });
        let mut line = serde_json::to_vec(&end).map_err(ApiError::internal)?;
        line.push(b'\n');
        Ok::<_, ApiError>(web::Bytes::from(line))
    });
    let lines = lines.chain(trailer);
    // An error ends the body without its last chunk: actix aborts the connection, so the
    // consumer sees a broken transfer and no trailer, never a short feed that looks whole.
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(futures_util::TryStreamExt::map_err(lines, |e: ApiError| {
            tracing::error!(error = %e, "the evidence feed stopped; aborting the response");
            actix_web::error::ErrorInternalServerError("the evidence feed stopped")
        })))
}

/// Where the feed's list of practices stands: the next batch starts after the practice given
/// (from the first when none), or every batch was read.
enum Cursor {
    After(Option<OefentherapieAgb>),
    Done,
}
