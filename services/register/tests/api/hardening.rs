//! Register hardening: one date form, one text rule, exact filters and path identifiers, and the
//! headers of a download (DESIGN §4, §5).

use chrono::{DateTime, Utc};
use praktijkregister_domain::ClientRole;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{create_therapist, expect_problem, problem_fields, spawn_app_at, TestApp};

const PRACTICE: &str = "07000101";
const THERAPIST: &str = "07100101";
const BAD_DATES: [&str; 5] = [
    "0000-01-01",
    "25-01-01",
    "2025-1-1",
    "+002025-01-01",
    "2025-01-01 ",
];

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

async fn send(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// A practice with one therapist and an intervision group of the practice; the group's id.
async fn setup(app: &TestApp, registrar: &str) -> String {
    app.create_practice(PRACTICE).await;
    create_therapist(
        app,
        registrar,
        json!({"agb": THERAPIST, "name": "A. Jansen"}),
    )
    .await;
    let member = send(
        app,
        Method::PUT,
        registrar,
        &format!("/v1/practices/{PRACTICE}/therapists/{THERAPIST}"),
        Some(&json!({"start_date": "2020-01-01"})),
    )
    .await;
    assert_eq!(member.status(), 201);
    let group = send(
        app,
        Method::POST,
        registrar,
        "/v1/intervision-groups",
        Some(&json!({"name": "Utrecht-Oost", "owner_practice_agb": PRACTICE})),
    )
    .await;
    assert_eq!(group.status(), 201);
    let group: Value = group.json().await.unwrap();
    group["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_date_field_refuses_a_date_not_written_yyyy_mm_dd() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    let registrar = app.registrar_token().await;
    let group = setup(&app, &registrar).await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let vendor = app.token_for(ClientRole::EpdVendor, "").await;
    let meeting = |held_on: &str| {
        json!({
            "held_on": held_on, "physical": true, "duration_minutes": 120,
            "facilitator_name": "M. Bakker", "facilitator_trained": true,
            "attendees": [THERAPIST],
        })
    };
    let iop = |day: &str, field: &str| {
        let mut body = json!({
            "drawn_up_on": "2026-01-15", "uploaded_to_kp_on": "2026-01-20",
            "quarterly_updates": ["2026-03-28"],
            "used_in_appraisal": true, "used_in_360_feedback": false
        });
        if field == "quarterly_updates[0]" {
            body["quarterly_updates"] = json!([day]);
        } else {
            body[field] = json!(day);
        }
        body
    };
    let calendar = |day: &str| {
        json!({
            "annual_plan_deadline": day, "visitation_deadline": "2027-10-15",
            "entry_visitation_deadline": "2027-11-01", "export_date": "2027-11-01"
        })
    };
    let delivery = |day: &str| {
        json!({"rows": [{
            "therapist_agb": THERAPIST, "patients": 1, "treatments": 1, "closed_episodes": 0,
            "treatments_in_closed_episodes": 0, "ldo_records_delivered": 0,
            "ldo_records_complete": 0, "prem_eligible": 0, "prem_offered": 0,
            "ldo_upload_date": day
        }]})
    };
    let membership = format!("/v1/practices/{PRACTICE}/therapists/{THERAPIST}");
    let member = format!("/v1/intervision-groups/{group}/members/{THERAPIST}");
    for bad in BAD_DATES {
        let cases: Vec<(Method, String, Value, &str, &str)> = vec![
            (
                Method::PUT,
                membership.clone(),
                json!({"start_date": bad}),
                "start_date",
                &registrar,
            ),
            (
                Method::PUT,
                membership.clone(),
                json!({"start_date": "2020-01-01", "end_date": bad}),
                "end_date",
                &registrar,
            ),
            (
                Method::PUT,
                format!("/v1/practices/{PRACTICE}/consents/7095"),
                json!({"granted_on": bad}),
                "granted_on",
                &practice,
            ),
            (
                Method::PUT,
                format!("/v1/therapists/{THERAPIST}/iops/2026"),
                iop(bad, "drawn_up_on"),
                "drawn_up_on",
                &practice,
            ),
            (
                Method::PUT,
                format!("/v1/therapists/{THERAPIST}/iops/2026"),
                iop(bad, "uploaded_to_kp_on"),
                "uploaded_to_kp_on",
                &practice,
            ),
            (
                Method::PUT,
                format!("/v1/therapists/{THERAPIST}/iops/2026"),
                iop(bad, "quarterly_updates[0]"),
                "quarterly_updates[0]",
                &practice,
            ),
            (
                Method::PUT,
                member.clone(),
                json!({"joined_on": bad}),
                "joined_on",
                &registrar,
            ),
            (
                Method::PUT,
                member.clone(),
                json!({"joined_on": "2026-01-01", "left_on": bad}),
                "left_on",
                &registrar,
            ),
            (
                Method::POST,
                format!("/v1/intervision-groups/{group}/meetings"),
                meeting(bad),
                "held_on",
                &registrar,
            ),
            (
                Method::PUT,
                "/v1/cycles/2027".into(),
                calendar(bad),
                "annual_plan_deadline",
                &registrar,
            ),
            (
                Method::PUT,
                format!("/v1/practices/{PRACTICE}/deliveries/2026-10"),
                delivery(bad),
                "rows[0].ldo_upload_date",
                &vendor,
            ),
        ];
        for (method, path, body, field, token) in cases {
            let response = send(&app, method.clone(), token, &path, Some(&body)).await;
            let problem = expect_problem(response, 422).await;
            assert_eq!(
                problem_fields(&problem),
                vec![field.to_string()],
                "{method} {path} {bad:?}: {problem}"
            );
        }
        let encoded = bad.replace('+', "%2B").replace(' ', "%20");
        let listed = send(
            &app,
            Method::GET,
            &registrar,
            &format!("/v1/practices/{PRACTICE}/therapists?active_on={encoded}"),
            None,
        )
        .await;
        let problem = expect_problem(listed, 422).await;
        assert_eq!(problem_fields(&problem), vec!["active_on"], "{bad:?}");
    }
    // The well-formed date is taken, and nothing above was stored.
    let ok = send(
        &app,
        Method::PUT,
        &registrar,
        &membership,
        Some(&json!({"start_date": "2021-02-03"})),
    )
    .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn every_free_text_field_refuses_controls_bidi_overrides_and_invisible_text() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    let registrar = app.registrar_token().await;
    let group = setup(&app, &registrar).await;
    let bad_texts = [
        "Praktijk\u{7}Bel",
        "Praktijk\u{202E}kjitkarP",
        "\u{200B}\u{200D}\u{FEFF}",
    ];
    for bad in bad_texts {
        let mut practice = crate::helpers::practice_body("07000102");
        practice["name"] = json!(bad);
        let mut contact = crate::helpers::practice_body("07000103");
        contact["contact"] = json!({"name": bad});
        let mut city = crate::helpers::practice_body("07000104");
        city["locations"][0]["city"] = json!(bad);
        let meeting = json!({
            "held_on": "2026-03-12", "physical": true, "duration_minutes": 120,
            "facilitator_name": bad, "facilitator_trained": true, "attendees": [THERAPIST],
        });
        let cases: Vec<(Method, String, Value, &str)> = vec![
            (Method::POST, "/v1/practices".into(), practice, "name"),
            (
                Method::POST,
                "/v1/practices".into(),
                contact,
                "contact.name",
            ),
            (
                Method::POST,
                "/v1/practices".into(),
                city,
                "locations[0].city",
            ),
            (
                Method::PATCH,
                format!("/v1/practices/{PRACTICE}"),
                json!({"name": bad}),
                "name",
            ),
            (
                Method::POST,
                "/v1/therapists".into(),
                json!({"agb": "07100109", "name": bad}),
                "name",
            ),
            (
                Method::POST,
                "/v1/intervision-groups".into(),
                json!({"name": bad, "owner_practice_agb": PRACTICE}),
                "name",
            ),
            (
                Method::POST,
                format!("/v1/intervision-groups/{group}/meetings"),
                meeting,
                "facilitator_name",
            ),
            (
                Method::POST,
                "/v1/clients".into(),
                json!({"name": bad, "role": "registrar"}),
                "name",
            ),
        ];
        for (method, path, body, field) in cases {
            let mut request = app
                .http
                .request(method.clone(), app.url(&path))
                .bearer_auth(&registrar)
                .json(&body);
            if method == Method::PATCH {
                request = request.header("If-Match", "*");
            }
            let problem = expect_problem(request.send().await.unwrap(), 422).await;
            let errors = problem["errors"].as_array().cloned().unwrap_or_default();
            assert!(
                errors
                    .iter()
                    .any(|e| e["field"] == field && e["code"] == "text_characters"),
                "{method} {path} {bad:?}: {problem}"
            );
        }
    }
}

#[tokio::test]
async fn empty_typed_filters_are_refused_and_path_identifiers_are_not_trimmed() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    let registrar = app.registrar_token().await;
    app.create_practice(PRACTICE).await;
    for (path, field) in [
        ("/v1/audit-events?to=".to_string(), "to"),
        ("/v1/audit-events?from=".to_string(), "from"),
        ("/v1/audit-events?outcome=".to_string(), "outcome"),
        (
            format!("/v1/practices/{PRACTICE}/therapists?active_on="),
            "active_on",
        ),
        ("/v1/public/practices?agb=".to_string(), "agb"),
        (format!("/v1/public/practices?agb={PRACTICE}%20"), "agb"),
        (
            "/v1/intervision-groups?practice_agb=".to_string(),
            "practice_agb",
        ),
        (
            format!("/v1/intervision-groups?practice_agb=%20{PRACTICE}"),
            "practice_agb",
        ),
        (
            format!("/v1/practices/{PRACTICE}/deliveries?period="),
            "period",
        ),
        (
            format!("/v1/practices/{PRACTICE}/deliveries?period=2026-03%20"),
            "period",
        ),
        (
            format!("/v1/practices/{PRACTICE}/prem-results?period="),
            "period",
        ),
        (
            "/v1/improvement-plans?insurer=&year=2026".to_string(),
            "insurer",
        ),
    ] {
        let response = send(&app, Method::GET, &registrar, &path, None).await;
        let problem = expect_problem(response, 422).await;
        assert_eq!(problem_fields(&problem), vec![field], "{path}");
    }
    let exact = send(
        &app,
        Method::GET,
        &registrar,
        &format!("/v1/practices/{PRACTICE}"),
        None,
    )
    .await;
    assert_eq!(exact.status(), 200);
    for path in [
        format!("/v1/practices/{PRACTICE}%20"),
        format!("/v1/practices/%20{PRACTICE}"),
        format!("/v1/practices/{PRACTICE}%09"),
    ] {
        let response = send(&app, Method::GET, &registrar, &path, None).await;
        expect_problem(response, 404).await;
    }
    let year = send(&app, Method::GET, &registrar, "/v1/cycles/2026%20", None).await;
    expect_problem(year, 422).await;
}

#[tokio::test]
async fn a_download_names_its_file_in_utf8_and_no_response_is_sniffed() {
    let (app, _clock) = spawn_app_at(at("2026-03-10T10:00:00Z")).await;
    app.create_practice(PRACTICE).await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let pdf: &[u8] =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let submitted = app
        .http
        .post(app.url(&format!(
            "/v1/practices/{PRACTICE}/annual-plans?cycle_year=2026&filename=jaarplan-%C3%A9%C3%A9n.pdf"
        )))
        .bearer_auth(&practice)
        .header("Content-Type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 201, "{:?}", submitted.text().await);
    let plan: Value = submitted.json().await.unwrap();
    let id = plan["id"].as_str().unwrap();
    let document = send(
        &app,
        Method::GET,
        &practice,
        &format!("/v1/annual-plans/{id}/document"),
        None,
    )
    .await;
    assert_eq!(document.status(), 200);
    assert_eq!(document.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        document.headers()["content-disposition"],
        "attachment; filename=\"jaarplan-__n.pdf\"; filename*=UTF-8''jaarplan-%C3%A9%C3%A9n.pdf"
    );
    for path in ["/health/live", "/v1/practices/07999999", "/openapi.json"] {
        let response = send(&app, Method::GET, &practice, path, None).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}

#[derive(Debug, diesel::QueryableByName)]
struct DeniedLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    actor_client_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject_id: String,
}

fn denied_lines(app: &TestApp) -> Vec<DeniedLine> {
    use diesel::RunQueryDsl as _;
    diesel::sql_query(
        "SELECT action, actor_client_id, subject_type, subject_id FROM audit_events \
         WHERE outcome = 'denied' ORDER BY id",
    )
    .load(&mut app.db().connect())
    .unwrap()
}

#[tokio::test]
async fn refused_access_is_audited_with_actor_and_target_and_a_flood_is_capped() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    app.create_practice(PRACTICE).await;
    app.create_practice("07000102").await;
    let (client_id, secret) = app
        .create_client(ClientRole::Practice, json!({"practice_agb": PRACTICE}))
        .await;
    let practice = app.token(&client_id, &secret, None).await;

    // Another tenant's practice: 404, and a line that says who tried what.
    let hidden = send(&app, Method::GET, &practice, "/v1/practices/07000102", None).await;
    expect_problem(hidden, 404).await;
    // A scope the client does not hold: 403, and a line.
    let forbidden = send(
        &app,
        Method::POST,
        &practice,
        "/v1/practices",
        Some(&crate::helpers::practice_body("07000103")),
    )
    .await;
    expect_problem(forbidden, 403).await;
    // The practice's own data, and a practice that does not exist for anyone, are not refusals.
    let own = send(
        &app,
        Method::GET,
        &practice,
        &format!("/v1/practices/{PRACTICE}"),
        None,
    )
    .await;
    assert_eq!(own.status(), 200);
    let lines = denied_lines(&app);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines
        .iter()
        .all(|l| l.action == "access.denied" && l.actor_client_id == client_id));
    assert_eq!(
        (lines[0].subject_type.as_str(), lines[0].subject_id.as_str()),
        ("practice", "07000102")
    );
    assert_eq!(lines[1].subject_type, "scope");

    // A flood: at most the cap of lines, then one summary, then nothing more.
    for _ in 0..40 {
        let response = send(&app, Method::GET, &practice, "/v1/practices/07000102", None).await;
        assert_eq!(response.status(), 404);
    }
    let lines = denied_lines(&app);
    let cap = praktijkregister_platform::denials::DenialLimiter::PER_MINUTE as usize;
    assert_eq!(lines.len(), cap + 1, "{lines:?}");
    assert_eq!(lines[cap].action, "access.denied.suppressed");
    assert_eq!(lines[cap].subject_id, client_id);
}

