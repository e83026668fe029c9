//! The HTTP frame every service shares: middleware, extractor error handlers, health, metrics,
//! the OpenAPI document and Swagger UI, and the catch-all 404.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::db::DbPool;
use crate::error::{ApiError, PROBLEM_CONTENT_TYPE};
use crate::metrics::{metrics_middleware, Metrics};
use crate::rate_limit::RateLimiter;
use crate::telemetry::request_id_middleware;

/// State every service shares with the frame.
#[derive(Clone)]
pub struct Frame {
    pub pool: DbPool,
    pub metrics: Arc<Metrics>,
    pub rate_limiter: Arc<RateLimiter>,
    pub max_body_bytes: usize,
    /// The cap on audit lines of refused requests per caller.
    pub denial_limiter: Arc<crate::denials::DenialLimiter>,
}

/// Builds the application: the service's routes (registered through `configure`, which also
/// feeds the OpenAPI document), wrapped in the shared middleware and next to the shared endpoints.
pub fn build_app<F>(
    frame: Frame,
    openapi: Arc<OpenApi>,
    configure: F,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    F: FnOnce(&mut utoipa_actix_web::service_config::ServiceConfig),
{
    let (app, _) = App::new()
        .app_data(json_config(frame.max_body_bytes))
        .app_data(web::PayloadConfig::new(frame.max_body_bytes))
        .app_data(
            web::FormConfig::default()
                .limit(frame.max_body_bytes)
                .error_handler(form_error),
        )
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::Data::new(frame.pool.clone()))
        .app_data(web::Data::from(frame.metrics.clone()))
        .into_utoipa_app()
        .configure(configure)
        .split_for_parts();
    let document = openapi.clone();
    let methods = web::Data::new(RouteMethods::from_document(&openapi));
    app.service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)))
        .service(web::resource("/metrics").route(web::get().to(metrics_endpoint)))
        .service(web::resource("/openapi.json").route(web::get().to(move || {
            let document = document.clone();
            async move { HttpResponse::Ok().json(document.as_ref()) }
        })))
        // The page reads the document served above; giving it the document too would keep a
        // copy per worker.
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/openapi.json")))
        .service(web::resource("/docs").route(web::get().to(redirect_to_docs)))
        .app_data(methods)
        .default_service(web::to(not_found))
        .app_data(web::Data::from(frame.rate_limiter))
        .app_data(web::Data::from(frame.denial_limiter))
        .wrap(from_fn(crate::denials::denial_audit_middleware))
        .wrap(from_fn(problem_middleware))
        .wrap(from_fn(metrics_middleware))
        .wrap(from_fn(request_id_middleware))
}

/// The OpenAPI document of a service, built from the same route registration as the server.
pub fn openapi_document<F>(base: OpenApi, configure: F) -> OpenApi
where
    F: FnOnce(&mut utoipa_actix_web::service_config::ServiceConfig),
{
    App::new()
        .into_utoipa_app()
        .openapi(base)
        .configure(configure)
        .split_for_parts()
        .1
}

/// Serialises an OpenAPI document the way it is checked in: pretty JSON with a final newline.
pub fn openapi_json(document: &OpenApi) -> Result<String, serde_json::Error> {
    document.to_pretty_json().map(|mut json| {
        json.push('\n');
        json
    })
}

async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

async fn ready(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let probe = tokio::time::timeout(Duration::from_secs(2), crate::db::ping(&pool)).await;
    match probe {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(ApiError::ServiceUnavailable(
            "the database did not answer in time".into(),
        )),
    }
}

async fn metrics_endpoint(metrics: web::Data<Metrics>, pool: web::Data<DbPool>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(metrics.scrape(&pool).await)
}

