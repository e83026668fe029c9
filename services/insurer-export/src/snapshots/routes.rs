//! Building, correcting and pulling snapshots, and the explanation of one practice.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use praktijkregister_domain::Text;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::conditional::none_match;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_scopes::insurer_export as scopes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::formats::{self, Delimiter};
use super::stream::{Head, Splitter};
use super::{Builder, Correction, ListedPractice, SnapshotBody, SnapshotSummary};
use crate::paths::{ContractYearPath, InsurerPath, PracticePath, SnapshotPath};
use crate::startup::ExportContext;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(build_snapshot)
        .service(correct_snapshot)
        .service(get_export)
        .service(explain_practice)
        .service(list_snapshots)
        .service(get_snapshot)
        .service(get_signature);
}

/// The media type of the detached signature.
const JOSE: &str = "application/jose";
const FHIR_JSON: &str = "application/fhir+json";

fn builder(ctx: &ExportContext) -> Builder<'_> {
    Builder {
        signer: &ctx.signer,
        register: &ctx.register,
        now: ctx.clock.now(),
    }
}

/// Build the snapshot of an insurer for a contract year
///
/// Builds, signs and stores the list of the insurer for contract year Y+1 now: exactly the
/// practices registered for cycle year Y, each judged on the insurer's current criteria set
/// (which is frozen from then on) over the register's evidence. The service also builds it by
/// itself on the export date. 409 when the insurer does not contract differentiated, has no
/// criteria for the year, or already has a snapshot for it (publish a correction instead).
#[utoipa::path(
    tag = "Snapshots",
    params(InsurerPath, ContractYearPath),
    responses(
        (status = 201, description = "Built", body = SnapshotSummary),
        (status = 404, description = "No such insurer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not differentiated, no criteria, or already built", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid contract year", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The register's evidence feed was incomplete or unreadable", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The register cannot be read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:build"]))
)]
#[post("/v1/insurers/{uzovi}/exports/{contract_year}")]
pub async fn build_snapshot(
    ctx: web::Data<ExportContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::EXPORTS_BUILD)?;
    let summary = builder(&ctx)
        .build(&pool, (&principal).into(), &uzovi, year, None)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/insurers/{uzovi}/snapshots/{}", summary.id),
        ))
        .json(summary))
}

/// Why a snapshot is corrected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Practice 07012345 was registered in time; the register corrected its visitation date."}))]
pub struct CorrectionRequest {
    /// Shown in the correction's body and audit trail; 1 to 2000 characters.
    #[schema(format = "text-lines", max_length = 2000)]
    pub reason: String,
}

/// Publish a correction of a snapshot
///
/// Builds a new snapshot of the insurer for the contract year as the register stands now, with
/// the reason, that supersedes the current one (which stays readable under its id). The criteria
/// set applied is the current version.
#[utoipa::path(
    tag = "Snapshots",
    params(InsurerPath, ContractYearPath),
    request_body = CorrectionRequest,
    responses(
        (status = 201, description = "The correction", body = SnapshotSummary),
        (status = 404, description = "No such insurer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No snapshot to correct, not differentiated, or no criteria", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or invalid contract year", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The register's evidence feed was incomplete or unreadable", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The register cannot be read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:build"]))
)]
#[post("/v1/insurers/{uzovi}/exports/{contract_year}/corrections")]
pub async fn correct_snapshot(
    ctx: web::Data<ExportContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
    body: Json<CorrectionRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::EXPORTS_BUILD)?;
    let reason = Text::lines(&body.into_inner().reason, 2000)
        .map_err(|e| ApiError::invalid("reason", &e))?;
    let reason = reason.as_str();
    let summary = builder(&ctx)
        .build(
            &pool,
            (&principal).into(),
            &uzovi,
            year,
            Some(Correction { reason }),
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/insurers/{uzovi}/snapshots/{}", summary.id),
        ))
        .json(summary))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The CSV separator: `semicolon` (default, with a UTF-8 byte-order mark, for Dutch Excel)
    /// or `comma`.
    #[param(value_type = Option<Delimiter>, inline, example = "comma")]
    pub delimiter: Option<String>,
}

