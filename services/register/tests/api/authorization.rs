//! Every endpoint × every role (and no token): who is let in, who is refused, and to whom a
//! resource is hidden. A documented operation without a row here fails the test.

use std::collections::BTreeSet;

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::openapi::declared_scopes;
use serde_json::{json, Value};

use crate::helpers::{practice_body, spawn_app, TestApp};

const OWN_PRACTICE: &str = "07000001";
const OTHER_PRACTICE: &str = "07000002";
const OWN_THERAPIST: &str = "07100001";
const OTHER_THERAPIST: &str = "07100002";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Role(ClientRole),
}

struct Row {
    method: &'static str,
    template: &'static str,
    /// The scope the operation declares; `None` for public operations.
    scope: Option<&'static str>,
    /// Roles let in (a practice client: to its own practice's resources).
    allowed: &'static [ClientRole],
    path: String,
    /// The same operation on another practice's resource: hidden (404) from a practice client.
    other_path: Option<String>,
    body: Body,
}

enum Body {
    None,
    Json(Value),
    Csv(&'static str),
    Pdf(&'static [u8]),
    Form(&'static [(&'static str, &'static str)]),
}

const REGISTRAR: &[ClientRole] = &[ClientRole::Registrar];
const READERS: &[ClientRole] = &[
    ClientRole::Registrar,
    ClientRole::Practice,
    ClientRole::Service,
];
const REGISTRAR_AND_PRACTICE: &[ClientRole] = &[ClientRole::Registrar, ClientRole::Practice];
const SERVICE: &[ClientRole] = &[ClientRole::Service];
const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// Annual plans go to a year whose deadline lies ahead whenever the test runs.
fn plan_year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now()) + 1
}

fn rows(throwaway_client: &str, own_plan: &str, other_plan: &str) -> Vec<Row> {
    let year = plan_year();
    let row =
        |method, template, scope, allowed, path: String, other_path: Option<String>, body| Row {
            method,
            template,
            scope,
            allowed,
            path,
            other_path,
            body,
        };
    vec![
        row(
            "POST",
            "/oauth/token",
            None,
            &[],
            "/oauth/token".into(),
            None,
            Body::Form(&[("grant_type", "client_credentials")]),
        ),
        row(
            "GET",
            "/.well-known/jwks.json",
            None,
            &[],
            "/.well-known/jwks.json".into(),
            None,
            Body::None,
        ),
        row(
            "POST",
            "/v1/clients",
            Some("clients:manage"),
            REGISTRAR,
            "/v1/clients".into(),
            None,
            Body::Json(json!({"name": "walk", "role": "service"})),
        ),
        row(
            "GET",
            "/v1/clients",
            Some("clients:manage"),
            REGISTRAR,
            "/v1/clients".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/clients/{client_id}",
            Some("clients:manage"),
            REGISTRAR,
            format!("/v1/clients/{throwaway_client}"),
            None,
            Body::None,
        ),
        row(
            "DELETE",
            "/v1/clients/{client_id}",
            Some("clients:manage"),
            REGISTRAR,
            format!("/v1/clients/{throwaway_client}"),
            None,
            Body::None,
        ),
        row(
            "POST",
            "/v1/practices",
            Some("practices:write"),
            REGISTRAR,
            "/v1/practices".into(),
            None,
            Body::Json(practice_body("07000009")),
        ),
        row(
            "GET",
            "/v1/practices",
            Some("practices:read"),
            READERS,
            "/v1/practices".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/practices/{agb}",
            Some("practices:read"),
            READERS,
            format!("/v1/practices/{OWN_PRACTICE}"),
            Some(format!("/v1/practices/{OTHER_PRACTICE}")),
            Body::None,
        ),
        row(
            "PATCH",
            "/v1/practices/{agb}",
            Some("practices:write"),
            REGISTRAR,
            format!("/v1/practices/{OWN_PRACTICE}"),
            None,
            Body::Json(json!({"name": "Renamed"})),
        ),
        row(
            "POST",
            "/v1/therapists",
            Some("therapists:write"),
            REGISTRAR,
            "/v1/therapists".into(),
            None,
            Body::Json(json!({"agb": "07100009", "name": "T. Walker"})),
        ),
        row(
            "GET",
            "/v1/therapists/{agb}",
            Some("therapists:read"),
            READERS,
            format!("/v1/therapists/{OWN_THERAPIST}"),
            Some(format!("/v1/therapists/{OTHER_THERAPIST}")),
            Body::None,
        ),
        row(
            "PATCH",
            "/v1/therapists/{agb}",
            Some("therapists:write"),
            REGISTRAR,
            format!("/v1/therapists/{OWN_THERAPIST}"),
            None,
            Body::Json(json!({"name": "T. Renamed"})),
        ),
        row(
            "PUT",
            "/v1/practices/{agb}/therapists/{therapist_agb}",
            Some("therapists:write"),
            REGISTRAR,
            format!("/v1/practices/{OWN_PRACTICE}/therapists/{OWN_THERAPIST}"),
            None,
            Body::Json(json!({"start_date": "2025-01-01"})),
        ),
        row(
            "DELETE",
            "/v1/practices/{agb}/therapists/{therapist_agb}",
            Some("therapists:write"),
            REGISTRAR,
            format!("/v1/practices/{OTHER_PRACTICE}/therapists/{OWN_THERAPIST}"),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/practices/{agb}/therapists",
            Some("therapists:read"),
            READERS,
            format!("/v1/practices/{OWN_PRACTICE}/therapists"),
            Some(format!("/v1/practices/{OTHER_PRACTICE}/therapists")),
            Body::None,
        ),
        row(
            "POST",
            "/v1/kp-imports",
            Some("kp:import"),
            REGISTRAR,
            "/v1/kp-imports?dry_run=true".into(),
            None,
            Body::Csv("kp_number,agb,name,status,valid_from,valid_until\n"),
        ),
        row(
            "POST",
            "/v1/therapists/{agb}/kp-verification",
            Some("kp:verify"),
            REGISTRAR,
            format!("/v1/therapists/{OWN_THERAPIST}/kp-verification"),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/cycles/{year}",
            Some("cycles:read"),
            READERS,
            format!("/v1/cycles/{year}"),
            None,
            Body::None,
        ),
        row(
            "PUT",
            "/v1/cycles/{year}",
            Some("cycles:manage"),
            REGISTRAR,
            format!("/v1/cycles/{year}"),
            None,
            Body::Json(
                json!({"annual_plan_deadline": format!("{year}-07-01"), "visitation_deadline": format!("{year}-10-15"),
                "entry_visitation_deadline": format!("{year}-11-01"), "export_date": format!("{year}-11-01")}),
            ),
        ),
        row(
            "GET",
            "/v1/cycles/{year}/overview",
            Some("cycles:manage"),
            REGISTRAR,
            format!("/v1/cycles/{year}/overview"),
            None,
            Body::None,
        ),
        row(
            "POST",
            "/v1/practices/{agb}/annual-plans",
            Some("annual-plans:submit"),
            REGISTRAR_AND_PRACTICE,
            format!("/v1/practices/{OWN_PRACTICE}/annual-plans?cycle_year={year}"),
            Some(format!(
                "/v1/practices/{OTHER_PRACTICE}/annual-plans?cycle_year={year}"
            )),
            Body::Pdf(PDF),
        ),
        row(
            "GET",
            "/v1/practices/{agb}/annual-plans",
            Some("annual-plans:read"),
            REGISTRAR_AND_PRACTICE,
            format!("/v1/practices/{OWN_PRACTICE}/annual-plans"),
            Some(format!("/v1/practices/{OTHER_PRACTICE}/annual-plans")),
            Body::None,
        ),
        row(
            "GET",
            "/v1/annual-plans/{id}",
            Some("annual-plans:read"),
            REGISTRAR_AND_PRACTICE,
            format!("/v1/annual-plans/{own_plan}"),
            Some(format!("/v1/annual-plans/{other_plan}")),
            Body::None,
        ),
        row(
            "GET",
            "/v1/annual-plans/{id}/document",
            Some("annual-plans:read"),
            REGISTRAR_AND_PRACTICE,
            format!("/v1/annual-plans/{own_plan}/document"),
            Some(format!("/v1/annual-plans/{other_plan}/document")),
            Body::None,
        ),
        row(
            "POST",
            "/v1/annual-plans/{id}/assessment",
            Some("annual-plans:assess"),
            REGISTRAR,
            format!("/v1/annual-plans/{own_plan}/assessment"),
            None,
            Body::Json(json!({"decision": "approved"})),
        ),
        row(
            "GET",
            "/v1/practices/{agb}/registrations",
            Some("registrations:read"),
            READERS,
            format!("/v1/practices/{OWN_PRACTICE}/registrations"),
            Some(format!("/v1/practices/{OTHER_PRACTICE}/registrations")),
            Body::None,
        ),
        row(
            "GET",
            "/v1/practices/{agb}/registrations/{year}",
            Some("registrations:read"),
            READERS,
            format!("/v1/practices/{OWN_PRACTICE}/registrations/{year}"),
            Some(format!(
                "/v1/practices/{OTHER_PRACTICE}/registrations/{year}"
            )),
            Body::None,
        ),
        row(
            "POST",
            "/v1/internal/visitation-outcomes",
            Some("visitation-outcomes:write"),
            SERVICE,
            "/v1/internal/visitation-outcomes".into(),
            None,
            Body::Json(
                json!({"event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "kind": "visitation_planned",
                "practice_agb": OWN_PRACTICE, "cycle_year": year, "visitation_date": format!("{year}-09-14")}),
            ),
        ),
        row(
            "POST",
            "/v1/practices/{agb}/registrations/{year}/withdrawal",
            Some("registrations:withdraw"),
            REGISTRAR_AND_PRACTICE,
            format!("/v1/practices/{OWN_PRACTICE}/registrations/{year}/withdrawal"),
            Some(format!(
                "/v1/practices/{OTHER_PRACTICE}/registrations/{year}/withdrawal"
            )),
            Body::Json(json!({"reason": "walk"})),
        ),
        row(
            "GET",
            "/v1/audit-events",
            Some("audit:read"),
            REGISTRAR,
            "/v1/audit-events".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/public/practices",
            None,
            &[],
            "/v1/public/practices".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/public/practices/{agb}",
            None,
            &[],
            format!("/v1/public/practices/{OWN_PRACTICE}"),
            None,
            Body::None,
        ),
    ]
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &Body,
    token: Option<&str>,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app
        .http
        .request(method, app.url(path))
        .header("If-Match", "*");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Body::None => request,
        Body::Json(value) => request.json(value),
        Body::Csv(text) => request.header("Content-Type", "text/csv").body(*text),
        Body::Pdf(bytes) => request
            .header("Content-Type", "application/pdf")
            .body(*bytes),
        Body::Form(fields) => request.form(fields),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn arrange(app: &TestApp) -> (String, String, String) {
    let registrar = app.registrar_token().await;
    for agb in [OWN_PRACTICE, OTHER_PRACTICE] {
        app.create_practice(agb).await;
    }
    for (therapist, practice) in [
        (OWN_THERAPIST, OWN_PRACTICE),
        (OTHER_THERAPIST, OTHER_PRACTICE),
        (OWN_THERAPIST, OTHER_PRACTICE),
    ] {
        let created = app
            .http
            .post(app.url("/v1/therapists"))
            .bearer_auth(&registrar)
            .json(&json!({"agb": therapist, "name": format!("Therapist {therapist}")}))
            .send()
            .await
            .unwrap();
        assert!([201, 409].contains(&created.status().as_u16()));
        let membership = app
            .http
            .put(app.url(&format!("/v1/practices/{practice}/therapists/{therapist}")))
            .bearer_auth(&registrar)
            .json(&json!({"start_date": "2024-01-01"}))
            .send()
            .await
            .unwrap();
        assert!(
            membership.status().is_success(),
            "{}",
            membership.text().await.unwrap()
        );
    }
    // Public: the own practice is registered for the current year.
    let mut conn = app.db.connect();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO registrations (practice_agb, cycle_year, state, registered_at) \
             VALUES ('{OWN_PRACTICE}', {}, 'registered', now())",
            plan_year() - 1
        )),
        &mut conn,
    )
    .unwrap();
    let mut plans = Vec::new();
    for practice in [OWN_PRACTICE, OTHER_PRACTICE] {
        let plan = app
            .http
            .post(app.url(&format!(
                "/v1/practices/{practice}/annual-plans?cycle_year={}",
                plan_year()
            )))
            .bearer_auth(&registrar)
            .header("Content-Type", "application/pdf")
            .body(PDF)
            .send()
            .await
            .unwrap();
        assert_eq!(plan.status(), 201);
        let plan: Value = plan.json().await.unwrap();
        plans.push(plan["id"].as_str().unwrap().to_string());
    }
    let throwaway = app.create_client(ClientRole::Service, json!({})).await.0;
    (throwaway, plans[0].clone(), plans[1].clone())
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_the_table_says() {
    let app = spawn_app().await;
    let (throwaway, own_plan, other_plan) = arrange(&app).await;
    let rows = rows(&throwaway, &own_plan, &other_plan);

    // The table covers exactly the documented operations, with the scope each declares.
    let document = praktijkregister_register::startup::openapi();
    let documented: BTreeSet<(String, String, Vec<String>)> =
        declared_scopes(&document).into_iter().collect();
    let tabled: BTreeSet<(String, String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.template.to_string(),
                r.scope.map(|s| vec![s.to_string()]).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        documented, tabled,
        "the authorization table and the OpenAPI document differ"
    );

    let mut callers = vec![(Caller::Anonymous, None)];
    for role in ClientRole::ALL {
        callers.push((
            Caller::Role(role),
            Some(app.token_for(role, OWN_PRACTICE).await),
        ));
    }
    // Walk the registrar last: its writes (revoking, deleting) must not change what others see.
    callers.rotate_left(2);

    for row in &rows {
        for (caller, token) in &callers {
            let (status, body) =
                send(&app, row.method, &row.path, &row.body, token.as_deref()).await;
            let label = format!("{caller:?} {} {}", row.method, row.path);
            match (row.scope, caller) {
                (None, _) if row.template == "/oauth/token" => {
                    // Bearer tokens are not client credentials: always invalid_client.
                    assert_eq!(status, 401, "{label}: {body}");
                    assert!(body.contains("invalid_client"), "{label}: {body}");
                }
                (None, _) => assert_eq!(status, 200, "{label}: {body}"),
                (Some(_), Caller::Anonymous) => assert_eq!(status, 401, "{label}: {body}"),
                (Some(_), Caller::Role(role)) if row.allowed.contains(role) => {
                    assert!(
                        ![401, 403, 404, 500].contains(&status),
                        "{label} should be let in: {status} {body}"
                    );
                }
                (Some(_), Caller::Role(_)) => assert_eq!(status, 403, "{label}: {body}"),
            }
            if let (Some(other), Caller::Role(role)) = (&row.other_path, caller) {
                let (status, body) =
                    send(&app, row.method, other, &row.body, token.as_deref()).await;
                let label = format!("{caller:?} {} {other}", row.method);
                match role {
                    ClientRole::Practice => {
                        assert_eq!(status, 404, "{label} must be hidden: {body}")
                    }
                    r if row.allowed.contains(r) => {
                        assert!(
                            ![401, 403, 404, 500].contains(&status),
                            "{label} should be let in: {status} {body}"
                        )
                    }
                    _ => assert_eq!(status, 403, "{label}: {body}"),
                }
            }
        }
    }
}
