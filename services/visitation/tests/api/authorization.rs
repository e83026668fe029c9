//! Every endpoint × every role (and no token): who is let in, who is refused, and to whom a
//! resource is hidden. A documented operation without a row here fails the test. The register's
//! service client holds no scope of this service.

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::service::Service as _;
use praktijkregister_platform::testing::walk::{Row, Walk, TENANT_ROLES};
use praktijkregister_platform::testing::Body;
use praktijkregister_visitation::startup::Visitation;
use serde_json::{json, Value};

use crate::helpers::*;

const REGISTRAR: &[ClientRole] = &[ClientRole::Registrar];
const REGISTRAR_AND_VISITOR: &[ClientRole] = &[ClientRole::Registrar, ClientRole::Visitor];
const READERS: &[ClientRole] = &[
    ClientRole::Registrar,
    ClientRole::Visitor,
    ClientRole::Practice,
];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n";

/// The visitation of `agb` in `session`.
fn visitation_of(session: &Value, agb: &str) -> String {
    session["visitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["practice_agb"] == agb)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_its_scope_and_tenancy_say() {
    let suite = suite().await;
    {
        let mut db = suite.register_db();
        // The test issuer binds practice clients to 07000001 and visitor clients to visitor-1.
        for (i, agb) in [
            "07000001", "07000002", "07000003", "07000004", "07000005", "07000006",
        ]
        .iter()
        .enumerate()
        {
            add_practice(
                &mut db,
                &Practice::approved(agb, &format!("7000000{i}"), &format!("{}000AA", i + 1)),
            );
        }
    }
    suite.busy_visitor("visitor-1", None).await;
    suite.busy_visitor("visitor-2", None).await;
    let (_, own_session) = suite
        .plan("2027-06-14", "morning", "visitor-1", "07000001", "07000003")
        .await;
    let (_, other_session) = suite
        .plan("2027-06-14", "morning", "visitor-2", "07000002", "07000004")
        .await;
    let (status, spare) = suite
        .plan("2027-06-15", "morning", "visitor-1", "07000005", "07000006")
        .await;
    assert_eq!(status, 201, "{spare}");
    let own_visitation = visitation_of(&own_session, "07000001");
    let other_visitation = visitation_of(&other_session, "07000002");
    let registrar = suite.registrar();
    for id in [&own_visitation, &other_visitation] {
        let answer = suite
            .visitation
            .client
            .caller(&registrar)
            .send(
                "PUT",
                &format!("/v1/visitations/{id}/report"),
                &Body::Bytes {
                    content_type: "application/pdf",
                    bytes: PDF.to_vec(),
                },
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let (own_s, other_s, spare_s) = (
        own_session["id"].as_str().unwrap().to_string(),
        other_session["id"].as_str().unwrap().to_string(),
        spare["id"].as_str().unwrap().to_string(),
    );
    let visitor_body = json!({
        "name": "V", "email": "v@example.nl", "phone": null, "therapist_agb": null,
        "trained_on": "2026-01-15", "authorised_from": "2026-02-01", "authorised_until": null,
        "max_sessions_per_year": 100, "max_sessions_per_week": 20
    });
    let slots = json!({"slots": [{"date": "2027-06-14", "part_of_day": "morning"}]});
    let findings = json!({"components": [{"component": "annual_plan", "score": "sufficient", "remarks": null}], "deviations": []});
    let pdf = || Body::Bytes {
        content_type: "application/pdf",
        bytes: PDF.to_vec(),
    };
    let rows = vec![
        Row::new(
            "PUT",
            "/v1/visitors/{id}",
            Some("visitors:manage"),
            REGISTRAR,
            "/v1/visitors/visitor-1",
            None,
            Body::Json(visitor_body),
        ),
        Row::new(
            "GET",
            "/v1/visitors",
            Some("visitors:manage"),
            REGISTRAR,
            "/v1/visitors",
            None,
            Body::None,
        ),
        Row::new(
            "GET",
            "/v1/visitors/{id}",
            Some("visitors:read"),
            REGISTRAR_AND_VISITOR,
            "/v1/visitors/visitor-1",
            Some("/v1/visitors/visitor-2".into()),
            Body::None,
        ),
        Row::new(
            "PUT",
            "/v1/visitors/{id}/availability",
            Some("visitor-availability:write"),
            REGISTRAR_AND_VISITOR,
            "/v1/visitors/visitor-1/availability",
            Some("/v1/visitors/visitor-2/availability".into()),
            Body::Json(slots),
        ),
        Row::new(
            "POST",
            "/v1/declared-relations",
            Some("declared-relations:manage"),
            REGISTRAR,
            "/v1/declared-relations",
            None,
            Body::Json(
                json!({"practice_agb": "07000005", "other_practice_agb": "07000006", "visitor_id": null, "reason": "walk", "valid_from": "2030-01-01"}),
            ),
        ),
        Row::new(
            "GET",
            "/v1/declared-relations",
            Some("declared-relations:manage"),
            REGISTRAR,
            "/v1/declared-relations",
            None,
            Body::None,
        ),
        Row::new(
            "POST",
            "/v1/visitation-sessions",
            Some("visitation-sessions:write"),
            REGISTRAR,
            "/v1/visitation-sessions",
            None,
            Body::Json(
                json!({"date": "2027-06-16", "part_of_day": "morning", "visitor_id": "visitor-1", "practice_a_agb": "07000005", "practice_b_agb": "07000006"}),
            ),
        ),
        Row::new(
            "GET",
            "/v1/visitation-sessions",
            Some("visitation-sessions:read"),
            REGISTRAR_AND_VISITOR,
            "/v1/visitation-sessions",
            None,
            Body::None,
        ),
        Row::new(
            "GET",
            "/v1/visitation-sessions/{id}",
            Some("visitation-sessions:read"),
            REGISTRAR_AND_VISITOR,
            format!("/v1/visitation-sessions/{own_s}"),
            Some(format!("/v1/visitation-sessions/{other_s}")),
            Body::None,
        ),
        Row::new(
            "PATCH",
            "/v1/visitation-sessions/{id}",
            Some("visitation-sessions:write"),
            REGISTRAR,
            format!("/v1/visitation-sessions/{own_s}"),
            None,
            Body::Json(json!({})),
        ),
        Row::new(
            "POST",
            "/v1/visitation-sessions/{id}/cancellation",
            Some("visitation-sessions:write"),
            REGISTRAR,
            format!("/v1/visitation-sessions/{spare_s}/cancellation"),
            None,
            Body::Json(json!({"reason": "walk"})),
        ),
        Row::new(
            "GET",
            "/v1/visitations",
            Some("visitations:read"),
            READERS,
            "/v1/visitations",
            None,
            Body::None,
        ),
        Row::new(
            "GET",
            "/v1/visitations/{id}",
            Some("visitations:read"),
            READERS,
            format!("/v1/visitations/{own_visitation}"),
            Some(format!("/v1/visitations/{other_visitation}")),
            Body::None,
        ),
        Row::new(
            "PUT",
            "/v1/visitations/{id}/findings",
            Some("findings:write"),
            REGISTRAR_AND_VISITOR,
            format!("/v1/visitations/{own_visitation}/findings"),
            Some(format!("/v1/visitations/{other_visitation}/findings")),
            Body::Json(findings),
        ),
        Row::new(
            "PUT",
            "/v1/visitations/{id}/report",
            Some("visitation-reports:write"),
            REGISTRAR_AND_VISITOR,
            format!("/v1/visitations/{own_visitation}/report"),
            Some(format!("/v1/visitations/{other_visitation}/report")),
            pdf(),
        ),
        Row::new(
            "GET",
            "/v1/visitations/{id}/report",
            Some("visitation-reports:read"),
            READERS,
            format!("/v1/visitations/{own_visitation}/report"),
            Some(format!("/v1/visitations/{other_visitation}/report")),
            Body::None,
        ),
        Row::new(
            "POST",
            "/v1/visitations/{id}/outcome",
            Some("visitation-outcomes:finalise"),
            REGISTRAR_AND_VISITOR,
            format!("/v1/visitations/{own_visitation}/outcome"),
            Some(format!("/v1/visitations/{other_visitation}/outcome")),
            Body::Json(json!({"outcome": "negative"})),
        ),
        Row::new(
            "GET",
            "/v1/cycles/{year}/components",
            Some("visitations:read"),
            READERS,
            format!("/v1/cycles/{YEAR}/components"),
            None,
            Body::None,
        ),
        Row::new(
            "PUT",
            "/v1/cycles/{year}/components",
            Some("visitation-plan:manage"),
            REGISTRAR,
            format!("/v1/cycles/{}/components", YEAR + 1),
            None,
            Body::Json(json!({"components": ["records", "hygiene"]})),
        ),
        Row::new(
            "POST",
            "/v1/cycles/{year}/visitation-plan",
            Some("visitation-plan:manage"),
            REGISTRAR,
            format!("/v1/cycles/{YEAR}/visitation-plan"),
            None,
            Body::None,
        ),
        Row::new(
            "GET",
            "/v1/cycles/{year}/due",
            Some("visitation-plan:manage"),
            REGISTRAR,
            format!("/v1/cycles/{YEAR}/due"),
            None,
            Body::None,
        ),
    ];
    let mut callers = vec![(None, None)];
    for role in ClientRole::ALL {
        callers.push((
            Some(role),
            Some(
                suite
                    .issuer
                    .token(role, praktijkregister_scopes::visitation::ALL),
            ),
        ));
    }
    Walk {
        client: &suite.visitation.client,
        callers,
        setup_token: registrar,
        hidden_from: TENANT_ROLES,
    }
    .run(&Visitation::openapi(), &rows)
    .await;
}
