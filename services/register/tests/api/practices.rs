//! Practices: register, read, change with If-Match, list with filters and keyset pagination.

use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, practice_body, problem_fields, spawn_app};

#[tokio::test]
async fn a_registered_practice_reads_back_normalised_with_an_etag() {
    let app = spawn_app().await;
    let created = app.create_practice("07000001").await;
    assert_eq!(created["version"], 1);
    assert_eq!(created["tier"], "praktijkregister");
    let response = app
        .http
        .get(app.url("/v1/practices/07000001"))
        .bearer_auth(app.registrar_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let practice: Value = response.json().await.unwrap();
    assert_eq!(practice["locations"][0]["postal_code"], "3512 AB");
    assert_eq!(practice["locations"][0]["phone"], "+31301234567");
    assert_eq!(practice["contact"]["phone"], "+31201234567");
    assert_eq!(practice["locations"][0]["own_reception"], false);
}

#[tokio::test]
async fn invalid_fields_are_each_named_and_zorgsoort_04_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let mut body = practice_body("04000001");
    body["kvk_number"] = json!("1234");
    body["locations"][0]["postal_code"] = json!("0123 AB");
    body["locations"][0]["kvk_branch_number"] = json!("123");
    let response = app
        .http
        .post(app.url("/v1/practices"))
        .bearer_auth(app.registrar_token().await)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    let fields = problem_fields(&problem);
    for field in [
        "agb",
        "kvk_number",
        "locations[0].postal_code",
        "locations[0].kvk_branch_number",
    ] {
        assert!(
            fields.contains(&field.to_string()),
            "{field} missing in {problem}"
        );
    }
    let agb = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "agb")
        .unwrap();
    assert_eq!(agb["code"], "agb_zorgsoort");
    assert!(agb["message"].as_str().unwrap().contains("07"));

    let mut bad_agb = practice_body("0700001");
    bad_agb["locations"][0]["website"] = json!("ftp://example.nl");
    let response = app
        .http
        .post(app.url("/v1/practices"))
        .bearer_auth(app.registrar_token().await)
        .json(&bad_agb)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["code"], "agb_format");
    assert!(problem_fields(&problem).contains(&"locations[0].website".to_string()));

    // A space or control inside an address is a typing error, not something to encode.
    for website in [
        "https://example.nl/onze praktijk",
        "https://example.nl/\u{1}",
    ] {
        let mut spaced = practice_body("07000001");
        spaced["locations"][0]["website"] = json!(website);
        let response = app
            .http
            .post(app.url("/v1/practices"))
            .bearer_auth(app.registrar_token().await)
            .json(&spaced)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422).await;
        assert_eq!(
            problem_fields(&problem),
            vec!["locations[0].website"],
            "{website}"
        );
    }
}

#[tokio::test]
async fn a_duplicate_agb_is_409_and_keeps_the_first() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    let mut second = practice_body("07000001");
    second["name"] = json!("Another name");
    let response = app
        .http
        .post(app.url("/v1/practices"))
        .bearer_auth(app.registrar_token().await)
        .json(&second)
        .send()
        .await
        .unwrap();
    expect_problem(response, 409).await;
    let practice: Value = app
        .http
        .get(app.url("/v1/practices/07000001"))
        .bearer_auth(app.registrar_token().await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(practice["name"], "Oefentherapie 07000001");
}

#[tokio::test]
async fn updates_need_the_current_etag() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    let token = app.registrar_token().await;
    let patch = |etag: Option<&'static str>, body: Value| {
        let mut request = app
            .http
            .patch(app.url("/v1/practices/07000001"))
            .bearer_auth(&token)
            .json(&body);
        if let Some(etag) = etag {
            request = request.header("If-Match", etag);
        }
        request.send()
    };
    expect_problem(patch(None, json!({"name": "New"})).await.unwrap(), 428).await;

    let updated = patch(
        Some("\"1\""),
        json!({"name": "New name", "tier": "basispraktijkregister"}),
    )
    .await
    .unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(updated.headers()["etag"], "\"2\"");
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["name"], "New name");
    assert_eq!(updated["tier"], "basispraktijkregister");
    assert_eq!(
        updated["locations"].as_array().unwrap().len(),
        1,
        "locations kept"
    );

    let stale = patch(Some("\"1\""), json!({"name": "Lost update"}))
        .await
        .unwrap();
    let problem = expect_problem(stale, 412).await;
    assert!(problem["detail"].as_str().unwrap().contains("\"2\""));

    let invalid = patch(Some("\"2\""), json!({"kvk_number": "abc"}))
        .await
        .unwrap();
    let problem = expect_problem(invalid, 422).await;
    assert_eq!(problem_fields(&problem), vec!["kvk_number"]);

    let practice: Value = app
        .http
        .get(app.url("/v1/practices/07000001"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(practice["name"], "New name");
    assert_eq!(practice["version"], 2);

    let missing = app
        .http
        .patch(app.url("/v1/practices/07999998"))
        .bearer_auth(&token)
        .header("If-Match", "\"1\"")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404).await;
}

