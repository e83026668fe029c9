//! The yearly snapshot: who is on it, what it says without consent, that it never changes and
//! verifies, and its CSV and FHIR forms.

use praktijkregister_domain::RegistrationEvent;
use praktijkregister_insurer_export::verify::{verify, VerifyError};
use serde_json::{json, Value};

use crate::helpers::{contract_year, cycle_year, start, Suite, Target, OTHER, OWN};

/// AGB codes of the practices of a test.
const REGISTERED: &str = "07000101";
const PREVIOUS_YEAR_ONLY: &str = "07000102";
const WITHDRAWN: &str = "07000103";
const REFUSED: &str = "07000104";
const AWAITING_KP: &str = "07000105";
const NEVER_APPLIED: &str = "07000106";

async fn export_json(suite: &Suite, token: &str, uzovi: &str) -> (u16, Value) {
    suite
        .export
        .client
        .caller(token)
        .get(&format!("/v1/insurers/{uzovi}/exports/{}", contract_year()))
        .await
}

fn listed(body: &Value) -> Vec<String> {
    body["practices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["agb"].as_str().unwrap().to_string())
        .collect()
}

async fn changes(suite: &Suite, token: &str, uzovi: &str) -> Vec<Value> {
    let (status, page) = suite
        .export
        .client
        .caller(token)
        .get(&format!("/v1/insurers/{uzovi}/changes"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_snapshot_holds_exactly_the_practices_registered_for_the_year() {
    let suite = start().await;
    let year = cycle_year();
    for agb in [
        REGISTERED,
        PREVIOUS_YEAR_ONLY,
        WITHDRAWN,
        REFUSED,
        AWAITING_KP,
        NEVER_APPLIED,
    ] {
        suite.create_practice(agb, &format!("Praktijk {agb}")).await;
    }
    suite
        .register_practice(REGISTERED, year, Target::Registered)
        .await;
    suite
        .register_practice(PREVIOUS_YEAR_ONLY, year - 1, Target::Registered)
        .await;
    suite
        .register_practice(WITHDRAWN, year, Target::Withdrawn)
        .await;
    suite
        .register_practice(REFUSED, year, Target::Refused)
        .await;
    suite
        .register_practice(AWAITING_KP, year, Target::AwaitingKp)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    let summary = suite.build(OWN).await;
    assert_eq!(summary["practices"], 1, "{summary}");

    let insurer = suite.insurer(OWN);
    let (status, body) = export_json(&suite, &insurer, OWN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(listed(&body), [REGISTERED]);
    assert_eq!(body["cycle_year"], year);
    assert_eq!(body["contract_year"], contract_year());
    let practice = &body["practices"][0];
    assert_eq!(practice["name"], format!("Praktijk {REGISTERED}"));
    assert_eq!(practice["kvk_number"], "12345678");
    assert_eq!(practice["locations"][0]["agb"], "07999999");
    assert!(practice["registered_at"].is_string(), "{practice}");
    let criteria: Vec<&str> = practice["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(criteria, ["basis.kp_registered", "basis.prem_measured"]);
    assert!(practice["criteria"][0]["source"]
        .as_str()
        .unwrap()
        .starts_with("001"));

    // Registered late, after the export: in the change feed, not in the snapshot.
    suite
        .registration_event(AWAITING_KP, year, RegistrationEvent::KpRequirementMet)
        .await;
    suite.sync().await;
    let (_, again) = export_json(&suite, &insurer, OWN).await;
    assert_eq!(listed(&again), [REGISTERED]);
    let feed = changes(&suite, &insurer, OWN).await;
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0]["type"], "registered");
    assert_eq!(feed[0]["practice_agb"], AWAITING_KP);
    assert_eq!(feed[0]["before"]["state"], "awaiting_kp");
    assert_eq!(feed[0]["cycle_year"], year);

    // A second build of the same year is refused: corrections are explicit.
    let (status, problem) = suite
        .export
        .client
        .caller(&suite.registrar())
        .post(
            &format!("/v1/insurers/{OWN}/exports/{}", contract_year()),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
}

#[tokio::test]
async fn a_snapshot_never_changes_verifies_and_a_tampered_one_does_not() {
    let suite = start().await;
    let year = cycle_year();
    suite.create_practice(REGISTERED, "De Linde").await;
    suite
        .register_practice(REGISTERED, year, Target::Registered)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "plus"}))
        .await;
    let summary = suite.build(OWN).await;
    let id = summary["id"].as_str().unwrap().to_string();
    let insurer = suite.insurer(OWN);
    let path = format!("/v1/insurers/{OWN}/exports/{}", contract_year());

    let first = suite.get_raw(&insurer, &path, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["etag"].to_str().unwrap(),
        format!("\"{id}\"")
    );
    let body = first.bytes().await.unwrap().to_vec();
    let signature = suite
        .get_raw(
            &insurer,
            &format!("/v1/insurers/{OWN}/snapshots/{id}/signature"),
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(suite.export.client.url("/.well-known/jwks.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let verified = verify(&body, &signature, &jwks).unwrap();
    assert_eq!(verified.id, id);

    // The practice changes after the export.
    suite.rename_practice(REGISTERED, "De Eik").await;
    suite.sync().await;
    let later = suite.get_raw(&insurer, &path, &[]).await;
    assert_eq!(
        later.headers()["etag"].to_str().unwrap(),
        format!("\"{id}\"")
    );
    let later_body = later.bytes().await.unwrap().to_vec();
    assert_eq!(later_body, body, "the snapshot is byte-identical");
    assert!(verify(&later_body, &signature, &jwks).is_ok());
    let not_modified = suite
        .get_raw(&insurer, &path, &[("If-None-Match", &format!("\"{id}\""))])
        .await;
    assert_eq!(not_modified.status(), 304);
    let feed = changes(&suite, &insurer, OWN).await;
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0]["type"], "practice_changed");
    assert_eq!(feed[0]["before"]["name"], "De Linde");
    assert_eq!(feed[0]["after"]["name"], "De Eik");

    // Tampered: the name changed in the file (still canonical), or the file re-formatted.
    let text = String::from_utf8(body.clone()).unwrap();
    let renamed = text.replace("De Linde", "De Eik").into_bytes();
    assert!(matches!(
        verify(&renamed, &signature, &jwks),
        Err(VerifyError::Signature(_))
    ));
    let value: Value = serde_json::from_slice(&body).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    assert!(matches!(
        verify(&pretty, &signature, &jwks),
        Err(VerifyError::NotCanonical)
    ));

    // A correction supersedes it with a reason; the first stays readable under its id.
    let (status, correction) = suite
        .export
        .client
        .caller(&suite.registrar())
        .post(
            &format!("/v1/insurers/{OWN}/exports/{}/corrections", contract_year()),
            json!({"reason": "The practice's name was corrected in the register."}),
        )
        .await;
    assert_eq!(status, 201, "{correction}");
    assert_eq!(correction["supersedes"], id.as_str());
    let (_, current) = export_json(&suite, &insurer, OWN).await;
    assert_eq!(current["practices"][0]["name"], "De Eik");
    assert_eq!(current["supersedes"], id.as_str());
    let old = suite
        .get_raw(&insurer, &format!("/v1/insurers/{OWN}/snapshots/{id}"), &[])
        .await;
    assert_eq!(old.bytes().await.unwrap().to_vec(), body);
    let (_, list) = suite
        .export
        .client
        .caller(&insurer)
        .get(&format!("/v1/insurers/{OWN}/snapshots"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn without_consent_an_insurer_sees_no_quality_figures() {
    let suite = start().await;
    let year = cycle_year();
    suite.create_practice(REGISTERED, "De Linde").await;
    suite
        .register_practice(REGISTERED, year, Target::Registered)
        .await;
    suite.consent(REGISTERED, OWN).await;
    suite.sync().await;
    let criteria = json!({"criteria": ["basis.prem_measured", "plus.registered"]});
    suite.insurer_with_criteria(OWN, criteria.clone()).await;
    suite.insurer_with_criteria(OTHER, criteria).await;
    suite.build(OWN).await;
    suite.build(OTHER).await;

    let explain = |uzovi: &'static str| {
        let suite = &suite;
        async move {
            let (status, body) = suite
                .export
                .client
                .caller(&suite.insurer(uzovi))
                .get(&format!(
                    "/v1/insurers/{uzovi}/exports/{}/practices/{REGISTERED}",
                    contract_year()
                ))
                .await;
            assert_eq!(status, 200, "{body}");
            body["practice"].clone()
        }
    };
    let with_consent = explain(OWN).await;
    assert_eq!(with_consent["consent"], true);
    let prem = &with_consent["criteria"][0];
    assert_eq!(prem["id"], "basis.prem_measured");
    assert_ne!(prem["status"], "no_consent");
    assert!(!prem["evidence"].as_array().unwrap().is_empty(), "{prem}");

    let without = explain(OTHER).await;
    assert_eq!(without["consent"], false);
    assert_eq!(without["eligible"], false);
    let prem = &without["criteria"][0];
    assert_eq!(prem["status"], "no_consent");
    assert_eq!(prem["evidence"], json!([]));
    assert!(prem["reason"].as_str().unwrap().contains("consent"));
    // What is register data, not quality data, is still shown.
    assert_eq!(without["criteria"][1]["id"], "plus.registered");
    assert_eq!(without["criteria"][1]["status"], "met");

    // The consent given earlier is in OWN's feed only after the snapshot; a revocation now is.
    let (status, _) = suite
        .register
        .client
        .caller(suite.register_registrar())
        .delete(&format!("/v1/practices/{REGISTERED}/consents/{OWN}"))
        .await;
    assert_eq!(status, 204);
    suite.sync().await;
    let own_feed = changes(&suite, &suite.insurer(OWN), OWN).await;
    assert_eq!(own_feed.len(), 1, "{own_feed:?}");
    assert_eq!(own_feed[0]["type"], "consent_revoked");
    assert!(changes(&suite, &suite.insurer(OTHER), OTHER)
        .await
        .is_empty());
}

#[tokio::test]
async fn another_insurers_list_changes_and_explanations_are_hidden() {
    let suite = start().await;
    suite.create_practice(REGISTERED, "De Linde").await;
    suite
        .register_practice(REGISTERED, cycle_year(), Target::Registered)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    let summary = suite.build(OWN).await;
    let id = summary["id"].as_str().unwrap();
    let other = suite.insurer(OTHER);
    let caller = suite.export.client.caller(&other);
    for path in [
        format!("/v1/insurers/{OWN}/exports/{}", contract_year()),
        format!(
            "/v1/insurers/{OWN}/exports/{}/practices/{REGISTERED}",
            contract_year()
        ),
        format!("/v1/insurers/{OWN}/changes"),
        format!("/v1/insurers/{OWN}/webhooks"),
        format!("/v1/insurers/{OWN}/snapshots"),
        format!("/v1/insurers/{OWN}/snapshots/{id}"),
        format!("/v1/insurers/{OWN}/snapshots/{id}/signature"),
        format!("/v1/insurers/{OWN}/criteria/{}", contract_year()),
    ] {
        let (status, body) = caller.get(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // The owner reads them.
    let (status, _) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&format!("/v1/insurers/{OWN}/snapshots/{id}"))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn csv_in_both_delimiters_and_json_hold_the_same_rows_and_fhir_lists_them() {
    let suite = start().await;
    let year = cycle_year();
    for (agb, name) in [
        (REGISTERED, "De Linde; Oefentherapie"),
        (WITHDRAWN, "Het \"Anker\""),
        (REFUSED, "Beweegpunt, Zuid"),
    ] {
        suite.create_practice(agb, name).await;
        suite.register_practice(agb, year, Target::Registered).await;
    }
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "ldi"}))
        .await;
    suite.build(OWN).await;
    let insurer = suite.insurer(OWN);
    let path = format!("/v1/insurers/{OWN}/exports/{}", contract_year());
    let (_, json_body) = export_json(&suite, &insurer, OWN).await;
    let expected: Vec<Vec<String>> = json_body["practices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut row = vec![
                p["agb"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
                p["eligible"].to_string(),
                p["outcome"].as_str().unwrap().to_string(),
            ];
            row.extend(
                p["criteria"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["status"].as_str().unwrap().to_string()),
            );
            row
        })
        .collect();
    assert_eq!(expected.len(), 3);

    for (query, delimiter, bom) in [("", b';', true), ("?delimiter=comma", b',', false)] {
        let response = suite
            .get_raw(
                &insurer,
                &format!("{path}{query}"),
                &[("Accept", "text/csv")],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let bytes = response.bytes().await.unwrap();
        assert_eq!(bytes.starts_with("\u{feff}".as_bytes()), bom);
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[0], "practice_agb");
        assert_eq!(
            &header[9..],
            [
                "basis.kp_registered",
                "basis.prem_measured",
                "ldi.ldo_monthly_upload",
                "ldi.ldo_fill_rate"
            ]
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                let mut row = vec![
                    r[0].to_string(),
                    r[1].to_string(),
                    r[7].to_string(),
                    r[8].to_string(),
                ];
                row.extend(r.iter().skip(9).map(String::from));
                row
            })
            .collect();
        assert_eq!(rows, expected, "delimiter {}", delimiter as char);
    }

    let response = suite
        .get_raw(&insurer, &path, &[("Accept", "application/fhir+json")])
        .await;
    assert_eq!(response.status(), 200);
    let bundle: Value = response.json().await.unwrap();
    // CI validates the Bundle against the FHIR R4 models (.ci/validate_fhir.py).
    if let Some(path) = std::env::var_os("PRR_FHIR_BUNDLE_OUT") {
        std::fs::write(path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    }
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    let organizations: Vec<&Value> = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Organization")
        .collect();
    assert_eq!(organizations.len(), 3);
    let linde = organizations
        .iter()
        .find(|o| o["identifier"][0]["value"] == REGISTERED)
        .unwrap();
    assert_eq!(
        linde["identifier"][0]["system"],
        "http://fhir.nl/fhir/NamingSystem/agb-z"
    );
    assert_eq!(
        linde["identifier"][1],
        json!({"system": "http://fhir.nl/fhir/NamingSystem/kvk", "value": "12345678"})
    );
    let location = entries
        .iter()
        .map(|e| &e["resource"])
        .find(|r| {
            r["resourceType"] == "Location"
                && r["managingOrganization"]["reference"]
                    == format!("Organization/{}", linde["id"].as_str().unwrap())
        })
        .unwrap();
    assert_eq!(location["identifier"][0]["value"], "07999999");
    assert_eq!(location["address"]["city"], "Utrecht");

    let (status, problem) = suite
        .export
        .client
        .caller(&insurer)
        .get(&format!("{path}?delimiter=tab"))
        .await;
    assert_eq!(status, 422, "{problem}");
}

/// A list far larger than one read of the stored body (256 KiB) and one rendered piece (200
/// practices): the streamed CSV and FHIR are byte for byte what rendering the whole parsed body
/// at once gives, across every boundary.
#[tokio::test]
async fn a_large_list_streams_the_same_bytes_as_rendering_it_whole() {
    use diesel::RunQueryDsl as _;
    use praktijkregister_insurer_export::snapshots::formats::{self, Delimiter};
    use praktijkregister_insurer_export::snapshots::SnapshotBody;

    let suite = start().await;
    suite
        .insurer_with_criteria(OTHER, json!({"base_set": "basis"}))
        .await;
    let practices: Vec<Value> = (0..1500)
        .map(|i| {
            json!({
                "agb": format!("07{i:06}"), "name": format!("Praktijk \"{i}\"; Ünïcode, [{{}}] \\ ✓"),
                "kvk_number": "12345678", "tier": "praktijkregister",
                "registered_at": "2026-06-01T10:00:00Z",
                "locations": [
                    {"agb": format!("07{:06}", 500_000 + i), "kvk_branch_number": "000012345678",
                     "street": "Lindelaan", "house_number": "1", "postal_code": "3511 AB", "city": "Utrecht"},
                    {"agb": format!("07{:06}", 700_000 + i), "kvk_branch_number": "000012345679",
                     "street": "Eikstraat", "house_number": "2a", "postal_code": "3512 CD", "city": "Utrecht"}
                ],
                "consent": i % 3 == 0, "eligible": i % 2 == 0, "outcome": if i % 2 == 0 { "met" } else { "not_met" },
                "criteria": [
                    {"id": "basis.kp_registered", "title": "KP", "source": "001, condition 1",
                     "status": "met", "evidence": [], "reason": null},
                    {"id": "basis.prem_measured", "title": "PREM", "source": "001, condition 2",
                     "status": if i % 2 == 0 { "met" } else { "not_met" }, "evidence": [],
                     "reason": if i % 2 == 0 { Value::Null } else { json!("no PREM measured") }}
                ]
            })
        })
        .collect();
    let body: SnapshotBody = serde_json::from_value(json!({
        "format": "praktijkregister-insurer-snapshot/1",
        "insurer": {"uzovi": OTHER, "name": format!("Insurer {OTHER}")},
        "contract_year": contract_year(), "cycle_year": cycle_year(),
        "built_at": "2026-11-01T00:00:00Z",
        "criteria_set": {"version": 1, "base_set": "basis",
            "criteria": ["basis.kp_registered", "basis.prem_measured"], "thresholds": {}},
        "supersedes": null, "correction_reason": null,
        "practices": practices
    }))
    .unwrap();
    let bytes = praktijkregister_platform::canonical_json::to_vec_of(&body).unwrap();
    assert!(bytes.len() > 3 * 256 * 1024, "{} bytes", bytes.len());
    let id = praktijkregister_platform::digest::sha256_hex(&bytes);
    let mut conn = suite.export.db.connect();
    diesel::sql_query(
        "INSERT INTO snapshots (id, insurer_uzovi, contract_year, criteria_set_id, body, signature, \
         practices, changes_seq, built_by) \
         SELECT $1, $2, $3, id, $4, 'unsigned', 1500, 0, 'test' FROM criteria_sets \
         WHERE insurer_uzovi = $2",
    )
    .bind::<diesel::sql_types::Text, _>(&id)
    .bind::<diesel::sql_types::Text, _>(OTHER)
    .bind::<diesel::sql_types::Integer, _>(i32::from(contract_year()))
    .bind::<diesel::sql_types::Binary, _>(&bytes)
    .execute(&mut conn)
    .unwrap();

    let insurer = suite.insurer(OTHER);
    let path = format!("/v1/insurers/{OTHER}/exports/{}", contract_year());
    let json = suite.get_raw(&insurer, &path, &[]).await;
    assert_eq!(json.bytes().await.unwrap().to_vec(), bytes);
    for (query, delimiter) in [
        ("", Delimiter::Semicolon),
        ("?delimiter=comma", Delimiter::Comma),
    ] {
        let csv = suite
            .get_raw(
                &insurer,
                &format!("{path}{query}"),
                &[("Accept", "text/csv")],
            )
            .await;
        assert_eq!(csv.status(), 200);
        let whole = [
            formats::csv_head(&body.criteria_set.criteria, delimiter).unwrap(),
            formats::csv_rows(&body.practices, delimiter).unwrap(),
        ]
        .concat();
        assert!(
            csv.bytes().await.unwrap().to_vec() == whole,
            "CSV ({delimiter:?}) differs from the whole rendering"
        );
    }
    let fhir = suite
        .get_raw(&insurer, &path, &[("Accept", "application/fhir+json")])
        .await;
    assert_eq!(fhir.status(), 200);
    let whole = [
        formats::fhir_head(body.built_at, &id).unwrap(),
        formats::fhir_entries(&body.practices, true).unwrap(),
        formats::FHIR_TAIL.to_vec(),
    ]
    .concat();
    let streamed = fhir.bytes().await.unwrap().to_vec();
    assert!(
        streamed == whole,
        "the FHIR Bundle differs from the whole rendering"
    );
    let bundle: Value = serde_json::from_slice(&streamed).unwrap();
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 1500 * 3);

    // One practice explained, found in the last stored chunk; one not on the list.
    let caller = suite.export.client.caller(&insurer);
    let (status, explained) = caller.get(&format!("{path}/practices/07001499")).await;
    assert_eq!(status, 200, "{explained}");
    assert_eq!(explained["snapshot_id"], id.as_str());
    assert_eq!(explained["contract_year"], contract_year());
    assert_eq!(explained["cycle_year"], cycle_year());
    assert_eq!(
        explained["practice"],
        serde_json::to_value(&body.practices[1499]).unwrap()
    );
    let (status, problem) = caller.get(&format!("{path}/practices/07999999")).await;
    assert_eq!(status, 404, "{problem}");
}