/// The methods of each documented path template, to tell 405 from 404: actix's method guards
/// make a known path with another method fall through to the default service.
struct RouteMethods(Vec<(Vec<String>, Vec<&'static str>)>);

impl RouteMethods {
    fn from_document(document: &OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_string).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(template, methods)| {
            let matches = template.len() == parts.len()
                && template.iter().zip(&parts).all(|(t, p)| {
                    (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p
                });
            matches.then(|| methods.clone())
        })
    }
}

async fn not_found(
    req: HttpRequest,
    methods: web::Data<RouteMethods>,
) -> Result<HttpResponse, ApiError> {
    if let Some(allowed) = methods.allowed(req.path()) {
        if !allowed.iter().any(|m| *m == req.method().as_str()) {
            let error = ApiError::MethodNotAllowed(format!(
                "{} is not allowed on {}; allowed: {}",
                req.method(),
                req.path(),
                allowed.join(", ")
            ));
            let mut response = actix_web::ResponseError::error_response(&error);
            if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            return Ok(response);
        }
    }
    Err(ApiError::NotFound(format!(
        "there is no resource at {}",
        req.path()
    )))
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|error, _req| json_error(error).into())
}

/// Maps body errors to problems; serde's message names the field and the position.
fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            ApiError::PayloadTooLarge(format!("the body is {length} bytes; the limit is {limit}"))
        }
        JsonPayloadError::Overflow { limit } => {
            ApiError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("send the body as application/json".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::field(
            field_of_serde_error(&e.to_string(), "body"),
            "invalid_value",
            e,
        ),
        JsonPayloadError::Deserialize(e) => {
            ApiError::BadRequest(format!("the body is not valid JSON: {e}"))
        }
        other => ApiError::BadRequest(format!("the body could not be read: {other}")),
    }
}

/// A JSON body read into `T`, like `web::Json`, whose refusals name the field by its path
/// (`locations[0].city`, `start_date`): a value of the right JSON type that a field's own type
/// refuses (a date not written `YYYY-MM-DD`) is a 422 naming that field, not the body.
/// The body limit is the frame's; the media type must be JSON (`application/json` or `+json`).
/// Integral numbers written as `485.0` are integers and a key given twice is refused ([`Document`]).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let json = actix_web::HttpMessage::mime_type(&req)
                .ok()
                .flatten()
                .is_some_and(|mime| {
                    mime.subtype() == actix_web::mime::JSON
                        || mime.suffix() == Some(actix_web::mime::JSON)
                });
            if !json {
                return Err(json_error(JsonPayloadError::ContentType).into());
            }
            let bytes =
                <web::Bytes as actix_web::FromRequest>::from_request(&req, &mut payload).await?;
            let Document(document) = serde_json::from_slice(&bytes).map_err(|e| {
                actix_web::Error::from(json_error(JsonPayloadError::Deserialize(e)))
            })?;
            let value = serde_path_to_error::deserialize(crate::strict_json::Strict(document))
                .map_err(body_error)?;
            Ok(Json(value))
        })
    }
}

/// A JSON body as read before its type sees it. JSON has one number type, and JSON Schema calls
/// `485.0` an integer: a number written with a zero fraction (or an exponent) is kept as the
/// integer it is, so that an integer field takes it like `485` (floats beyond 2^53 are left as
/// they are, as they need not be exact). A key given twice in one object is refused, as typed
/// reading does, rather than the last one silently winning.
struct Document(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor).map(Document)
    }
}

struct DocumentVisitor;

impl<'de> serde::de::Visitor<'de> for DocumentVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if value.fract() == 0.0 && value.abs() <= EXACT {
            // Exact: an integral float of at most 2^53 is an integer an i64 holds.
            #[allow(clippy::cast_possible_truncation)]
            return Ok((value as i64).into());
        }
        serde_json::Number::from_f64(value)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        serde::Deserialize::deserialize(deserializer).map(|Document(value)| value)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Document(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            let Document(value) = map.next_value()?;
            fields.insert(key, value);
        }
        Ok(serde_json::Value::Object(fields))
    }
}

