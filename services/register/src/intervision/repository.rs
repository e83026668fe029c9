//! SQL for intervision groups, members, meetings and attendance.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{count_star, exists};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{OefentherapieAgb, Text};
use uuid::Uuid;

use super::{
    GroupMember, GroupSummary, IntervisionGroup, Invitation, InvitationState, Meeting,
    MeetingFields,
};
use crate::schema::{
    intervision_attendance, intervision_groups, intervision_invitations, intervision_meetings,
    intervision_members, practice_memberships,
};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = intervision_groups)]
pub struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub owner_practice_agb: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = intervision_members)]
struct MemberRow {
    therapist_agb: String,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
}

impl From<MemberRow> for GroupMember {
    fn from(row: MemberRow) -> Self {
        Self {
            therapist_agb: row.therapist_agb,
            joined_on: row.joined_on,
            left_on: row.left_on,
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = intervision_meetings)]
struct MeetingRow {
    id: Uuid,
    held_on: NaiveDate,
    physical: bool,
    duration_minutes: i32,
    facilitator_name: String,
    facilitator_trained: bool,
    adap_accreditation_number: Option<String>,
    adap_accreditation_year: Option<i32>,
}

impl MeetingRow {
    fn view(self, attendees: Vec<String>) -> Meeting {
        Meeting {
            id: self.id,
            held_on: self.held_on,
            physical: self.physical,
            duration_minutes: self.duration_minutes,
            facilitator_name: self.facilitator_name,
            facilitator_trained: self.facilitator_trained,
            adap_accreditation_number: self.adap_accreditation_number,
            adap_accreditation_year: self.adap_accreditation_year,
            attendees,
        }
    }
}

pub async fn insert_group(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &Text,
    owner: Option<&OefentherapieAgb>,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<GroupRow> {
    diesel::insert_into(intervision_groups::table)
        .values((
            intervision_groups::id.eq(id),
            intervision_groups::name.eq(name.as_str()),
            intervision_groups::owner_practice_agb.eq(owner.map(OefentherapieAgb::as_str)),
            intervision_groups::created_at.eq(at),
            intervision_groups::created_by.eq(by),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find_group(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<GroupRow>> {
    intervision_groups::table
        .find(id)
        .select(GroupRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The group, locked for the rest of the transaction: changes to members and new meetings of
/// one group take turns, so an attendee is checked against the membership that holds.
pub async fn find_group_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<GroupRow>> {
    intervision_groups::table
        .find(id)
        .select(GroupRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Whether a therapist who works or worked at the practice is or was a member of the group.
pub async fn has_member_of_practice(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    practice: &OefentherapieAgb,
) -> QueryResult<bool> {
    diesel::select(exists(
        intervision_members::table
            .inner_join(
                practice_memberships::table
                    .on(practice_memberships::therapist_agb.eq(intervision_members::therapist_agb)),
            )
            .filter(intervision_members::group_id.eq(group_id))
            .filter(practice_memberships::practice_agb.eq(practice.as_str())),
    ))
    .get_result(conn)
    .await
}

/// The group with its members (by AGB code) and meetings (oldest first) with their attendees.
pub async fn assemble(
    conn: &mut AsyncPgConnection,
    group: GroupRow,
) -> QueryResult<IntervisionGroup> {
    let members = intervision_members::table
        .filter(intervision_members::group_id.eq(group.id))
        .order(intervision_members::therapist_agb)
        .select(MemberRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(GroupMember::from)
        .collect();
    let meetings: Vec<MeetingRow> = intervision_meetings::table
        .filter(intervision_meetings::group_id.eq(group.id))
        .order((intervision_meetings::held_on, intervision_meetings::id))
        .select(MeetingRow::as_select())
        .load(conn)
        .await?;
    let ids: Vec<Uuid> = meetings.iter().map(|m| m.id).collect();
    let mut attendance: Vec<(Uuid, String)> = intervision_attendance::table
        .filter(intervision_attendance::meeting_id.eq_any(ids))
        .order((
            intervision_attendance::meeting_id,
            intervision_attendance::therapist_agb,
        ))
        .select((
            intervision_attendance::meeting_id,
            intervision_attendance::therapist_agb,
        ))
        .load(conn)
        .await?;
    let meetings = meetings
        .into_iter()
        .map(|meeting| {
            let attendees = attendance
                .extract_if(.., |(id, _)| *id == meeting.id)
                .map(|(_, agb)| agb)
                .collect();
            meeting.view(attendees)
        })
        .collect();
    Ok(IntervisionGroup {
        id: group.id,
        name: group.name,
        owner_practice_agb: group.owner_practice_agb,
        created_at: group.created_at,
        members,
        meetings,
    })
}

/// Creates or replaces the membership; the flag tells whether it was created.
pub async fn put_member(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
) -> QueryResult<(GroupMember, bool)> {
    let (row, created) = diesel::insert_into(intervision_members::table)
        .values((
            intervision_members::group_id.eq(group_id),
            intervision_members::therapist_agb.eq(therapist.as_str()),
            intervision_members::joined_on.eq(joined_on),
            intervision_members::left_on.eq(left_on),
        ))
        .on_conflict((
            intervision_members::group_id,
            intervision_members::therapist_agb,
        ))
        .do_update()
        .set((
            intervision_members::joined_on.eq(excluded(intervision_members::joined_on)),
            intervision_members::left_on.eq(excluded(intervision_members::left_on)),
        ))
        // `xmax = 0` only for a freshly inserted row: one statement tells created from replaced.
        .returning((
            MemberRow::as_returning(),
            diesel::dsl::sql::<diesel::sql_types::Bool>("xmax = 0"),
        ))
        .get_result::<(MemberRow, bool)>(conn)
        .await?;
    Ok((row.into(), created))
}

/// The days of the group's meetings the therapist attended, ascending.
pub async fn attended_on(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
) -> QueryResult<Vec<NaiveDate>> {
    intervision_attendance::table
        .inner_join(intervision_meetings::table)
        .filter(intervision_meetings::group_id.eq(group_id))
        .filter(intervision_attendance::therapist_agb.eq(therapist.as_str()))
        .order(intervision_meetings::held_on)
        .select(intervision_meetings::held_on)
        .load(conn)
        .await
}

/// Deletes the membership; `false` when there was none.
pub async fn delete_member(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
) -> QueryResult<bool> {
    let deleted = diesel::delete(intervision_members::table.find((group_id, therapist.as_str())))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// Of `therapists`, those who were members of the group on `day`.
pub async fn members_on(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapists: &[String],
    day: NaiveDate,
) -> QueryResult<Vec<String>> {
    intervision_members::table
        .filter(intervision_members::group_id.eq(group_id))
        .filter(intervision_members::therapist_agb.eq_any(therapists))
        .filter(intervision_members::joined_on.le(day))
        .filter(
            intervision_members::left_on
                .is_null()
                .or(intervision_members::left_on.ge(day)),
        )
        .select(intervision_members::therapist_agb)
        .load(conn)
        .await
}

pub async fn insert_meeting(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    id: Uuid,
    fields: &MeetingFields,
) -> QueryResult<Meeting> {
    let row = diesel::insert_into(intervision_meetings::table)
        .values((
            intervision_meetings::id.eq(id),
            intervision_meetings::group_id.eq(group_id),
            intervision_meetings::held_on.eq(fields.held_on),
            intervision_meetings::physical.eq(fields.physical),
            intervision_meetings::duration_minutes.eq(fields.duration_minutes),
            intervision_meetings::facilitator_name.eq(&fields.facilitator_name),
            intervision_meetings::facilitator_trained.eq(fields.facilitator_trained),
            intervision_meetings::adap_accreditation_number.eq(&fields.adap_accreditation_number),
            intervision_meetings::adap_accreditation_year.eq(fields.adap_accreditation_year),
        ))
        .returning(MeetingRow::as_returning())
        .get_result(conn)
        .await?;
    let attendance: Vec<_> = fields
        .attendees
        .iter()
        .map(|agb| {
            (
                intervision_attendance::meeting_id.eq(id),
                intervision_attendance::therapist_agb.eq(agb),
            )
        })
        .collect();
    diesel::insert_into(intervision_attendance::table)
        .values(attendance)
        .execute(conn)
        .await?;
    let mut attendees = fields.attendees.clone();
    attendees.sort_unstable();
    Ok(row.view(attendees))
}

/// Groups by id (creation order), after `after`, `limit + 1` at most; with `practice` only the
/// groups it owns or in which one of its therapists (past or present) is or was a member.
pub async fn list_groups(
    conn: &mut AsyncPgConnection,
    practice: Option<&OefentherapieAgb>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<GroupSummary>> {
    let mut query = intervision_groups::table
        .select(GroupRow::as_select())
        .order(intervision_groups::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(intervision_groups::id.gt(after));
    }
    if let Some(practice) = practice.map(OefentherapieAgb::as_str) {
        let with_member = intervision_members::table
            .inner_join(
                practice_memberships::table
                    .on(practice_memberships::therapist_agb.eq(intervision_members::therapist_agb)),
            )
            .filter(intervision_members::group_id.eq(intervision_groups::id))
            .filter(practice_memberships::practice_agb.eq(practice.to_string()));
        query = query.filter(
            intervision_groups::owner_practice_agb
                .eq(practice.to_string())
                .or(exists(with_member)),
        );
    }
    let groups = query.load(conn).await?;
    let ids: Vec<Uuid> = groups.iter().map(|g| g.id).collect();
    let member_counts: Vec<(Uuid, i64)> = intervision_members::table
        .filter(intervision_members::group_id.eq_any(&ids))
        .group_by(intervision_members::group_id)
        .select((intervision_members::group_id, count_star()))
        .load(conn)
        .await?;
    let meeting_counts: Vec<(Uuid, i64)> = intervision_meetings::table
        .filter(intervision_meetings::group_id.eq_any(&ids))
        .group_by(intervision_meetings::group_id)
        .select((intervision_meetings::group_id, count_star()))
        .load(conn)
        .await?;
    let count_of = |counts: &[(Uuid, i64)], id: Uuid| {
        counts
            .iter()
            .find(|(group, _)| *group == id)
            .map_or(0, |(_, n)| *n)
    };
    Ok(groups
        .into_iter()
        .map(|group| GroupSummary {
            member_count: count_of(&member_counts, group.id),
            meeting_count: count_of(&meeting_counts, group.id),
            id: group.id,
            name: group.name,
            owner_practice_agb: group.owner_practice_agb,
            created_at: group.created_at,
        })
        .collect())
}

/// Whether the therapist works at the practice on `day` (a membership of the practice holds).
pub async fn works_at(
    conn: &mut AsyncPgConnection,
    therapist: &str,
    practice: &OefentherapieAgb,
    day: NaiveDate,
) -> QueryResult<bool> {
    diesel::select(exists(
        practice_memberships::table
            .filter(practice_memberships::practice_agb.eq(practice.as_str()))
            .filter(practice_memberships::therapist_agb.eq(therapist))
            .filter(practice_memberships::start_date.le(day))
            .filter(
                practice_memberships::end_date
                    .is_null()
                    .or(practice_memberships::end_date.ge(day)),
            ),
    ))
    .get_result(conn)
    .await
}

/// The therapist's membership of the group, if any.
pub async fn member(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
) -> QueryResult<Option<GroupMember>> {
    intervision_members::table
        .find((group_id, therapist.as_str()))
        .select(MemberRow::as_select())
        .first(conn)
        .await
        .optional()
        .map(|row| row.map(GroupMember::from))
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = intervision_invitations)]
pub struct InvitationRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub therapist_agb: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl InvitationRow {
    pub fn state(&self) -> Result<InvitationState, ApiError> {
        decode(
            "intervision_invitations.state",
            &self.state,
            InvitationState::parse,
        )
    }

    /// The invitation as shown, with its group's name and owner.
    pub fn view(self, group: &GroupRow) -> Result<Invitation, ApiError> {
        Ok(Invitation {
            state: self.state()?,
            id: self.id,
            group_id: self.group_id,
            group_name: group.name.clone(),
            owner_practice_agb: group.owner_practice_agb.clone(),
            therapist_agb: self.therapist_agb,
            joined_on: self.joined_on,
            left_on: self.left_on,
            created_at: self.created_at,
            answered_at: self.answered_at,
        })
    }
}

/// Creates the pending invitation of the therapist into the group, or gives the pending one new
/// dates. The caller holds the group's lock, so two invitations cannot race to be the open one.
pub async fn put_invitation(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<InvitationRow> {
    let open = intervision_invitations::table
        .filter(intervision_invitations::group_id.eq(group_id))
        .filter(intervision_invitations::therapist_agb.eq(therapist.as_str()))
        .filter(intervision_invitations::state.eq(InvitationState::Pending.as_str()));
    let updated = diesel::update(open)
        .set((
            intervision_invitations::joined_on.eq(joined_on),
            intervision_invitations::left_on.eq(left_on),
        ))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(row) = updated {
        return Ok(row);
    }
    diesel::insert_into(intervision_invitations::table)
        .values((
            intervision_invitations::id.eq(Uuid::now_v7()),
            intervision_invitations::group_id.eq(group_id),
            intervision_invitations::therapist_agb.eq(therapist.as_str()),
            intervision_invitations::joined_on.eq(joined_on),
            intervision_invitations::left_on.eq(left_on),
            intervision_invitations::state.eq(InvitationState::Pending.as_str()),
            intervision_invitations::created_at.eq(at),
            intervision_invitations::created_by.eq(by),
        ))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find_invitation(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<InvitationRow>> {
    intervision_invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The invitation, locked for the rest of the transaction (after its group's lock).
pub async fn find_invitation_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<InvitationRow>> {
    intervision_invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Records the answer to a pending invitation: `state` is accepted, declined or withdrawn.
pub async fn answer_invitation(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    state: InvitationState,
    at: DateTime<Utc>,
    by: &str,
    for_practice: Option<&OefentherapieAgb>,
) -> QueryResult<InvitationRow> {
    diesel::update(intervision_invitations::table.find(id))
        .set((
            intervision_invitations::state.eq(state.as_str()),
            intervision_invitations::answered_at.eq(at),
            intervision_invitations::answered_by.eq(by),
            intervision_invitations::answered_for_practice_agb
                .eq(for_practice.map(OefentherapieAgb::as_str)),
        ))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
        .await
}

/// Withdraws the pending invitation of the therapist into the group; `false` when there was none.
pub async fn withdraw_invitation(
    conn: &mut AsyncPgConnection,
    group_id: Uuid,
    therapist: &OefentherapieAgb,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<bool> {
    let withdrawn = diesel::update(
        intervision_invitations::table
            .filter(intervision_invitations::group_id.eq(group_id))
            .filter(intervision_invitations::therapist_agb.eq(therapist.as_str()))
            .filter(intervision_invitations::state.eq(InvitationState::Pending.as_str())),
    )
    .set((
        intervision_invitations::state.eq(InvitationState::Withdrawn.as_str()),
        intervision_invitations::answered_at.eq(at),
        intervision_invitations::answered_by.eq(by),
    ))
    .execute(conn)
    .await?;
    Ok(withdrawn > 0)
}

/// The invitations a practice sees, by id (creation order), after `after`, `limit + 1` at most:
/// those of therapists who work at the practice on `day`, and those the groups it owns sent.
pub async fn invitations_of_practice(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    day: NaiveDate,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Invitation>, ApiError> {
    let works_here = practice_memberships::table
        .filter(practice_memberships::practice_agb.eq(practice.as_str()))
        .filter(practice_memberships::therapist_agb.eq(intervision_invitations::therapist_agb))
        .filter(practice_memberships::start_date.le(day))
        .filter(
            practice_memberships::end_date
                .is_null()
                .or(practice_memberships::end_date.ge(day)),
        );
    let mut query = intervision_invitations::table
        .inner_join(intervision_groups::table)
        .filter(
            intervision_groups::owner_practice_agb
                .eq(practice.as_str())
                .or(exists(works_here)),
        )
        .order(intervision_invitations::id)
        .limit(limit + 1)
        .select((InvitationRow::as_select(), GroupRow::as_select()))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(intervision_invitations::id.gt(after));
    }
    let rows: Vec<(InvitationRow, GroupRow)> = query.load(conn).await?;
    rows.into_iter()
        .map(|(invitation, group)| invitation.view(&group))
        .collect()
}
