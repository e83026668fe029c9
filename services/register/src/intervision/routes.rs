//! `/v1/intervision-groups`: groups, their members and meetings.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{amsterdam_date, IsoDate, OefentherapieAgb};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::{Binding, Principal};
use praktijkregister_platform::db::{connection, decode, DbPool};
use praktijkregister_platform::error::{ApiError, FieldError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use praktijkregister_platform::paths::exact;
use serde_json::json;
use uuid::Uuid;

use super::repository::{self, GroupRow};
use super::{
    GroupListParams, GroupMember, GroupSummary, IntervisionGroup, Invitation, InvitationState,
    Meeting, MemberRequest, NewGroupRequest, NewMeetingRequest,
};
use crate::access;
use crate::paths::{GroupPath, InvitationPath, MemberTherapistPath, PracticePath};
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
        .service(create_meeting)
        .service(list_invitations)
        .service(accept_invitation)
        .service(decline_invitation);
}

/// What the caller wants to do with a group.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Change,
}

/// How the caller stands to a group it may reach.
#[derive(Clone)]
enum Standing {
    /// The registrar or a service: every group.
    Unbound,
    /// The practice that owns the group: changes it.
    Owner(OefentherapieAgb),
    /// A practice one of whose therapists is or was a member: reads the group and ends its own
    /// therapists' memberships.
    Participant(OefentherapieAgb),
}

/// The group, if the caller may reach it, and how the caller stands to it: the registrar and
/// services reach every group; a practice client the groups it owns or in which one of its
/// therapists is or was a member. Any other group answers 404, as its existence is private, and
/// the refusal is audited. A change locks the group for the rest of the transaction.
async fn reachable_group(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    access: Access,
) -> Result<(GroupRow, Standing), ApiError> {
    let group = match access {
        Access::Read => repository::find_group(conn, id).await?,
        Access::Change => repository::find_group_for_update(conn, id).await?,
    }
    .ok_or_else(|| ApiError::group_not_found(&id))?;
    let standing = match &principal.binding {
        Binding::None => Standing::Unbound,
        Binding::Practice(own) if group.owner_practice_agb.as_deref() == Some(own.as_str()) => {
            Standing::Owner(own.clone())
        }
        Binding::Practice(own) => {
            if repository::has_member_of_practice(conn, id, own).await? {
                Standing::Participant(own.clone())
            } else {
                return Err(hidden_group(principal, id));
            }
        }
        Binding::EpdVendor(_) | Binding::Insurer(_) | Binding::Visitor(_) => {
            return Err(hidden_group(principal, id))
        }
    };
    Ok((group, standing))
}

fn hidden_group(principal: &Principal, id: Uuid) -> ApiError {
    access::hidden(
        principal,
        "intervision_group",
        &id.to_string(),
        "intervision group",
    )
}

/// 409 if the therapist attended a meeting of the group outside the dates: attendance ties the
/// member to the group, so meetings only ever count while the therapist is a member.
async fn refuse_attendance_outside(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
) -> Result<(), ApiError> {
    let outside: Vec<String> = repository::attended_on(conn, group_id, therapist)
        .await?
        .into_iter()
        .filter(|day| *day < joined_on || left_on.is_some_and(|left| *day > left))
        .map(|day| day.to_string())
        .collect();
    if outside.is_empty() {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "therapist {therapist} attended meetings of the group on {}, outside the new dates",
            outside.join(", ")
        )))
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
    let (row, _) = reachable_group(&mut conn, &principal, id, Access::Read).await?;
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

/// What a member request did.
enum MemberChange {
    /// The membership was created (`true`) or its dates replaced.
    Membership(GroupMember, bool),
    /// The therapist works at another practice: that practice is asked.
    Invited(Invitation),
}

