//! `/v1/kp-imports` and `/v1/therapists/{agb}/kp-verification`.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{post, web, HttpMessage, HttpRequest, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::KpNumber;
use praktijkregister_platform::audit::{self, AuditEvent, Outcome};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::decode;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::http::read_limited_body;
use serde::Deserialize;
use utoipa::IntoParams;

use super::import::{self, MAX_IMPORT_BYTES};
use super::verifier::KpVerifyError;
use super::{repository, ImportReport};
use crate::paths::TherapistPath;
use crate::problems::Problems as _;
use crate::registrations::lifecycle;
use crate::therapists::repository as therapists;
use crate::therapists::routes::with_etag;
use crate::therapists::Therapist;

/// Registers the KP routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(import_kp).service(verify_kp);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check and report only; nothing is stored.
    #[param(example = false)]
    pub dry_run: Option<bool>,
}

/// 415 unless the body is declared `text/csv` (in UTF-8, when a charset is given).
fn require_csv(req: &HttpRequest) -> Result<(), ApiError> {
    let refused = || ApiError::UnsupportedMediaType("send the file as text/csv (UTF-8)".into());
    let mime = req
        .mime_type()
        .map_err(|_| refused())?
        .ok_or_else(refused)?;
    let utf8 = mime
        .get_param(actix_web::mime::CHARSET)
        .is_none_or(|charset| charset.as_str().eq_ignore_ascii_case("utf-8"));
    if mime.type_() == actix_web::mime::TEXT && mime.subtype() == "csv" && utf8 {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Import KP data
///
/// Reads a CSV export of the Kwaliteitsregister Paramedici (`text/csv`, UTF-8, at most 10 MiB and
/// 100,000 rows) with the header `kp_number,agb,name,status,valid_from,valid_until`. Each row is
/// checked: KP number, AGB code (zorgsoort 07), non-empty name, status (`kwaliteitsgeregistreerd`,
/// `diplomageregistreerd` or `not_registered`), and the period as `YYYY-MM-DD` with `valid_until`
/// on or after `valid_from` (both required unless `not_registered`). A row whose therapist is not in
/// this register is `skipped`; a KP number held by another therapist, and a second row with the same
/// AGB code or KP number in the file, are `rejected`. The valid rows are stored together in one
/// transaction (source `import`, verified now); the rest change nothing. With `dry_run=true`
/// nothing is stored and valid rows are reported as `would_apply`. The name is checked but the
/// register keeps its own.
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(ImportParams),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "A KP export: the header line, then one therapist per line",
        example = json!("kp_number,agb,name,status,valid_from,valid_until\n123456,07123456,A. Jansen,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n")
    ),
    responses(
        (status = 200, description = "The processing report, row by row", body = ImportReport),
        (status = 409, description = "A concurrent change took a KP number of the file; nothing was stored", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file exceeds 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file as a whole is refused: header, encoding or row count", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp:import"]))
)]
#[post("/v1/kp-imports")]
pub async fn import_kp(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, ApiError> {
    principal.require(scopes::KP_IMPORT)?;
    require_csv(&req)?;
    let dry_run = params.dry_run.unwrap_or(false);
    let body = read_limited_body(&req, payload, MAX_IMPORT_BYTES).await?;
    // Parsing up to 10 MiB is CPU work: off the actix worker.
    let rows = web::block(move || import::parse(&body))
        .await
        .map_err(ApiError::internal)??;
    let import_id = uuid::Uuid::now_v7().to_string();
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let report = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let (agbs, kp_numbers) = import::lookup_keys(&rows);
            let lookup = repository::lookup(conn, &agbs, &kp_numbers).await?;
            let (rows, totals, to_apply) = import::classify(rows, &lookup, dry_run);
            let applied = if dry_run {
                false
            } else {
                repository::apply_import(conn, &to_apply).await.map_err(|e| {
                    if therapists::is_unique_violation(&e) {
                        ApiError::conflict(
                            "a KP number in the file was taken by a concurrent change; import again",
                        )
                    } else {
                        e.into()
                    }
                })? > 0
            };
            if applied {
                let changed: Vec<String> = to_apply
                    .iter()
                    .map(|row| row.agb.as_str().to_owned())
                    .collect();
                lifecycle::after_kp_change(conn, &[], &changed, &principal.client_id, now).await?;
            }
            let event = AuditEvent::success("kp.import", "kp_import", &import_id).with_detail(
                serde_json::json!({
                    "dry_run": dry_run,
                    "rows": totals.rows,
                    "applied": totals.applied,
                    "would_apply": totals.would_apply,
                    "rejected": totals.rejected,
                    "skipped": totals.skipped,
                }),
            );
            let report = ImportReport {
                import_id,
                dry_run,
                applied,
                totals,
                rows,
            };
            Ok((report, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(report))
}

fn verify_error(error: &KpVerifyError) -> ApiError {
    match error {
        KpVerifyError::NotConfigured => ApiError::NotConfigured(
            "KP verification is not configured: set the verifier's base URL (PRR__REGISTER__KP_VERIFIER__BASE_URL)".into(),
        ),
        KpVerifyError::Timeout(after) => ApiError::GatewayTimeout(format!(
            "the Kwaliteitsregister Paramedici did not answer within {} ms",
            after.as_millis()
        )),
        KpVerifyError::Status(status) => ApiError::BadGateway(format!(
            "the Kwaliteitsregister Paramedici answered with status {status}"
        )),
        KpVerifyError::Upstream(cause) => {
            ApiError::BadGateway(format!("the Kwaliteitsregister Paramedici answered badly: {cause}"))
        }
    }
}

/// Verify a therapist with KP
///
/// Looks the therapist's KP number up in the Kwaliteitsregister Paramedici through the configured
/// verifier and stores the status and period it reports (source `verifier`, verified now). A number
/// KP does not know is stored as `not_registered`. A therapist without a KP number answers 422.
/// When KP does not answer in time the answer is 504, when it answers badly 502, and when no
/// verifier is configured 503; the stored data then stays as it was.
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(TherapistPath),
    responses(
        (status = 200, description = "Verified; the therapist with the new KP data", body = Therapist, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such therapist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The KP number changed during the verification", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The therapist has no KP number", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "KP answered badly", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No KP verifier is configured, or the database is unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "KP did not answer in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp:verify"]))
)]
#[post("/v1/therapists/{agb}/kp-verification")]
pub async fn verify_kp(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    TherapistPath(agb): TherapistPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::KP_VERIFY)?;
    let number = {
        // The connection goes back to the pool before the possibly slow call to KP.
        let mut conn = connection(&pool).await?;
        let therapist = therapists::find(&mut conn, &agb, None)
            .await?
            .ok_or_else(|| ApiError::therapist_not_found(&agb))?;
        let stored = therapist.kp.number.ok_or_else(|| {
            ApiError::field(
                "kp_number",
                "kp_number_missing",
                "the therapist has no KP number to verify",
            )
        })?;
        decode("therapists.kp_number", &stored, KpNumber::parse)?
    };
    let record = match ctx.kp_verifier.verify(&number).await {
        Ok(record) => record,
        Err(error) => {
            let failed = AuditEvent::success("kp.verify", "therapist", agb.as_str())
                .with_outcome(Outcome::Failed)
                .with_detail(
                    serde_json::json!({"kp_number": number.as_str(), "error": error.to_string()}),
                );
            // The answer is about KP; a failing audit write must not hide that.
            match connection(&pool).await {
                Ok(mut conn) => {
                    if let Err(audit_error) =
                        audit::record(&mut conn, (&principal).into(), &failed).await
                    {
                        tracing::warn!(error = %audit_error, "could not audit a failed KP verification");
                    }
                }
                Err(audit_error) => {
                    tracing::warn!(error = %audit_error, "could not audit a failed KP verification")
                }
            }
            return Err(verify_error(&error));
        }
    };
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let agb = &agb;
    let number = &number;
    let principal = &principal;
    let therapist = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            if !repository::store_verification(conn, agb, number, &record).await? {
                return Err(match therapists::exists(conn, agb.as_str()).await? {
                    true => ApiError::conflict(format!(
                        "the KP number of therapist {agb} changed during the verification; verify again"
                    )),
                    false => ApiError::therapist_not_found(agb),
                });
            }
            let event = AuditEvent::success("kp.verify", "therapist", agb.as_str()).with_detail(
                serde_json::json!({
                    "kp_number": number.as_str(),
                    "status": record.status,
                    "valid_from": record.valid_from,
                    "valid_until": record.valid_until,
                }),
            );
            lifecycle::after_kp_change(
                conn,
                &[],
                &[agb.as_str().to_owned()],
                &principal.client_id,
                now,
            )
            .await?;
            let therapist = therapists::find(conn, agb, None)
                .await?
                .ok_or_else(|| ApiError::therapist_not_found(agb))?;
            Ok((therapist, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &therapist))
}
