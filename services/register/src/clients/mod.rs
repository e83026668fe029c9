//! API clients: who may ask for tokens, with which role, binding and scopes.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{
    ClientRole, EpdVendorId, OefentherapieAgb, Text, UzoviCode, VisitorId,
};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Request to create an API client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Praktijk De Beweging", "role": "practice", "practice_agb": "07012345"}))]
pub struct NewClientRequest {
    /// A name people recognise the client by.
    #[schema(min_length = 1, max_length = 200)]
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    pub role: ClientRole,
    /// Required for role `practice`: the practice (AGB, zorgsoort 07) the client acts for.
    #[schema(value_type = Option<praktijkregister_domain::OefentherapieAgb>, inline)]
    pub practice_agb: Option<String>,
    /// Required for role `epd_vendor`: the vendor's id (letters, digits, `-`, `_`).
    #[schema(value_type = Option<praktijkregister_domain::EpdVendorId>, inline)]
    pub epd_vendor: Option<String>,
    /// Required for role `insurer`: the insurer's UZOVI code.
    #[schema(value_type = Option<praktijkregister_domain::UzoviCode>, inline)]
    pub insurer_uzovi: Option<String>,
    /// Required for role `visitor`: the visitor's id.
    #[schema(value_type = Option<praktijkregister_domain::VisitorId>, inline)]
    pub visitor_id: Option<String>,
    /// Scopes the client may request; default: every scope its role allows.
    pub scopes: Option<Vec<String>>,
}

/// The one binding a client of a role carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    pub practice_agb: Option<OefentherapieAgb>,
    pub epd_vendor: Option<EpdVendorId>,
    pub insurer_uzovi: Option<UzoviCode>,
    pub visitor_id: Option<VisitorId>,
}

/// Longest name of a client.
pub const MAX_NAME: usize = 200;

/// Whether `id` may name a client chosen in configuration: 1 to 64 letters, digits, `-` or `_`.
pub fn valid_client_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A validated client to create.
#[derive(Debug)]
pub struct NewClient {
    pub name: Text,
    pub role: ClientRole,
    pub binding: Binding,
    /// `None`: whatever the role allows, now and later.
    pub scopes: Option<Vec<Scope>>,
}

/// Parses an id of a binding; a malformed one keeps the binding's own code (`id_format`).
fn binding_id<T, E>(errors: &mut FieldErrors, field: &str, parsed: Result<T, E>) -> Option<T> {
    match parsed {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(
                field,
                "id_format",
                "use 1 to 64 letters, digits, `-` or `_`",
            );
            None
        }
    }
}

impl NewClientRequest {
    /// Checks the role's binding: the one it needs present and valid, the others absent.
    pub fn parse(self) -> Result<NewClient, ApiError> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", Text::line(&self.name, MAX_NAME));
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
            binding.practice_agb = errors.check("practice_agb", OefentherapieAgb::parse(agb));
        }
        if let Some(uzovi) = self.insurer_uzovi.as_deref() {
            binding.insurer_uzovi = errors.check("insurer_uzovi", UzoviCode::parse(uzovi));
        }
        if let Some(vendor) = self.epd_vendor.as_deref() {
            binding.epd_vendor = binding_id(&mut errors, "epd_vendor", EpdVendorId::parse(vendor));
        }
        if let Some(visitor) = self.visitor_id.as_deref() {
            binding.visitor_id = binding_id(&mut errors, "visitor_id", VisitorId::parse(visitor));
        }
        let scopes = match self.scopes {
            None => None,
            Some(requested) => {
                let mut scopes = Vec::new();
                for (i, name) in requested.iter().enumerate() {
                    match praktijkregister_scopes::find(name) {
                        Some(scope) if scope.allows(role) => scopes.push(scope),
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
            name: checked(name)?,
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
    let row = audit::transaction(conn, actor, |conn| {
        async move {
            if let Some(agb) = &new.binding.practice_agb {
                if !crate::practices::repository::exists(conn, agb.as_str()).await? {
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
            Ok((row, event))
        }
        .scope_boxed()
    })
    .await?;
    row.into_client()
}
