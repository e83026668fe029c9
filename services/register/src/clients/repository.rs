//! SQL for API clients.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::ClientRole;
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

use super::{Client, NewClient};
use crate::schema::api_clients;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub role: String,
    pub practice_agb: Option<String>,
    pub epd_vendor: Option<String>,
    pub insurer_uzovi: Option<String>,
    pub visitor_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ClientRow {
    /// The stored role; the column's CHECK constraint keeps it one of the known names.
    #[track_caller]
    pub fn role(&self) -> Result<ClientRole, ApiError> {
        decode("api_clients.role", &self.role, ClientRole::parse)
    }

    /// The scopes the client may be granted: its own list (or, without one, all) narrowed to what
    /// its role allows today.
    pub fn allowed_scopes(&self) -> Result<Vec<Scope>, ApiError> {
        Ok(praktijkregister_scopes::allowed_for(self.role()?)
            .filter(|scope| {
                self.scopes
                    .as_ref()
                    .is_none_or(|own| own.iter().any(|s| s == scope.as_str()))
            })
            .collect())
    }

    pub fn into_client(self) -> Result<Client, ApiError> {
        let scopes = self
            .allowed_scopes()?
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        Ok(Client {
            role: self.role()?,
            client_id: self.client_id,
            name: self.name,
            practice_agb: self.practice_agb,
            epd_vendor: self.epd_vendor,
            insurer_uzovi: self.insurer_uzovi,
            visitor_id: self.visitor_id,
            scopes,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    client: &NewClient,
    secret_hash: &str,
) -> QueryResult<ClientRow> {
    diesel::insert_into(api_clients::table)
        .values((
            api_clients::client_id.eq(client_id),
            api_clients::name.eq(client.name.as_str()),
            api_clients::role.eq(client.role.as_str()),
            api_clients::practice_agb.eq(client.binding.practice_agb.as_ref().map(|a| a.as_str())),
            api_clients::epd_vendor.eq(client.binding.epd_vendor.as_ref().map(|v| v.as_str())),
            api_clients::insurer_uzovi.eq(client
                .binding
                .insurer_uzovi
                .as_ref()
                .map(|u| u.as_str())),
            api_clients::visitor_id.eq(client.binding.visitor_id.as_ref().map(|v| v.as_str())),
            api_clients::scopes.eq(client.scopes.as_ref().map(|scopes| {
                scopes
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect::<Vec<_>>()
            })),
            api_clients::secret_hash.eq(secret_hash),
        ))
        .returning(ClientRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, client_id: &str) -> QueryResult<Option<ClientRow>> {
    api_clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Replaces the stored hash of a client's secret, if it is still `old` (an upgrade from argon2 to
/// the keyed hash; a concurrent rotation wins).
pub async fn replace_secret_hash(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    old: &str,
    new: &str,
) -> QueryResult<usize> {
    diesel::update(
        api_clients::table
            .filter(api_clients::client_id.eq(client_id))
            .filter(api_clients::secret_hash.eq(old)),
    )
    .set(api_clients::secret_hash.eq(new))
    .execute(conn)
    .await
}

/// A page of clients ordered by creation, after the keyset position `after`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> QueryResult<Vec<ClientRow>> {
    let mut query = api_clients::table
        .select(ClientRow::as_select())
        .order((api_clients::created_at, api_clients::client_id))
        .limit(limit + 1)
        .into_boxed();
    if let Some((created_at, client_id)) = after {
        query = query.filter(
            api_clients::created_at
                .gt(created_at)
                .or(api_clients::created_at
                    .eq(created_at)
                    .and(api_clients::client_id.gt(client_id))),
        );
    }
    query.load(conn).await
}

/// Marks the client revoked (once; a second revocation keeps the first time).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    client_id: &str,
) -> QueryResult<Option<ClientRow>> {
    diesel::update(api_clients::table.find(client_id))
        .set(api_clients::revoked_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("COALESCE(revoked_at, now())")))
        .returning(ClientRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Sets the secret of a client (bootstrap: the configured registrar secret). A revoked client
/// stays revoked: revoking is for good.
pub async fn set_secret(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    secret_hash: &str,
) -> QueryResult<usize> {
    diesel::update(api_clients::table.find(client_id))
        .set(api_clients::secret_hash.eq(secret_hash))
        .execute(conn)
        .await
}

/// Active (not revoked) registrar clients.
pub async fn active_registrars(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    api_clients::table
        .filter(api_clients::role.eq(praktijkregister_domain::ClientRole::Registrar.as_str()))
        .filter(api_clients::revoked_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// Serialises revocations of registrar clients, so that two at once cannot both see the other
/// still active and leave none.
pub async fn lock_registrar_revocations(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('api_clients.registrars', 0))")
        .execute(conn)
        .await
        .map(drop)
}
