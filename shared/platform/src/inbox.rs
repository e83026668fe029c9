//! Inbox: a receiver applies each event once (DESIGN §2: receivers are idempotent on the event
//! id). Delivery is at least once, so the same event may arrive again, or twice at the same moment
//! from two relays; the first is applied and its answer stored, every repeat gets that answer.
//!
//! Events are fingerprinted by the SHA-256 of their serialised form (`serde_json::to_vec` of the
//! typed event), so a repeat matches whatever the member order on the wire; the same id with
//! another body is refused with 422, as a reused `Idempotency-Key` is (DESIGN §4).

use actix_web::HttpResponse;
use diesel::prelude::*;
use diesel_async::scoped_futures::{ScopedBoxFuture, ScopedFutureExt};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use praktijkregister_events::Event;
use serde_json::Value;

use crate::digest::sha256_hex;
use crate::error::ApiError;
use crate::idempotency::REPLAYED_HEADER;

diesel::table! {
    inbox_events (event_id) {
        event_id -> Uuid,
        kind -> Text,
        request_sha256 -> Text,
        response -> Jsonb,
        received_at -> Timestamptz,
    }
}

/// The answer to a received event.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// What `apply` answered, the first time.
    pub response: Value,
    /// The event had been applied before; nothing happened now.
    pub replayed: bool,
}

impl Received {
    /// `200` with the answer, marked `Idempotent-Replayed: true` when it is a repeat.
    pub fn into_response(self) -> HttpResponse {
        let mut answer = HttpResponse::Ok();
        if self.replayed {
            answer.insert_header((REPLAYED_HEADER, "true"));
        }
        answer.json(self.response)
    }
}

/// The fingerprint of an event as the inbox stores it.
pub fn fingerprint<E: Event>(event: &E) -> Result<String, ApiError> {
    Ok(sha256_hex(
        &serde_json::to_vec(event).map_err(ApiError::internal)?,
    ))
}

/// Applies `event` once. In one transaction: waits for any concurrent delivery of the same id;
/// if the id was applied before, gives the stored answer (`replayed`) or, for another body, 422
/// on `event_id`; otherwise runs `apply` on the transaction's connection and stores its answer
/// with the event id. An error from `apply` rolls everything back and stores nothing, so a
/// refused event can be delivered again once the cause is fixed.
///
/// ```ignore
/// let received = inbox::receive(&mut conn, &event, |conn| {
///     async move { apply_visitation_event(conn, &event).await }.scope_boxed()
/// })
/// .await?;
/// Ok(received.into_response())
/// ```
pub async fn receive<'a, E, F>(
    conn: &mut AsyncPgConnection,
    event: &'a E,
    apply: F,
) -> Result<Received, ApiError>
where
    E: Event + Sync,
    F: for<'r> FnOnce(
            &'r mut AsyncPgConnection,
        ) -> ScopedBoxFuture<'a, 'r, Result<Value, ApiError>>
        + Send
        + 'a,
{
    let event_id = event.event_id();
    let kind = event.kind();
    let fingerprint = fingerprint(event)?;
    conn.transaction::<_, ApiError, _>(move |conn| {
        async move {
            // Two deliveries of one event at the same moment take turns; the second then finds
            // the first one's row.
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<diesel::sql_types::Text, _>(format!("inbox:{event_id}"))
                .execute(conn)
                .await?;
            let stored: Option<(String, Value)> = inbox_events::table
                .find(event_id)
                .select((inbox_events::request_sha256, inbox_events::response))
                .first(conn)
                .await
                .optional()?;
            if let Some((stored_fingerprint, response)) = stored {
                if stored_fingerprint != fingerprint {
                    return Err(ApiError::field(
                        "event_id",
                        "event_id_reused",
                        "this event id was already applied with another body",
                    ));
                }
                return Ok(Received {
                    response,
                    replayed: true,
                });
            }
            let response = apply(conn).await?;
            diesel::insert_into(inbox_events::table)
                .values((
                    inbox_events::event_id.eq(event_id),
                    inbox_events::kind.eq(kind),
                    inbox_events::request_sha256.eq(&fingerprint),
                    inbox_events::response.eq(&response),
                ))
                .execute(conn)
                .await?;
            Ok(Received {
                response,
                replayed: false,
            })
        }
        .scope_boxed()
    })
    .await
}

/// Forgets events received before `before`; returns how many. Keep them longer than any sender
/// retries (the outbox's backoff maximum times its attempts), or a late repeat is applied again.
pub async fn purge_before(
    conn: &mut AsyncPgConnection,
    before: chrono::DateTime<chrono::Utc>,
) -> QueryResult<usize> {
    diesel::delete(inbox_events::table.filter(inbox_events::received_at.lt(before)))
        .execute(conn)
        .await
}

/// The inbox's figures for `/metrics`, labelled with `service`: events received and kept (until
/// the retention task purges them), by kind.
pub async fn collect_metrics(
    conn: &mut AsyncPgConnection,
    service: &str,
) -> Result<Vec<prometheus::proto::MetricFamily>, ApiError> {
    let by_kind: Vec<(String, i64)> = inbox_events::table
        .group_by(inbox_events::kind)
        .select((inbox_events::kind, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    let registry = crate::metrics::labelled_registry(service).map_err(ApiError::internal)?;
    let received = crate::metrics::gauge_vec(
        &registry,
        "prr_inbox_events",
        "Events received and applied, kept in the inbox until purged, by kind.",
        &["kind"],
    )?;
    for (kind, events) in by_kind {
        received
            .with_label_values(&[kind.as_str()])
            .set(events as f64);
    }
    Ok(registry.gather())
}
