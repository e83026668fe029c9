//! Compliance per criterion, the benchmark and the evidence feed, over data arranged in the
//! tables the deliveries and quality endpoints write (DESIGN §3.4, §3.5; 001 §1.3, §1.4).

use chrono::{DateTime, Utc};
use diesel::sql_types::{Date, Int4, Text};
use diesel::RunQueryDsl;
use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_app_at, TestApp};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// One therapist row of a monthly delivery: (therapist, LDO delivered, LDO complete,
/// closed episodes, treatments in them, PREM eligible, PREM offered).
type Row = (&'static str, i32, i32, i32, i32, i32, i32);

/// Stores a delivery version directly, as the delivery endpoint would.
fn deliver(app: &TestApp, practice: &str, period: &str, version: i32, rows: &[Row]) {
    let mut conn = app.db().connect();
    let id = uuid::Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO deliveries (id, practice_agb, period, version, delivered_at, delivered_by, report) \
         VALUES ($1::uuid, $2, $3, $4, now(), 'test', '{}')",
    )
    .bind::<Text, _>(id.to_string())
    .bind::<Text, _>(practice)
    .bind::<Date, _>(chrono::NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").unwrap())
    .bind::<Int4, _>(version)
    .execute(&mut conn)
    .unwrap();
    for (therapist, delivered, complete, episodes, in_episodes, eligible, offered) in rows {
        diesel::sql_query(
            "INSERT INTO delivery_rows (delivery_id, therapist_agb, patients, treatments, closed_episodes, \
                 treatments_in_closed_episodes, ldo_records_delivered, ldo_records_complete, prem_eligible, \
                 prem_offered, ldo_upload_date) \
             VALUES ($1::uuid, $2, 10, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind::<Text, _>(id.to_string())
        .bind::<Text, _>(*therapist)
        .bind::<Int4, _>(in_episodes + 5)
        .bind::<Int4, _>(*episodes)
        .bind::<Int4, _>(*in_episodes)
        .bind::<Int4, _>(*delivered)
        .bind::<Int4, _>(*complete)
        .bind::<Int4, _>(*eligible)
        .bind::<Int4, _>(*offered)
        .bind::<Date, _>(chrono::NaiveDate::parse_from_str(&format!("{period}-20"), "%Y-%m-%d").unwrap())
        .execute(&mut conn)
        .unwrap();
    }
    // The year's totals as the delivery endpoint keeps them, recomputed from every current
    // version of the practice's year.
    let year = period[..4].parse::<i32>().unwrap();
    diesel::sql_query("DELETE FROM delivery_year_totals WHERE practice_agb = $1 AND year = $2")
        .bind::<Text, _>(practice)
        .bind::<Int4, _>(year)
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO delivery_year_totals SELECT $2, $1, r.therapist_agb, \
             sum(r.treatments_in_closed_episodes), sum(r.closed_episodes), sum(r.ldo_records_delivered), \
             sum(r.ldo_records_complete), sum(r.prem_eligible), sum(r.prem_offered) \
         FROM (SELECT DISTINCT ON (period) id FROM deliveries WHERE practice_agb = $1 \
               AND extract(year FROM period) = $2 ORDER BY period, version DESC) c \
         JOIN delivery_rows r ON r.delivery_id = c.id GROUP BY r.therapist_agb",
    )
    .bind::<Text, _>(practice)
    .bind::<Int4, _>(year)
    .execute(&mut conn)
    .unwrap();
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_benchmark_gives_national_quartiles_on_a_known_data_set() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    // Four practices with LDO fill rates 0.80, 0.85, 0.90, 0.95 and 5, 6, 7, 8 treatments per
    // closed episode; PREM offered 0.5, 0.6, 0.7, 0.8.
    for (i, agb) in ["07000001", "07000002", "07000003", "07000004"]
        .into_iter()
        .enumerate()
    {
        app.create_practice(agb).await;
        let i = i as i32;
        deliver(
            &app,
            agb,
            "2026-03",
            1,
            &[("07100001", 100, 80 + 5 * i, 10, 50 + 10 * i, 10, 5 + i)],
        );
    }
    // A newer version of the first practice's month replaces the first one: only 0.80 counts,
    // not the 0.10 of version 1 below.
    deliver(
        &app,
        "07000001",
        "2026-04",
        1,
        &[("07100001", 100, 10, 10, 50, 10, 5)],
    );
    deliver(
        &app,
        "07000001",
        "2026-04",
        2,
        &[("07100001", 100, 80, 10, 50, 10, 5)],
    );
    // Another year does not count.
    deliver(
        &app,
        "07000002",
        "2025-12",
        1,
        &[("07100002", 100, 0, 10, 500, 10, 0)],
    );

    let token = app.token_for(ClientRole::Practice, "07000001").await;
    let response = get(&app, &token, "/v1/practices/07000001/benchmark/2026").await;
    assert_eq!(response.status(), 200);
    let benchmark: Value = response.json().await.unwrap();
    let figure = |name: &str| {
        benchmark["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["figure"] == name)
            .unwrap()
            .clone()
    };
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-9;
    let ldo = figure("ldo_fill_rate");
    assert!(close(&ldo["practice"], 0.80), "{ldo}");
    assert!(close(&ldo["national"]["p25"], 0.8375), "{ldo}");
    assert!(close(&ldo["national"]["p50"], 0.875), "{ldo}");
    assert!(close(&ldo["national"]["p75"], 0.9125), "{ldo}");
    assert_eq!(ldo["national"]["count"], 4);
    let episodes = figure("treatments_per_closed_episode");
    assert!(close(&episodes["practice"], 5.0), "{episodes}");
    assert!(close(&episodes["national"]["p50"], 6.5), "{episodes}");
    let prem = figure("prem_offered_rate");
    assert!(close(&prem["national"]["p75"], 0.725), "{prem}");
    assert_eq!(benchmark["therapists"][0]["therapist_agb"], "07100001");
    assert_eq!(benchmark["therapists_national"]["count"], 4);

    // Another practice's benchmark is hidden from a practice client.
    expect_problem(
        get(&app, &token, "/v1/practices/07000002/benchmark/2026").await,
        404,
    )
    .await;
}

#[tokio::test]
async fn compliance_answers_per_criterion_and_only_consented_insurers_see_it() {
    let (app, _clock) = spawn_app_at(at("2026-04-10T10:00:00Z")).await;
    app.create_practice("07000001").await;
    let registrar = app.registrar_token().await;
    app.http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&registrar)
        .json(&json!({"agb": "07100001", "name": "A. Jansen"}))
        .send()
        .await
        .unwrap();
    app.http
        .put(app.url("/v1/practices/07000001/therapists/07100001"))
        .bearer_auth(&registrar)
        .json(&json!({"start_date": "2020-01-01"}))
        .send()
        .await
        .unwrap();
    // January and February delivered (fill 0.95); March, due on 10 April, is missing.
    deliver(
        &app,
        "07000001",
        "2026-01",
        1,
        &[("07100001", 100, 95, 10, 80, 10, 8)],
    );
    deliver(
        &app,
        "07000001",
        "2026-02",
        1,
        &[("07100001", 100, 95, 10, 80, 10, 8)],
    );

    let practice = app.token_for(ClientRole::Practice, "07000001").await;
    let report: Value = get(
        &app,
        &practice,
        "/v1/practices/07000001/compliance/2026?criteria=ldi",
    )
    .await
    .json()
    .await
    .unwrap();
    let status = |report: &Value, id: &str| {
        report["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].clone())
            .unwrap()
    };
    assert_eq!(report["criteria_set"], "ldi");
    assert_eq!(status(&report, "ldi.ldo_fill_rate"), "met");
    assert_eq!(
        status(&report, "ldi.ldo_monthly_upload"),
        "not_met",
        "{report}"
    );
    // No KP data for the therapist.
    assert_eq!(status(&report, "basis.kp_registered"), "not_met");
    assert_eq!(report["outcome"], "not_met");
    let upload = report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ldi.ldo_monthly_upload")
        .unwrap();
    assert!(upload["source"].as_str().unwrap().starts_with("001"));
    assert!(
        upload["reason"].as_str().unwrap().contains("2026-03"),
        "{upload}"
    );

    // An insurer without the practice's consent does not see it; with consent it does.
    let insurer = app.token_for(ClientRole::Insurer, "").await;
    expect_problem(
        get(&app, &insurer, "/v1/practices/07000001/compliance/2026").await,
        404,
    )
    .await;
    let consent = app
        .http
        .put(app.url("/v1/practices/07000001/consents/3311"))
        .bearer_auth(&practice)
        .json(&json!({"granted_on": "2026-01-02"}))
        .send()
        .await
        .unwrap();
    assert!(
        consent.status().is_success(),
        "{}",
        consent.text().await.unwrap()
    );
    let seen: Value = get(&app, &insurer, "/v1/practices/07000001/compliance/2026")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["criteria_set"], "plus");
    assert_eq!(status(&seen, "plus.consent"), "met");

    // A practice client cannot read another practice; bad parameters are named.
    app.create_practice("07000002").await;
    expect_problem(
        get(&app, &practice, "/v1/practices/07000002/compliance/2026").await,
        404,
    )
    .await;
    let bad = expect_problem(
        get(
            &app,
            &practice,
            "/v1/practices/07000001/compliance/2026?criteria=gold",
        )
        .await,
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "criteria");
}

#[tokio::test]
async fn the_evidence_feed_streams_one_record_per_practice_to_the_service_only() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    for agb in ["07000003", "07000001", "07000002"] {
        app.create_practice(agb).await;
    }
    deliver(
        &app,
        "07000002",
        "2026-05",
        1,
        &[("07100001", 10, 9, 1, 8, 4, 3)],
    );
    let service = app.token_for(ClientRole::Service, "").await;
    let response = get(&app, &service, "/v1/internal/evidence/2026").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let body = response.text().await.unwrap();
    let mut records: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The last line is the trailer with the count of the records before it.
    let trailer = records.pop().unwrap();
    assert_eq!(trailer, json!({"end_of_feed": true, "records": 3}));
    let agbs: Vec<&str> = records
        .iter()
        .map(|r| r["practice_agb"].as_str().unwrap())
        .collect();
    assert_eq!(agbs, ["07000001", "07000002", "07000003"]);
    let may = records[1]["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["period"] == "2026-05")
        .unwrap()
        .clone();
    assert_eq!(may["delivered"], true);
    assert_eq!(may["ldo_records_complete"], 9);
    assert_eq!(
        records[0]["months"].as_array().unwrap().len(),
        10,
        "January to October are due on 22 November"
    );

    let registrar = app.registrar_token().await;
    expect_problem(
        get(&app, &registrar, "/v1/internal/evidence/2026").await,
        403,
    )
    .await;
}

// DESIGN §7: the feed gathers several batches at once and still sends every practice once, in
// order, with the trailer's count.
#[tokio::test]
async fn a_feed_of_several_batches_sends_every_practice_once_in_order() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    let practices = 1_234;
    diesel::sql_query(
        "INSERT INTO practices (agb, name, kvk_number, tier) \
         SELECT '07' || lpad(i::text, 6, '0'), 'Praktijk ' || i, lpad(i::text, 8, '0'), 'praktijkregister' \
         FROM generate_series(1, $1) i",
    )
    .bind::<Int4, _>(practices)
    .execute(&mut app.db().connect())
    .unwrap();
    // A delivery of a practice in the third batch reaches that practice's record.
    deliver(
        &app,
        "07001100",
        "2026-05",
        1,
        &[("07100001", 10, 7, 1, 8, 4, 3)],
    );
    let service = app.token_for(ClientRole::Service, "").await;
    let records = feed(&app, &service).await;
    let agbs: Vec<String> = records
        .iter()
        .map(|r| r["practice_agb"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=practices).map(|i| format!("07{i:06}")).collect();
    assert_eq!(agbs, expected);
    let may = records[1099]["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["period"] == "2026-05")
        .unwrap()
        .clone();
    assert_eq!(records[1099]["practice_agb"], "07001100");
    assert_eq!(may["ldo_records_complete"], 7);
}

// DESIGN §7: the months of the evidence, read per practice by its index range, count the
// current version of each month of the year and nothing of another year.
#[tokio::test]
async fn the_evidence_months_count_the_current_version_of_each_month_of_the_year() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    for agb in ["07000001", "07000002"] {
        app.create_practice(agb).await;
    }
    let row = |complete| ("07100001", 60, complete, 1, 8, 4, 3);
    deliver(&app, "07000001", "2025-12", 1, &[row(50)]);
    deliver(&app, "07000001", "2026-01", 1, &[row(10)]);
    deliver(&app, "07000001", "2026-01", 2, &[row(20)]);
    deliver(&app, "07000001", "2026-03", 1, &[row(30)]);
    for (version, complete) in [(1, 5), (2, 6), (3, 7)] {
        deliver(&app, "07000002", "2026-01", version, &[row(complete)]);
    }
    let service = app.token_for(ClientRole::Service, "").await;
    let records = feed(&app, &service).await;
    let month = |practice: usize, period: &str| {
        records[practice]["months"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["period"] == period)
            .cloned()
    };
    assert_eq!(month(0, "2026-01").unwrap()["ldo_records_complete"], 20);
    assert_eq!(month(0, "2026-03").unwrap()["ldo_records_complete"], 30);
    assert_eq!(month(0, "2026-02").unwrap()["delivered"], false);
    assert!(month(0, "2025-12").is_none(), "another year does not count");
    assert_eq!(month(1, "2026-01").unwrap()["ldo_records_complete"], 7);
    assert_eq!(month(1, "2026-03").unwrap()["delivered"], false);
}

/// The evidence feed's records, without its trailer (checked).
async fn feed(app: &TestApp, token: &str) -> Vec<Value> {
    let response = get(app, token, "/v1/internal/evidence/2026").await;
    assert_eq!(response.status(), 200);
    let mut records: Vec<Value> = response
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let trailer = records.pop().unwrap();
    assert_eq!(trailer["end_of_feed"], true);
    assert_eq!(trailer["records"], records.len());
    records
}

fn sql(app: &TestApp, statement: &str) {
    diesel::sql_query(statement)
        .execute(&mut app.db().connect())
        .unwrap();
}

#[tokio::test]
async fn a_feed_that_fails_after_it_began_is_broken_off_without_its_trailer() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    // More practices than one batch; the second batch meets a stored value the domain refuses.
    sql(
        &app,
        "INSERT INTO practices (agb, name, kvk_number, tier) \
         SELECT '07' || lpad(i::text, 6, '0'), 'Praktijk ' || i, lpad(i::text, 8, '0'), 'praktijkregister' \
         FROM generate_series(1, 501) i",
    );
    sql(
        &app,
        "ALTER TABLE registrations DROP CONSTRAINT registrations_state_check",
    );
    sql(
        &app,
        "INSERT INTO registrations (practice_agb, cycle_year, state) VALUES ('07000501', 2026, 'approved_by_hand')",
    );
    let service = app.token_for(ClientRole::Service, "").await;
    let mut response = get(&app, &service, "/v1/internal/evidence/2026").await;
    assert_eq!(response.status(), 200);
    let mut received = Vec::new();
    let broken = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(broken, "the transfer ended as if complete");
    let text = String::from_utf8_lossy(&received);
    assert!(text.lines().count() >= 500, "the first batch was sent");
    assert!(!text.contains("end_of_feed"), "no trailer after a failure");
}

