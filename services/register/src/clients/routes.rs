//! `/v1/clients`: the registrar manages API clients.

use crate::scopes;
use actix_web::{delete, get, post, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::pagination::{Page, PageParams};

use super::{repository, Client, CreatedClient, NewClientRequest};
use crate::credentials;
use crate::paths::ClientPath;
use crate::problems::Problems as _;
use crate::startup::RegisterContext;
use praktijkregister_domain::ClientRole;

/// Create an API client
///
/// Creates a client with a role and, for practice, EPD-vendor, insurer and visitor clients, the one
/// binding that ties it to what it acts for. The answer carries the generated `client_secret`
/// once; only its keyed hash (HMAC-SHA-256 under a server-side key) is stored.
#[utoipa::path(
    tag = "API clients",
    request_body = NewClientRequest,
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = CreatedClient),
        (status = 422, description = "Invalid role, binding or scope", body = praktijkregister_platform::error::Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["clients:manage"]))
)]
#[post("/v1/clients")]
pub async fn create_client(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    body: praktijkregister_platform::http::Json<NewClientRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::CLIENTS_MANAGE)?;
    let new = body.into_inner().parse()?;
    let secret = credentials::generate_secret();
    let hash = ctx.secrets.hash_generated(&secret);
    let mut conn = connection(&pool).await?;
    let client = super::create(&mut conn, (&principal).into(), &new, &hash).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/clients/{}", client.client_id)))
        .json(CreatedClient {
            client,
            client_secret: secret,
        }))
}

/// List API clients
///
/// All clients, revoked ones included, oldest first, keyset-paginated.
#[utoipa::path(
    tag = "API clients",
    params(PageParams),
    responses((status = 200, description = "A page of clients", body = Page<Client>)),
    security(("oauth2" = ["clients:manage"]))
)]
#[get("/v1/clients")]
pub async fn list_clients(
    principal: Principal,
    pool: web::Data<DbPool>,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<Client>>, ApiError> {
    principal.require(scopes::CLIENTS_MANAGE)?;
    let limit = params.limit()?;
    let after = params.after()?;
    let mut conn = connection(&pool).await?;
    let rows = repository::list(&mut conn, after, limit).await?;
    let clients = rows
        .into_iter()
        .map(repository::ClientRow::into_client)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page::from_rows(clients, limit, |c| {
        (c.created_at, c.client_id.clone())
    })))
}

/// Read an API client
///
/// One client by id; never its secret.
#[utoipa::path(
    tag = "API clients",
    params(ClientPath),
    responses(
        (status = 200, description = "The client", body = Client),
        (status = 404, description = "No such client", body = praktijkregister_platform::error::Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["clients:manage"]))
)]
#[get("/v1/clients/{client_id}")]
pub async fn get_client(
    principal: Principal,
    pool: web::Data<DbPool>,
    ClientPath(client_id): ClientPath,
) -> Result<web::Json<Client>, ApiError> {
    principal.require(scopes::CLIENTS_MANAGE)?;
    let mut conn = connection(&pool).await?;
    let row = repository::find(&mut conn, &client_id)
        .await?
        .ok_or_else(|| ApiError::client_not_found(&client_id))?;
    Ok(web::Json(row.into_client()?))
}

/// Revoke an API client
///
/// The client gets no new tokens from now on, and the register refuses the tokens it already
/// holds within a few seconds; other services accept them until they expire (at most the token
/// lifetime, 5 minutes by default). Revoking twice is harmless. The last active registrar cannot
/// be revoked (409): create another registrar first, so that the register can always be
/// administered.
#[utoipa::path(
    tag = "API clients",
    params(ClientPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such client", body = praktijkregister_platform::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client is the last active registrar", body = praktijkregister_platform::error::Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["clients:manage"]))
)]
#[delete("/v1/clients/{client_id}")]
pub async fn revoke_client(
    principal: Principal,
    ctx: web::Data<RegisterContext>,
    pool: web::Data<DbPool>,
    ClientPath(client_id): ClientPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::CLIENTS_MANAGE)?;
    let mut conn = connection(&pool).await?;
    let client_id = &client_id;
    audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            repository::lock_registrar_revocations(conn).await?;
            let revoked = repository::revoke(conn, client_id)
                .await?
                .ok_or_else(|| ApiError::client_not_found(client_id))?;
            // Without an active registrar nobody could administer the register any more.
            if revoked.role()? == ClientRole::Registrar
                && repository::active_registrars(conn).await? == 0
            {
                return Err(ApiError::conflict(format!(
                    "client {client_id} is the last active registrar; create another registrar \
                     before revoking it"
                )));
            }
            let event = AuditEvent::success("client.revoke", "api_client", client_id.as_str());
            Ok(((), event))
        }
        .scope_boxed()
    })
    .await?;
    ctx.revocations.forget(client_id);
    Ok(HttpResponse::NoContent().finish())
}
