//! Refused access in the audit trail (DESIGN §5, NEN 7513): every 403, and every 404 that hides
//! another tenant's resource, leaves one line with the actor, the target and outcome `denied`.
//!
//! The refusal helpers of [`Principal`](crate::auth::Principal) note the denial on the request
//! being handled ([`note`]); the frame's [`denial_audit_middleware`] writes the line once the
//! answer is a 403 or 404, so a handler that refuses through the helpers needs nothing else. A 403
//! refused anywhere else is written too, with the path as its target. Lines are capped per actor
//! ([`DenialLimiter`]): past the cap in a minute one summary line is written and the rest are
//! counted only, so a caller cannot flood the trail.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;
use serde_json::json;

use crate::audit::{self, Actor, AuditEvent, Outcome};
use crate::auth::Principal;
use crate::db::DbPool;
use crate::telemetry::RequestContext;

/// The caller of a request and the refusal noted for it, shared by the handler's task and the
/// frame.
#[derive(Debug, Default)]
pub struct DenialSlot {
    actor: Option<ActorOwned>,
    denial: Option<Denial>,
}

#[derive(Debug, Clone)]
struct ActorOwned {
    client_id: String,
    role: &'static str,
    on_behalf_of: Option<String>,
}

/// A refusal: what the caller tried to reach and why it was refused.
#[derive(Debug, Clone)]
struct Denial {
    subject_type: &'static str,
    subject_id: String,
    reason: &'static str,
    resource: String,
}

/// The slot of the request being handled on this task, if any.
fn with_slot(f: impl FnOnce(&mut DenialSlot)) {
    if let Some(context) = RequestContext::current() {
        if let Ok(mut slot) = context.denials.lock() {
            f(&mut slot);
        }
    }
}

/// Remembers the verified caller of this request, so that a refusal can name it.
pub fn note_caller(principal: &Principal) {
    with_slot(|slot| {
        slot.actor = Some(ActorOwned {
            client_id: principal.client_id.clone(),
            role: principal.role.as_str(),
            on_behalf_of: principal.on_behalf_of.clone(),
        });
    });
}

/// Notes that `principal` was refused `subject_type`/`subject_id` (a 404 that hides another
/// tenant's `resource`, or a 403) for `reason`. The first refusal of a request is the one written.
pub fn note(
    principal: &Principal,
    subject_type: &'static str,
    subject_id: &str,
    resource: &str,
    reason: &'static str,
) {
    note_caller(principal);
    with_slot(|slot| {
        slot.denial.get_or_insert_with(|| Denial {
            subject_type,
            subject_id: subject_id.to_string(),
            reason,
            resource: resource.to_string(),
        });
    });
}

/// At most `per_window` denial lines per actor in each `window`; the first one over writes a
/// summary line, the rest are dropped.
#[derive(Debug)]
pub struct DenialLimiter {
    per_window: u32,
    window: Duration,
    actors: Mutex<HashMap<String, (Instant, u32)>>,
}

/// What to write for one more denial of an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Line,
    Summary,
    Nothing,
}

impl DenialLimiter {
    /// The default: 20 lines per actor per minute.
    pub const PER_MINUTE: u32 = 20;

    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            actors: Mutex::new(HashMap::new()),
        }
    }

    pub fn admit(&self, actor: &str, now: Instant) -> Admission {
        let Ok(mut actors) = self.actors.lock() else {
            return Admission::Nothing;
        };
        if actors.len() > 10_000 {
            let window = self.window;
            actors.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = actors.entry(actor.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        match entry.1 {
            n if n <= self.per_window => Admission::Line,
            n if n == self.per_window + 1 => Admission::Summary,
            _ => Admission::Nothing,
        }
    }
}

impl Default for DenialLimiter {
    fn default() -> Self {
        Self::new(Self::PER_MINUTE, Duration::from_secs(60))
    }
}

/// Writes the audit line of a refused request (see the module documentation).
pub async fn denial_audit_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let pool = req.app_data::<web::Data<DbPool>>().cloned();
    let limiter = req.app_data::<web::Data<DenialLimiter>>().cloned();
    let path = req.path().to_string();
    let method = req.method().to_string();
    let response = next.call(req).await?;
    let status = response.status();
    if status != StatusCode::FORBIDDEN && status != StatusCode::NOT_FOUND {
        return Ok(response);
    }
    let Some(context) = RequestContext::current() else {
        return Ok(response);
    };
    let slot = match context.denials.lock() {
        Ok(mut slot) => std::mem::take(&mut *slot),
        Err(_) => return Ok(response),
    };
    let (Some(actor), Some(pool), Some(limiter)) = (slot.actor, pool, limiter) else {
        return Ok(response);
    };
    let event = match (slot.denial, status) {
        (Some(denial), _) => {
            AuditEvent::success("access.denied", denial.subject_type, denial.subject_id)
                .with_detail(json!({
                    "reason": denial.reason, "resource": denial.resource, "status": status.as_u16(),
                    "method": method, "path": path,
                }))
        }
        (None, StatusCode::FORBIDDEN) => AuditEvent::success("access.denied", "path", path.clone())
            .with_detail(
                json!({"reason": "forbidden", "status": 403, "method": method, "path": path}),
            ),
        (None, _) => return Ok(response),
    };
    let event = match limiter.admit(&actor.client_id, Instant::now()) {
        Admission::Line => event.with_outcome(Outcome::Denied),
        Admission::Summary => AuditEvent::success(
            "access.denied.suppressed",
            "client",
            actor.client_id.clone(),
        )
        .with_outcome(Outcome::Denied)
        .with_detail(json!({
            "per_minute": limiter.per_window,
            "detail": "further refusals of this client in this minute are not written",
        })),
        Admission::Nothing => return Ok(response),
    };
    let actor = Actor {
        client_id: &actor.client_id,
        role: actor.role,
        on_behalf_of: actor.on_behalf_of.as_deref(),
    };
    match crate::db::connection(&pool).await {
        Ok(mut conn) => {
            if let Err(error) = audit::record(&mut conn, actor, &event).await {
                tracing::error!(%error, "the refusal could not be audited");
            }
        }
        Err(error) => tracing::error!(%error, "the refusal could not be audited"),
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_actor_gets_its_lines_then_one_summary_then_nothing_until_the_window_ends() {
        let limiter = DenialLimiter::new(3, Duration::from_secs(60));
        let start = Instant::now();
        let seen: Vec<_> = (0..6).map(|_| limiter.admit("a", start)).collect();
        assert_eq!(
            seen,
            [
                Admission::Line,
                Admission::Line,
                Admission::Line,
                Admission::Summary,
                Admission::Nothing,
                Admission::Nothing
            ]
        );
        assert_eq!(limiter.admit("b", start), Admission::Line);
        assert_eq!(
            limiter.admit("a", start + Duration::from_secs(61)),
            Admission::Line
        );
    }
}
