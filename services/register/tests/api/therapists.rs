//! Therapists: register, read, change with If-Match; memberships of practices; what a practice
//! client may see.

use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{
    audit_count, create_therapist, expect_problem, problem_fields, spawn_app, stored_kp, TestApp,
};

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn patch(
    app: &TestApp,
    token: &str,
    agb: &str,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .http
        .patch(app.url(&format!("/v1/therapists/{agb}")))
        .bearer_auth(token)
        .json(&body);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    request.send().await.unwrap()
}

async fn put_membership(
    app: &TestApp,
    token: &str,
    practice: &str,
    therapist: &str,
    body: Value,
) -> reqwest::Response {
    app.http
        .put(app.url(&format!("/v1/practices/{practice}/therapists/{therapist}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn agbs_of(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["agb"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_therapist_is_registered_read_and_changed_with_if_match() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&token)
        .json(&json!({"agb": " 07123456 ", "name": "  A. Jansen ", "email": "A.Jansen@Example.NL", "kp_number": "123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/v1/therapists/07123456");
    assert_eq!(response.headers()["etag"], "\"1\"");
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["agb"], "07123456");
    assert_eq!(created["name"], "A. Jansen");
    assert_eq!(created["email"], "A.Jansen@example.nl");
    assert_eq!(created["kp"]["number"], "123456");
    assert_eq!(created["kp"]["source"], "registrar");
    assert!(created["kp"]["status"].is_null() && created["kp"]["verified_at"].is_null());
    assert_eq!(created["memberships"], json!([]));

    let response = get(&app, &token, "/v1/therapists/07123456").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let read: Value = response.json().await.unwrap();
    assert_eq!(read["name"], "A. Jansen");
    assert_eq!(audit_count(&app, "therapist.read"), 1);

    // KP data from an import stays when only the name changes...
    {
        use diesel::RunQueryDsl as _;
        diesel::sql_query(
            "UPDATE therapists SET kp_status = 'kwaliteitsgeregistreerd', kp_valid_from = '2024-01-01', \
             kp_valid_until = '2028-12-31', kp_verified_at = now(), kp_source = 'import' WHERE agb = '07123456'",
        )
        .execute(&mut app.db().connect())
        .unwrap();
    }
    let response = patch(
        &app,
        &token,
        "07123456",
        Some("\"1\""),
        json!({"name": "A. Jansen-de Boer"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["name"], "A. Jansen-de Boer");
    assert_eq!(changed["kp"]["status"], "kwaliteitsgeregistreerd");
    assert_eq!(changed["kp"]["valid_until"], "2028-12-31");

    // ...but a new KP number clears what belonged to the old one; null clears the e-mail.
    let response = patch(
        &app,
        &token,
        "07123456",
        Some("\"2\""),
        json!({"kp_number": "654321", "email": null}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["version"], 3);
    assert!(changed["email"].is_null());
    assert_eq!(
        changed["kp"],
        json!({"number": "654321", "status": null, "valid_from": null, "valid_until": null, "verified_at": null, "source": "registrar"})
    );
    let stored = stored_kp(&app, "07123456");
    assert_eq!(stored.kp_number.as_deref(), Some("654321"));
    assert!(
        stored.kp_status.is_none()
            && stored.kp_verified_at.is_none()
            && stored.kp_valid_from.is_none()
    );
    assert_eq!(stored.version, 3);

    // A stale ETag is 412, none at all 428; neither changes anything.
    let problem = expect_problem(
        patch(
            &app,
            &token,
            "07123456",
            Some("\"2\""),
            json!({"name": "X"}),
        )
        .await,
        412,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("\"3\""),
        "{problem}"
    );
    expect_problem(
        patch(&app, &token, "07123456", None, json!({"name": "X"})).await,
        428,
    )
    .await;
    let read: Value = get(&app, &token, "/v1/therapists/07123456")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["name"], "A. Jansen-de Boer");
    assert_eq!(read["version"], 3);
    assert_eq!(audit_count(&app, "therapist.update"), 2);

    expect_problem(get(&app, &token, "/v1/therapists/07999998").await, 404).await;
    expect_problem(get(&app, &token, "/v1/therapists/not-an-agb").await, 404).await;
    expect_problem(
        patch(
            &app,
            &token,
            "07999998",
            Some("\"1\""),
            json!({"name": "X"}),
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn invalid_fields_are_each_named_and_zorgsoort_04_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&token)
        .json(
            &json!({"agb": "04123456", "name": " ", "email": "not-an-email", "kp_number": "KP12"}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(
        problem_fields(&problem),
        vec!["agb", "name", "email", "kp_number"]
    );
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors[0]["code"], "agb_zorgsoort");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("zorgsoort 04"),
        "{problem}"
    );
    assert_eq!(errors[2]["code"], "email_format");
    assert_eq!(errors[3]["code"], "kp_format");

    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&token)
        .json(&json!({"agb": "0712", "name": "B"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "agb");
    assert_eq!(problem["errors"][0]["code"], "agb_format");

    // An invalid patch names its fields too and stores nothing.
    create_therapist(
        &app,
        &token,
        json!({"agb": "07123456", "name": "A. Jansen"}),
    )
    .await;
    let problem = expect_problem(
        patch(
            &app,
            &token,
            "07123456",
            Some("*"),
            json!({"name": "", "email": "x@", "kp_number": "12 34"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&problem), vec!["name", "email", "kp_number"]);
    assert_eq!(stored_kp(&app, "07123456").version, 1);

    // Malformed JSON is a 400 problem, an unknown field a 422 naming it.
    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"agb\": \"07123457\", ")
        .send()
        .await
        .unwrap();
    expect_problem(response, 400).await;
    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&token)
        .json(&json!({"agb": "07123457", "name": "B", "bsn": "123456782"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), vec!["bsn"]);
    expect_problem(get(&app, &token, "/v1/therapists/07123457").await, 404).await;
}

#[tokio::test]
async fn a_second_therapist_with_the_same_agb_or_kp_number_is_a_conflict() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100001", "name": "A", "kp_number": "111"}),
    )
    .await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100002", "name": "B", "kp_number": "222"}),
    )
    .await;

    let post = |body: Value| {
        let request = app
            .http
            .post(app.url("/v1/therapists"))
            .bearer_auth(&token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let problem = expect_problem(
        post(json!({"agb": "07100001", "name": "A again"})).await,
        409,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("07100001"),
        "{problem}"
    );
    let problem = expect_problem(
        post(json!({"agb": "07100003", "name": "C", "kp_number": "111"})).await,
        409,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("111"),
        "{problem}"
    );
    expect_problem(get(&app, &token, "/v1/therapists/07100003").await, 404).await;

    // Taking another therapist's number by a change is refused as well; keeping one's own is fine.
    expect_problem(
        patch(
            &app,
            &token,
            "07100002",
            Some("\"1\""),
            json!({"kp_number": "111"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(
        stored_kp(&app, "07100002").kp_number.as_deref(),
        Some("222")
    );
    let response = patch(
        &app,
        &token,
        "07100002",
        Some("\"1\""),
        json!({"kp_number": "222", "name": "B2"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(audit_count(&app, "therapist.create"), 2);
}

#[tokio::test]
async fn memberships_are_put_listed_page_by_page_and_deleted() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    app.create_practice("07012345").await;
    app.create_practice("07012399").await;
    for (agb, kp) in [("07100001", "1"), ("07100002", "2"), ("07100003", "3")] {
        create_therapist(
            &app,
            &token,
            json!({"agb": agb, "name": format!("Therapist {agb}"), "kp_number": kp}),
        )
        .await;
    }

    let response = put_membership(
        &app,
        &token,
        "07012345",
        "07100001",
        json!({"start_date": "2020-01-01"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["location"],
        "/v1/practices/07012345/therapists/07100001"
    );
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        created,
        json!({"practice_agb": "07012345", "therapist_agb": "07100001", "start_date": "2020-01-01", "end_date": null})
    );
    // Putting it again replaces the dates.
    let response = put_membership(
        &app,
        &token,
        "07012345",
        "07100001",
        json!({"start_date": "2020-02-01", "end_date": "2025-12-31"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let replaced: Value = response.json().await.unwrap();
    assert_eq!(replaced["start_date"], "2020-02-01");
    assert_eq!(replaced["end_date"], "2025-12-31");
    for (practice, therapist) in [
        ("07012345", "07100002"),
        ("07012345", "07100003"),
        ("07012399", "07100001"),
    ] {
        let response = put_membership(
            &app,
            &token,
            practice,
            therapist,
            json!({"start_date": "2024-01-01"}),
        )
        .await;
        assert_eq!(response.status(), 201);
    }
    assert_eq!(audit_count(&app, "membership.put"), 5);

    // One therapist at two practices.
    let therapist: Value = get(&app, &token, "/v1/therapists/07100001")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        therapist["memberships"],
        json!([
            {"practice_agb": "07012345", "start_date": "2020-02-01", "end_date": "2025-12-31"},
            {"practice_agb": "07012399", "start_date": "2024-01-01", "end_date": null}
        ])
    );

    // Page by page, one at a time, in AGB order.
    let mut seen = Vec::new();
    let mut path = "/v1/practices/07012345/therapists?limit=1".to_string();
    loop {
        let response = get(&app, &token, &path).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
        seen.push(page["items"][0].clone());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/practices/07012345/therapists?limit=1&cursor={cursor}")
            }
            None => break,
        }
    }
    let agbs: Vec<&str> = seen.iter().map(|i| i["agb"].as_str().unwrap()).collect();
    assert_eq!(agbs, vec!["07100001", "07100002", "07100003"]);
    assert_eq!(seen[0]["end_date"], "2025-12-31");
    assert_eq!(seen[1]["kp_number"], "2");
    assert!(seen[1]["kp_status"].is_null());

    // Only memberships that include the day.
    let page: Value = get(
        &app,
        &token,
        "/v1/practices/07012345/therapists?active_on=2026-06-01",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(agbs_of(&page), vec!["07100002", "07100003"]);
    let page: Value = get(
        &app,
        &token,
        "/v1/practices/07012345/therapists?active_on=2021-06-01",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(agbs_of(&page), vec!["07100001"]);
    let problem = expect_problem(
        get(
            &app,
            &token,
            "/v1/practices/07012345/therapists?active_on=June",
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&problem), vec!["active_on"]);
    expect_problem(
        get(&app, &token, "/v1/practices/07099999/therapists").await,
        404,
    )
    .await;

    // End before start is refused, naming end_date; unknown practice or therapist is 404.
    let problem = expect_problem(
        put_membership(
            &app,
            &token,
            "07012399",
            "07100002",
            json!({"start_date": "2024-01-02", "end_date": "2024-01-01"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&problem), vec!["end_date"]);
    assert_eq!(problem["errors"][0]["code"], "date_order");
    expect_problem(
        put_membership(
            &app,
            &token,
            "07099999",
            "07100002",
            json!({"start_date": "2024-01-01"}),
        )
        .await,
        404,
    )
    .await;
    expect_problem(
        put_membership(
            &app,
            &token,
            "07012399",
            "07199999",
            json!({"start_date": "2024-01-01"}),
        )
        .await,
        404,
    )
    .await;
    let page: Value = get(&app, &token, "/v1/practices/07012399/therapists")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agbs_of(&page), vec!["07100001"]);

    // Delete: 204, then 404; the list no longer shows it.
    let delete = || {
        let request = app
            .http
            .delete(app.url("/v1/practices/07012345/therapists/07100003"))
            .bearer_auth(&token);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(delete().await.status(), 204);
    expect_problem(delete().await, 404).await;
    let page: Value = get(&app, &token, "/v1/practices/07012345/therapists")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agbs_of(&page), vec!["07100001", "07100002"]);
    assert!(page["next_cursor"].is_null());
    assert_eq!(audit_count(&app, "membership.delete"), 1);
}

#[tokio::test]
async fn a_practice_client_sees_only_its_own_therapists() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    app.create_practice("07012345").await;
    app.create_practice("07012399").await;
    create_therapist(&app, &token, json!({"agb": "07100001", "name": "Shared"})).await;
    create_therapist(&app, &token, json!({"agb": "07100002", "name": "Other"})).await;
    for (practice, therapist) in [
        ("07012345", "07100001"),
        ("07012399", "07100001"),
        ("07012399", "07100002"),
    ] {
        let response = put_membership(
            &app,
            &token,
            practice,
            therapist,
            json!({"start_date": "2024-01-01"}),
        )
        .await;
        assert_eq!(response.status(), 201);
    }
    let own = app.token_for(ClientRole::Practice, "07012345").await;

    let response = get(&app, &own, "/v1/practices/07012345/therapists").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(agbs_of(&page), vec!["07100001"]);
    expect_problem(
        get(&app, &own, "/v1/practices/07012399/therapists").await,
        404,
    )
    .await;

    // The shared therapist is visible, with only this practice's membership.
    let response = get(&app, &own, "/v1/therapists/07100001").await;
    assert_eq!(response.status(), 200);
    let therapist: Value = response.json().await.unwrap();
    assert_eq!(
        therapist["memberships"],
        json!([{"practice_agb": "07012345", "start_date": "2024-01-01", "end_date": null}])
    );
    // Another practice's therapist does not exist as far as this client knows.
    let problem = expect_problem(get(&app, &own, "/v1/therapists/07100002").await, 404).await;
    assert!(problem["detail"].as_str().unwrap().contains("07100002"));
    expect_problem(get(&app, &own, "/v1/therapists/07100009").await, 404).await;

    // Reading is all it may do.
    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&own)
        .json(&json!({"agb": "07100003", "name": "C"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 403).await;
    expect_problem(
        put_membership(
            &app,
            &own,
            "07012345",
            "07100002",
            json!({"start_date": "2024-01-01"}),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(audit_count(&app, "practice.therapists.list"), 1);
}