/// Pull an insurer's list
///
/// The current snapshot of the insurer for the contract year (the correction, if one was
/// published). By `Accept`: `application/json` (default) gives the signed body byte for byte;
/// `text/csv` one row per practice, the same rows as the JSON (`;` with a UTF-8 byte-order mark,
/// or `,` with `?delimiter=comma`); `application/fhir+json` a FHIR R4 `Bundle` of `Organization`
/// (identifiers AGB-Z and KvK) and `Location` resources. `ETag` is the snapshot id: send it in
/// `If-None-Match` for a 304. The signature is at `/v1/insurers/{uzovi}/snapshots/{id}/signature`.
/// An insurer pulls only its own list (another UZOVI answers 404). Every pull is in the audit
/// trail.
#[utoipa::path(
    tag = "Snapshots",
    params(
        InsurerPath, ContractYearPath, ExportParams,
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "The snapshot id (ETag) already held"),
    ),
    responses(
        (status = 200, description = "The list",
            content(
                (SnapshotBody = "application/json"),
                (String = "text/csv"),
                (Object = "application/fhir+json"),
            ),
            headers(
                ("ETag" = String, description = "The snapshot id, quoted"),
                ("Snapshot-Id" = String, description = "The snapshot id"),
            )),
        (status = 304, description = "Not modified: the snapshot is the one held",
            headers(("ETag" = String, description = "The snapshot id, quoted"))),
        (status = 404, description = "No such insurer (or not yours), or no snapshot for the year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid contract year or delimiter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:read"]))
)]
#[get("/v1/insurers/{uzovi}/exports/{contract_year}")]
pub async fn get_export(
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
    params: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let delimiter = match params.delimiter.as_deref() {
        None | Some("semicolon") => Delimiter::Semicolon,
        Some("comma") => Delimiter::Comma,
        Some(_) => {
            return Err(ApiError::field(
                "delimiter",
                "delimiter",
                "the delimiter is semicolon or comma",
            ))
        }
    };
    let mut conn = connection(&pool).await?;
    principal.require_insurer(scopes::EXPORTS_READ, uzovi.as_str(), "insurer")?;
    let id = super::current_id(&mut conn, &uzovi, year)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("insurer {uzovi} has no snapshot for {year}")))?;
    let (summary, length) = super::summary_of(&mut conn, &uzovi, &id).await?;
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let form = if accept.contains("text/csv") {
        "csv"
    } else if accept.contains(FHIR_JSON) {
        "fhir"
    } else {
        "json"
    };
    let event = AuditEvent::success("export.pull", "snapshot", &summary.id)
        .with_detail(json!({"insurer": uzovi, "contract_year": year.value(), "format": form}));
    audit::record(&mut conn, (&principal).into(), &event).await?;
    let etag = format!("\"{}\"", summary.id);
    let matches = none_match(
        req.headers()
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok()),
        &etag,
    );
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::VARY, "Accept"))
            .finish());
    }
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept"))
        .insert_header(("Snapshot-Id", summary.id.clone()));
    if form == "json" {
        // The signed bytes as stored, read and sent a chunk at a time.
        drop(conn);
        let total = u64::try_from(length).map_err(ApiError::internal)?;
        return Ok(answer
            .content_type("application/json")
            .no_chunking(total)
            .streaming(body_chunks(pool.into_inner(), summary.id, length)));
    }
    // CSV and FHIR are rendered from the stored body as it is read, a practice at a time.
    drop(conn);
    let (rendering, length) = (pool.into_inner(), length);
    Ok(if form == "csv" {
        answer
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"praktijkregister-{uzovi}-{}.csv\"",
                    year.value()
                ),
            ))
            .streaming(rendered(
                rendering,
                summary.id,
                length,
                Form::Csv(delimiter),
            ))
    } else {
        answer.content_type(FHIR_JSON).streaming(rendered(
            rendering,
            summary.id,
            length,
            Form::Fhir,
        ))
    })
}

/// Practices rendered per piece of a streamed CSV or FHIR answer.
const PRACTICES_PER_PIECE: usize = 200;

/// The stored body of snapshot `id` (`length` bytes), a chunk per read.
fn body_chunks(
    pool: Arc<DbPool>,
    id: String,
    length: i32,
) -> impl futures_util::Stream<Item = Result<web::Bytes, ApiError>> {
    futures_util::stream::try_unfold(0i32, move |offset| {
        let (pool, id) = (pool.clone(), id.clone());
        async move {
            if offset >= length {
                return Ok(None);
            }
            let mut conn = connection(&pool).await?;
            let chunk = super::body_chunk(&mut conn, &id, offset, super::BODY_CHUNK_BYTES).await?;
            Ok(Some((
                web::Bytes::from(chunk),
                offset.saturating_add(super::BODY_CHUNK_BYTES),
            )))
        }
    })
}

/// The rendering of a streamed pull.
#[derive(Debug, Clone, Copy)]
enum Form {
    Csv(Delimiter),
    Fhir,
}

