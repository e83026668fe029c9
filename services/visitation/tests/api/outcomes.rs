//! Findings, the report and the outcome: the register registers the practice without any call
//! to it by hand.

use praktijkregister_platform::testing::Body;
use serde_json::{json, Value};

use crate::helpers::*;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Two practices with KP-registered therapists, a session on 14 June, and the clock moved to the
/// day after; answers the suite and the visitation ids of A and B.
async fn held(
    adjust: impl FnOnce(&mut praktijkregister_visitation::settings::VisitationSettings),
) -> (Suite, String, String) {
    let suite = suite_with(Relay::ToRegister, adjust).await;
    {
        let mut db = suite.register_db();
        add_practice(
            &mut db,
            &Practice::approved("07000031", "40000001", "1111AA"),
        );
        add_practice(
            &mut db,
            &Practice::approved("07000032", "40000002", "2222AA"),
        );
        therapist_at(&mut db, "07100031", Some("07000031"));
        therapist_at(&mut db, "07100032", Some("07000032"));
    }
    suite.busy_visitor("v", None).await;
    let (status, session) = suite
        .plan("2027-06-14", "morning", "v", "07000031", "07000032")
        .await;
    assert_eq!(status, 201, "{session}");
    suite.await_state("07000031", "visitation_planned").await;
    suite.clock.set(noon("2027-06-15"));
    let id_of = |agb: &str| {
        session["visitations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["practice_agb"] == agb)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a, b) = (id_of("07000031"), id_of("07000032"));
    (suite, a, b)
}

fn all_sufficient_but(insufficient: &[&str]) -> Value {
    let components: Vec<Value> = praktijkregister_domain::DEFAULT_COMPONENTS
        .iter()
        .map(|c| {
            let score = if insufficient.contains(c) {
                "insufficient"
            } else {
                "sufficient"
            };
            json!({"component": c, "score": score, "remarks": null})
        })
        .collect();
    json!({"components": components, "deviations": []})
}

// 000: positive only with every component sufficient; the refusal names the components.
#[tokio::test]
async fn a_positive_outcome_with_an_insufficient_component_is_refused() {
    let (suite, a, _) = held(|_| {}).await;
    let visitor = suite.visitor("v");
    let caller = suite.visitation.client.caller(&visitor);
    let (status, body) = caller
        .put(
            &format!("/v1/visitations/{a}/findings"),
            all_sufficient_but(&["hygiene_privacy_safety"]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, problem) = caller
        .post(
            &format!("/v1/visitations/{a}/outcome"),
            json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "insufficient_components");
    assert_eq!(problem["components"], json!(["hygiene_privacy_safety"]));
    // Nothing went to the register.
    assert_eq!(suite.registration_state("07000031"), "visitation_planned");
    // A negative outcome is what it is.
    let (status, body) = caller
        .post(
            &format!("/v1/visitations/{a}/outcome"),
            json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    suite.await_state("07000031", "refused").await;
    let (status, _) = caller
        .post(
            &format!("/v1/visitations/{a}/outcome"),
            json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(status, 409, "finalised once");
}

// 001 §1.2f: a deviating indicator needs the practice's explanation; 000: every component scored.
#[tokio::test]
async fn a_deviation_needs_an_explanation_and_every_component_a_score() {
    let (suite, a, _) = held(|_| {}).await;
    let registrar = suite.registrar();
    let caller = suite.visitation.client.caller(&registrar);
    let mut findings = all_sufficient_but(&[]);
    findings["deviations"] = json!([{"indicator": "treatment_index", "explanation": " "}]);
    let (status, problem) = caller
        .put(&format!("/v1/visitations/{a}/findings"), findings.clone())
        .await;
    assert_eq!(
        (status, codes(&problem)),
        (422, vec!["explanation_required".to_string()])
    );
    findings["deviations"] =
        json!([{"indicator": "treatment_index", "explanation": "complexe populatie"}]);
    findings["components"].as_array_mut().unwrap().pop();
    let (status, body) = caller
        .put(&format!("/v1/visitations/{a}/findings"), findings)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, problem) = caller
        .post(
            &format!("/v1/visitations/{a}/outcome"),
            json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "components_unscored");
    assert_eq!(problem["components"], json!(["annual_plan"]));
    // The year's list is frozen now that findings exist.
    let (status, _) = caller
        .put(
            &format!("/v1/cycles/{YEAR}/components"),
            json!({"components": ["records"]}),
        )
        .await;
    assert_eq!(status, 409);
}

fn report_rows(suite: &Suite) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Count> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT count(*) AS n FROM visitation_reports"),
        &mut suite.visitation_db(),
    )
    .unwrap();
    rows[0].n
}

// 001 §1.2g: the report is a PDF by content and size-limited; a refusal stores nothing.
#[tokio::test]
async fn a_report_that_is_not_a_pdf_or_too_large_stores_nothing() {
    let (suite, a, _) = held(|section| section.report_max_bytes = 1024).await;
    let visitor = suite.visitor("v");
    let caller = suite.visitation.client.caller(&visitor);
    let path = format!("/v1/visitations/{a}/report");
    let put = |content_type: &'static str, bytes: Vec<u8>| Body::Bytes {
        content_type,
        bytes,
    };
    let answer = caller
        .send("PUT", &path, &put("application/pdf", PNG.to_vec()))
        .await;
    assert_eq!(answer.status, 415, "{}", answer.text);
    let answer = caller
        .send("PUT", &path, &put("image/png", PNG.to_vec()))
        .await;
    assert_eq!(answer.status, 415, "{}", answer.text);
    let answer = caller
        .send(
            "PUT",
            &path,
            &put("application/pdf", b"%PDF-1.7\nhalf a file".to_vec()),
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    let mut large = PDF.to_vec();
    large.extend(std::iter::repeat_n(b' ', 2000));
    let answer = caller
        .send("PUT", &path, &put("application/pdf", large))
        .await;
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(report_rows(&suite), 0);
    let answer = caller
        .send("PUT", &path, &put("application/pdf", PDF.to_vec()))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json["report"]["sha256"],
        praktijkregister_platform::digest::sha256_hex(PDF)
    );
    assert_eq!(report_rows(&suite), 1);
    // The visited practice downloads it; the colleague practice does not see it.
    let own = suite.practice("07000031");
    let answer = suite
        .visitation
        .client
        .caller(&own)
        .send("GET", &path, &Body::None)
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text.as_bytes(), PDF);
    let other = suite.practice("07000032");
    let answer = suite
        .visitation
        .client
        .caller(&other)
        .send("GET", &path, &Body::None)
        .await;
    assert_eq!(answer.status, 404);
}

