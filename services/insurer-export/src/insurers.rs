//! Insurers (zorgverzekeraars) and the criteria set each applies per contract year (DESIGN §3.5,
//! §3.6; 000: only insurers that contract differentiated receive the list). A criteria set is a
//! named set of `shared/domain` (`basis`, `ldi`, `plus`) or an explicit list of its criterion
//! ids, with the insurer's thresholds. Every change is a new version; a version a snapshot used
//! is frozen, so that what a snapshot says can always be traced to the rules it applied.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{
    ContractYear, CriteriaSet, Criterion, EmailAddress, InsurerCriteriaSet, Text, Thresholds,
    UzoviCode,
};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, FieldErrors, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_scopes::insurer_export as scopes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::paths::{ContractYearPath, InsurerPath};
use crate::schema::{criteria_sets, insurers};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_insurer)
        .service(list_insurers)
        .service(get_insurer)
        .service(update_insurer)
        .service(put_criteria)
        .service(get_criteria)
        .service(get_current_criteria);
}

/// An insurer as the registrar records it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = insurers)]
#[schema(example = json!({
    "uzovi": "3311", "name": "Zorgverzekeraar Oost", "differentiated": true,
    "contact_email": "inkoop@zv-oost.example", "created_at": "2026-09-01T10:00:00Z", "updated_at": "2026-09-01T10:00:00Z"
}))]
pub struct Insurer {
    /// UZOVI code (4 digits).
    pub uzovi: String,
    pub name: String,
    /// Whether the insurer contracts differentiated; only those receive the list (000).
    pub differentiated: bool,
    pub contact_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new insurer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"uzovi": "3311", "name": "Zorgverzekeraar Oost", "differentiated": true, "contact_email": "inkoop@zv-oost.example"}))]
pub struct NewInsurer {
    #[schema(pattern = "^[0-9]{4}$")]
    pub uzovi: String,
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    pub differentiated: bool,
    #[schema(value_type = Option<praktijkregister_domain::EmailAddress>, inline)]
    pub contact_email: Option<String>,
}

/// What the registrar may change of an insurer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Zorgverzekeraar Oost", "differentiated": true, "contact_email": "inkoop@zv-oost.example"}))]
pub struct InsurerFields {
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    pub differentiated: bool,
    #[schema(value_type = Option<praktijkregister_domain::EmailAddress>, inline)]
    pub contact_email: Option<String>,
}

impl InsurerFields {
    fn validate(&self) -> Result<(), ApiError> {
        let mut errors = FieldErrors::new();
        // The one text rule of the suite (DESIGN §4).
        errors.check("name", Text::line(&self.name, 200));
        if let Some(email) = &self.contact_email {
            errors.check("contact_email", EmailAddress::parse(email));
        }
        errors.into_result()
    }
}

