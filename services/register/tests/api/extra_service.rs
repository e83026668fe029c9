//! A service defined here, in the test, served next to the register through the platform alone:
//! its own settings section with its own rules, its own migrations and its own scopes. If adding
//! it needed a change inside the platform, this file would not compile.

use actix_web::{get, post, web, HttpResponse};
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl as _;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use futures_util::future::BoxFuture;
use praktijkregister_domain::{ClientRole, OefentherapieAgb};
use praktijkregister_platform::auth::{Principal, Scope};
use praktijkregister_platform::config::{Check, Config, ServiceSettings, Settings};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::path_param;
use praktijkregister_platform::service::Service;
use praktijkregister_platform::testing::walk::{Row, Walk};
use praktijkregister_platform::testing::{self, contract, Body, TestTokenIssuer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use crate::helpers::spawn_app;

const NOTES_READ: Scope = Scope::new(
    "notes:read",
    "Read notes (a practice: only its own)",
    &[ClientRole::Registrar, ClientRole::Practice],
);
const NOTES_WRITE: Scope = Scope::new("notes:write", "Write notes", &[ClientRole::Registrar]);

/// The section `[notes]`.
#[derive(Debug, Clone, Deserialize)]
struct NotesSettings {
    max_note_chars: usize,
}

impl ServiceSettings for NotesSettings {
    fn validate(&self, check: &mut Check<'_>) {
        check.require(
            "max_note_chars",
            (1..=10_000).contains(&self.max_note_chars),
            "must be 1 to 10000",
        );
    }
}

struct NotesContext {
    settings: NotesSettings,
}

struct Notes;

#[derive(OpenApi)]
#[openapi(info(
    title = "Notes",
    description = "A service that exists only in a test",
    version = "1.0.0"
))]
struct NotesDoc;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct Note {
    practice_agb: String,
    body: String,
}

#[derive(diesel::QueryableByName)]
struct NoteRow {
    #[diesel(sql_type = Text)]
    practice_agb: String,
    #[diesel(sql_type = Text)]
    body: String,
}

path_param! {
    /// The note of the path.
    struct NotePath(uuid::Uuid) = "id",
        description = "The note's id",
        parse = |raw| uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found("note", raw));
}

/// Write a note
///
/// Stores a note about a practice.
#[utoipa::path(
    tag = "Notes",
    request_body = Note,
    responses((status = 201, description = "Stored", body = Note)),
    security(("oauth2" = ["notes:write"]))
)]
#[post("/v1/notes")]
async fn create_note(
    principal: Principal,
    ctx: web::Data<NotesContext>,
    pool: web::Data<DbPool>,
    body: web::Json<Note>,
) -> Result<HttpResponse, ApiError> {
    principal.require(NOTES_WRITE)?;
    let agb = OefentherapieAgb::parse(&body.practice_agb)
        .map_err(|e| ApiError::invalid("practice_agb", &e))?;
    if body.body.chars().count() > ctx.settings.max_note_chars {
        return Err(ApiError::field(
            "body",
            "text_length",
            "the note is too long",
        ));
    }
    let id = uuid::Uuid::new_v4();
    let mut conn = connection(&pool).await?;
    diesel::sql_query("INSERT INTO notes (id, practice_agb, body) VALUES ($1, $2, $3)")
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(agb.as_str())
        .bind::<Text, _>(&body.body)
        .execute(&mut conn)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/notes/{id}")))
        .json(body.into_inner()))
}

/// Read a note
///
/// A note; a practice reads only notes about itself, any other is hidden (404).
#[utoipa::path(
    tag = "Notes",
    params(NotePath),
    responses(
        (status = 200, description = "The note", body = Note),
        (status = 404, description = "No such note", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["notes:read"]))
)]
#[get("/v1/notes/{id}")]
async fn get_note(
    principal: Principal,
    pool: web::Data<DbPool>,
    NotePath(id): NotePath,
) -> Result<web::Json<Note>, ApiError> {
    principal.require(NOTES_READ)?;
    let mut conn = connection(&pool).await?;
    let row: Option<NoteRow> =
        diesel::sql_query("SELECT practice_agb, body FROM notes WHERE id = $1")
            .bind::<SqlUuid, _>(id)
            .get_result(&mut conn)
            .await
            .map(Some)
            .or_else(|e| match e {
                diesel::result::Error::NotFound => Ok(None),
                other => Err(other),
            })?;
    let row = row
        .filter(|row| principal.may_access_practice(&row.practice_agb))
        .ok_or_else(|| ApiError::not_found("note", id))?;
    Ok(web::Json(Note {
        practice_agb: row.practice_agb,
        body: row.body,
    }))
}

impl Service for Notes {
    const NAME: &'static str = "notes";
    const DEFAULT_PORT: u16 = 8099;
    const DEFAULT_SETTINGS: &'static str =
        "[notes]\ndatabase_name = \"praktijkregister_notes\"\nmax_note_chars = 200\n";
    const MIGRATIONS: EmbeddedMigrations = embed_migrations!("tests/api/notes_migrations");
    const TOKEN_URL: &'static str = "http://127.0.0.1:8081/oauth/token";

    type Settings = NotesSettings;
    type State = NotesContext;

    fn api_doc() -> utoipa::openapi::OpenApi {
        NotesDoc::openapi()
    }

    fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
        cfg.service(create_note).service(get_note);
    }

    fn scopes() -> &'static [Scope] {
        &[NOTES_READ, NOTES_WRITE]
    }

    fn build_state<'a>(
        _settings: &'a Settings,
        section: &'a NotesSettings,
        _pool: &'a DbPool,
    ) -> BoxFuture<'a, anyhow::Result<NotesContext>> {
        Box::pin(async move {
            Ok(NotesContext {
                settings: section.clone(),
            })
        })
    }
}

#[test]
fn the_extra_service_settings_are_loaded_and_validated_by_the_platform() {
    let config = Config::from_toml(&[Notes::defaults()], "").unwrap();
    let section: NotesSettings = config.section("notes").unwrap();
    assert_eq!(section.max_note_chars, 200);
    let server = config.server("notes").unwrap();
    assert_eq!((server.host.as_str(), server.port), ("127.0.0.1", 8099));

    let refused = Config::from_toml(&[Notes::defaults()], "[notes]\nmax_note_chars = 0")
        .and_then(|config| config.section::<NotesSettings>("notes"))
        .unwrap_err();
    assert!(
        refused.to_string().contains("notes.max_note_chars"),
        "{refused}"
    );
}

#[test]
fn the_extra_service_documents_only_its_own_scopes_and_is_complete() {
    let document = Notes::openapi();
    let operations = contract::assert_complete(&document, &[], Notes::scopes());
    assert_eq!(operations, 2);
    let json = serde_json::to_value(&document).unwrap();
    let scopes = json["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
        ["scopes"]
        .as_object()
        .unwrap();
    let mut names: Vec<&str> = scopes.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["notes:read", "notes:write"]);
}

#[tokio::test]
async fn an_extra_service_is_served_next_to_the_register_through_the_platform_alone() {
    let register = spawn_app().await;
    let issuer = TestTokenIssuer::start().await;

    // The notes service trusts the register's keys (by JWKS) and the test issuer's.
    let mut settings = testing::test_settings();
    settings.auth.jwks_url = register.url("/.well-known/jwks.json");
    settings.auth.trusted_issuers = vec![issuer.trusted()];
    let notes = testing::spawn::<Notes, _, _>(
        settings,
        testing::section::<Notes>(),
        |settings, section, pool| async move {
            Notes::build_state(&settings, &section, &pool)
                .await
                .unwrap()
        },
    )
    .await;
    assert_ne!(notes.base_url, register.address);

    // Both run the shared frame.
    for base in [&notes.base_url, &register.address] {
        let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
        assert_eq!(ready.status(), 200, "{base}");
    }
    let metrics = reqwest::get(format!("{}/metrics", notes.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("service=\"notes\""), "{metrics}");

    // Its own migrations ran after the platform's, in its own database.
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        table_name: String,
    }
    let tables: Vec<String> = diesel::RunQueryDsl::load::<Table>(
        diesel::sql_query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        ),
        &mut notes.db.connect(),
    )
    .unwrap()
    .into_iter()
    .map(|t| t.table_name)
    .collect();
    for table in ["notes", "audit_events", "outbox_events", "inbox_events"] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
    assert!(!tables.iter().any(|t| t == "practices"), "{tables:?}");

    // Its scopes guard its routes: a register token verifies (fetched keys) but lacks them.
    let registrar = register.registrar_token().await;
    let (status, problem) = notes
        .client
        .caller(&registrar)
        .post(
            "/v1/notes",
            json!({"practice_agb": "07000001", "body": "x"}),
        )
        .await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("notes:write"));

    let writer = issuer.token(ClientRole::Registrar, Notes::scopes());
    let (status, _) = notes
        .client
        .caller(&writer)
        .post(
            "/v1/notes",
            json!({"practice_agb": "07000001", "body": &"x".repeat(201)}),
        )
        .await;
    assert_eq!(status, 422, "its own setting bounds the note");

    // The platform's authorization walk runs on it with its own table.
    let own = notes
        .client
        .caller(&writer)
        .send(
            "POST",
            "/v1/notes",
            &Body::Json(json!({"practice_agb": "07000001", "body": "own"})),
        )
        .await;
    let other = notes
        .client
        .caller(&writer)
        .send(
            "POST",
            "/v1/notes",
            &Body::Json(json!({"practice_agb": "07000002", "body": "other"})),
        )
        .await;
    assert_eq!((own.status, other.status), (201, 201));
    let own = own.header("location").unwrap().to_string();
    let other = other.header("location").unwrap().to_string();
    let mut callers = vec![(None, None)];
    for role in ClientRole::ALL {
        callers.push((Some(role), Some(issuer.token(role, Notes::scopes()))));
    }
    Walk {
        client: &notes.client,
        callers,
        setup_token: writer.clone(),
        hidden_from: testing::walk::TENANT_ROLES,
    }
    .run(
        &Notes::openapi(),
        &[
            Row::new(
                "POST",
                "/v1/notes",
                Some("notes:write"),
                &[ClientRole::Registrar],
                "/v1/notes",
                None,
                Body::Json(json!({"practice_agb": "07000001", "body": "walk"})),
            ),
            Row::new(
                "GET",
                "/v1/notes/{id}",
                Some("notes:read"),
                &[ClientRole::Registrar, ClientRole::Practice],
                own,
                Some(other),
                Body::None,
            ),
        ],
    )
    .await;
}
