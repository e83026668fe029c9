//! The audit trail: filters, keyset pagination newest first, validation, and the read itself audited.

use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, problem_fields, spawn_app, TestApp, REGISTRAR_ID};

async fn read_trail(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Value {
    let response = app
        .http
        .get(app.url("/v1/audit-events"))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query:?}");
    response.json().await.unwrap()
}

fn field<'a>(page: &'a Value, name: &str) -> Vec<&'a str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[name].as_str().unwrap())
        .collect()
}

fn assert_newest_first(page: &Value) {
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {ids:?}"
    );
}

async fn read_practice(app: &TestApp, token: &str, agb: &str) {
    let response = app
        .http
        .get(app.url(&format!("/v1/practices/{agb}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_trail_filters_by_subject_actor_action_time_and_outcome() {
    let app = spawn_app().await;
    let registrar = app.registrar_token().await;
    app.create_practice("07000001").await;
    app.create_practice("07000002").await;
    read_practice(&app, &registrar, "07000001").await;
    read_practice(&app, &registrar, "07000002").await;
    let practice = app.token_for(ClientRole::Practice, "07000001").await;
    read_practice(&app, &practice, "07000001").await;

    // Everything about one subject, newest first, with who did it.
    let page = read_trail(
        &app,
        &registrar,
        &[("subject_type", "practice"), ("subject_id", "07000001")],
    )
    .await;
    assert_eq!(
        field(&page, "action"),
        ["practice.read", "practice.read", "practice.create"]
    );
    assert_newest_first(&page);
    let newest = &page["items"][0];
    assert_eq!(newest["actor_role"], "practice");
    assert_ne!(newest["actor_client_id"], REGISTRAR_ID);
    assert_eq!(newest["outcome"], "success");
    assert!(newest["request_id"].as_str().is_some());
    assert!(newest["occurred_at"].as_str().is_some());
    assert_eq!(newest["on_behalf_of"], Value::Null);
    assert!(newest["detail"].is_object());
    assert_eq!(
        field(&page, "actor_client_id")[1..],
        [REGISTRAR_ID, REGISTRAR_ID]
    );
    assert!(page["next_cursor"].is_null());

    // One actor, every action under a prefix: no token, client or audit lines.
    let page = read_trail(
        &app,
        &registrar,
        &[("actor", REGISTRAR_ID), ("action", "practice.*")],
    )
    .await;
    assert_eq!(
        field(&page, "action"),
        [
            "practice.read",
            "practice.read",
            "practice.create",
            "practice.create"
        ]
    );
    assert_eq!(
        field(&page, "subject_id"),
        ["07000002", "07000001", "07000002", "07000001"]
    );
    assert_newest_first(&page);

    // An exact action; a prefix needs the `.*`.
    let page = read_trail(&app, &registrar, &[("action", "practice.read")]).await;
    assert_eq!(field(&page, "action").len(), 3);
    let page = read_trail(&app, &registrar, &[("action", "practice")]).await;
    assert!(field(&page, "action").is_empty());
    let page = read_trail(&app, &registrar, &[("action", "token.*")]).await;
    assert!(field(&page, "action").iter().all(|a| *a == "token.issue"));
    assert!(!field(&page, "action").is_empty());

    // Time range: `to` in the past is empty; around now holds everything; `+01:00` offsets count.
    let page = read_trail(&app, &registrar, &[("to", "2020-01-01T00:00:00Z")]).await;
    assert!(field(&page, "action").is_empty());
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::hours(1))
        .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap())
        .to_rfc3339();
    let to = (now + chrono::Duration::hours(1)).to_rfc3339();
    let page = read_trail(
        &app,
        &registrar,
        &[("from", &from), ("to", &to), ("subject_id", "07000002")],
    )
    .await;
    assert_eq!(field(&page, "action"), ["practice.read", "practice.create"]);
    let later = (now + chrono::Duration::hours(1)).to_rfc3339();
    let page = read_trail(&app, &registrar, &[("from", &later)]).await;
    assert!(field(&page, "action").is_empty());

    // Outcome: a refused token request is a denied line.
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", REGISTRAR_ID),
            ("client_secret", "not-the-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let page = read_trail(&app, &registrar, &[("outcome", "denied")]).await;
    assert_eq!(field(&page, "action"), ["token.issue"]);
    assert_eq!(field(&page, "subject_id"), [REGISTRAR_ID]);
    assert_eq!(field(&page, "outcome"), ["denied"]);
}

#[tokio::test]
async fn the_trail_pages_newest_first_by_cursor() {
    let app = spawn_app().await;
    let registrar = app.registrar_token().await;
    for agb in ["07000001", "07000002", "07000003"] {
        app.create_practice(agb).await;
    }
    let query = |cursor: Option<&str>| {
        let mut query = vec![
            ("action".to_string(), "practice.create".to_string()),
            ("limit".to_string(), "1".to_string()),
        ];
        if let Some(cursor) = cursor {
            query.push(("cursor".to_string(), cursor.to_string()));
        }
        query
    };
    let mut seen = Vec::new();
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let response = app
            .http
            .get(app.url("/v1/audit-events"))
            .bearer_auth(&registrar)
            .query(&query(cursor.as_deref()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        seen.push(page["items"][0]["subject_id"].as_str().unwrap().to_string());
        ids.push(page["items"][0]["id"].as_i64().unwrap());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["07000003", "07000002", "07000001"]);
    assert!(ids.windows(2).all(|w| w[0] > w[1]));

    let response = app
        .http
        .get(app.url("/v1/audit-events"))
        .bearer_auth(&registrar)
        .query(&[("cursor", "not-a-cursor!")])
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), ["cursor"]);
}

#[tokio::test]
async fn bad_filters_are_named_and_only_the_registrar_reads_the_trail() {
    let app = spawn_app().await;
    let registrar = app.registrar_token().await;
    // (query, the fields the problem names)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 5] = [
        (&[("from", "yesterday")], &["from"]),
        (&[("from", "2026-11-01")], &["from"]),
        (
            &[
                ("from", "2026-11-02T00:00:00Z"),
                ("to", "2026-11-01T00:00:00Z"),
            ],
            &["to"],
        ),
        (
            &[
                ("from", "2026-11-01T00:00:00Z"),
                ("to", "2026-11-01T01:00:00+01:00"),
            ],
            &["to"],
        ),
        (&[("outcome", "maybe"), ("to", "soon")], &["to", "outcome"]),
    ];
    for (query, fields) in cases {
        let response = app
            .http
            .get(app.url("/v1/audit-events"))
            .bearer_auth(&registrar)
            .query(query)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422).await;
        assert_eq!(problem_fields(&problem), fields, "{query:?}");
    }
    let response = app
        .http
        .get(app.url("/v1/audit-events"))
        .bearer_auth(&registrar)
        .query(&[("limit", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_fields(&expect_problem(response, 422).await),
        ["limit"]
    );

    app.create_practice("07000001").await;
    let practice = app.token_for(ClientRole::Practice, "07000001").await;
    let response = app
        .http
        .get(app.url("/v1/audit-events"))
        .bearer_auth(&practice)
        .send()
        .await
        .unwrap();
    expect_problem(response, 403).await;
    let response = app
        .http
        .get(app.url("/v1/audit-events"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401).await;
}

#[tokio::test]
async fn reading_the_trail_is_itself_in_the_trail_after_the_read() {
    let app = spawn_app().await;
    let registrar = app.registrar_token().await;
    app.create_practice("07000001").await;

    let page = read_trail(
        &app,
        &registrar,
        &[("subject_id", "07000001"), ("action", "practice.*")],
    )
    .await;
    assert_eq!(field(&page, "action"), ["practice.create"]);

    // The first `audit.read` query does not see itself, only the earlier read.
    let page = read_trail(&app, &registrar, &[("action", "audit.read")]).await;
    assert_eq!(field(&page, "action"), ["audit.read"]);
    let read = &page["items"][0];
    assert_eq!(read["subject_type"], "audit_events");
    assert_eq!(read["subject_id"], "*");
    assert_eq!(read["actor_client_id"], REGISTRAR_ID);
    assert_eq!(
        read["detail"],
        json!({"subject_id": "07000001", "action": "practice.*"})
    );

    let page = read_trail(&app, &registrar, &[("action", "audit.*")]).await;
    assert_eq!(field(&page, "action"), ["audit.read", "audit.read"]);
    assert_eq!(page["items"][0]["detail"], json!({"action": "audit.read"}));
    assert_newest_first(&page);

    // A refused read leaves no `audit.read` line.
    let response = app
        .http
        .get(app.url("/v1/audit-events"))
        .bearer_auth(&registrar)
        .query(&[("from", "bad")])
        .send()
        .await
        .unwrap();
    expect_problem(response, 422).await;
    assert_eq!(crate::helpers::audit_count(&app, "audit.read"), 3);
}