/// Create an insurer
///
/// Records an insurer by its UZOVI code. Only insurers that contract differentiated
/// (`differentiated: true`) get a snapshot on the export date (000). An existing UZOVI code
/// answers 409.
#[utoipa::path(
    tag = "Insurers",
    request_body = NewInsurer,
    responses(
        (status = 201, description = "Created", body = Insurer),
        (status = 409, description = "The UZOVI code is already recorded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid UZOVI code, name or e-mail address", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["insurers:manage"]))
)]
#[post("/v1/insurers")]
pub async fn create_insurer(
    principal: Principal,
    pool: web::Data<DbPool>,
    body: Json<NewInsurer>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::INSURERS_MANAGE)?;
    let request = body.into_inner();
    let uzovi = UzoviCode::parse(&request.uzovi).map_err(|e| ApiError::invalid("uzovi", &e))?;
    let fields = InsurerFields {
        name: request.name,
        differentiated: request.differentiated,
        contact_email: request.contact_email,
    };
    fields.validate()?;
    let mut conn = connection(&pool).await?;
    let insurer = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let inserted: Option<Insurer> = diesel::insert_into(insurers::table)
                .values((
                    insurers::uzovi.eq(uzovi.as_str()),
                    insurers::name.eq(fields.name.trim()),
                    insurers::differentiated.eq(fields.differentiated),
                    insurers::contact_email.eq(&fields.contact_email),
                ))
                .on_conflict_do_nothing()
                .returning(Insurer::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            let insurer = inserted.ok_or_else(|| {
                ApiError::conflict(format!("insurer {uzovi} is already recorded"))
            })?;
            let event = AuditEvent::success("insurer.create", "insurer", uzovi.as_str());
            Ok((insurer, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/insurers/{}", insurer.uzovi)))
        .json(insurer))
}

/// The list of insurers.
#[derive(Debug, Serialize, ToSchema)]
pub struct InsurerList {
    pub items: Vec<Insurer>,
}

/// List insurers
///
/// Every recorded insurer, by UZOVI code (an insurer client sees only itself).
#[utoipa::path(
    tag = "Insurers",
    responses((status = 200, description = "The insurers", body = InsurerList)),
    security(("oauth2" = ["insurers:read"]))
)]
#[get("/v1/insurers")]
pub async fn list_insurers(
    principal: Principal,
    pool: web::Data<DbPool>,
) -> Result<web::Json<InsurerList>, ApiError> {
    principal.require(scopes::INSURERS_READ)?;
    let mut conn = connection(&pool).await?;
    let mut query = insurers::table
        .order(insurers::uzovi)
        .select(Insurer::as_select())
        .into_boxed();
    if let Some(own) = principal.insurer() {
        query = query.filter(insurers::uzovi.eq(own.as_str().to_string()));
    }
    Ok(web::Json(InsurerList {
        items: query.load(&mut conn).await?,
    }))
}

/// The insurer, or 404; an insurer client finds only itself.
pub async fn find(conn: &mut AsyncPgConnection, uzovi: &UzoviCode) -> Result<Insurer, ApiError> {
    insurers::table
        .find(uzovi.as_str())
        .select(Insurer::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("insurer", uzovi))
}

/// Read an insurer
///
/// An insurer client reads only itself; any other UZOVI code answers 404.
#[utoipa::path(
    tag = "Insurers",
    params(InsurerPath),
    responses(
        (status = 200, description = "The insurer", body = Insurer),
        (status = 404, description = "No such insurer (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["insurers:read"]))
)]
#[get("/v1/insurers/{uzovi}")]
pub async fn get_insurer(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
) -> Result<web::Json<Insurer>, ApiError> {
    principal.require_insurer(scopes::INSURERS_READ, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    Ok(web::Json(find(&mut conn, &uzovi).await?))
}

/// Change an insurer
///
/// Replaces the insurer's name, differentiated contracting and contact.
#[utoipa::path(
    tag = "Insurers",
    params(InsurerPath),
    request_body = InsurerFields,
    responses(
        (status = 200, description = "Changed", body = Insurer),
        (status = 404, description = "No such insurer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or e-mail address", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["insurers:manage"]))
)]
#[put("/v1/insurers/{uzovi}")]
pub async fn update_insurer(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    body: Json<InsurerFields>,
) -> Result<web::Json<Insurer>, ApiError> {
    principal.require(scopes::INSURERS_MANAGE)?;
    let fields = body.into_inner();
    fields.validate()?;
    let mut conn = connection(&pool).await?;
    let insurer = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let updated: Option<Insurer> = diesel::update(insurers::table.find(uzovi.as_str()))
                .set((
                    insurers::name.eq(fields.name.trim()),
                    insurers::differentiated.eq(fields.differentiated),
                    insurers::contact_email.eq(&fields.contact_email),
                    insurers::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Insurer::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            let insurer = updated.ok_or_else(|| ApiError::not_found("insurer", &uzovi))?;
            let event = AuditEvent::success("insurer.update", "insurer", uzovi.as_str());
            Ok((insurer, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(insurer))
}

/// An insurer's criteria for a contract year: a named set, or a list of criterion ids, and its
/// thresholds (any left out take the value of 001).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "base_set": "plus", "criteria": null,
    "thresholds": {"treatment_index_ceiling": 140.0, "ldo_fill_rate_plus": 0.9}
}))]
pub struct CriteriaRequest {
    /// `basis`, `ldi` or `plus`: every criterion of that set ...
    pub base_set: Option<String>,
    /// ... or exactly these criterion ids (`plus.intervision.group_size`, ...).
    pub criteria: Option<Vec<String>>,
    #[serde(default)]
    pub thresholds: Thresholds,
}

