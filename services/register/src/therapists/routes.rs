//! `/v1/therapists` and `/v1/practices/{agb}/therapists`.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::IsoDate;
use praktijkregister_domain::{KpNumber, OefentherapieAgb};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::conditional::{etag, required_version};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repository::{self, InsertConflict, Update};
use super::{
    MembershipRequest, NewTherapistRequest, PracticeMembership, PracticeTherapist, Therapist,
    TherapistFields, TherapistPatch,
};
use crate::paths::{MemberTherapistPath, PracticePath, TherapistPath};
use crate::practices::repository as practices;
use crate::problems::Problems as _;
use crate::registrations::lifecycle;

/// Registers the therapist routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_therapist)
        .service(get_therapist)
        .service(update_therapist)
        .service(list_practice_therapists)
        .service(put_membership)
        .service(delete_membership);
}

pub(crate) fn with_etag(
    mut response: actix_web::HttpResponseBuilder,
    therapist: &Therapist,
) -> HttpResponse {
    response
        .insert_header((header::ETAG, etag(therapist.version)))
        .json(therapist)
}

fn kp_number_taken(number: &KpNumber, holder: Option<&str>) -> ApiError {
    match holder {
        Some(holder) => {
            ApiError::conflict(format!("KP number {number} is held by therapist {holder}"))
        }
        None => ApiError::conflict(format!("KP number {number} is held by another therapist")),
    }
}

/// Refuses a KP number that another therapist holds.
async fn ensure_kp_number_free(
    conn: &mut diesel_async::AsyncPgConnection,
    agb: &OefentherapieAgb,
    fields: &TherapistFields,
) -> Result<(), ApiError> {
    let Some(number) = fields
        .kp_number
        .as_ref()
        .filter(|_| fields.kp_number_changed)
    else {
        return Ok(());
    };
    match repository::kp_number_holder(conn, number).await? {
        Some(holder) if holder != agb.as_str() => Err(kp_number_taken(number, Some(&holder))),
        _ => Ok(()),
    }
}

/// Register a therapist
///
/// Registers a therapist (zorgverlener) with AGB code (zorgsoort 07), name, e-mail and KP number
/// (Kwaliteitsregister Paramedici). Every field is checked at once; the answer names each invalid
/// field. An AGB code already registered, or a KP number another therapist holds, is refused with 409.
/// The KP status stays empty until an import or a verification supplies it.
#[utoipa::path(
    tag = "Therapists",
    request_body = NewTherapistRequest,
    responses(
        (status = 201, description = "Registered", body = Therapist, headers(
            ("ETag" = String, description = "Version of the therapist"),
            ("Location" = String, description = "Address of the therapist"),
        )),
        (status = 409, description = "The AGB code is registered, or another therapist holds the KP number", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["therapists:write"]))
)]
#[post("/v1/therapists")]
pub async fn create_therapist(
    principal: Principal,
    pool: web::Data<DbPool>,
    body: praktijkregister_platform::http::Json<NewTherapistRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::THERAPISTS_WRITE)?;
    let (agb, fields) = body.into_inner().parse()?;
    let mut conn = connection(&pool).await?;
    let therapist = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let therapist = match repository::insert(conn, &agb, &fields).await? {
                Ok(therapist) => therapist,
                Err(InsertConflict::Agb) => {
                    return Err(ApiError::conflict(format!(
                        "therapist {agb} is already registered"
                    )))
                }
                Err(InsertConflict::KpNumber) => {
                    return Err(match &fields.kp_number {
                        Some(number) => {
                            let holder = repository::kp_number_holder(conn, number).await?;
                            kp_number_taken(number, holder.as_deref())
                        }
                        None => ApiError::conflict("the KP number is held by another therapist"),
                    });
                }
            };
            let event = AuditEvent::success("therapist.create", "therapist", agb.as_str());
            Ok((therapist, event))
        }
        .scope_boxed()
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((
        header::LOCATION,
        format!("/v1/therapists/{}", therapist.agb),
    ));
    Ok(with_etag(response, &therapist))
}