#[derive(Debug, diesel::QueryableByName)]
struct StoredHash {
    #[diesel(sql_type = diesel::sql_types::Text)]
    secret_hash: String,
}

fn stored_hash(app: &TestApp, client_id: &str) -> String {
    use diesel::RunQueryDsl as _;
    diesel::sql_query("SELECT secret_hash FROM api_clients WHERE client_id = $1")
        .bind::<diesel::sql_types::Text, _>(client_id)
        .get_result::<StoredHash>(&mut app.db().connect())
        .unwrap()
        .secret_hash
}

async fn token_status(app: &TestApp, client_id: &str, secret: &str) -> u16 {
    app.http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn generated_secrets_are_a_keyed_hash_and_old_argon2_hashes_verify_and_are_upgraded() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    let (client_id, secret) = app.create_client(ClientRole::Registrar, json!({})).await;
    let hash = stored_hash(&app, &client_id);
    assert!(hash.starts_with("$hmac-sha256$"), "{hash}");
    assert!(!hash.starts_with("$argon2"));
    assert_eq!(token_status(&app, &client_id, &secret).await, 200);
    assert_eq!(token_status(&app, &client_id, "wrong").await, 401);

    // A client stored before: an argon2 hash of its generated secret.
    let old = praktijkregister_register::credentials::hash_secret(&secret).unwrap();
    {
        use diesel::RunQueryDsl as _;
        diesel::sql_query("UPDATE api_clients SET secret_hash = $1 WHERE client_id = $2")
            .bind::<diesel::sql_types::Text, _>(&old)
            .bind::<diesel::sql_types::Text, _>(&client_id)
            .execute(&mut app.db().connect())
            .unwrap();
    }
    assert_eq!(token_status(&app, &client_id, &secret).await, 200);
    assert_eq!(
        stored_hash(&app, &client_id),
        hash,
        "upgraded to the keyed hash"
    );
    assert_eq!(token_status(&app, &client_id, &secret).await, 200);
}

