//! The HTTP frame every service shares, tested once on a small app of its own: every error the
//! frame or an extractor produces is problem+json with the request id; unknown routes are 404,
//! wrong methods 405 with `Allow`, oversized bodies 413, other media types 415, malformed JSON
//! 400, bad fields, path and query parameters 422 naming the field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use actix_web::{get, post, test, web, HttpResponse};
use praktijkregister_platform::db;
use praktijkregister_platform::http::{build_app, openapi_document, Frame};
use praktijkregister_platform::metrics::Metrics;
use praktijkregister_platform::rate_limit::RateLimiter;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::OpenApi;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    count: u32,
}

#[derive(Deserialize, utoipa::IntoParams)]
struct Search {
    limit: u32,
}

/// Create an item
///
/// Test route.
#[utoipa::path(request_body = Item, responses((status = 201, description = "Created")))]
#[post("/v1/items")]
async fn create(item: web::Json<Item>) -> HttpResponse {
    HttpResponse::Created().json(json!({"name": item.name, "count": item.count}))
}

/// Read an item
///
/// Test route.
#[utoipa::path(params(("id" = u32, Path, description = "id")), responses((status = 200, description = "The item")))]
#[get("/v1/items/{id}")]
async fn read(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"id": id.into_inner()}))
}

/// Search items
///
/// Test route.
#[utoipa::path(params(Search), responses((status = 200, description = "Found")))]
#[get("/v1/search")]
async fn search(query: web::Query<Search>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"limit": query.limit}))
}

fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create).service(read).service(search);
}

#[derive(OpenApi)]
#[openapi(info(title = "frame test", version = "1"))]
struct Doc;

async fn app() -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    // The pool connects lazily; these routes never ask for a connection.
    let pool = db::pool(
        "postgres://nobody@127.0.0.1:1/none",
        1,
        Duration::from_millis(100),
        Duration::from_secs(1),
    )
    .unwrap();
    let frame = Frame {
        pool,
        metrics: Arc::new(Metrics::new("frame-test").unwrap()),
        rate_limiter: Arc::new(RateLimiter::new(1000, 1000)),
        max_body_bytes: 64,
        denial_limiter: Default::default(),
    };
    let document = Arc::new(openapi_document(Doc::openapi(), configure));
    test::init_service(build_app(frame, document, configure)).await
}

/// Sends `request` and checks the answer is a problem with `status`; returns it.
async fn problem(
    request: test::TestRequest,
    status: u16,
) -> (Value, actix_web::http::header::HeaderMap) {
    let app = app().await;
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status().as_u16(), status);
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://")),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(body["request_id"].as_str().is_some(), "{body}");
    assert_eq!(
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        body["request_id"].as_str(),
        "{body}"
    );
    (body, headers)
}

fn field(problem: &Value) -> Option<&str> {
    problem["errors"][0]["field"].as_str()
}

#[actix_web::test]
async fn a_good_request_passes_and_carries_the_callers_request_id() {
    let app = app().await;
    let request = test::TestRequest::post()
        .uri("/v1/items")
        .insert_header(("x-request-id", "trace-me-42"))
        .set_json(json!({"name": "a", "count": 1}))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "trace-me-42"
    );
}

#[actix_web::test]
async fn an_unknown_route_is_404() {
    let (body, _) = problem(test::TestRequest::get().uri("/v1/nothing-here"), 404).await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("/v1/nothing-here"));
}

#[actix_web::test]
async fn a_wrong_method_is_405_with_allow() {
    let (_, headers) = problem(test::TestRequest::delete().uri("/v1/items/7"), 405).await;
    assert_eq!(headers.get("allow").unwrap(), "GET");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let request = test::TestRequest::post()
        .uri("/v1/items")
        .set_json(json!({"name": "x".repeat(200), "count": 1}));
    problem(request, 413).await;
}

#[actix_web::test]
async fn another_media_type_is_415() {
    let request = test::TestRequest::post()
        .uri("/v1/items")
        .insert_header(("content-type", "text/plain"))
        .set_payload("name=a");
    problem(request, 415).await;
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let request = test::TestRequest::post()
        .uri("/v1/items")
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"name\": ");
    problem(request, 400).await;
}

#[actix_web::test]
async fn a_field_of_the_wrong_type_or_unknown_is_422_naming_it() {
    let request = test::TestRequest::post()
        .uri("/v1/items")
        .set_json(json!({"name": "a", "count": "many"}));
    let (body, _) = problem(request, 422).await;
    assert_eq!(body["errors"][0]["code"], "invalid_value", "{body}");

    let request = test::TestRequest::post()
        .uri("/v1/items")
        .set_json(json!({"name": "a", "count": 1, "bsn": "123456782"}));
    let (body, _) = problem(request, 422).await;
    assert_eq!(field(&body), Some("bsn"), "{body}");

    let request = test::TestRequest::post()
        .uri("/v1/items")
        .set_json(json!({"name": "a"}));
    let (body, _) = problem(request, 422).await;
    assert_eq!(field(&body), Some("count"), "{body}");
}

#[actix_web::test]
async fn a_bad_path_or_query_parameter_is_422() {
    let (body, _) = problem(test::TestRequest::get().uri("/v1/items/seven"), 422).await;
    assert_eq!(
        body["errors"][0]["code"], "invalid_path_parameter",
        "{body}"
    );

    let (body, _) = problem(test::TestRequest::get().uri("/v1/search"), 422).await;
    assert_eq!(field(&body), Some("limit"), "{body}");
    assert_eq!(
        body["errors"][0]["code"], "invalid_query_parameter",
        "{body}"
    );

    // serde does not name a parameter whose value is refused: the answer names the query.
    let (body, _) = problem(test::TestRequest::get().uri("/v1/search?limit=-1"), 422).await;
    assert_eq!(field(&body), Some("query"), "{body}");
}
