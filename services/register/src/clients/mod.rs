//! API clients: who may ask for tokens, with which role, binding and scopes.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use praktijkregister_domain::{ClientRole, OefentherapieAgb, UzoviCode};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::error::{ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Request to create an API client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Praktijk De Beweging", "role": "practice", "practice_agb": "07012345"}))]
pub struct NewClientRequest {
    /// A name people recognise the client by.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: ClientRole,
    /// Required for role `practice`: the practice (AGB, zorgsoort 07) the client acts for.
    pub practice_agb: Option<String>,
    /// Required for role `epd_vendor`: the vendor's id (letters, digits, `-`, `_`).
    pub epd_vendor: Option<String>,
    /// Required for role `insurer`: the insurer's UZOVI code.
    pub insurer_uzovi: Option<String>,
    /// Required for role `visitor`: the visitor's id.
    pub visitor_id: Option<String>,
    /// Scopes the client may request; default: every scope its role allows.
    pub scopes: Option<Vec<String>>,
}

/// The one binding a client of a role carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    pub practice_agb: Option<String>,
    pub epd_vendor: Option<String>,
    pub insurer_uzovi: Option<String>,
    pub visitor_id: Option<String>,
}

/// A validated client to create.
#[derive(Debug)]
pub struct NewClient {
    pub name: String,
    pub role: ClientRole,
    pub binding: Binding,
    /// `None`: whatever the role allows, now and later.
    pub scopes: Option<Vec<Scope>>,
}

fn is_slug(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl NewClientRequest {
    /// Checks the role's binding: the one it needs present and valid, the others absent.
    pub fn parse(self) -> Result<NewClient, ApiError> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(
                "name",
                "name_length",
                "the name must have 1 to 200 characters",
            );
        }
        let role = self.role;
        let required = match role {
            ClientRole::Practice => Some("practice_agb"),
            ClientRole::EpdVendor => Some("epd_vendor"),
            ClientRole::Insurer => Some("insurer_uzovi"),
            ClientRole::Visitor => Some("visitor_id"),
            ClientRole::Registrar | ClientRole::Service => None,
        };
        let given = [
            ("practice_agb", &self.practice_agb),
            ("epd_vendor", &self.epd_vendor),
            ("insurer_uzovi", &self.insurer_uzovi),
            ("visitor_id", &self.visitor_id),
        ];
        for (field, value) in given {
            match (value, required == Some(field)) {
                (None, true) => errors.push(
                    field,
                    "binding_required",
                    format!("a client of role {role} needs {field}"),
                ),
                (Some(_), false) => errors.push(
                    field,
                    "binding_not_allowed",
                    format!("a client of role {role} cannot carry {field}"),
                ),
                _ => {}
            }
        }
        let mut binding = Binding::default();
        if let Some(agb) = self.practice_agb.as_deref() {
            binding.practice_agb = errors
                .check("practice_agb", OefentherapieAgb::parse(agb))
                .map(|a| a.as_str().to_string());
        }
        if let Some(uzovi) = self.insurer_uzovi.as_deref() {
            binding.insurer_uzovi = errors
                .check("insurer_uzovi", UzoviCode::parse(uzovi))
                .map(|u| u.as_str().to_string());
        }
        for (field, value, slot) in [
            ("epd_vendor", &self.epd_vendor, &mut binding.epd_vendor),
            ("visitor_id", &self.visitor_id, &mut binding.visitor_id),
        ] {
            if let Some(value) = value {
                if is_slug(value) {
                    *slot = Some(value.clone());
                } else {
                    errors.push(
                        field,
                        "id_format",
                        "use 1 to 64 letters, digits, `-` or `_`",
                    );
                }
            }
        }
        let scopes = match self.scopes {
            None => None,
            Some(requested) => {
                let mut scopes = Vec::new();
                for (i, name) in requested.iter().enumerate() {
                    match crate::scopes::ALL.iter().find(|s| s.as_str() == name) {
                        Some(scope) if scope.allows(role) => scopes.push(*scope),
                        Some(scope) => errors.push(
                            format!("scopes[{i}]"),
                            "scope_not_allowed",
                            format!("role {role} cannot hold scope {scope}"),
                        ),
                        None => errors.push(
                            format!("scopes[{i}]"),
                            "scope_unknown",
                            format!("unknown scope `{name}`"),
                        ),
                    }
                }
                scopes.sort();
                scopes.dedup();
                Some(scopes)
            }
        };
        errors.into_result()?;
        Ok(NewClient {
            name,
            role,
            binding,
            scopes,
        })
    }
}

/// An API client as the registrar sees it; the secret is never shown again after creation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "name": "Praktijk De Beweging", "role": "practice",
    "practice_agb": "07012345", "scopes": ["practices:read", "therapists:read"],
    "created_at": "2026-11-01T09:00:00Z", "revoked_at": null
}))]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub role: ClientRole,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub practice_agb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epd_vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurer_uzovi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    /// The scopes the client may be granted.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Set once the client is revoked: it gets no new tokens.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A created client with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: Client,
    /// The client secret. It is stored only as a hash: keep it now.
    #[schema(example = "k3J8d0Yq0m4F8bJ6m3cVdM1y0Qe8rS2tUuVwXyZaBcD")]
    pub client_secret: String,
}

/// Stores a new client (its secret already hashed) with its audit line, in one transaction.
/// A practice binding must name a practice of the register.
pub async fn create(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    new: &NewClient,
    secret_hash: &str,
) -> Result<Client, ApiError> {
    let client_id = uuid::Uuid::now_v7().to_string();
    let row = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                if let Some(agb) = &new.binding.practice_agb {
                    if !crate::practices::repository::exists(conn, agb).await? {
                        return Err(ApiError::field(
                            "practice_agb",
                            "practice_unknown",
                            format!("practice {agb} is not in the register"),
                        ));
                    }
                }
                let row = repository::insert(conn, &client_id, new, secret_hash).await?;
                let event = AuditEvent::success("client.create", "api_client", &row.client_id)
                    .with_detail(serde_json::json!({"role": row.role}));
                audit::record(conn, actor, &event).await?;
                Ok(row)
            }
            .scope_boxed()
        })
        .await?;
    row.into_client().map_err(ApiError::Internal)
}