/// A body that does not deserialise: a value a field refuses names the field by its path.
fn body_error(error: serde_path_to_error::Error<serde_json::Error>) -> actix_web::Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !inner.is_data() {
        return json_error(JsonPayloadError::Deserialize(inner)).into();
    }
    let message = inner.to_string();
    let field = if message.contains("field `") {
        field_of_serde_error(&message, "body")
    } else if path.is_empty() || path == "." || path == "?" {
        "body".to_string()
    } else {
        path
    };
    ApiError::field(field, "invalid_value", message).into()
}

/// serde reports "unknown field `x`" / "missing field `x`" / "invalid type ... at line"; take the
/// name, else name the part of the request (`body`, `query`).
fn field_of_serde_error(message: &str, part: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or(part)
        .to_string()
}

fn path_error(error: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::field("path", "invalid_path_parameter", error).into()
}

fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = error.to_string();
    ApiError::field(
        field_of_serde_error(&message, "query"),
        "invalid_query_parameter",
        message,
    )
    .into()
}

fn form_error(error: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    match error {
        UrlencodedError::Overflow { size, limit } => {
            ApiError::PayloadTooLarge(format!("the body is {size} bytes; the limit is {limit}"))
                .into()
        }
        UrlencodedError::ContentType => ApiError::UnsupportedMediaType(
            "send the body as application/x-www-form-urlencoded".into(),
        )
        .into(),
        other => ApiError::BadRequest(format!("the form could not be read: {other}")).into(),
    }
}

/// Turns every error answer that is not already a problem (actix's own 404/405/413, ...) into one.
/// JSON error bodies (the OAuth token endpoint's RFC 6749 errors) are left as they are.
async fn problem_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let response = next.call(req).await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let already_structured = content_type.starts_with(PROBLEM_CONTENT_TYPE)
        || content_type.starts_with("application/json");
    if !(status.is_client_error() || status.is_server_error()) || already_structured {
        return Ok(response.map_into_left_body());
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound(format!(
            "there is no resource at {}",
            response.request().path()
        )),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(format!(
            "{} is not allowed on {}",
            response.request().method(),
            response.request().path()
        )),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("the request body is too large".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("the media type is not supported".into())
        }
        s if s.is_server_error() => {
            ApiError::internal(anyhow::anyhow!("unstructured {s} response"))
        }
        _ => ApiError::BadRequest("the request could not be processed".into()),
    };
    let (request, original) = response.into_parts();
    let mut replaced = actix_web::ResponseError::error_response(&error);
    // Keep the allow list of a 405 and any other headers actix set.
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    *replaced.status_mut() = status;
    Ok(ServiceResponse::new(request, replaced).map_into_right_body())
}

/// Reads a body of up to `limit` bytes, for routes that take files larger (or smaller) than the
/// service default; over the limit is 413 before anything is stored.
pub async fn read_limited_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    use futures_util::StreamExt as _;
    let too_large =
        || ApiError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or_default().min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::Document;
    use serde_json::json;

    #[test]
    fn integral_numbers_are_read_as_integers_and_others_are_kept() {
        let Document(value) =
            serde_json::from_str(r#"{"a": 485.0, "b": [1e2, 0.5, -3.0, 1e300], "c": {"d": 7}}"#)
                .unwrap();
        assert_eq!(
            value,
            json!({"a": 485, "b": [100, 0.5, -3, 1e300], "c": {"d": 7}})
        );
        assert!(value["a"].is_i64());
        #[derive(serde::Deserialize)]
        struct Typed {
            a: i32,
        }
        let typed: Typed = serde_json::from_value(json!({"a": 485})).unwrap();
        assert_eq!(typed.a, 485);
    }

    #[test]
    fn a_key_given_twice_is_refused_as_a_data_error_naming_it() {
        let error = serde_json::from_str::<Document>(r#"{"a": {"b": 1, "b": 2}}"#)
            .err()
            .unwrap();
        assert!(error.is_data());
        assert!(error.to_string().contains("duplicate field `b`"), "{error}");
    }
}
