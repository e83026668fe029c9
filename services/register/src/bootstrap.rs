//! Seeds the registrar client so that a new installation can be used at once.
//!
//! With a configured secret the client is created or its secret reset to it. Without one, in
//! development the generated secret is kept under the data directory (like the development
//! signing key) and printed at every start; in production a generated secret is printed once.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use praktijkregister_domain::{ClientRole, Text, TextError};
use praktijkregister_platform::config::{Environment, Settings};
use praktijkregister_platform::db::DbPool;

use crate::clients::repository;
use crate::clients::{Binding, NewClient};
use crate::credentials;
use crate::settings::RegisterSettings;

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("database error")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection")]
    Pool(#[from] praktijkregister_platform::db::PoolError),
    #[error("could not hash the secret: {0}")]
    Hash(String),
    #[error("the registrar's name is refused: {0}")]
    Name(TextError),
    #[error("the name of service client {client_id} is refused: {source}")]
    ServiceClientName {
        client_id: String,
        #[source]
        source: TextError,
    },
    #[error("could not keep the development secret at {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The credentials to show the person who started the service, if there is something to show.
pub struct SeededRegistrar {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The seeded client was revoked; it stays revoked.
    pub revoked: bool,
}

fn hash(secret: &str) -> Result<String, BootstrapError> {
    credentials::hash_secret(secret).map_err(|e| BootstrapError::Hash(e.to_string()))
}

fn development_secret(settings: &Settings) -> Result<String, BootstrapError> {
    let path = settings.app.data_dir.join("registrar-secret");
    let io = |source| BootstrapError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => Ok(secret.trim().to_string()),
        _ => {
            std::fs::create_dir_all(&settings.app.data_dir).map_err(io)?;
            let _ = std::fs::remove_file(&path);
            let secret = credentials::generate_secret();
            praktijkregister_platform::signing::write_private(&path, secret.as_bytes())
                .map_err(io)?;
            Ok(secret)
        }
    }
}

pub async fn ensure_registrar(
    settings: &Settings,
    section: &RegisterSettings,
    pool: &DbPool,
) -> Result<SeededRegistrar, BootstrapError> {
    let client_id = section.bootstrap.registrar_client_id.clone();
    let configured = section.bootstrap.configured_secret().map(str::to_string);
    let wanted = match (&configured, settings.app.environment) {
        (Some(secret), _) => Some(secret.clone()),
        (None, Environment::Development) => Some(development_secret(settings)?),
        (None, Environment::Production) => None,
    };
    let mut conn = pool.get().await?;
    let existing = repository::find(&mut conn, &client_id).await?;
    let revoked = existing
        .as_ref()
        .is_some_and(|row| row.revoked_at.is_some());
    if revoked {
        // Revoking is for good, also for the seeded client (e.g. after its secret leaked).
        tracing::warn!(
            client_id = %client_id,
            "the seeded registrar client is revoked and stays revoked; create a new registrar with \
             `praktijkregister client create --role registrar --name <name>`"
        );
    }
    let shown = match (existing, wanted) {
        (Some(_), _) if revoked => None,
        (Some(row), Some(secret)) => {
            if !credentials::verify_secret(&secret, &row.secret_hash) {
                repository::set_secret(&mut conn, &client_id, &hash(&secret)?).await?;
            }
            Some(secret)
        }
        (Some(_), None) => None,
        (None, wanted) => {
            let secret = wanted.unwrap_or_else(credentials::generate_secret);
            let client = NewClient {
                name: Text::line("Registrar (seeded at start-up)", crate::clients::MAX_NAME)
                    .map_err(BootstrapError::Name)?,
                role: ClientRole::Registrar,
                binding: Binding::default(),
                scopes: None,
            };
            match repository::insert(&mut conn, &client_id, &client, &hash(&secret)?).await {
                Ok(_) => Some(secret),
                // Replicas starting together: another one seeded the client a moment earlier,
                // from the same configuration, and shows what there is to show.
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => None,
                Err(error) => return Err(error.into()),
            }
        }
    };
    // Shown to the operator; a configured secret is theirs already and is not repeated.
    let client_secret = if configured.is_some() { None } else { shown };
    Ok(SeededRegistrar {
        client_id,
        client_secret,
        revoked,
    })
}

/// Seeds, in development, each service client of `[register.bootstrap.service_clients]` with its
/// development secret (the file the calling service reads too), so the services of one machine
/// call each other without configuration. A revoked client stays revoked; an id held by a client
/// of another role is left alone. Returns the ids seeded or brought up to date.
pub async fn ensure_service_clients(
    settings: &Settings,
    section: &RegisterSettings,
    pool: &DbPool,
) -> Result<Vec<String>, BootstrapError> {
    if settings.app.environment != Environment::Development {
        return Ok(Vec::new());
    }
    let mut conn = pool.get().await?;
    let mut seeded = Vec::new();
    for (client_id, name) in &section.bootstrap.service_clients {
        let secret = praktijkregister_platform::service_client::development_secret(
            &settings.app.data_dir,
            client_id,
        )
        .map_err(|source| BootstrapError::Io {
            path: settings
                .app
                .data_dir
                .join("service-clients")
                .display()
                .to_string(),
            source,
        })?;
        match repository::find(&mut conn, client_id).await? {
            Some(row) if row.revoked_at.is_some() => {
                tracing::warn!(client_id = %client_id, "the service client is revoked and stays revoked");
            }
            Some(row) if row.role != ClientRole::Service.as_str() => {
                tracing::warn!(client_id = %client_id, role = %row.role, "a client of another role holds the id of a service client; not seeded");
            }
            Some(row) => {
                if !credentials::verify_secret(&secret, &row.secret_hash) {
                    repository::set_secret(&mut conn, client_id, &hash(&secret)?).await?;
                }
                seeded.push(client_id.clone());
            }
            None => {
                let client = NewClient {
                    name: Text::line(name, crate::clients::MAX_NAME).map_err(|source| {
                        BootstrapError::ServiceClientName {
                            client_id: client_id.clone(),
                            source,
                        }
                    })?,
                    role: ClientRole::Service,
                    binding: Binding::default(),
                    scopes: None,
                };
                repository::insert(&mut conn, client_id, &client, &hash(&secret)?).await?;
                seeded.push(client_id.clone());
            }
        }
    }
    Ok(seeded)
}