#[tokio::test]
async fn national_figures_include_a_change_through_this_instance_at_once() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    let registrar = app.registrar_token().await;
    for (practice, therapist) in [("07000001", "07100001"), ("07000002", "07100002")] {
        app.create_practice(practice).await;
        app.http
            .post(app.url("/v1/therapists"))
            .bearer_auth(&registrar)
            .json(&json!({"agb": therapist, "name": "A. Jansen"}))
            .send()
            .await
            .unwrap();
        let member = app
            .http
            .put(app.url(&format!("/v1/practices/{practice}/therapists/{therapist}")))
            .bearer_auth(&registrar)
            .json(&json!({"start_date": "2020-01-01"}))
            .send()
            .await
            .unwrap();
        assert!(member.status().is_success());
    }
    deliver(
        &app,
        "07000001",
        "2026-05",
        1,
        &[("07100001", 10, 8, 1, 8, 4, 3)],
    );
    let count = |benchmark: &Value| benchmark["figures"][0]["national"]["count"].clone();
    let benchmark: Value = get(&app, &registrar, "/v1/practices/07000001/benchmark/2026")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(&benchmark), 1);
    let delivered = app
        .http
        .put(app.url("/v1/practices/07000002/deliveries/2026-06"))
        .bearer_auth(&registrar)
        .json(&json!({"rows": [{
            "therapist_agb": "07100002", "patients": 30, "treatments": 100, "closed_episodes": 10,
            "treatments_in_closed_episodes": 60, "ldo_records_delivered": 30, "ldo_records_complete": 29,
            "prem_eligible": 10, "prem_offered": 8, "ldo_upload_date": "2026-06-28"
        }]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        delivered.status(),
        200,
        "{}",
        delivered.text().await.unwrap()
    );
    let benchmark: Value = get(&app, &registrar, "/v1/practices/07000001/benchmark/2026")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(&benchmark), 2, "the new delivery is in the quartiles");

    // The national PREM mean (001 §1.5g) likewise.
    let prem = |practice: &str, score: f64| {
        app.http
            .put(app.url(&format!("/v1/practices/{practice}/prem-results/2026-03")))
            .bearer_auth(&registrar)
            .json(&json!({
                "responses": 10, "consent_national_processor": true, "consent_zorgkaart": false,
                "domains": [{"domain": "communicatie", "responses": 10, "mean_score": score}]
            }))
            .send()
    };
    assert!(prem("07000001", 8.0).await.unwrap().status().is_success());
    let service = app.token_for(ClientRole::Service, "").await;
    let benchmark_mean =
        |records: &[Value]| records[0]["prem"]["domain_scores"][0]["benchmark_mean"].clone();
    assert_eq!(benchmark_mean(&feed(&app, &service).await), 8.0);
    assert!(prem("07000002", 6.0).await.unwrap().status().is_success());
    assert_eq!(benchmark_mean(&feed(&app, &service).await), 7.0);
}

