//! The shared HTTP frame: health, metrics, request ids and problem+json for every kind of bad request.

use serde_json::json;

use crate::helpers::{expect_problem, problem_fields, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_reports_live_and_ready() {
    let app = spawn_app().await;
    let live = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready: serde_json::Value = app
        .http
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn readiness_fails_with_a_problem_when_the_database_is_gone() {
    let app = spawn_app().await;
    let mut conn = praktijkregister_platform::testing::TestDatabase::admin();
    let name = app.db().name().to_string();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)")),
        &mut conn,
    )
    .unwrap();
    let ready = app.http.get(app.url("/health/ready")).send().await.unwrap();
    let problem = expect_problem(ready, 503).await;
    assert!(problem["detail"].as_str().unwrap().contains("database"));
}

#[tokio::test]
async fn the_request_id_is_echoed_or_made_and_appears_in_problems() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/nowhere"))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let problem = expect_problem(response, 404).await;
    assert_eq!(problem["request_id"], "abc-123");
    assert_eq!(problem["instance"], "/nowhere");

    // A forged id (line breaks, too long) is replaced by a fresh one.
    let response = app
        .http
        .get(app.url("/health/live"))
        .header("X-Request-Id", "x".repeat(300))
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36);
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let app = spawn_app().await;
    let response = app.http.put(app.url("/v1/practices")).send().await.unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    expect_problem(response, 405).await;
    let response = app.http.post(app.url("/health/live")).send().await.unwrap();
    expect_problem(response, 405).await;
}