/// Where a streamed rendering is.
enum Stage {
    Head,
    Practices { first: bool },
    End,
}

/// The stored body of a snapshot, read a chunk at a time and split into practices.
struct BodyReader {
    pool: Arc<DbPool>,
    id: String,
    length: i32,
    offset: i32,
    splitter: Splitter,
}

impl BodyReader {
    /// Reads the next chunk; `false` when the body has been read whole.
    async fn fill(&mut self) -> Result<bool, ApiError> {
        if self.offset >= self.length {
            return Ok(false);
        }
        let mut conn = connection(&self.pool).await?;
        let chunk =
            super::body_chunk(&mut conn, &self.id, self.offset, super::BODY_CHUNK_BYTES).await?;
        self.offset = self.offset.saturating_add(super::BODY_CHUNK_BYTES);
        self.splitter.push(&chunk);
        Ok(true)
    }

    async fn head(&mut self) -> Result<Head, ApiError> {
        loop {
            if let Some(head) = self.splitter.head().map_err(ApiError::internal)? {
                return Ok(head.clone());
            }
            if !self.fill().await? {
                self.splitter.end().map_err(ApiError::internal)?;
            }
        }
    }

    /// The next practices, at most [`PRACTICES_PER_PIECE`]; none once the list has ended.
    async fn practices(&mut self) -> Result<Vec<ListedPractice>, ApiError> {
        let mut batch = Vec::new();
        while batch.len() < PRACTICES_PER_PIECE {
            match self.splitter.next_practice().map_err(ApiError::internal)? {
                Some(practice) => batch.push(practice),
                None if self.splitter.finished() => break,
                None => {
                    if !self.fill().await? {
                        self.splitter.end().map_err(ApiError::internal)?;
                    }
                }
            }
        }
        Ok(batch)
    }
}

/// Snapshot `id` (its body `length` bytes) rendered as `form`, a piece of up to
/// [`PRACTICES_PER_PIECE`] practices at a time, each read and rendered when the client is ready
/// for it: the same bytes as rendering the parsed body at once.
fn rendered(
    pool: Arc<DbPool>,
    id: String,
    length: i32,
    form: Form,
) -> impl futures_util::Stream<Item = Result<web::Bytes, ApiError>> {
    let reader = BodyReader {
        pool,
        id,
        length,
        offset: 0,
        splitter: Splitter::new(),
    };
    futures_util::stream::try_unfold(
        (reader, Stage::Head),
        move |(mut reader, stage)| async move {
            let (bytes, next) = match stage {
                Stage::End => return Ok(None),
                Stage::Head => {
                    let head = reader.head().await?;
                    let bytes = match form {
                        Form::Csv(delimiter) => {
                            formats::csv_head(&head.criteria_set.criteria, delimiter)
                                .map_err(ApiError::internal)?
                        }
                        Form::Fhir => formats::fhir_head(head.built_at, &reader.id)
                            .map_err(ApiError::internal)?,
                    };
                    (bytes, Stage::Practices { first: true })
                }
                Stage::Practices { first } => {
                    let batch = reader.practices().await?;
                    match (form, batch.is_empty()) {
                        (Form::Csv(_), true) => return Ok(None),
                        (Form::Fhir, true) => (formats::FHIR_TAIL.to_vec(), Stage::End),
                        (Form::Csv(delimiter), false) => (
                            formats::csv_rows(&batch, delimiter).map_err(ApiError::internal)?,
                            Stage::Practices { first: false },
                        ),
                        (Form::Fhir, false) => (
                            formats::fhir_entries(&batch, first).map_err(ApiError::internal)?,
                            Stage::Practices { first: false },
                        ),
                    }
                }
            };
            Ok(Some((web::Bytes::from(bytes), (reader, next))))
        },
    )
}

/// One practice of a snapshot, explained criterion by criterion.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub snapshot_id: String,
    pub contract_year: u16,
    pub cycle_year: u16,
    pub practice: ListedPractice,
}