// DESIGN §3.3: the outcome reaches the register as an event, and the practice is registered.
#[tokio::test]
async fn a_positive_outcome_registers_the_practice_in_the_register() {
    let (suite, a, b) = held(|_| {}).await;
    let visitor = suite.visitor("v");
    let caller = suite.visitation.client.caller(&visitor);
    for id in [&a, &b] {
        let (status, body) = caller
            .put(
                &format!("/v1/visitations/{id}/findings"),
                all_sufficient_but(&[]),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let answer = caller
        .send(
            "PUT",
            &format!("/v1/visitations/{a}/report"),
            &Body::Bytes {
                content_type: "application/pdf",
                bytes: PDF.to_vec(),
            },
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let (status, body) = caller
        .post(
            &format!("/v1/visitations/{a}/outcome"),
            json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "finalised");
    suite.await_state("07000031", "registered").await;
    assert_eq!(suite.registration_state("07000032"), "visitation_planned");
    // Another visitor neither sees nor finalises it.
    let stranger = suite.visitor("someone-else");
    let (status, _) = suite
        .visitation
        .client
        .caller(&stranger)
        .post(
            &format!("/v1/visitations/{b}/outcome"),
            json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = caller
        .post(
            &format!("/v1/visitations/{b}/outcome"),
            json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    suite.await_state("07000032", "registered").await;
    // The register keeps the report's SHA-256 that came with A's outcome; B had no report.
    assert_eq!(
        stored_report_sha256(&suite, "07000031"),
        Some(praktijkregister_platform::digest::sha256_hex(PDF))
    );
    assert_eq!(stored_report_sha256(&suite, "07000032"), None);
}

/// The report digest the register stored with the registration's outcome of the year.
fn stored_report_sha256(suite: &Suite, agb: &str) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        visitation_report_sha256: Option<String>,
    }
    let row: Row = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT visitation_report_sha256 FROM registrations \
             WHERE practice_agb = $1 AND cycle_year = $2",
        )
        .bind::<diesel::sql_types::Text, _>(agb)
        .bind::<diesel::sql_types::Int4, _>(YEAR),
        &mut suite.register_db(),
    )
    .unwrap();
    row.visitation_report_sha256
}
