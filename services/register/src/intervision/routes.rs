//! `/v1/intervision-groups`: groups, their members and meetings.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{amsterdam_date, IsoDate, OefentherapieAgb};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::{Binding, Principal};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, FieldError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::json;
use uuid::Uuid;

use super::repository::{self, GroupRow};
use super::{
    GroupListParams, GroupMember, GroupSummary, IntervisionGroup, Meeting, MemberRequest,
    NewGroupRequest, NewMeetingRequest,
};
use crate::access;
use crate::paths::{GroupPath, MemberTherapistPath};
use crate::practices::repository as practices;
use crate::problems::Problems as _;
use crate::therapists::repository as therapists;

/// Registers the intervision routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_group)
        .service(list_groups)
        .service(get_group)
        .service(put_member)
        .service(delete_member)
        .service(create_meeting);
}

/// What the caller wants to do with a group.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Change,
}

/// The group, if the caller may reach it: the registrar and services every group; a practice
/// client reads the groups it owns or in which one of its therapists is a member, and changes only
/// the groups it owns. A group it cannot read answers 404, as its existence is private. A change
/// locks the group for the rest of the transaction.
async fn reachable_group(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    access: Access,
) -> Result<GroupRow, ApiError> {
    let group = match access {
        Access::Read => repository::find_group(conn, id).await?,
        Access::Change => repository::find_group_for_update(conn, id).await?,
    }
    .ok_or_else(|| ApiError::group_not_found(&id))?;
    match &principal.binding {
        Binding::None => Ok(group),
        Binding::Practice(own) => {
            if group.owner_practice_agb.as_deref() == Some(own.as_str()) {
                Ok(group)
            } else if repository::has_member_of_practice(conn, id, own).await? {
                match access {
                    Access::Read => Ok(group),
                    Access::Change => Err(ApiError::Forbidden(format!(
                        "only the practice that owns intervision group {id} changes it"
                    ))),
                }
            } else {
                Err(ApiError::group_not_found(&id))
            }
        }
        Binding::EpdVendor(_) | Binding::Insurer(_) | Binding::Visitor(_) => {
            Err(ApiError::group_not_found(&id))
        }
    }
}

/// Form an intervision group
///
/// Forms an intervision group (intervisiegroep, 001 §1.1). A practice client's group is owned by
/// its practice; the registrar may name an owner (`owner_practice_agb`) or none. Only the owner
/// (and the registrar) changes the group's members and meetings. What is discussed in intervision
/// is confidential and has no field: any field beyond these is refused with 422.
#[utoipa::path(
    tag = "Intervision",
    request_body = NewGroupRequest,
    responses(
        (status = 201, description = "Formed", body = IntervisionGroup, headers(("Location" = String, description = "Address of the group"))),
        (status = 404, description = "A practice client named another practice as owner", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or unknown fields, or an unknown owner, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[post("/v1/intervision-groups")]
pub async fn create_group(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    body: praktijkregister_platform::http::Json<NewGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let (name, requested_owner) = body.into_inner().parse()?;
    // A practice client's group is its own practice's.
    let owner = match access::own_practice(&principal) {
        Some(own) => {
            if let Some(requested) = &requested_owner {
                principal.require_practice(scopes::QUALITY_WRITE, requested.as_str())?;
            }
            Some(own.clone())
        }
        None => requested_owner,
    };
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    let group = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            if let Some(owner) = &owner {
                if !practices::exists(conn, owner.as_str()).await? {
                    return Err(ApiError::field(
                        "owner_practice_agb",
                        "practice_unknown",
                        format!("practice {owner} does not exist"),
                    ));
                }
            }
            let row = repository::insert_group(
                conn,
                Uuid::now_v7(),
                &name,
                owner.as_ref(),
                now,
                client_id,
            )
            .await?;
            let event = AuditEvent::success(
                "intervision_group.create",
                "intervision_group",
                row.id.to_string(),
            )
            .with_detail(json!({"owner_practice_agb": row.owner_practice_agb}));
            Ok((repository::assemble(conn, row).await?, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/intervision-groups/{}", group.id),
        ))
        .json(group))
}

/// Read an intervision group
///
/// The group with its members (past and present) and its meetings with their attendees; never
/// what was discussed. A practice client reads the groups it owns or in which one of its
/// therapists is a member; any other group answers 404. Every read is written to the audit log.
#[utoipa::path(
    tag = "Intervision",
    params(GroupPath),
    responses(
        (status = 200, description = "The group", body = IntervisionGroup),
        (status = 404, description = "No such group (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:read"]))
)]
#[get("/v1/intervision-groups/{id}")]
pub async fn get_group(
    principal: Principal,
    pool: web::Data<DbPool>,
    GroupPath(id): GroupPath,
) -> Result<web::Json<IntervisionGroup>, ApiError> {
    principal.require(scopes::QUALITY_READ)?;
    let mut conn = connection(&pool).await?;
    let row = reachable_group(&mut conn, &principal, id, Access::Read).await?;
    let group = repository::assemble(&mut conn, row).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success(
            "intervision_group.read",
            "intervision_group",
            id.to_string(),
        ),
    )
    .await?;
    Ok(web::Json(group))
}

