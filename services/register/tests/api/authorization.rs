//! Every endpoint × every role (and no token): who is let in, who is refused, and to whom a
//! resource is hidden. A documented operation without a row here fails the test.

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::testing::walk::{Row, Walk};
use praktijkregister_platform::testing::{Body, TestClient};
use serde_json::{json, Value};

use crate::helpers::{practice_body, spawn_app, TestApp};

const OWN_PRACTICE: &str = "07000001";
const OTHER_PRACTICE: &str = "07000002";
const OWN_THERAPIST: &str = "07100001";
const OTHER_THERAPIST: &str = "07100002";

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

fn rows(arranged: &Arranged) -> Vec<Row> {
    let (throwaway_client, own_plan, other_plan) = (
        &arranged.throwaway,
        &arranged.own_plan,
        &arranged.other_plan,
    );
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
            other_expect: &[],
            setup: None,
            public_answer: (200, None),
        };
    let mut rows = vec![
        // Bearer tokens are not client credentials: always invalid_client.
        row(
            "POST",
            "/oauth/token",
            None,
            &[],
            "/oauth/token".into(),
            None,
            form(&[("grant_type", "client_credentials")]),
        )
        .public_answer(401, Some("invalid_client")),
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
            csv("kp_number,agb,name,status,valid_from,valid_until\n"),
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
            "POST",
            "/v1/kp-verification-runs",
            Some("kp:verify"),
            REGISTRAR,
            "/v1/kp-verification-runs".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/kp-verification-runs",
            Some("kp:verify"),
            REGISTRAR,
            "/v1/kp-verification-runs".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/kp-verification-runs/{id}",
            Some("kp:verify"),
            REGISTRAR,
            format!("/v1/kp-verification-runs/{}", arranged.run),
            None,
            Body::None,
        ),
        // The arranged run has ended: the registrar is let in and told so (409).
        row(
            "POST",
            "/v1/kp-verification-runs/{id}/cancellation",
            Some("kp:verify"),
            REGISTRAR,
            format!("/v1/kp-verification-runs/{}/cancellation", arranged.run),
            None,
            Body::None,
        ),
        // A practice holds the scope for its own list only.
        row(
            "GET",
            "/v1/kp-expiries",
            Some("kp-expiries:read"),
            REGISTRAR,
            "/v1/kp-expiries?within_days=90".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/practices/{agb}/kp-expiries",
            Some("kp-expiries:read"),
            REGISTRAR_AND_PRACTICE,
            format!("/v1/practices/{OWN_PRACTICE}/kp-expiries"),
            Some(format!("/v1/practices/{OTHER_PRACTICE}/kp-expiries")),
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
            pdf(PDF),
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
            "GET",
            "/v1/internal/visitation-directory/{year}",
            Some("visitation-directory:read"),
            SERVICE,
            format!("/v1/internal/visitation-directory/{year}"),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/internal/export-directory",
            Some("export-directory:read"),
            SERVICE,
            "/v1/internal/export-directory".to_string(),
            None,
            Body::None,
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
    ];
    rows.extend(practice_data_rows(arranged));
    rows
}

fn csv(text: &str) -> Body {
    Body::Bytes {
        content_type: "text/csv",
        bytes: text.as_bytes().to_vec(),
    }
}

fn pdf(bytes: &[u8]) -> Body {
    Body::Bytes {
        content_type: "application/pdf",
        bytes: bytes.to_vec(),
    }
}