/// Read a therapist
///
/// The therapist with KP data and memberships. A practice client reads only therapists who work
/// or worked at its practice, and sees only that membership; any other therapist answers 404.
/// Every read is written to the audit log.
#[utoipa::path(
    tag = "Therapists",
    params(TherapistPath),
    responses(
        (status = 200, description = "The therapist", body = Therapist, headers(("ETag" = String, description = "Version of the therapist"))),
        (status = 404, description = "No such therapist (or not of your practice)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["therapists:read"]))
)]
#[get("/v1/therapists/{agb}")]
pub async fn get_therapist(
    principal: Principal,
    pool: web::Data<DbPool>,
    TherapistPath(agb): TherapistPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::THERAPISTS_READ)?;
    // A practice client sees the therapist through its own practice only.
    let only_practice = principal.practice();
    let mut conn = connection(&pool).await?;
    if let Some(practice) = only_practice {
        if !repository::has_membership(&mut conn, practice, &agb).await? {
            return Err(crate::access::hidden(
                &principal,
                "therapist",
                agb.as_str(),
                "therapist",
            ));
        }
    }
    let therapist = repository::find(&mut conn, &agb, only_practice)
        .await?
        .ok_or_else(|| ApiError::therapist_not_found(&agb))?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("therapist.read", "therapist", agb.as_str()),
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &therapist))
}

/// Change a therapist
///
/// Changes the given fields; `null` clears `email` or `kp_number`. A new KP number clears the KP
/// status, period and verification time, which belonged to the old number. Send `If-Match` with
/// the ETag you read: a therapist changed since answers 412, a request without it 428.
#[utoipa::path(
    tag = "Therapists",
    params(
        TherapistPath,
        ("If-Match" = String, Header, description = "ETag of the version being changed", example = "\"1\""),
    ),
    request_body = TherapistPatch,
    responses(
        (status = 200, description = "Changed", body = Therapist, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such therapist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another therapist holds the KP number", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The therapist changed since the given ETag", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["therapists:write"]))
)]
#[patch("/v1/therapists/{agb}")]
pub async fn update_therapist(
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    TherapistPath(agb): TherapistPath,
    body: praktijkregister_platform::http::Json<TherapistPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::THERAPISTS_WRITE)?;
    let expected = required_version(&req)?;
    let mut conn = connection(&pool).await?;
    let patch = body.into_inner();
    let agb = &agb;
    let therapist = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let current = repository::find(conn, agb, None)
                .await?
                .ok_or_else(|| ApiError::therapist_not_found(agb))?;
            let fields = patch.apply(&current)?;
            ensure_kp_number_free(conn, agb, &fields).await?;
            let therapist = match repository::update(conn, agb, expected, &fields).await? {
                Update::Done(therapist) => therapist,
                Update::Stale => {
                    return Err(ApiError::changed_since("therapist", agb, current.version))
                }
                Update::Missing => return Err(ApiError::therapist_not_found(agb)),
                Update::KpNumberTaken => {
                    return Err(match &fields.kp_number {
                        Some(number) => kp_number_taken(number, None),
                        None => ApiError::conflict("the KP number is held by another therapist"),
                    })
                }
            };
            let event = AuditEvent::success("therapist.update", "therapist", agb.as_str())
                .with_detail(serde_json::json!({"kp_number_changed": fields.kp_number_changed}));
            Ok((therapist, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &therapist))
}

/// Add or change a membership
///
/// Records that the therapist works at the practice from `start_date` (until `end_date`, if given).
/// Creates the membership (201) or replaces its dates (200). A therapist may work at several
/// practices. An unknown practice or therapist answers 404.
#[utoipa::path(
    tag = "Therapists",
    params(PracticePath, MemberTherapistPath),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "Replaced", body = PracticeMembership),
        (status = 201, description = "Created", body = PracticeMembership, headers(("Location" = String, description = "Address of the membership"))),
        (status = 404, description = "No such practice or therapist", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["therapists:write"]))
)]
#[put("/v1/practices/{agb}/therapists/{therapist_agb}")]
pub async fn put_membership(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(practice_agb): PracticePath,
    MemberTherapistPath(therapist_agb): MemberTherapistPath,
    body: praktijkregister_platform::http::Json<MembershipRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::THERAPISTS_WRITE)?;
    let request = body.into_inner();
    request.validate()?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let (membership, created) = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            if !practices::exists(conn, practice_agb.as_str()).await? {
                return Err(ApiError::practice_not_found(&practice_agb));
            }
            if !repository::exists(conn, therapist_agb.as_str()).await? {
                return Err(ApiError::therapist_not_found(&therapist_agb));
            }
            let (membership, created) = repository::put_membership(
                conn,
                &practice_agb,
                &therapist_agb,
                request.start_date.date(),
                request.end_date.map(IsoDate::date),
            )
            .await?;
            let event = AuditEvent::success(
                "membership.put",
                "membership",
                format!("{practice_agb}/{therapist_agb}"),
            )
            .with_detail(serde_json::json!({
                "created": created,
                "start_date": membership.start_date,
                "end_date": membership.end_date,
            }));
            // A membership that ends may leave only kwaliteitsgeregistreerd therapists.
            lifecycle::after_kp_change(
                conn,
                &[practice_agb.as_str().to_owned()],
                &[],
                &principal.client_id,
                now,
            )
            .await?;
            Ok(((membership, created), event))
        }
        .scope_boxed()
    })
    .await?;
    if created {
        Ok(HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!(
                    "/v1/practices/{}/therapists/{}",
                    membership.practice_agb, membership.therapist_agb
                ),
            ))
            .json(membership))
    } else {
        Ok(HttpResponse::Ok().json(membership))
    }
}

