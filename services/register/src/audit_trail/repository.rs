//! SQL for reading the audit trail.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_platform::audit::audit_events;
use praktijkregister_platform::db::like_escape;
use serde_json::Value;

use super::{ActionFilter, AuditEventView, AuditFilter};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditEventRow {
    id: i64,
    occurred_at: DateTime<Utc>,
    actor_client_id: String,
    actor_role: String,
    on_behalf_of: Option<String>,
    action: String,
    subject_type: String,
    subject_id: String,
    outcome: String,
    request_id: Option<String>,
    detail: Value,
}

impl From<AuditEventRow> for AuditEventView {
    fn from(row: AuditEventRow) -> Self {
        Self {
            id: row.id,
            occurred_at: row.occurred_at,
            actor_client_id: row.actor_client_id,
            actor_role: row.actor_role,
            on_behalf_of: row.on_behalf_of,
            action: row.action,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            outcome: row.outcome,
            request_id: row.request_id,
            detail: row.detail,
        }
    }
}

/// Up to `limit + 1` events matching `filter`, newest first, all older than `before` when given.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEventView>> {
    let mut query = audit_events::table
        .select(AuditEventRow::as_select())
        .order(audit_events::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_events::id.lt(before));
    }
    if let Some(subject_type) = &filter.subject_type {
        query = query.filter(audit_events::subject_type.eq(subject_type.clone()));
    }
    if let Some(subject_id) = &filter.subject_id {
        query = query.filter(audit_events::subject_id.eq(subject_id.clone()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_events::actor_client_id.eq(actor.clone()));
    }
    match filter.action_filter() {
        Some(ActionFilter::Exact(action)) => {
            query = query.filter(audit_events::action.eq(action));
        }
        Some(ActionFilter::Prefix(prefix)) => {
            query = query.filter(audit_events::action.like(format!("{}%", like_escape(&prefix))));
        }
        None => {}
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::occurred_at.lt(to));
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(audit_events::outcome.eq(outcome.clone()));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(AuditEventView::from).collect())
}
