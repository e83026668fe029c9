//! `GET /v1/practices/{agb}/benchmark/{year}`.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, web};
use chrono::NaiveDate;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};

use super::{repository, Benchmark, BenchmarkFigure, NationalFigures, Quartiles, TherapistFigure};
use crate::access;
use crate::paths::{DeliveryYearPath, PracticePath};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_benchmark);
}

/// Read a practice's benchmark
///
/// The practice's LDO fill rate (complete / delivered LDO records), PREM offered rate (offered /
/// eligible) and average treatments per closed episode over the year's monthly deliveries (the
/// latest version of each month), beside the national 25th, 50th and 75th percentiles over
/// practices; and per therapist, treatments per closed episode beside the national percentiles
/// over therapists (001 §1.3f, §1.4). The national figures are at most five minutes old. A
/// practice reads only its own benchmark.
#[utoipa::path(
    tag = "Compliance",
    params(PracticePath, DeliveryYearPath),
    responses(
        (status = 200, description = "The benchmark", body = Benchmark),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The year is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["benchmark:read"]))
)]
#[get("/v1/practices/{agb}/benchmark/{year}")]
pub async fn get_benchmark(
    principal: Principal,
    pool: web::Data<DbPool>,
    ctx: web::Data<RegisterContext>,
    PracticePath(agb): PracticePath,
    DeliveryYearPath(year): DeliveryYearPath,
) -> Result<web::Json<Benchmark>, ApiError> {
    let y = i32::from(year.value());
    let day = |year| {
        NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no first day of {year}")))
    };
    let (from, to) = (day(y)?, day(y + 1)?);
    {
        let mut conn = connection(&pool).await?;
        access::require_existing_practice(&mut conn, &principal, scopes::BENCHMARK_READ, &agb)
            .await?;
    }
    // No connection is held while waiting for another request's computation: concurrent first
    // calls would otherwise empty the pool (DESIGN §7).
    let national = ctx
        .benchmarks
        .get_or_compute(y, || async {
            let mut conn = connection(&pool).await?;
            Ok::<_, ApiError>(NationalFigures {
                practices: repository::national(&mut conn, y).await?,
                therapists: repository::therapists_national(&mut conn, y).await?,
            })
        })
        .await?;
    let mut conn = connection(&pool).await?;
    let own = repository::practice(&mut conn, &agb, from, to).await?;
    let therapists = repository::therapists(&mut conn, &agb, from, to).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("benchmark.read", "practice", agb.as_str()),
    )
    .await?;
    let n = &national.practices;
    let figure = |name: &str, practice, p25, p50, p75, count| BenchmarkFigure {
        figure: name.to_string(),
        practice,
        national: Quartiles {
            p25,
            p50,
            p75,
            count,
        },
    };
    Ok(web::Json(Benchmark {
        practice_agb: agb.into(),
        year: year.value(),
        figures: vec![
            figure(
                "ldo_fill_rate",
                own.ldo,
                n.ldo_p25,
                n.ldo_p50,
                n.ldo_p75,
                n.ldo_count,
            ),
            figure(
                "prem_offered_rate",
                own.prem,
                n.prem_p25,
                n.prem_p50,
                n.prem_p75,
                n.prem_count,
            ),
            figure(
                "treatments_per_closed_episode",
                own.episode,
                n.episode_p25,
                n.episode_p50,
                n.episode_p75,
                n.episode_count,
            ),
        ],
        therapists: therapists
            .into_iter()
            .map(|t| TherapistFigure {
                therapist_agb: t.therapist_agb,
                treatments_per_closed_episode: t.episode,
                ldo_fill_rate: t.ldo,
            })
            .collect(),
        therapists_national: national.therapists.clone(),
    }))
}