fn form(fields: &[(&str, &str)]) -> Body {
    Body::Form(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

async fn arrange(app: &TestApp) -> Arranged {
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
    let mut conn = app.db().connect();
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

    // Practice data: the EPD vendor of the walk may deliver for the own practice only; a month is
    // delivered; each practice manages an intervision group; the walk's insurer has the own
    // practice's consent.
    let client = TestClient::new(app.address.clone());
    let registrar_send = |method: &'static str, path: String, body: Value| {
        let (client, registrar) = (client.clone(), registrar.clone());
        async move {
            let answer = client
                .caller(&registrar)
                .send(method, &path, &Body::Json(body))
                .await;
            assert!(
                answer.status < 300,
                "{method} {path}: {} {}",
                answer.status,
                answer.text
            );
            answer.text
        }
    };
    registrar_send(
        "PUT",
        format!("/v1/practices/{OWN_PRACTICE}/epd-authorizations/acme-epd"),
        json!({}),
    )
    .await;
    registrar_send(
        "PUT",
        format!(
            "/v1/practices/{OWN_PRACTICE}/deliveries/{}",
            current_period()
        ),
        delivery_body(),
    )
    .await;
    registrar_send(
        "PUT",
        format!("/v1/practices/{OWN_PRACTICE}/consents/3311"),
        json!({"granted_on": "2025-01-01"}),
    )
    .await;
    registrar_send(
        "POST",
        "/v1/therapists".into(),
        json!({"agb": SPARE_THERAPIST, "name": "T. Spare"}),
    )
    .await;
    let mut groups = Vec::new();
    for (practice, therapist) in [
        (OWN_PRACTICE, OWN_THERAPIST),
        (OTHER_PRACTICE, OTHER_THERAPIST),
    ] {
        let group: Value = serde_json::from_str(
            &registrar_send(
                "POST",
                "/v1/intervision-groups".into(),
                json!({"name": "Walk", "owner_practice_agb": practice}),
            )
            .await,
        )
        .unwrap();
        let id = group["id"].as_str().unwrap().to_string();
        registrar_send(
            "PUT",
            format!("/v1/intervision-groups/{id}/members/{therapist}"),
            json!({"joined_on": "2024-01-01"}),
        )
        .await;
        groups.push(id);
    }
    // Intervision invitations: a group of the other practice invites a therapist who works only at
    // the own practice, and the own practice's group invites the other practice's therapist.
    registrar_send(
        "POST",
        "/v1/therapists".into(),
        json!({"agb": INVITED_THERAPIST, "name": "T. Invited"}),
    )
    .await;
    registrar_send(
        "PUT",
        format!("/v1/practices/{OWN_PRACTICE}/therapists/{INVITED_THERAPIST}"),
        json!({"start_date": "2024-01-01"}),
    )
    .await;
    let invite_group: Value = serde_json::from_str(
        &registrar_send(
            "POST",
            "/v1/intervision-groups".into(),
            json!({"name": "Inviting", "owner_practice_agb": OTHER_PRACTICE}),
        )
        .await,
    )
    .unwrap();
    let mut invitations = Vec::new();
    for (owner, group, therapist) in [
        (
            OTHER_PRACTICE,
            invite_group["id"].as_str().unwrap().to_string(),
            INVITED_THERAPIST,
        ),
        (OWN_PRACTICE, groups[0].clone(), OTHER_THERAPIST),
    ] {
        let token = app.token_for(ClientRole::Practice, owner).await;
        let answer = client
            .caller(&token)
            .send(
                "PUT",
                &format!("/v1/intervision-groups/{group}/members/{therapist}"),
                &Body::Json(json!({"joined_on": "2024-01-01"})),
            )
            .await;
        assert_eq!(answer.status, 202, "{}", answer.text);
        let invitation: Value = serde_json::from_str(&answer.text).unwrap();
        invitations.push(invitation["id"].as_str().unwrap().to_string());
    }
    let run = uuid::Uuid::now_v7().to_string();
    {
        use diesel::RunQueryDsl as _;
        diesel::sql_query(
            "INSERT INTO kp_verification_runs (id, trigger, requested_by, state, started_at, finished_at) \
             VALUES ($1::uuid, 'manual', 'walk', 'completed', now(), now())",
        )
        .bind::<diesel::sql_types::Text, _>(&run)
        .execute(&mut app.db().connect())
        .unwrap();
    }
    Arranged {
        throwaway,
        run,
        own_plan: plans[0].clone(),
        other_plan: plans[1].clone(),
        own_group: groups[0].clone(),
        other_group: groups[1].clone(),
        own_invitation: invitations[0].clone(),
        other_invitation: invitations[1].clone(),
    }
}

struct Arranged {
    throwaway: String,
    run: String,
    own_plan: String,
    other_plan: String,
    own_group: String,
    other_group: String,
    /// Of a therapist of the own practice, from another practice's group.
    own_invitation: String,
    /// Of a therapist of the other practice, from the own practice's group.
    other_invitation: String,
}

const INVITED_THERAPIST: &str = "07100004";

const SPARE_THERAPIST: &str = "07100003";
const VENDOR: &[ClientRole] = &[ClientRole::Registrar, ClientRole::EpdVendor];
const DELIVERY_READERS: &[ClientRole] = &[
    ClientRole::Registrar,
    ClientRole::Practice,
    ClientRole::EpdVendor,
];
const INSURER_READERS: &[ClientRole] = &[
    ClientRole::Registrar,
    ClientRole::Practice,
    ClientRole::Insurer,
];
const COMPLIANCE_READERS: &[ClientRole] = &[
    ClientRole::Registrar,
    ClientRole::Practice,
    ClientRole::Service,
    ClientRole::Insurer,
];

/// The month in progress (Europe/Amsterdam is at most two hours ahead; the walk does not run at midnight).
fn current_period() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

fn delivery_body() -> Value {
    json!({"rows": [{
        "therapist_agb": OWN_THERAPIST, "patients": 10, "treatments": 40, "closed_episodes": 3,
        "treatments_in_closed_episodes": 24, "ldo_records_delivered": 10, "ldo_records_complete": 9,
        "prem_eligible": 4, "prem_offered": 3, "ldo_upload_date": chrono::Utc::now().format("%Y-%m-%d").to_string()
    }]})
}

fn practice_data_rows(arranged: &Arranged) -> Vec<Row> {
    let period = current_period();
    let (own_group, other_group) = (&arranged.own_group, &arranged.other_group);
    let (own_invitation, other_invitation) = (&arranged.own_invitation, &arranged.other_invitation);
    let row =
        |method, template, scope, allowed, path: String, other_path: Option<String>, body| Row {
            method,
            template,
            scope: Some(scope),
            allowed,
            path,
            other_path,
            body,
            other_expect: &[],
            setup: None,
            public_answer: (200, None),
        };
    let own = |rest: &str| format!("/v1/practices/{OWN_PRACTICE}{rest}");
    let other = |rest: &str| Some(format!("/v1/practices/{OTHER_PRACTICE}{rest}"));
    let vendor_refused: &'static [(ClientRole, u16)] = &[(ClientRole::EpdVendor, 403)];
    let insurer_hidden: &'static [(ClientRole, u16)] = &[(ClientRole::Insurer, 404)];
    let prem = json!({"responses": 10, "consent_national_processor": true, "consent_zorgkaart": false,
                      "domains": [{"domain": "communicatie", "responses": 10, "mean_score": 8.1}]});
    let plan = json!({"insurer_uzovi": "3311", "year": 2025, "measure": "treatment_index", "current_value": 160.0,
                      "ceiling": 149.0, "target": 130.0, "plan": "p", "do": "d", "check": "c", "act": "a",
                      "evaluation_points": [4, 8, 12]});
    vec![
        row(
            "GET",
            "/v1/practices/{agb}/epd-authorizations",
            "epd-authorizations:manage",
            REGISTRAR_AND_PRACTICE,
            own("/epd-authorizations"),
            other("/epd-authorizations"),
            Body::None,
        ),
        row(
            "PUT",
            "/v1/practices/{agb}/epd-authorizations/{vendor_id}",
            "epd-authorizations:manage",
            REGISTRAR_AND_PRACTICE,
            own("/epd-authorizations/walk-vendor"),
            other("/epd-authorizations/walk-vendor"),
            Body::None,
        ),
        Row {
            setup: Some(("PUT", own("/epd-authorizations/walk-delete"), Body::None)),
            ..row(
                "DELETE",
                "/v1/practices/{agb}/epd-authorizations/{vendor_id}",
                "epd-authorizations:manage",
                REGISTRAR_AND_PRACTICE,
                own("/epd-authorizations/walk-delete"),
                None,
                Body::None,
            )
        },
        Row {
            other_expect: vendor_refused,
            ..row(
                "PUT",
                "/v1/practices/{agb}/deliveries/{period}",
                "deliveries:write",
                VENDOR,
                own(&format!("/deliveries/{period}")),
                other(&format!("/deliveries/{period}")),
                Body::Json(delivery_body()),
            )
        },
        Row {
            other_expect: vendor_refused,
            ..row(
                "GET",
                "/v1/practices/{agb}/deliveries",
                "deliveries:read",
                DELIVERY_READERS,
                own("/deliveries"),
                other("/deliveries"),
                Body::None,
            )
        },
        row(
            "GET",
            "/v1/practices/{agb}/deliveries/{period}",
            "deliveries:read",
            DELIVERY_READERS,
            own(&format!("/deliveries/{period}")),
            None,
            Body::None,
        ),
        Row {
            other_expect: vendor_refused,
            ..row(
                "PUT",
                "/v1/practices/{agb}/prem-results/{period}",
                "prem:write",
                VENDOR,
                own(&format!("/prem-results/{period}")),
                other(&format!("/prem-results/{period}")),
                Body::Json(prem),
            )
        },
        Row {
            other_expect: vendor_refused,
            ..row(
                "GET",
                "/v1/practices/{agb}/prem-results",
                "deliveries:read",
                DELIVERY_READERS,
                own("/prem-results"),
                other("/prem-results"),
                Body::None,
            )
        },
        row(
            "POST",
            "/v1/intervision-groups",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            "/v1/intervision-groups".into(),
            None,
            Body::Json(json!({"name": "Walk group"})),
        ),
        row(
            "GET",
            "/v1/intervision-groups",
            "quality:read",
            READERS,
            "/v1/intervision-groups".into(),
            None,
            Body::None,
        ),
        row(
            "GET",
            "/v1/intervision-groups/{id}",
            "quality:read",
            READERS,
            format!("/v1/intervision-groups/{own_group}"),
            Some(format!("/v1/intervision-groups/{other_group}")),
            Body::None,
        ),
        row(
            "PUT",
            "/v1/intervision-groups/{id}/members/{therapist_agb}",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            format!("/v1/intervision-groups/{own_group}/members/{OWN_THERAPIST}"),
            Some(format!(
                "/v1/intervision-groups/{other_group}/members/{OTHER_THERAPIST}"
            )),
            Body::Json(json!({"joined_on": "2024-01-01"})),
        ),
        Row {
            setup: Some((
                "PUT",
                format!("/v1/intervision-groups/{own_group}/members/{SPARE_THERAPIST}"),
                Body::Json(json!({"joined_on": "2024-01-01"})),
            )),
            ..row(
                "DELETE",
                "/v1/intervision-groups/{id}/members/{therapist_agb}",
                "quality:write",
                REGISTRAR_AND_PRACTICE,
                format!("/v1/intervision-groups/{own_group}/members/{SPARE_THERAPIST}"),
                None,
                Body::None,
            )
        },
        row(
            "POST",
            "/v1/intervision-groups/{id}/meetings",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            format!("/v1/intervision-groups/{own_group}/meetings"),
            Some(format!("/v1/intervision-groups/{other_group}/meetings")),
            Body::Json(
                json!({"held_on": "2025-03-01", "physical": true, "duration_minutes": 120,
                "facilitator_name": "M. Bakker", "facilitator_trained": true, "attendees": [OWN_THERAPIST]}),
            ),
        ),
        row(
            "GET",
            "/v1/practices/{agb}/intervision-invitations",
            "quality:read",
            READERS,
            format!("/v1/practices/{OWN_PRACTICE}/intervision-invitations"),
            Some(format!("/v1/practices/{OTHER_PRACTICE}/intervision-invitations")),
            Body::None,
        ),
        // The first caller let in accepts (or declines); the next find it answered (409).
        row(
            "POST",
            "/v1/practices/{agb}/intervision-invitations/{id}/acceptance",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            format!("/v1/practices/{OWN_PRACTICE}/intervision-invitations/{own_invitation}/acceptance"),
            Some(format!(
                "/v1/practices/{OTHER_PRACTICE}/intervision-invitations/{other_invitation}/acceptance"
            )),
            Body::None,
        ),
        row(
            "POST",
            "/v1/practices/{agb}/intervision-invitations/{id}/decline",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            format!("/v1/practices/{OWN_PRACTICE}/intervision-invitations/{own_invitation}/decline"),
            Some(format!(
                "/v1/practices/{OTHER_PRACTICE}/intervision-invitations/{other_invitation}/decline"
            )),
            Body::None,
        ),
        row(
            "PUT",
            "/v1/therapists/{agb}/iops/{year}",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            format!("/v1/therapists/{OWN_THERAPIST}/iops/2025"),
            Some(format!("/v1/therapists/{OTHER_THERAPIST}/iops/2025")),
            Body::Json(
                json!({"drawn_up_on": "2025-01-10", "quarterly_updates": [], "used_in_appraisal": true,
                "used_in_360_feedback": false}),
            ),
        ),
        row(
            "GET",
            "/v1/therapists/{agb}/iops",
            "quality:read",
            READERS,
            format!("/v1/therapists/{OWN_THERAPIST}/iops"),
            Some(format!("/v1/therapists/{OTHER_THERAPIST}/iops")),
            Body::None,
        ),
        row(
            "PUT",
            "/v1/practices/{agb}/treatment-indices/{year}",
            "quality:write",
            REGISTRAR_AND_PRACTICE,
            own("/treatment-indices/2025"),
            other("/treatment-indices/2025"),
            Body::Json(json!({"value": 140.0, "patient_count": 100, "source": "Vektis"})),
        ),
        row(
            "GET",
            "/v1/practices/{agb}/treatment-indices",
            "quality:read",
            READERS,
            own("/treatment-indices"),
            other("/treatment-indices"),
            Body::None,
        ),
        row(
            "GET",
            "/v1/practices/{agb}/consents",
            "consents:manage",
            REGISTRAR_AND_PRACTICE,
            own("/consents"),
            other("/consents"),
            Body::None,
        ),
        row(
            "PUT",
            "/v1/practices/{agb}/consents/{uzovi}",
            "consents:manage",
            REGISTRAR_AND_PRACTICE,
            own("/consents/9999"),
            other("/consents/9999"),
            Body::Json(json!({"granted_on": "2025-01-01"})),
        ),
        Row {
            setup: Some((
                "PUT",
                own("/consents/8888"),
                Body::Json(json!({"granted_on": "2025-01-01"})),
            )),
            ..row(
                "DELETE",
                "/v1/practices/{agb}/consents/{uzovi}",
                "consents:manage",
                REGISTRAR_AND_PRACTICE,
                own("/consents/8888"),
                None,
                Body::None,
            )
        },
        row(
            "POST",
            "/v1/practices/{agb}/improvement-plans",
            "improvement-plans:write",
            REGISTRAR_AND_PRACTICE,
            own("/improvement-plans"),
            other("/improvement-plans"),
            Body::Json(plan),
        ),
        Row {
            other_expect: insurer_hidden,
            ..row(
                "GET",
                "/v1/practices/{agb}/improvement-plans",
                "improvement-plans:read",
                INSURER_READERS,
                own("/improvement-plans"),
                other("/improvement-plans"),
                Body::None,
            )
        },
        Row {
            // A practice holds the scope for its own plans, but the insurer list is not for practices.
            ..row(
                "GET",
                "/v1/improvement-plans",
                "improvement-plans:read",
                &[ClientRole::Registrar, ClientRole::Insurer],
                "/v1/improvement-plans?insurer=3311&year=2025".into(),
                None,
                Body::None,
            )
        },
        Row {
            other_expect: insurer_hidden,
            ..row(
                "GET",
                "/v1/practices/{agb}/compliance/{year}",
                "compliance:read",
                COMPLIANCE_READERS,
                own("/compliance/2025"),
                other("/compliance/2025"),
                Body::None,
            )
        },
        row(
            "GET",
            "/v1/practices/{agb}/benchmark/{year}",
            "benchmark:read",
            REGISTRAR_AND_PRACTICE,
            own("/benchmark/2025"),
            other("/benchmark/2025"),
            Body::None,
        ),
        row(
            "GET",
            "/v1/internal/evidence/{year}",
            "evidence:read",
            &[ClientRole::Service],
            "/v1/internal/evidence/2025".into(),
            None,
            Body::None,
        ),
    ]
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_the_table_says() {
    let app = spawn_app().await;
    let arranged = arrange(&app).await;
    let rows = rows(&arranged);

    let mut callers = vec![(None, None)];
    for role in ClientRole::ALL {
        callers.push((Some(role), Some(app.token_for(role, OWN_PRACTICE).await)));
    }
    // Walk the registrar last: its writes (revoking, deleting) must not change what others see.
    callers.rotate_left(2);

    let client = TestClient::new(app.address.clone());
    Walk {
        client: &client,
        callers,
        setup_token: app.registrar_token().await,
        // In the register only a practice's resources are private to it; an EPD vendor or an
        // insurer is told why it is refused (the rows name their exceptions).
        hidden_from: &[ClientRole::Practice],
    }
    .run(&praktijkregister_register::startup::openapi(), &rows)
    .await;
}