/// Add or change a group member
///
/// Records that the therapist is a member of the group from `joined_on` (until `left_on`, if
/// given); members may come from any practice (001 §1.1d asks for at least two).
///
/// A membership counts for the compliance of every practice the therapist works at, so it needs
/// the consent of such a practice:
/// - The registrar, and the owning practice for a therapist who works at it today, create the
///   membership (201) or replace its dates (200).
/// - The owning practice asking this for a therapist who does not work at it today creates (or
///   updates) a pending **invitation** with these dates and gets 202 with the invitation, whether
///   or not the AGB code is a therapist in the register, so the answer reveals nothing. A practice
///   where the therapist works sees the invitation at
///   `GET /v1/practices/{agb}/intervision-invitations` and accepts or declines it; acceptance
///   makes the membership. Dates within an existing membership only end or shorten it and are
///   applied directly (200).
/// - A practice whose therapist is a member of a group it does not own may end that therapist's
///   membership (dates within the current ones, e.g. a `left_on`): 200. Anything else is the
///   owner's (403).
///
/// New dates that would leave a meeting the therapist attended outside the membership are refused
/// with 409: meetings count for a therapist only while a member.
#[utoipa::path(
    tag = "Intervision",
    params(GroupPath, MemberTherapistPath),
    request_body = MemberRequest,
    responses(
        (status = 200, description = "Replaced (or ended)", body = GroupMember),
        (status = 201, description = "Added", body = GroupMember),
        (status = 202, description = "The therapist does not work at the owning practice: an invitation awaits the answer of a practice where the therapist works", body = Invitation),
        (status = 403, description = "The group is not your practice's to change, beyond ending your own therapist's membership", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or not yours), or (for the registrar) no such therapist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The therapist attended a meeting outside the new dates", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[put("/v1/intervision-groups/{id}/members/{therapist_agb}")]
pub async fn put_member(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    GroupPath(id): GroupPath,
    MemberTherapistPath(therapist_agb): MemberTherapistPath,
    body: praktijkregister_platform::http::Json<MemberRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let request = body.into_inner();
    request.validate()?;
    let now = ctx.clock.now();
    let today = amsterdam_date(now);
    let mut conn = connection(&pool).await?;
    let caller = &principal;
    let change = audit::transaction(&mut conn, caller.into(), |conn| {
        async move {
            let (group, standing) = reachable_group(conn, caller, id, Access::Change).await?;
            let existing = repository::member(conn, id, &therapist_agb).await?;
            let ends_it = existing.as_ref().is_some_and(|m| request.within(m));
            let direct = match &standing {
                Standing::Unbound => {
                    if !therapists::exists(conn, therapist_agb.as_str()).await? {
                        return Err(ApiError::therapist_not_found(&therapist_agb));
                    }
                    true
                }
                Standing::Owner(own) => {
                    ends_it
                        || repository::works_at(conn, therapist_agb.as_str(), own, today).await?
                }
                Standing::Participant(own) => {
                    if !(ends_it
                        && repository::works_at(conn, therapist_agb.as_str(), own, today).await?)
                    {
                        return Err(ApiError::Forbidden(format!(
                            "only the practice that owns intervision group {id} adds members or \
                             changes their dates; your practice may end its own therapist's \
                             membership and answers invitations at \
                             /v1/practices/{own}/intervision-invitations"
                        )));
                    }
                    true
                }
            };
            let (joined_on, left_on) =
                (request.joined_on.date(), request.left_on.map(IsoDate::date));
            if !direct {
                let invitation = repository::put_invitation(
                    conn,
                    id,
                    &therapist_agb,
                    joined_on,
                    left_on,
                    now,
                    &caller.client_id,
                )
                .await?;
                let event = AuditEvent::success(
                    "intervision_invitation.put",
                    "intervision_group",
                    id.to_string(),
                )
                .with_detail(json!({
                    "invitation_id": invitation.id,
                    "therapist_agb": therapist_agb,
                    "joined_on": joined_on,
                    "left_on": left_on,
                }));
                return Ok((MemberChange::Invited(invitation.view(&group)?), event));
            }
            refuse_attendance_outside(conn, id, &therapist_agb, joined_on, left_on).await?;
            let (member, created) =
                repository::put_member(conn, id, &therapist_agb, joined_on, left_on).await?;
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
            Ok((MemberChange::Membership(member, created), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(match change {
        MemberChange::Membership(member, true) => HttpResponse::Created().json(member),
        MemberChange::Membership(member, false) => HttpResponse::Ok().json(member),
        MemberChange::Invited(invitation) => HttpResponse::Accepted().json(invitation),
    })
}

/// Remove a group member
///
/// Removes a membership recorded by mistake, and withdraws a pending invitation of the therapist
/// into the group. The registrar and the owning practice remove any member; a practice whose
/// therapist is a member of a group it does not own removes that therapist (403 for others). A
/// therapist who attended a meeting of the group cannot be removed (409): to record that they
/// left, set `left_on` instead.
#[utoipa::path(
    tag = "Intervision",
    params(GroupPath, MemberTherapistPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The group is not your practice's to change, nor the therapist yours", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or not yours), or neither member nor invited", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The therapist attended a meeting of the group", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[delete("/v1/intervision-groups/{id}/members/{therapist_agb}")]
pub async fn delete_member(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    GroupPath(id): GroupPath,
    MemberTherapistPath(therapist_agb): MemberTherapistPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let caller = &principal;
    audit::transaction(&mut conn, caller.into(), |conn| {
        async move {
            let (_, standing) = reachable_group(conn, caller, id, Access::Change).await?;
            let withdrawn = match &standing {
                Standing::Unbound | Standing::Owner(_) => {
                    repository::withdraw_invitation(conn, id, &therapist_agb, now, &caller.client_id)
                        .await?
                }
                Standing::Participant(own) => {
                    if !repository::works_at(conn, therapist_agb.as_str(), own, amsterdam_date(now))
                        .await?
                    {
                        return Err(ApiError::Forbidden(format!(
                            "only the practice that owns intervision group {id} removes members \
                             of other practices"
                        )));
                    }
                    false
                }
            };
            if !repository::attended_on(conn, id, &therapist_agb)
                .await?
                .is_empty()
            {
                return Err(ApiError::conflict(format!(
                    "therapist {therapist_agb} attended meetings of the group; set left_on instead"
                )));
            }
            let removed = repository::delete_member(conn, id, &therapist_agb).await?;
            if !removed && !withdrawn {
                return Err(ApiError::NotFound(format!(
                    "therapist {therapist_agb} is neither a member of intervision group {id} nor invited"
                )));
            }
            let event = AuditEvent::success(
                "intervision_member.delete",
                "intervision_group",
                id.to_string(),
            )
            .with_detail(json!({
                "therapist_agb": therapist_agb,
                "membership_removed": removed,
                "invitation_withdrawn": withdrawn,
            }));
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
            let (_, standing) = reachable_group(conn, caller, id, Access::Change).await?;
            if let Standing::Participant(_) = standing {
                return Err(ApiError::Forbidden(format!(
                    "only the practice that owns intervision group {id} records its meetings"
                )));
            }
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
        .map(|agb| {
            OefentherapieAgb::parse(exact(agb)).map_err(|e| ApiError::invalid("practice_agb", &e))
        })
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

/// List a practice's intervision invitations
///
/// The invitations of therapists who work at the practice today (each from a group another
/// practice owns, proposing a membership with its dates), and the invitations the groups the
/// practice owns sent; every state, in the order they were made, keyset-paginated. A pending
/// invitation is answered at `…/{id}/acceptance` or `…/{id}/decline`. A practice client lists
/// only its own practice's (another practice answers 404). Every read is written to the audit log.
#[utoipa::path(
    tag = "Intervision",
    params(PracticePath, PageParams),
    responses(
        (status = 200, description = "A page of invitations", body = Page<Invitation>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:read"]))
)]
#[get("/v1/practices/{agb}/intervision-invitations")]
pub async fn list_invitations(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Invitation>>, ApiError> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.after()?;
    let mut conn = connection(&pool).await?;
    access::require_existing_practice(&mut conn, &principal, scopes::QUALITY_READ, &agb).await?;
    let today = amsterdam_date(ctx.clock.now());
    let invitations =
        repository::invitations_of_practice(&mut conn, &agb, today, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("intervision_invitation.list", "practice", agb.as_str()).with_detail(
            json!({
                "count": invitations.len().min(usize::try_from(limit).unwrap_or(usize::MAX))
            }),
        ),
    )
    .await?;
    Ok(web::Json(Page::from_rows(invitations, limit, |i| i.id)))
}

/// Accept an intervision invitation
///
/// A practice where the invited therapist works today (or the registrar, naming that practice)
/// accepts the invitation: the therapist becomes a member of the group with the invitation's
/// dates, and from then on the group's meetings the therapist attends count for the therapist.
/// An invitation of a therapist who does not work at the practice answers 404, like an unknown
/// one; an invitation already answered or withdrawn answers 409.
#[utoipa::path(
    tag = "Intervision",
    params(PracticePath, InvitationPath),
    responses(
        (status = 200, description = "Accepted; the membership exists", body = Invitation),
        (status = 404, description = "No such practice (or not yours), or no such invitation of one of its therapists", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invitation was already answered or withdrawn, or the therapist attended a meeting outside its dates", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[post("/v1/practices/{agb}/intervision-invitations/{id}/acceptance")]
pub async fn accept_invitation(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    InvitationPath(id): InvitationPath,
) -> Result<web::Json<Invitation>, ApiError> {
    answer_invitation(&ctx, &principal, &pool, agb, id, InvitationState::Accepted)
        .await
        .map(web::Json)
}

/// Decline an intervision invitation
///
/// A practice where the invited therapist works today (or the registrar, naming that practice)
/// declines the invitation; no membership is made. An invitation of a therapist who does not
/// work at the practice answers 404, like an unknown one; an invitation already answered or
/// withdrawn answers 409.
#[utoipa::path(
    tag = "Intervision",
    params(PracticePath, InvitationPath),
    responses(
        (status = 200, description = "Declined", body = Invitation),
        (status = 404, description = "No such practice (or not yours), or no such invitation of one of its therapists", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invitation was already answered or withdrawn", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[post("/v1/practices/{agb}/intervision-invitations/{id}/decline")]
pub async fn decline_invitation(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    InvitationPath(id): InvitationPath,
) -> Result<web::Json<Invitation>, ApiError> {
    answer_invitation(&ctx, &principal, &pool, agb, id, InvitationState::Declined)
        .await
        .map(web::Json)
}

/// Answers a pending invitation for the practice `agb` (accepted or declined), in one audited
/// transaction that holds the group's lock, then the invitation's.
async fn answer_invitation(
    ctx: &RegisterContext,
    principal: &Principal,
    pool: &DbPool,
    agb: OefentherapieAgb,
    id: Uuid,
    answer: InvitationState,
) -> Result<Invitation, ApiError> {
    principal.require_practice(scopes::QUALITY_WRITE, agb.as_str())?;
    let now = ctx.clock.now();
    let mut conn = connection(pool).await?;
    audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            access::require_exists(conn, &agb).await?;
            let unknown = || ApiError::not_found("intervision invitation", id);
            let first = repository::find_invitation(conn, id)
                .await?
                .ok_or_else(unknown)?;
            if !repository::works_at(conn, &first.therapist_agb, &agb, amsterdam_date(now)).await? {
                // Another practice's invitation is hidden like an unknown one.
                return Err(if principal.is_unbound() {
                    unknown()
                } else {
                    access::hidden(
                        principal,
                        "intervision_invitation",
                        &id.to_string(),
                        "intervision invitation",
                    )
                });
            }
            let group = repository::find_group_for_update(conn, first.group_id)
                .await?
                .ok_or_else(unknown)?;
            let invitation = repository::find_invitation_for_update(conn, id)
                .await?
                .ok_or_else(unknown)?;
            let state = invitation.state()?;
            if state != InvitationState::Pending {
                return Err(ApiError::conflict(format!(
                    "invitation {id} is already {state}"
                )));
            }
            let therapist = decode(
                "intervision_invitations.therapist_agb",
                &invitation.therapist_agb,
                OefentherapieAgb::parse,
            )?;
            if answer == InvitationState::Accepted {
                refuse_attendance_outside(
                    conn,
                    group.id,
                    &therapist,
                    invitation.joined_on,
                    invitation.left_on,
                )
                .await?;
                repository::put_member(
                    conn,
                    group.id,
                    &therapist,
                    invitation.joined_on,
                    invitation.left_on,
                )
                .await?;
            }
            let answered = repository::answer_invitation(
                conn,
                id,
                answer,
                now,
                &principal.client_id,
                Some(&agb),
            )
            .await?;
            let action = if answer == InvitationState::Accepted {
                "intervision_invitation.accept"
            } else {
                "intervision_invitation.decline"
            };
            let event = AuditEvent::success(action, "intervision_group", group.id.to_string())
                .with_detail(json!({
                    "invitation_id": id,
                    "therapist_agb": therapist,
                    "practice_agb": agb,
                    "joined_on": answered.joined_on,
                    "left_on": answered.left_on,
                }));
            Ok((answered.view(&group)?, event))
        }
        .scope_boxed()
    })
    .await
}