/// Add or change a group member
///
/// Records that the therapist is a member of the group from `joined_on` (until `left_on`, if
/// given); members may come from any practice (001 §1.1d asks for at least two). Creates the
/// membership (201) or replaces its dates (200). New dates that would leave a meeting the
/// therapist attended outside the membership are refused with 409. Only the owning practice and
/// the registrar change a group.
#[utoipa::path(
    tag = "Intervision",
    params(GroupPath, MemberTherapistPath),
    request_body = MemberRequest,
    responses(
        (status = 200, description = "Replaced", body = GroupMember),
        (status = 201, description = "Added", body = GroupMember),
        (status = 403, description = "The group is not your practice's to change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or not yours) or therapist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The therapist attended a meeting outside the new dates", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[put("/v1/intervision-groups/{id}/members/{therapist_agb}")]
pub async fn put_member(
    principal: Principal,
    pool: web::Data<DbPool>,
    GroupPath(id): GroupPath,
    MemberTherapistPath(therapist_agb): MemberTherapistPath,
    body: praktijkregister_platform::http::Json<MemberRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let request = body.into_inner();
    request.validate()?;
    let mut conn = connection(&pool).await?;
    let caller = &principal;
    let (member, created) = audit::transaction(&mut conn, caller.into(), |conn| {
            async move {
                reachable_group(conn, caller, id, Access::Change).await?;
                if !therapists::exists(conn, therapist_agb.as_str()).await? {
                    return Err(ApiError::therapist_not_found(&therapist_agb));
                }
                let outside: Vec<String> = repository::attended_on(conn, id, &therapist_agb)
                    .await?
                    .into_iter()
                    .filter(|day| {
                        *day < request.joined_on.date()
                            || request.left_on.is_some_and(|left| *day > left.date())
                    })
                    .map(|day| day.to_string())
                    .collect();
                if !outside.is_empty() {
                    return Err(ApiError::conflict(format!(
                        "therapist {therapist_agb} attended meetings of the group on {}, outside the new dates",
                        outside.join(", ")
                    )));
                }
                let (member, created) = repository::put_member(
                    conn,
                    id,
                    &therapist_agb,
                    request.joined_on.date(),
                    request.left_on.map(IsoDate::date),
                )
                .await?;
                let event = AuditEvent::success(
                    "intervision_member.put",
                    "intervision_group",
                    id.to_string(),
                )
                .with_detail(json!({
                    "therapist_agb": therapist_agb,
                    "created": created,
                    "joined_on": member.joined_on,
                    "left_on": member.left_on,
                }));
                Ok(((member, created), event))
            }
            .scope_boxed()
        })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(member)
    } else {
        HttpResponse::Ok().json(member)
    })
}