/// One intervision meeting of the arranged data set: group, day, physical, who attended.
struct Meeting {
    group: &'static str,
    held_on: &'static str,
    physical: bool,
    attended: &'static [&'static str],
}

#[tokio::test]
async fn intervision_figures_over_several_years_and_groups_match_a_count_by_hand() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    let members: [(&str, &str); 4] = [
        ("07100001", "07000001"),
        ("07100002", "07000001"),
        ("07100003", "07000002"),
        ("07100004", "07000002"),
    ];
    for practice in ["07000001", "07000002"] {
        app.create_practice(practice).await;
    }
    for (therapist, practice) in members {
        sql(
            &app,
            &format!("INSERT INTO therapists (agb, name) VALUES ('{therapist}', 'T')"),
        );
        sql(
            &app,
            &format!(
                "INSERT INTO practice_memberships (practice_agb, therapist_agb, start_date) \
                 VALUES ('{practice}', '{therapist}', '2020-01-01')"
            ),
        );
    }
    // Group a: all four therapists; group b: two of them, both practices.
    let groups: [(&str, &[&str]); 2] = [
        ("a", &["07100001", "07100002", "07100003", "07100004"]),
        ("b", &["07100001", "07100003"]),
    ];
    for (group, therapists) in groups {
        sql(
            &app,
            &format!(
                "INSERT INTO intervision_groups (id, name, created_at, created_by) \
                 VALUES (md5('{group}')::uuid, '{group}', now(), 'test')"
            ),
        );
        for therapist in therapists {
            sql(
                &app,
                &format!(
                    "INSERT INTO intervision_members (group_id, therapist_agb, joined_on) \
                     VALUES (md5('{group}')::uuid, '{therapist}', '2020-01-01')"
                ),
            );
        }
    }
    let meetings = [
        Meeting {
            group: "a",
            held_on: "2025-03-01",
            physical: true,
            attended: &["07100001", "07100002", "07100003"],
        },
        Meeting {
            group: "a",
            held_on: "2025-12-31",
            physical: true,
            attended: &["07100001"],
        },
        Meeting {
            group: "a",
            held_on: "2026-01-01",
            physical: true,
            attended: &["07100001", "07100002"],
        },
        Meeting {
            group: "a",
            held_on: "2026-04-01",
            physical: false,
            attended: &["07100001", "07100003"],
        },
        Meeting {
            group: "a",
            held_on: "2026-07-01",
            physical: true,
            attended: &["07100001", "07100003", "07100004"],
        },
        Meeting {
            group: "a",
            held_on: "2026-12-31",
            physical: true,
            attended: &["07100002"],
        },
        Meeting {
            group: "b",
            held_on: "2026-02-01",
            physical: true,
            attended: &["07100001", "07100003"],
        },
        Meeting {
            group: "b",
            held_on: "2026-05-01",
            physical: true,
            attended: &["07100001"],
        },
        Meeting {
            group: "b",
            held_on: "2027-01-01",
            physical: true,
            attended: &["07100003"],
        },
    ];
    for (i, meeting) in meetings.iter().enumerate() {
        sql(
            &app,
            &format!(
                "INSERT INTO intervision_meetings (id, group_id, held_on, physical, duration_minutes, \
                     facilitator_name, facilitator_trained, adap_accreditation_number, adap_accreditation_year) \
                 VALUES (md5('m{i}')::uuid, md5('{}')::uuid, '{}', {}, 90, 'F', true, 'ADAP-1', 2026)",
                meeting.group, meeting.held_on, meeting.physical
            ),
        );
        for therapist in meeting.attended {
            sql(
                &app,
                &format!(
                    "INSERT INTO intervision_attendance (meeting_id, therapist_agb) \
                     VALUES (md5('m{i}')::uuid, '{therapist}')"
                ),
            );
        }
    }
    let service = app.token_for(ClientRole::Service, "").await;
    let records = feed(&app, &service).await;
    let mut checked = 0;
    for record in &records {
        for therapist in record["therapists"].as_array().unwrap() {
            let agb = therapist["agb"].as_str().unwrap();
            let mut seen: Vec<(String, u64, u64, u64)> = therapist["intervision"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["group_id"].as_str().unwrap().to_string(),
                        m["physical_meetings_attended"].as_u64().unwrap(),
                        m["group_size"].as_u64().unwrap(),
                        m["practices_in_group"].as_u64().unwrap(),
                    )
                })
                .collect();
            seen.sort();
            // Counted by hand: physical meetings of 2026 of each of the therapist's groups.
            let mut expected: Vec<(String, u64, u64, u64)> = groups
                .iter()
                .filter(|(_, therapists)| therapists.contains(&agb))
                .map(|(group, therapists)| {
                    let attended = meetings
                        .iter()
                        .filter(|m| {
                            m.group == *group && m.physical && m.held_on.starts_with("2026")
                        })
                        .filter(|m| m.attended.contains(&agb))
                        .count() as u64;
                    let practices: std::collections::BTreeSet<&str> = members
                        .iter()
                        .filter(|(t, _)| therapists.contains(t))
                        .map(|(_, p)| *p)
                        .collect();
                    let id = uuid_of(&app, group);
                    (
                        id,
                        attended,
                        therapists.len() as u64,
                        practices.len() as u64,
                    )
                })
                .collect();
            expected.sort();
            assert_eq!(seen, expected, "therapist {agb}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

/// The uuid PostgreSQL makes of `md5(text)`, the arranged groups' ids.
fn uuid_of(app: &TestApp, text: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let row: Id = diesel::sql_query(format!("SELECT md5('{text}')::uuid::text AS id"))
        .get_result(&mut app.db().connect())
        .unwrap();
    row.id
}

/// The national quartiles as they were computed before the year totals: straight from the
/// current version of every delivery of the year.
fn quartiles_from_deliveries(app: &TestApp, year: i32) -> Vec<Option<f64>> {
    #[derive(diesel::QueryableByName)]
    struct Figures {
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Nullable<diesel::sql_types::Double>>)]
        values: Vec<Option<f64>>,
    }
    let figures: Figures = diesel::sql_query(
        "WITH current AS (SELECT DISTINCT ON (practice_agb, period) id, practice_agb FROM deliveries \
             WHERE period >= make_date($1, 1, 1) AND period < make_date($1 + 1, 1, 1) \
             ORDER BY practice_agb, period, version DESC), \
         per_practice AS (SELECT c.practice_agb, \
             sum(r.ldo_records_complete)::float8 / nullif(sum(r.ldo_records_delivered), 0) AS ldo, \
             sum(r.treatments_in_closed_episodes)::float8 / nullif(sum(r.closed_episodes), 0) AS episode \
             FROM current c JOIN delivery_rows r ON r.delivery_id = c.id GROUP BY c.practice_agb), \
         per_therapist AS (SELECT sum(r.treatments_in_closed_episodes)::float8 / nullif(sum(r.closed_episodes), 0) AS episode \
             FROM current c JOIN delivery_rows r ON r.delivery_id = c.id GROUP BY c.practice_agb, r.therapist_agb) \
         SELECT ARRAY[ \
             (SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY ldo) FROM per_practice), \
             (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ldo) FROM per_practice), \
             (SELECT count(ldo)::float8 FROM per_practice), \
             (SELECT percentile_cont(0.75) WITHIN GROUP (ORDER BY episode) FROM per_practice), \
             (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY episode) FROM per_therapist), \
             (SELECT count(episode)::float8 FROM per_therapist)] AS values",
    )
    .bind::<Int4, _>(year)
    .get_result(&mut app.db().connect())
    .unwrap();
    figures.values
}