#[tokio::test]
async fn the_list_filters_and_pages_by_keyset() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    for (agb, name, city, postal_code) in [
        ("07000003", "Beweegpunt Noord", "Groningen", "9711 AA"),
        ("07000001", "De Beweging", "Utrecht", "3512 AB"),
        ("07000002", "Oefenpraktijk Zuid", "Maastricht", "6211 CD"),
    ] {
        let mut body = practice_body(agb);
        body["name"] = json!(name);
        body["locations"][0]["city"] = json!(city);
        body["locations"][0]["postal_code"] = json!(postal_code);
        let response = app
            .http
            .post(app.url("/v1/practices"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let get = |query: String| {
        let (http, url, token) = (
            app.http.clone(),
            app.url(&format!("/v1/practices?{query}")),
            token.clone(),
        );
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let agbs = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["agb"].as_str().unwrap().to_string())
            .collect()
    };

    let first = get("limit=2".into()).await;
    assert_eq!(agbs(&first), ["07000001", "07000002"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(format!("limit=2&cursor={cursor}")).await;
    assert_eq!(agbs(&second), ["07000003"]);
    assert!(second["next_cursor"].is_null());

    assert_eq!(
        agbs(&get("name=BEWE".into()).await),
        ["07000001", "07000003"]
    );
    assert_eq!(agbs(&get("city=utrecht".into()).await), ["07000001"]);
    assert_eq!(
        agbs(&get("postal_code_prefix=62".into()).await),
        ["07000002"]
    );
    assert_eq!(
        agbs(&get("postal_code_prefix=6211cd".into()).await),
        ["07000002"]
    );
    assert_eq!(
        agbs(&get("name=%25".into()).await),
        Vec::<String>::new(),
        "% is literal"
    );
}

#[tokio::test]
async fn a_practice_client_sees_only_its_own_practice() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    app.create_practice("07000002").await;
    let token = app.token_for(ClientRole::Practice, "07000001").await;
    let list: Value = app
        .http
        .get(app.url("/v1/practices"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["agb"], "07000001");
    let other = app
        .http
        .get(app.url("/v1/practices/07000002"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_problem(other, 404).await;
}

#[tokio::test]
async fn a_practice_client_cannot_be_bound_to_an_unknown_practice() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/v1/clients"))
        .bearer_auth(app.registrar_token().await)
        .json(&json!({"name": "x", "role": "practice", "practice_agb": "07000404"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["code"], "practice_unknown");
    let response = app
        .http
        .post(app.url("/v1/clients"))
        .bearer_auth(app.registrar_token().await)
        .json(&json!({"name": "x", "role": "insurer"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), vec!["insurer_uzovi"]);
}

#[tokio::test]
async fn reads_and_writes_are_in_the_audit_log() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    app.http
        .get(app.url("/v1/practices/07000001"))
        .bearer_auth(app.registrar_token().await)
        .send()
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        request_id: Option<String>,
    }
    let mut conn = app.db().connect();
    let rows: Vec<Row> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT action, request_id FROM audit_events WHERE subject_id = '07000001' ORDER BY id",
        ),
        &mut conn,
    )
    .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["practice.create", "practice.read"]);
    assert!(rows.iter().all(|r| r.request_id.is_some()));
    // Append-only.
    let tamper =
        diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM audit_events"), &mut conn);
    assert!(tamper.is_err());
}
