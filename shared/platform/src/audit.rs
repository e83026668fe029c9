//! Writer for the append-only audit log each service keeps (NEN 7513 style, DESIGN §5).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedBoxFuture;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::auth::Principal;
use crate::telemetry::RequestContext;

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_client_id -> Text,
        actor_role -> Text,
        on_behalf_of -> Nullable<Text>,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        outcome -> Text,
        request_id -> Nullable<Text>,
        detail -> Jsonb,
    }
}

/// Whether the audited action was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// One audited action: `action` is a dotted verb (`practice.create`), the subject a type and id.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: &'static str,
    pub subject_type: &'static str,
    pub subject_id: String,
    pub outcome: Outcome,
    pub detail: Value,
}

impl AuditEvent {
    pub fn success(
        action: &'static str,
        subject_type: &'static str,
        subject_id: impl Into<String>,
    ) -> Self {
        Self {
            action,
            subject_type,
            subject_id: subject_id.into(),
            outcome: Outcome::Success,
            detail: Value::Object(Default::default()),
        }
    }

    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent<'a> {
    occurred_at: DateTime<Utc>,
    actor_client_id: &'a str,
    actor_role: &'a str,
    on_behalf_of: Option<&'a str>,
    action: &'a str,
    subject_type: &'a str,
    subject_id: &'a str,
    outcome: &'a str,
    request_id: Option<&'a str>,
    detail: &'a Value,
}

/// The actor of an audited action: a verified client, or an anonymous caller (token endpoint).
pub struct Actor<'a> {
    pub client_id: &'a str,
    pub role: &'a str,
    pub on_behalf_of: Option<&'a str>,
}

impl<'a> From<&'a Principal> for Actor<'a> {
    fn from(principal: &'a Principal) -> Self {
        Self {
            client_id: &principal.client_id,
            role: principal.role.as_str(),
            on_behalf_of: principal.on_behalf_of.as_deref(),
        }
    }
}

/// Appends `event`. Call it on the connection (and so in the transaction) of the change it records,
/// so that a change is never without its audit line.
pub async fn record(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    event: &AuditEvent,
) -> Result<(), diesel::result::Error> {
    let context = RequestContext::current();
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            occurred_at: Utc::now(),
            actor_client_id: actor.client_id,
            actor_role: actor.role,
            on_behalf_of: actor.on_behalf_of,
            action: event.action,
            subject_type: event.subject_type,
            subject_id: &event.subject_id,
            outcome: event.outcome.as_str(),
            request_id: context.as_ref().map(|c| c.request_id.as_str()),
            detail: &event.detail,
        })
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs `change` in one transaction and appends the audit event it answers with, in the same
/// transaction: the change and its audit line are stored together or not at all. An error from
/// `change` rolls everything back.
///
/// ```ignore
/// let practice = audit::transaction(&mut conn, (&principal).into(), |conn| {
///     async move {
///         let practice = repository::insert(conn, &new).await?;
///         Ok((practice, AuditEvent::success("practice.create", "practice", agb.as_str())))
///     }
///     .scope_boxed()
/// })
/// .await?;
/// ```
pub async fn transaction<'a, T, F>(
    conn: &mut AsyncPgConnection,
    actor: Actor<'a>,
    change: F,
) -> Result<T, crate::error::ApiError>
where
    T: Send + 'a,
    F: for<'r> FnOnce(
            &'r mut AsyncPgConnection,
        )
            -> ScopedBoxFuture<'a, 'r, Result<(T, AuditEvent), crate::error::ApiError>>
        + Send
        + 'a,
{
    use diesel_async::scoped_futures::ScopedFutureExt as _;
    use diesel_async::AsyncConnection as _;
    conn.transaction::<_, crate::error::ApiError, _>(move |conn| {
        async move {
            let (value, event) = change(conn).await?;
            record(conn, actor, &event).await?;
            Ok(value)
        }
        .scope_boxed()
    })
    .await
}