impl CriteriaRequest {
    /// The criteria in report order, validated against the domain's list.
    fn resolve(&self) -> Result<(Option<CriteriaSet>, Vec<Criterion>), ApiError> {
        let criteria = match (&self.base_set, &self.criteria) {
            (Some(name), None) => {
                let set = CriteriaSet::parse(name)
                    .map_err(|e| ApiError::field("base_set", e.code(), e))?;
                return Ok((Some(set), set.criteria().to_vec()));
            }
            (None, Some(ids)) => ids,
            _ => {
                return Err(ApiError::field(
                    "base_set",
                    "criteria_choice",
                    "give either base_set or criteria, not both and not neither",
                ))
            }
        };
        if criteria.is_empty() {
            return Err(ApiError::field(
                "criteria",
                "criteria_empty",
                "name at least one criterion",
            ));
        }
        let mut errors = FieldErrors::new();
        let mut parsed = Vec::new();
        for (i, id) in criteria.iter().enumerate() {
            match Criterion::parse(id) {
                Ok(criterion) if !parsed.contains(&criterion) => parsed.push(criterion),
                Ok(_) => errors.push(
                    format!("criteria[{i}]"),
                    "criterion_repeated",
                    format!("criterion {id:?} is named twice"),
                ),
                Err(e) => errors.push(
                    format!("criteria[{i}]"),
                    e.code(),
                    format!("{e}: {id:?}; the criteria are those of the register's compliance"),
                ),
            }
        }
        errors.into_result()?;
        parsed.sort();
        Ok((None, parsed))
    }
}

/// One version of an insurer's criteria set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "contract_year": 2027, "version": 2, "base_set": "plus",
    "criteria": ["basis.kp_registered", "plus.registered"],
    "thresholds": {"ldo_fill_rate_ldi": 0.8, "ldo_fill_rate_plus": 0.9, "prem_offered_rate_plus": 0.7,
        "intervision_min_physical_meetings": 4, "intervision_group_min": 4, "intervision_group_max": 12,
        "intervision_min_practices": 2, "treatment_index_ceiling": 140.0},
    "frozen": false, "created_at": "2026-09-01T10:00:00Z", "created_by": "registrar"
}))]
pub struct CriteriaVersion {
    pub id: i64,
    pub contract_year: u16,
    pub version: i32,
    pub base_set: Option<CriteriaSet>,
    pub criteria: Vec<Criterion>,
    pub thresholds: Thresholds,
    /// A snapshot used this version; it cannot change any more.
    pub frozen: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = criteria_sets)]
struct CriteriaRow {
    id: i64,
    contract_year: i32,
    version: i32,
    base_set: Option<String>,
    criteria: Vec<String>,
    thresholds: serde_json::Value,
    created_at: DateTime<Utc>,
    created_by: String,
    used_at: Option<DateTime<Utc>>,
}