#[tokio::test]
async fn repeated_wrong_secrets_for_one_client_id_are_answered_429() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    let (client_id, secret) = app.create_client(ClientRole::Registrar, json!({})).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(token_status(&app, &client_id, "a wrong secret").await);
    }
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // Even the right secret waits out the minute: the guesser cannot tell.
    assert_eq!(token_status(&app, &client_id, &secret).await, 429);
    // Another client id is not affected.
    let (other, other_secret) = app.create_client(ClientRole::Registrar, json!({})).await;
    assert_eq!(token_status(&app, &other, &other_secret).await, 200);
}

#[tokio::test]
async fn integral_numbers_are_integers_and_a_key_given_twice_is_refused() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    let registrar = app.registrar_token().await;
    let group = setup(&app, &registrar).await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let member = send(
        &app,
        Method::PUT,
        &practice,
        &format!("/v1/intervision-groups/{group}/members/{THERAPIST}"),
        Some(&json!({"joined_on": "2026-01-01"})),
    )
    .await;
    assert_eq!(member.status(), 201);
    let meetings = format!("/v1/intervision-groups/{group}/meetings");
    let meeting = |duration: Value| {
        json!({
            "held_on": "2026-03-12", "physical": true, "duration_minutes": duration,
            "facilitator_name": "M. Bakker", "facilitator_trained": true,
            "adap_accreditation_number": "ADAP-1", "adap_accreditation_year": 2026.0,
            "attendees": [THERAPIST],
        })
    };
    let recorded = send(
        &app,
        Method::POST,
        &practice,
        &meetings,
        Some(&meeting(json!(120.0))),
    )
    .await;
    let recorded: Value = recorded.json().await.unwrap();
    assert!(recorded["id"].is_string(), "{recorded}");
    assert_eq!(recorded["duration_minutes"], 120);
    assert_eq!(recorded["adap_accreditation_year"], 2026);
    let fraction = send(
        &app,
        Method::POST,
        &practice,
        &meetings,
        Some(&meeting(json!(120.5))),
    )
    .await;
    assert_eq!(
        problem_fields(&expect_problem(fraction, 422).await),
        vec!["duration_minutes"]
    );
    let twice = app
        .http
        .post(app.url(&meetings))
        .bearer_auth(&practice)
        .header("Content-Type", "application/json")
        .body(
            r#"{"held_on": "2026-03-12", "physical": true, "physical": false, "duration_minutes": 60,
                "facilitator_name": "M. Bakker", "facilitator_trained": true, "attendees": ["07100101"]}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_fields(&expect_problem(twice, 422).await),
        vec!["physical"]
    );
}