#[tokio::test]
async fn bad_bodies_are_problems_and_change_nothing() {
    let app = spawn_app_with(|s| s.settings.http.max_body_bytes = 2048).await;
    let token = app.registrar_token().await;
    let post = |body: reqwest::Body, content_type: &'static str| {
        app.http
            .post(app.url("/v1/practices"))
            .bearer_auth(&token)
            .header("Content-Type", content_type)
            .body(body)
    };
    let malformed = post("{\"agb\": ".into(), "application/json")
        .send()
        .await
        .unwrap();
    expect_problem(malformed, 400).await;
    let wrong_type = post("agb=07000001".into(), "text/plain")
        .send()
        .await
        .unwrap();
    expect_problem(wrong_type, 415).await;
    let huge = json!({"agb": "07000001", "name": "x".repeat(4096)}).to_string();
    let too_large = post(huge.into(), "application/json").send().await.unwrap();
    expect_problem(too_large, 413).await;
    let unknown_field = post(
        json!({"agb": "07000001", "name": "A", "kvk_number": "12345678", "locations": [], "colour": "red"})
            .to_string()
            .into(),
        "application/json",
    )
    .send()
    .await
    .unwrap();
    let problem = expect_problem(unknown_field, 422).await;
    assert_eq!(problem_fields(&problem), vec!["colour"]);
    // An object written as the array of its fields, whole or nested, is no object.
    let location = json!({
        "agb": "07999999", "kvk_branch_number": "000012345678", "street": "Dorpsstraat",
        "house_number": "12a", "postal_code": "3512ab", "city": "Utrecht",
        "own_entrance": true, "own_waiting_room": true, "own_reception": false,
        "own_administration": true, "own_logo": true
    });
    for body in [
        json!([
            "07000001",
            "Oefentherapie Rij",
            "12345678",
            null,
            null,
            [location.clone()]
        ]),
        json!({"agb": "07000001", "name": "Oefentherapie Rij", "kvk_number": "12345678",
            "contact": ["J. de Vries", null, null], "locations": [location]}),
    ] {
        let as_array = post(body.to_string().into(), "application/json")
            .send()
            .await
            .unwrap();
        expect_problem(as_array, 422).await;
    }

    let list = app
        .http
        .get(app.url("/v1/practices"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let list: serde_json::Value = list.json().await.unwrap();
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    for (query, field) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=%%%", "cursor"),
    ] {
        let response = app
            .http
            .get(app.url(&format!("/v1/practices?{query}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let problem = expect_problem(response, if status == 400 { 400 } else { 422 }).await;
        assert!(
            problem_fields(&problem).contains(&field.to_string())
                || problem["detail"].as_str().unwrap().contains(field),
            "{query}: {problem}"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    for agb in ["07000001", "07000002"] {
        app.http
            .get(app.url(&format!("/v1/practices/{agb}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
    }
    let text = app.metrics().await;
    assert!(
        text.contains("route=\"/v1/practices/{agb}\",status=\"404\"} 2"),
        "{text}"
    );
    assert!(text.contains("db_pool_connections{service=\"register\",state=\"max\"}"));
    assert!(
        !text.contains("07000001"),
        "raw paths must not become labels"
    );
}

#[tokio::test]
async fn a_nul_character_in_text_is_refused_not_a_server_error() {
    let app = spawn_app().await;
    let mut body = crate::helpers::practice_body("07000001");
    body["name"] = json!("Oefentherapie\u{0}Nul");
    let response = app
        .http
        .post(app.url("/v1/practices"))
        .bearer_auth(app.registrar_token().await)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "text_characters", "{problem}");
}

#[tokio::test]
async fn a_statement_that_outlasts_the_statement_timeout_is_a_503_not_a_hang() {
    use std::time::Duration;
    let app = spawn_app().await;
    let pool = praktijkregister_platform::db::pool(
        app.db().url(),
        1,
        Duration::from_secs(5),
        Duration::from_millis(200),
    )
    .unwrap();
    let mut conn = pool.get().await.unwrap();
    let outcome =
        diesel_async::RunQueryDsl::execute(diesel::sql_query("SELECT pg_sleep(5)"), &mut conn)
            .await;
    let error = praktijkregister_platform::error::ApiError::from(outcome.unwrap_err());
    assert!(
        matches!(
            error,
            praktijkregister_platform::error::ApiError::ServiceUnavailable(_)
        ),
        "{error:?}"
    );
}

/// What the server answers to `request` sent as raw bytes: status line, headers and body.
async fn raw(app: &crate::helpers::TestApp, request: &[u8]) -> (String, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (
        status.to_string(),
        headers.to_ascii_lowercase(),
        body.to_string(),
    )
}

#[tokio::test]
async fn requests_the_http_layer_refuses_are_answered_as_problems() {
    let app = spawn_app().await;
    // Over the header limit, like an over-long request line: the head is too large (431).
    let many_headers = format!(
        "GET /health/live HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..120)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let malformed = "GET /health/live HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n";
    let without_host = "GET /health/live HTTP/1.1\r\nAccept: */*\r\n\r\n";
    // Both framings of a body: whichever the server chose, a proxy may have chosen the other.
    let ambiguous_length = "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\
        Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    for (request, status) in [
        (ambiguous_length.as_bytes(), 400),
        (many_headers.as_bytes(), 431),
        (malformed.as_bytes(), 400),
        (without_host.as_bytes(), 400),
    ] {
        let (line, headers, body) = raw(&app, request).await;
        assert!(line.starts_with(&format!("HTTP/1.1 {status} ")), "{line}");
        assert!(
            headers.contains("content-type: application/problem+json"),
            "{headers}"
        );
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], status, "{body}");
        assert!(problem["detail"].as_str().unwrap().len() > 10);
    }
    // The connection still serves ordinary requests as before.
    let (line, headers, _) = raw(
        &app,
        b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(line.starts_with("HTTP/1.1 200 "), "{line}");
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
}

#[tokio::test]
async fn metrics_are_strict_exposition_text_with_process_outbox_and_inbox_figures() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    app.http
        .get(app.url("/v1/practices/07000001"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    // Two events for a destination without a URL (the relay leaves them alone), one of them
    // delivered, and one event received from the visitation service.
    diesel::connection::SimpleConnection::batch_execute(
        &mut app.db().connect(),
        "INSERT INTO outbox_events (event_id, destination, kind, payload, status, delivered_at) VALUES \
         (gen_random_uuid(), 'unconfigured', 'practice_changed', '{}', 'pending', NULL), \
         (gen_random_uuid(), 'unconfigured', 'practice_changed', '{}', 'delivered', now()); \
         INSERT INTO inbox_events (event_id, kind, request_sha256, response) VALUES \
         (gen_random_uuid(), 'visitation_outcome', 'x', '{}')",
    )
    .unwrap();
    let text = app.metrics().await;

    let families = praktijkregister_platform::testing::check_exposition(&text);
    for (name, kind) in [
        ("http_requests_total", "counter"),
        ("http_request_duration_seconds", "histogram"),
        ("db_pool_connections", "gauge"),
        ("db_pool_waiting", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("prr_outbox_pending", "gauge"),
        ("prr_outbox_events", "gauge"),
        ("prr_inbox_events", "gauge"),
        ("prr_kp_verification_runs", "gauge"),
    ] {
        let family = families
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing: {text}"));
        assert_eq!(family.kind, kind, "{name}");
        assert!(
            family
                .samples
                .iter()
                .all(|s| s.label("service") == Some("register")),
            "{name} labelled with the service"
        );
    }
    let value = |name: &str, labels: &[(&str, &str)]| {
        families[name]
            .samples
            .iter()
            .find(|s| labels.iter().all(|(k, v)| s.label(k) == Some(v)))
            .map(|s| s.value)
    };
    assert!(value("process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(value("process_open_fds", &[]).unwrap() > 0.0);
    for status in ["pending", "delivered"] {
        assert_eq!(
            value(
                "prr_outbox_events",
                &[("destination", "unconfigured"), ("status", status)]
            ),
            Some(1.0),
            "{status}"
        );
    }
    assert_eq!(
        value("prr_inbox_events", &[("kind", "visitation_outcome")]),
        Some(1.0)
    );
}