/// Explain one practice's eligibility
///
/// The practice as the insurer's current snapshot lists it: eligible or not, and per criterion
/// of the insurer's set `met`, `not_met`, `unknown` or `no_consent`, with the evidence it was
/// judged on, the reason and the section of 001 it comes from. Quality figures only with the
/// practice's consent. 404 when the practice is not on the list. Every read is in the audit
/// trail.
#[utoipa::path(
    tag = "Snapshots",
    params(InsurerPath, ContractYearPath, PracticePath),
    responses(
        (status = 200, description = "The explanation", body = Explanation),
        (status = 404, description = "No such insurer (or not yours), no snapshot, or the practice is not on the list", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid contract year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:read"]))
)]
#[get("/v1/insurers/{uzovi}/exports/{contract_year}/practices/{agb}")]
pub async fn explain_practice(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
    PracticePath(agb): PracticePath,
) -> Result<web::Json<Explanation>, ApiError> {
    principal.require_insurer(scopes::EXPORTS_READ, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    let id = super::current_id(&mut conn, &uzovi, year)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("insurer {uzovi} has no snapshot for {year}")))?;
    let (summary, length) = super::summary_of(&mut conn, &uzovi, &id).await?;
    // The list is read a practice at a time until this one: never held whole.
    let mut reader = BodyReader {
        pool: pool.clone().into_inner(),
        id: summary.id.clone(),
        length,
        offset: 0,
        splitter: Splitter::new(),
    };
    let head = reader.head().await?;
    let mut found = None;
    while found.is_none() {
        let batch = reader.practices().await?;
        if batch.is_empty() {
            break;
        }
        found = batch.into_iter().find(|p| p.agb == agb.as_str());
    }
    let practice = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "practice {agb} is not on the list of insurer {uzovi} for {year}"
        ))
    })?;
    let event = AuditEvent::success("export.explain", "practice", agb.as_str())
        .with_detail(json!({"insurer": uzovi, "snapshot": summary.id}));
    audit::record(&mut conn, (&principal).into(), &event).await?;
    Ok(web::Json(Explanation {
        snapshot_id: summary.id,
        contract_year: head.contract_year,
        cycle_year: head.cycle_year,
        practice,
    }))
}

/// The snapshots of an insurer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotList {
    pub items: Vec<SnapshotSummary>,
}

/// List an insurer's snapshots
///
/// Every snapshot of the insurer, corrections and the snapshots they superseded included,
/// newest first.
#[utoipa::path(
    tag = "Snapshots",
    params(InsurerPath),
    responses(
        (status = 200, description = "The snapshots", body = SnapshotList),
        (status = 404, description = "No such insurer (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:read"]))
)]
#[get("/v1/insurers/{uzovi}/snapshots")]
pub async fn list_snapshots(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
) -> Result<web::Json<SnapshotList>, ApiError> {
    principal.require_insurer(scopes::EXPORTS_READ, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    crate::insurers::find(&mut conn, &uzovi).await?;
    Ok(web::Json(SnapshotList {
        items: super::list_stored(&mut conn, &uzovi).await?,
    }))
}

/// Read a snapshot by id
///
/// The signed body of any snapshot of the insurer, also one a correction superseded, byte for
/// byte: its SHA-256 is its id.
#[utoipa::path(
    tag = "Snapshots",
    params(InsurerPath, SnapshotPath),
    responses(
        (status = 200, description = "The body", body = SnapshotBody,
            headers(("ETag" = String, description = "The snapshot id, quoted"))),
        (status = 404, description = "No such snapshot (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:read"]))
)]
#[get("/v1/insurers/{uzovi}/snapshots/{snapshot_id}")]
pub async fn get_snapshot(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    SnapshotPath(id): SnapshotPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_insurer(scopes::EXPORTS_READ, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    let stored = super::stored(&mut conn, &uzovi, &id).await?;
    let event = AuditEvent::success("snapshot.read", "snapshot", &id);
    audit::record(&mut conn, (&principal).into(), &event).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{id}\"")))
        .content_type("application/json")
        .body(stored.body))
}

/// Read a snapshot's signature
///
/// The detached JWS (RFC 7515 Appendix F, `EdDSA`, with the `kid` of the key in
/// `/.well-known/jwks.json`) over the snapshot's body. `praktijkregister snapshot verify FILE
/// --signature SIG --jwks JWKS` checks the two offline.
#[utoipa::path(
    tag = "Snapshots",
    params(InsurerPath, SnapshotPath),
    responses(
        (status = 200, description = "The detached JWS", body = String, content_type = "application/jose"),
        (status = 404, description = "No such snapshot (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["exports:read"]))
)]
#[get("/v1/insurers/{uzovi}/snapshots/{snapshot_id}/signature")]
pub async fn get_signature(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    SnapshotPath(id): SnapshotPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_insurer(scopes::EXPORTS_READ, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    let stored = super::stored(&mut conn, &uzovi, &id).await?;
    Ok(HttpResponse::Ok().content_type(JOSE).body(stored.signature))
}