#[tokio::test]
async fn years_in_queries_hold_the_declared_range_and_file_names_the_text_rule() {
    let (app, _clock) = spawn_app_at(at("2026-03-10T10:00:00Z")).await;
    app.create_practice(PRACTICE).await;
    app.create_practice("07000102").await;
    let registrar = app.registrar_token().await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let pdf: &[u8] = b"%PDF-1.4\n%%EOF\n";
    let submit = |query: String| {
        let (app, practice) = (&app, practice.clone());
        async move {
            app.http
                .post(app.url(&format!("/v1/practices/{PRACTICE}/annual-plans?{query}")))
                .bearer_auth(&practice)
                .header("Content-Type", "application/pdf")
                .body(pdf)
                .send()
                .await
                .unwrap()
        }
    };
    for (query, field) in [
        ("cycle_year=1999", "cycle_year"),
        ("cycle_year=2100", "cycle_year"),
        ("cycle_year=2026&filename=jaarplan%07.pdf", "filename"),
        (
            "cycle_year=2026&filename=jaarplan%E2%80%AEfdp.exe",
            "filename",
        ),
        ("cycle_year=2026&filename=C%3A%5Cdocs%5C", "filename"),
    ] {
        let problem = expect_problem(submit(query.to_string()).await, 422).await;
        assert_eq!(problem_fields(&problem), vec![field], "{query}");
    }
    let stored = submit("cycle_year=2026&filename=C%3A%5Cdocs%5C%20jaarplan.pdf".into()).await;
    assert_eq!(stored.status(), 201);
    let stored: Value = stored.json().await.unwrap();
    assert_eq!(stored["filename"], "jaarplan.pdf");
    for path in [
        format!("/v1/practices/{PRACTICE}/annual-plans?cycle_year=1999"),
        format!("/v1/practices/{PRACTICE}/improvement-plans?year=2100"),
        "/v1/improvement-plans?insurer=3311&year=1999".to_string(),
    ] {
        let response = send(&app, Method::GET, &registrar, &path, None).await;
        expect_problem(response, 422).await;
    }

    // Another practice's plan is hidden, and the refusal is audited.
    let other = app.token_for(ClientRole::Practice, "07000102").await;
    let id = stored["id"].as_str().unwrap();
    for path in [
        format!("/v1/annual-plans/{id}"),
        format!("/v1/annual-plans/{id}/document"),
    ] {
        expect_problem(send(&app, Method::GET, &other, &path, None).await, 404).await;
    }
    let lines = denied_lines(&app);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines
        .iter()
        .all(|l| l.subject_type == "annual_plan" && l.subject_id == id));
}
