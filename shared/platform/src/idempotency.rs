//! Idempotent writes (DESIGN §4). A client may send `Idempotency-Key` with a write: the same key
//! with the same request (method, path and body) gets the first answer again, status and body,
//! with `Idempotent-Replayed: true`, and nothing new happens; the same key with another request is
//! refused with 422. Keys are scoped per client.
//!
//! The answer is stored on the connection, and so in the transaction, of the write it answers:
//! a write is never without its record, nor a record without its write. Only answers a service
//! chooses to remember are stored (normally its successes), so a refused request can be corrected
//! and sent again under the same key.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::audit::{Actor, AuditEvent};
use crate::digest::sha256_hex;
use crate::error::ApiError;
use crate::telemetry::RequestContext;

diesel::table! {
    idempotency_keys (client_id, key) {
        client_id -> Text,
        key -> Text,
        request_sha256 -> Text,
        status -> Int4,
        response -> Jsonb,
        created_at -> Timestamptz,
    }
}

/// The request header that carries the key.
pub const KEY_HEADER: &str = "Idempotency-Key";
/// The response header that marks a repeated answer.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 200;

/// A key as a client sends it: 1 to 200 visible ASCII characters (no spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let valid =
            (1..=MAX_KEY_LENGTH).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(raw.to_string()))
        } else {
            Err(invalid_key())
        }
    }

    /// The key the request carries, if any.
    pub fn from_request(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        match req.headers().get(KEY_HEADER) {
            None => Ok(None),
            Some(value) => {
                let raw = value.to_str().map_err(|_| invalid_key())?;
                Self::parse(raw).map(Some)
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn invalid_key() -> ApiError {
    ApiError::field(
        KEY_HEADER,
        "idempotency_key_format",
        format!(
            "an Idempotency-Key has 1 to {MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID"
        ),
    )
}

/// Canonical JSON: object members sorted by name, no insignificant whitespace. The same document
/// gives the same bytes however its members were ordered or spaced.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(name.clone()), out);
                out.push(b':');
                write_canonical(member, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Writing a scalar into a Vec cannot fail; the empty fallback keeps this total anyway.
    out.extend(serde_json::to_vec(value).unwrap_or_default());
}

/// What makes two requests the same: SHA-256 over the method, the path and the canonical body.
pub fn fingerprint(method: &str, path: &str, body: &Value) -> String {
    let mut bytes = format!("{method} {path}\n").into_bytes();
    bytes.extend(canonical_json(body));
    sha256_hex(&bytes)
}

/// An answer stored under a key, to be given again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    pub status: StatusCode,
    pub body: Value,
}

impl StoredAnswer {
    /// The stored answer, marked as repeated.
    pub fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header((REPLAYED_HEADER, "true"))
            .json(&self.body)
    }
}

/// The answer stored under a key: $1 the client, $2 the key (see
/// [`IdempotentRequest::replay_locked`]). Public, as [`REMEMBER_RECORDED`], for the benchmark
/// harness, which runs a delivery's statements as they are.
pub const STORED_ANSWER: &str =
    "SELECT request_sha256, status, response FROM idempotency_keys WHERE client_id = $1 AND key = $2";

/// An audit line ($1..$10: time, client, role, on behalf of, action, subject type and id,
/// outcome, request id, detail) and the answer kept under a key ($11..$15: client, key,
/// fingerprint, status, body), in one statement (see [`IdempotentRequest::remember_recorded`]).
pub const REMEMBER_RECORDED: &str = "WITH audit AS ( \
             INSERT INTO audit_events (occurred_at, actor_client_id, actor_role, on_behalf_of, \
                 action, subject_type, subject_id, outcome, request_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)) \
         INSERT INTO idempotency_keys (client_id, key, request_sha256, status, response, \
             created_at) \
         VALUES ($11, $12, $13, $14, $15, $1)";

/// A write sent with an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    client_id: String,
    key: IdempotencyKey,
    fingerprint: String,
}

impl IdempotentRequest {
    /// The request's key with its fingerprint over `body`; `None` when it sent no key.
    pub fn from_request(
        req: &HttpRequest,
        client_id: &str,
        body: &Value,
    ) -> Result<Option<Self>, ApiError> {
        Ok(IdempotencyKey::from_request(req)?.map(|key| Self {
            client_id: client_id.to_string(),
            key,
            fingerprint: fingerprint(req.method().as_str(), req.path(), body),
        }))
    }

    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// The advisory lock (`pg_advisory_xact_lock(hashtextextended(key, 0))`) that serialises
    /// requests with this key. A write that takes other locks in one statement takes this one
    /// with them and then calls [`Self::replay_locked`].
    pub fn lock_key(&self) -> String {
        format!("idempotency:{}:{}", self.client_id, self.key.as_str())
    }

