//! `GET /v1/internal/export-directory`: the insurer-export service (re)loads its copy of the
//! practices, registrations and consents.

use actix_web::{get, web};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_events::ExportDirectory;
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::ApiError;

use crate::scopes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_export_directory);
}

/// Read the export directory
///
/// Internal: the insurer-export service reads every practice with what the insurers' list shows
/// of it (name, KvK number, tier, locations), its registration per cycle year and its consent per
/// insurer (001 §1.3c), to load its copy when it starts empty and when an operator resyncs it.
/// Each time is that of the last change, equal to the `occurred_at` of the event that reported
/// it. Read in one consistent snapshot of the database.
#[utoipa::path(
    tag = "Registrations",
    responses(
        (status = 200, description = "Every practice", body = ExportDirectory),
    ),
    security(("oauth2" = ["export-directory:read"]))
)]
#[get("/v1/internal/export-directory")]
pub async fn get_export_directory(
    principal: Principal,
    pool: web::Data<DbPool>,
) -> Result<web::Json<ExportDirectory>, ApiError> {
    principal.require(scopes::EXPORT_DIRECTORY_READ)?;
    let mut conn = connection(&pool).await?;
    let directory = conn
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run::<_, ApiError, _>(|conn| super::repository::directory(conn).scope_boxed())
        .await?;
    Ok(web::Json(directory))
}