/// Remove a group member
///
/// Removes a membership recorded by mistake. A therapist who attended a meeting of the group
/// cannot be removed (409): to record that they left, set `left_on` instead.
#[utoipa::path(
    tag = "Intervision",
    params(GroupPath, MemberTherapistPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The group is not your practice's to change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or not yours) or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The therapist attended a meeting of the group", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[delete("/v1/intervision-groups/{id}/members/{therapist_agb}")]
pub async fn delete_member(
    principal: Principal,
    pool: web::Data<DbPool>,
    GroupPath(id): GroupPath,
    MemberTherapistPath(therapist_agb): MemberTherapistPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let mut conn = connection(&pool).await?;
    let caller = &principal;
    audit::transaction(&mut conn, caller.into(), |conn| {
        async move {
            reachable_group(conn, caller, id, Access::Change).await?;
            if !repository::attended_on(conn, id, &therapist_agb)
                .await?
                .is_empty()
            {
                return Err(ApiError::conflict(format!(
                    "therapist {therapist_agb} attended meetings of the group; set left_on instead"
                )));
            }
            if !repository::delete_member(conn, id, &therapist_agb).await? {
                return Err(ApiError::NotFound(format!(
                    "therapist {therapist_agb} is not a member of intervision group {id}"
                )));
            }
            let event = AuditEvent::success(
                "intervision_member.delete",
                "intervision_group",
                id.to_string(),
            )
            .with_detail(json!({"therapist_agb": therapist_agb}));
            Ok(((), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record a meeting
///
/// Records a meeting of the group that took place (001 §1.1): the day, whether it was held in
/// person, its length, the facilitator and whether they are trained, the ADAP accreditation, and
/// the attendees, each of whom must have been a member of the group on that day (422 names each
/// one who was not). What was discussed is not recorded: any field beyond these is refused with 422.
#[utoipa::path(
    tag = "Intervision",
    params(GroupPath),
    request_body = NewMeetingRequest,
    responses(
        (status = 201, description = "Recorded", body = Meeting),
        (status = 403, description = "The group is not your practice's to change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or unknown fields, or attendees who were not members, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[post("/v1/intervision-groups/{id}/meetings")]
pub async fn create_meeting(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    GroupPath(id): GroupPath,
    body: praktijkregister_platform::http::Json<NewMeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let fields = body.into_inner().parse(amsterdam_date(ctx.clock.now()))?;
    let mut conn = connection(&pool).await?;
    let caller = &principal;
    let meeting = audit::transaction(&mut conn, caller.into(), |conn| {
        async move {
            reachable_group(conn, caller, id, Access::Change).await?;
            let members =
                repository::members_on(conn, id, &fields.attendees, fields.held_on).await?;
            // Parsing refused duplicates and malformed codes, so positions match the request.
            let strangers: Vec<FieldError> = fields
                .attendees
                .iter()
                .enumerate()
                .filter(|(_, agb)| !members.contains(agb))
                .map(|(i, agb)| {
                    FieldError::new(
                        format!("attendees[{i}]"),
                        "not_a_member",
                        format!(
                            "therapist {agb} was not a member of the group on {}",
                            fields.held_on
                        ),
                    )
                })
                .collect();
            if !strangers.is_empty() {
                return Err(ApiError::Validation(strangers));
            }
            let meeting = repository::insert_meeting(conn, id, Uuid::now_v7(), &fields).await?;
            let event = AuditEvent::success(
                "intervision_meeting.create",
                "intervision_group",
                id.to_string(),
            )
            .with_detail(json!({
                "meeting_id": meeting.id,
                "held_on": meeting.held_on,
                "attendees": meeting.attendees.len(),
            }));
            Ok((meeting, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created().json(meeting))
}

/// List intervision groups
///
/// Groups in the order they were formed, keyset-paginated. With `practice_agb`, only the groups
/// that practice owns or in which one of its therapists is (or was) a member. A practice client
/// lists its own practice's groups; naming another practice answers 404.
#[utoipa::path(
    tag = "Intervision",
    params(GroupListParams, PageParams),
    responses(
        (status = 200, description = "A page of groups", body = Page<GroupSummary>),
        (status = 404, description = "A practice client named another practice", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:read"]))
)]
#[get("/v1/intervision-groups")]
pub async fn list_groups(
    principal: Principal,
    pool: web::Data<DbPool>,
    filter: web::Query<GroupListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<GroupSummary>>, ApiError> {
    principal.require(scopes::QUALITY_READ)?;
    let limit = page.limit()?;
    let after: Option<Uuid> = page.after()?;
    let requested = filter
        .practice_agb
        .as_deref()
        .map(str::trim)
        .filter(|agb| !agb.is_empty())
        .map(|agb| OefentherapieAgb::parse(agb).map_err(|e| ApiError::invalid("practice_agb", &e)))
        .transpose()?;
    // A practice client's list is always of its own practice.
    let practice = match access::own_practice(&principal) {
        Some(own) => {
            if let Some(requested) = &requested {
                principal.require_practice(scopes::QUALITY_READ, requested.as_str())?;
            }
            Some(own.clone())
        }
        None => requested,
    };
    let mut conn = connection(&pool).await?;
    let groups = repository::list_groups(&mut conn, practice.as_ref(), after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success(
            "intervision_group.list",
            "practice",
            practice.as_ref().map_or("*", OefentherapieAgb::as_str),
        )
        .with_detail(
            json!({"count": groups.len().min(usize::try_from(limit).unwrap_or(usize::MAX))}),
        ),
    )
    .await?;
    Ok(web::Json(Page::from_rows(groups, limit, |g| g.id)))
}