impl CriteriaRow {
    fn view(self) -> Result<CriteriaVersion, ApiError> {
        use praktijkregister_platform::db::decode;
        Ok(CriteriaVersion {
            id: self.id,
            contract_year: decode(
                "criteria_sets.contract_year",
                &self.contract_year.to_string(),
                |raw| raw.parse::<u16>(),
            )?,
            version: self.version,
            base_set: self
                .base_set
                .as_deref()
                .map(|raw| decode("criteria_sets.base_set", raw, CriteriaSet::parse))
                .transpose()?,
            criteria: self
                .criteria
                .iter()
                .map(|raw| decode("criteria_sets.criteria", raw, Criterion::parse))
                .collect::<Result<_, _>>()?,
            thresholds: serde_json::from_value(self.thresholds).map_err(ApiError::internal)?,
            frozen: self.used_at.is_some(),
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

/// Every version of the insurer's criteria for the year, newest first.
pub async fn versions(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    year: ContractYear,
) -> Result<Vec<CriteriaVersion>, ApiError> {
    let rows: Vec<CriteriaRow> = criteria_sets::table
        .filter(criteria_sets::insurer_uzovi.eq(uzovi.as_str()))
        .filter(criteria_sets::contract_year.eq(i32::from(year.value())))
        .order(criteria_sets::version.desc())
        .select(CriteriaRow::as_select())
        .load(conn)
        .await?;
    rows.into_iter().map(CriteriaRow::view).collect()
}

/// The version with `id`.
pub async fn version_by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<CriteriaVersion, ApiError> {
    criteria_sets::table
        .find(id)
        .select(CriteriaRow::as_select())
        .first(conn)
        .await?
        .view()
}

/// Marks the version used by a snapshot: frozen from now on.
pub async fn freeze(conn: &mut AsyncPgConnection, id: i64) -> Result<(), ApiError> {
    diesel::update(
        criteria_sets::table
            .find(id)
            .filter(criteria_sets::used_at.is_null()),
    )
    .set(criteria_sets::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The criteria of a contract year: the current version and the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriteriaHistory {
    pub current: CriteriaVersion,
    /// Every version, newest first (the current one included).
    pub versions: Vec<CriteriaVersion>,
}

/// Set an insurer's criteria for a contract year
///
/// Records a new version of the insurer's criteria set for the contract year: a named set
/// (`basis`, `ldi`, `plus`) or an explicit list of criterion ids of the register's compliance
/// (an unknown id is refused naming it), and its thresholds. Once a snapshot used the current
/// version it is frozen: a change answers 409 (publish a correction of the snapshot instead).
#[utoipa::path(
    tag = "Insurers",
    params(InsurerPath, ContractYearPath),
    request_body = CriteriaRequest,
    responses(
        (status = 201, description = "The new version", body = CriteriaVersion),
        (status = 404, description = "No such insurer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The current version is frozen: a snapshot used it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown criterion or set, or invalid thresholds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["insurers:manage"]))
)]
#[put("/v1/insurers/{uzovi}/criteria/{contract_year}")]
pub async fn put_criteria(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
    body: Json<CriteriaRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::INSURERS_MANAGE)?;
    let request = body.into_inner();
    let (base_set, criteria) = request.resolve()?;
    request
        .thresholds
        .validate()
        .map_err(|e| ApiError::field(format!("thresholds.{}", e.field()), e.code(), e))?;
    let client_id = principal.client_id.clone();
    let mut conn = connection(&pool).await?;
    let created = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let view = add_version(
                conn,
                &uzovi,
                year,
                base_set,
                &criteria,
                &request.thresholds,
                &client_id,
            )
            .await?;
            let event = AuditEvent::success("criteria.set", "insurer", format!("{uzovi}/{year}"))
                .with_detail(json!({"version": view.version}));
            Ok((view, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Records the next version of the insurer's criteria for `year`, on the caller's transaction;
/// 404 without the insurer, 409 when the current version is frozen.
pub async fn add_version(
    conn: &mut AsyncPgConnection,
    uzovi: &UzoviCode,
    year: ContractYear,
    base_set: Option<CriteriaSet>,
    criteria: &[Criterion],
    thresholds: &Thresholds,
    created_by: &str,
) -> Result<CriteriaVersion, ApiError> {
    // Locks the insurer: two changes of one year take turns for the next version number.
    insurers::table
        .find(uzovi.as_str())
        .select(insurers::uzovi)
        .for_update()
        .first::<String>(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("insurer", uzovi))?;
    let existing = versions(conn, uzovi, year).await?;
    if let Some(current) = existing.as_slice().first().filter(|c| c.frozen) {
        return Err(ApiError::conflict(format!(
            "version {} of the criteria of insurer {uzovi} for {year} was used by a snapshot and is frozen; publish a correction of the snapshot instead",
            current.version
        )));
    }
    let version = existing.as_slice().first().map_or(1, |c| c.version + 1);
    let ids: Vec<&str> = criteria.iter().map(|c| c.as_str()).collect();
    let thresholds = serde_json::to_value(thresholds).map_err(ApiError::internal)?;
    let row: CriteriaRow = diesel::insert_into(criteria_sets::table)
        .values((
            criteria_sets::insurer_uzovi.eq(uzovi.as_str()),
            criteria_sets::contract_year.eq(i32::from(year.value())),
            criteria_sets::version.eq(version),
            criteria_sets::base_set.eq(base_set.map(|s| s.as_str())),
            criteria_sets::criteria.eq(ids),
            criteria_sets::thresholds.eq(&thresholds),
            criteria_sets::created_by.eq(created_by),
        ))
        .returning(CriteriaRow::as_returning())
        .get_result(conn)
        .await?;
    row.view()
}

/// Read an insurer's criteria for a contract year
///
/// The current version and every earlier one. An insurer client reads only its own.
#[utoipa::path(
    tag = "Insurers",
    params(InsurerPath, ContractYearPath),
    responses(
        (status = 200, description = "The criteria and their history", body = CriteriaHistory),
        (status = 404, description = "No such insurer (or not yours), or no criteria for the year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid contract year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["insurers:read"]))
)]
#[get("/v1/insurers/{uzovi}/criteria/{contract_year}")]
pub async fn get_criteria(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
) -> Result<web::Json<CriteriaHistory>, ApiError> {
    principal.require_insurer(scopes::INSURERS_READ, uzovi.as_str(), "insurer")?;
    let mut conn = connection(&pool).await?;
    find(&mut conn, &uzovi).await?;
    let versions = versions(&mut conn, &uzovi, year).await?;
    let current =
        versions.as_slice().first().cloned().ok_or_else(|| {
            ApiError::NotFound(format!("insurer {uzovi} has no criteria for {year}"))
        })?;
    Ok(web::Json(CriteriaHistory { current, versions }))
}

/// Read an insurer's current criteria set (for the register)
///
/// Internal, for the register's compliance endpoint: the current version of the insurer's
/// criteria set for the contract year (its criteria in report order and its thresholds), which
/// the register applies when it is asked for that insurer. 404 when the insurer or its set for
/// the year does not exist.
#[utoipa::path(
    tag = "Internal",
    params(InsurerPath, ContractYearPath),
    responses(
        (status = 200, description = "The current criteria set", body = InsurerCriteriaSet),
        (status = 404, description = "No such insurer, or no criteria for the year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid UZOVI code or contract year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["criteria-sets:read"]))
)]
#[get("/v1/internal/criteria/{uzovi}/{contract_year}")]
pub async fn get_current_criteria(
    principal: Principal,
    pool: web::Data<DbPool>,
    InsurerPath(uzovi): InsurerPath,
    ContractYearPath(year): ContractYearPath,
) -> Result<web::Json<InsurerCriteriaSet>, ApiError> {
    principal.require(scopes::CRITERIA_SETS_READ)?;
    let mut conn = connection(&pool).await?;
    find(&mut conn, &uzovi).await?;
    let current = versions(&mut conn, &uzovi, year)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("insurer {uzovi} has no criteria for {year}")))?;
    Ok(web::Json(InsurerCriteriaSet {
        insurer_uzovi: uzovi.as_str().to_string(),
        contract_year: current.contract_year,
        version: current.version,
        base_set: current.base_set,
        criteria: current.criteria,
        thresholds: current.thresholds,
    }))
}