    /// Call first in the write's transaction. Waits for a concurrent request with the same key to
    /// finish, then gives the answer stored under the key, if any; a key used for another request
    /// is 422.
    pub async fn replay(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Option<StoredAnswer>, ApiError> {
        crate::db::prepared("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(self.lock_key())
            .execute(conn)
            .await?;
        self.replay_locked(conn).await
    }

    /// [`Self::replay`] for a transaction that holds the lock of [`Self::lock_key`] already.
    pub async fn replay_locked(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Option<StoredAnswer>, ApiError> {
        #[derive(QueryableByName)]
        struct Stored {
            #[diesel(sql_type = diesel::sql_types::Text)]
            request_sha256: String,
            #[diesel(sql_type = diesel::sql_types::Int4)]
            status: i32,
            #[diesel(sql_type = diesel::sql_types::Jsonb)]
            response: Value,
        }
        let stored: Option<Stored> = crate::db::prepared(STORED_ANSWER)
            .bind::<diesel::sql_types::Text, _>(&self.client_id)
            .bind::<diesel::sql_types::Text, _>(self.key.as_str())
            .get_result(conn)
            .await
            .optional()?;
        let Some(Stored {
            request_sha256: fingerprint,
            status,
            response: body,
        }) = stored
        else {
            return Ok(None);
        };
        if fingerprint != self.fingerprint {
            return Err(ApiError::field(
                KEY_HEADER,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for another request; send a new key with \
                 a new request",
            ));
        }
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {status}")))?;
        Ok(Some(StoredAnswer { status, body }))
    }

    /// [`Self::remember`] together with the write's audit line ([`crate::audit::record`]), in
    /// one statement: a write on a hot path saves a round trip.
    pub async fn remember_recorded(
        &self,
        conn: &mut AsyncPgConnection,
        status: StatusCode,
        body: &Value,
        actor: Actor<'_>,
        event: &AuditEvent,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Int4, Jsonb, Nullable, Text, Timestamptz};
        let context = RequestContext::current();
        crate::db::prepared(REMEMBER_RECORDED)
            .bind::<Timestamptz, _>(Utc::now())
            .bind::<Text, _>(actor.client_id)
            .bind::<Text, _>(actor.role)
            .bind::<Nullable<Text>, _>(actor.on_behalf_of)
            .bind::<Text, _>(event.action)
            .bind::<Text, _>(event.subject_type)
            .bind::<Text, _>(&event.subject_id)
            .bind::<Text, _>(event.outcome.as_str())
            .bind::<Nullable<Text>, _>(context.as_ref().map(|c| c.request_id.as_str()))
            .bind::<Jsonb, _>(&event.detail)
            .bind::<Text, _>(&self.client_id)
            .bind::<Text, _>(self.key.as_str())
            .bind::<Text, _>(&self.fingerprint)
            .bind::<Int4, _>(i32::from(status.as_u16()))
            .bind::<Jsonb, _>(body)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Stores the answer under the key, in the write's transaction.
    pub async fn remember(
        &self,
        conn: &mut AsyncPgConnection,
        status: StatusCode,
        body: &Value,
    ) -> QueryResult<()> {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::client_id.eq(&self.client_id),
                idempotency_keys::key.eq(self.key.as_str()),
                idempotency_keys::request_sha256.eq(&self.fingerprint),
                idempotency_keys::status.eq(i32::from(status.as_u16())),
                idempotency_keys::response.eq(body),
                idempotency_keys::created_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Forgets answers stored before `before`; returns how many. Keys older than any client retries
/// need not be kept for ever.
pub async fn purge_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
        .execute(conn)
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_one_to_two_hundred_visible_ascii_characters() {
        assert!(IdempotencyKey::parse("0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(200)).is_ok());
        for bad in ["", "with space", "tab\t", "é", &"k".repeat(201)] {
            assert!(
                matches!(IdempotencyKey::parse(bad), Err(ApiError::Validation(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_fingerprint_ignores_member_order_but_not_content_or_target() {
        let a = json!({"rows": [{"b": 1, "a": [2, {"y": null, "x": "s"}]}], "z": true});
        let b: Value = serde_json::from_str(
            r#"{ "z": true, "rows": [ {"a": [2, {"x": "s", "y": null}], "b": 1} ] }"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&a),
            br#"{"rows":[{"a":[2,{"x":"s","y":null}],"b":1}],"z":true}"#
        );
        assert_eq!(fingerprint("PUT", "/p", &a), fingerprint("PUT", "/p", &b));
        assert_ne!(
            fingerprint("PUT", "/p", &a),
            fingerprint("PUT", "/p", &json!({"z": true}))
        );
        assert_ne!(fingerprint("PUT", "/p", &a), fingerprint("PUT", "/q", &a));
        // Array order is content.
        assert_ne!(
            fingerprint("PUT", "/p", &json!([1, 2])),
            fingerprint("PUT", "/p", &json!([2, 1]))
        );
    }
}