/// Remove a membership
///
/// Removes the membership entirely (to record that a therapist left, set its `end_date` instead).
#[utoipa::path(
    tag = "Therapists",
    params(PracticePath, MemberTherapistPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such membership", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["therapists:write"]))
)]
#[delete("/v1/practices/{agb}/therapists/{therapist_agb}")]
pub async fn delete_membership(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(practice_agb): PracticePath,
    MemberTherapistPath(therapist_agb): MemberTherapistPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::THERAPISTS_WRITE)?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            if !repository::delete_membership(conn, &practice_agb, &therapist_agb).await? {
                return Err(ApiError::NotFound(format!(
                    "therapist {therapist_agb} has no membership of practice {practice_agb}"
                )));
            }
            let event = AuditEvent::success(
                "membership.delete",
                "membership",
                format!("{practice_agb}/{therapist_agb}"),
            );
            lifecycle::after_kp_change(
                conn,
                &[practice_agb.as_str().to_owned()],
                &[],
                &principal.client_id,
                now,
            )
            .await?;
            Ok(((), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PracticeTherapistParams {
    /// Only memberships that include this day (`YYYY-MM-DD`).
    #[param(value_type = Option<IsoDate>, example = "2026-11-01")]
    pub active_on: Option<String>,
}

impl PracticeTherapistParams {
    /// Parsed here rather than by serde so that a bad date names the parameter; an empty value
    /// is refused like any other that is not a date (DESIGN §4).
    fn active_on(&self) -> Result<Option<NaiveDate>, ApiError> {
        self.active_on
            .as_deref()
            .map(|day| {
                IsoDate::parse(day)
                    .map(IsoDate::date)
                    .map_err(|e| ApiError::invalid("active_on", &e))
            })
            .transpose()
    }
}

/// List a practice's therapists
///
/// The therapists of the practice ordered by AGB code, with their membership dates and KP status,
/// keyset-paginated. `active_on` limits the list to memberships that include that day. A practice
/// client lists only its own practice; any other answers 404.
#[utoipa::path(
    tag = "Therapists",
    params(
        PracticePath,
        PracticeTherapistParams,
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of the practice's therapists", body = Page<PracticeTherapist>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["therapists:read"]))
)]
#[get("/v1/practices/{agb}/therapists")]
pub async fn list_practice_therapists(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    filter: web::Query<PracticeTherapistParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<PracticeTherapist>>, ApiError> {
    principal.require_practice(scopes::THERAPISTS_READ, agb.as_str())?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let active_on = filter.active_on()?;
    let mut conn = connection(&pool).await?;
    if !practices::exists(&mut conn, agb.as_str()).await? {
        return Err(ApiError::practice_not_found(&agb));
    }
    let therapists =
        repository::list_for_practice(&mut conn, &agb, active_on, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("practice.therapists.list", "practice", agb.as_str()).with_detail(
            serde_json::json!({
                "count": therapists.len().min(usize::try_from(limit).unwrap_or(usize::MAX)),
                "active_on": active_on,
            }),
        ),
    )
    .await?;
    Ok(web::Json(Page::from_rows(therapists, limit, |t| {
        t.agb.clone()
    })))
}