#[tokio::test]
async fn the_year_totals_give_the_quartiles_the_deliveries_give_over_versions_and_years() {
    let (app, _clock) = spawn_app_at(at("2026-11-22T10:00:00Z")).await;
    let registrar = app.registrar_token().await;
    // Three practices; therapists 07100001 and 07100004 work at two of them.
    let staff = [
        ("07000001", &["07100001", "07100002", "07100004"][..]),
        ("07000002", &["07100001", "07100003"][..]),
        ("07000003", &["07100004", "07100005"][..]),
    ];
    for (practice, therapists) in staff {
        app.create_practice(practice).await;
        for therapist in therapists {
            app.http
                .post(app.url("/v1/therapists"))
                .bearer_auth(&registrar)
                .json(&json!({"agb": therapist, "name": "A. Jansen"}))
                .send()
                .await
                .unwrap();
            let member = app
                .http
                .put(app.url(&format!("/v1/practices/{practice}/therapists/{therapist}")))
                .bearer_auth(&registrar)
                .json(&json!({"start_date": "2020-01-01"}))
                .send()
                .await
                .unwrap();
            assert!(member.status().is_success());
        }
    }
    let row = |therapist: &str, seed: i64| {
        json!({
            "therapist_agb": therapist, "patients": 30, "treatments": 100,
            "closed_episodes": 5 + seed % 7, "treatments_in_closed_episodes": 40 + seed % 13,
            "ldo_records_delivered": 30, "ldo_records_complete": 20 + seed % 11,
            "prem_eligible": 10, "prem_offered": 3 + seed % 8, "ldo_upload_date": null
        })
    };
    let mut seed = 1i64;
    // Two years of months, a second and third version of some months, and a version that
    // leaves a therapist out.
    for (practice, therapists) in staff {
        for period in ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"] {
            for version in 1..=(1 + seed % 3) {
                let rows: Vec<Value> = therapists
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(version == 2 && *i == 0))
                    .map(|(_, therapist)| {
                        seed = (seed * 31 + 7) % 1009;
                        row(therapist, seed)
                    })
                    .collect();
                let delivered = app
                    .http
                    .put(app.url(&format!("/v1/practices/{practice}/deliveries/{period}")))
                    .bearer_auth(&registrar)
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&json!({ "rows": rows }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    delivered.status(),
                    200,
                    "{}",
                    delivered.text().await.unwrap()
                );
            }
        }
    }
    // The totals each delivery keeps up to date equal a count over every current version (a
    // therapist left out by a later version keeps a row of zeros).
    #[derive(diesel::QueryableByName)]
    struct Differences {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let differences: Differences = diesel::sql_query(
        "WITH kept AS (SELECT year, practice_agb, therapist_agb, treatments_in_closed_episodes, \
             closed_episodes, ldo_records_delivered, ldo_records_complete, prem_eligible, prem_offered \
             FROM delivery_year_totals WHERE (treatments_in_closed_episodes, closed_episodes, \
             ldo_records_delivered, ldo_records_complete, prem_eligible, prem_offered) <> (0, 0, 0, 0, 0, 0)), \
         counted AS (SELECT extract(year FROM c.period)::int, c.practice_agb, r.therapist_agb, \
             sum(r.treatments_in_closed_episodes), sum(r.closed_episodes), sum(r.ldo_records_delivered), \
             sum(r.ldo_records_complete), sum(r.prem_eligible), sum(r.prem_offered) \
             FROM (SELECT DISTINCT ON (practice_agb, period) id, practice_agb, period FROM deliveries \
                   ORDER BY practice_agb, period, version DESC) c \
             JOIN delivery_rows r ON r.delivery_id = c.id GROUP BY 1, 2, 3) \
         SELECT (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM counted) a) \
              + (SELECT count(*) FROM (SELECT * FROM counted EXCEPT SELECT * FROM kept) b) AS n",
    )
    .get_result(&mut app.db().connect())
    .unwrap();
    assert_eq!(differences.n, 0, "year totals differ from the deliveries");
    for year in [2025, 2026] {
        let benchmark: Value = get(
            &app,
            &registrar,
            &format!("/v1/practices/07000001/benchmark/{year}"),
        )
        .await
        .json()
        .await
        .unwrap();
        let figure = |name: &str| {
            benchmark["figures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["figure"] == name)
                .unwrap()["national"]
                .clone()
        };
        let (ldo, episode) = (
            figure("ldo_fill_rate"),
            figure("treatments_per_closed_episode"),
        );
        let served = [
            ldo["p25"].as_f64(),
            ldo["p50"].as_f64(),
            ldo["count"].as_f64(),
            episode["p75"].as_f64(),
            benchmark["therapists_national"]["p50"].as_f64(),
            benchmark["therapists_national"]["count"].as_f64(),
        ];
        let expected = quartiles_from_deliveries(&app, year);
        assert_eq!(served.len(), expected.len());
        for (served, expected) in served.iter().zip(&expected) {
            let (served, expected) = (served.unwrap(), expected.unwrap());
            assert!(
                (served - expected).abs() < 1e-9,
                "{year}: {served} vs {expected}"
            );
        }
        assert_eq!(expected[2], Some(3.0), "every practice delivered in {year}");
    }
}
