//! Sessions: every rule refused with its own reason code, several at once, double booking,
//! authorisation, availability, capacity, the deadline in Europe/Amsterdam, and the register
//! following a session planned, moved and cancelled.

use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::helpers::*;

/// Practices P1..P9 with their ties: P3 has P1's KvK number, P4 P1's address (written
/// differently), P5 a declared relation with P1, P6 a therapist in an intervision group with one
/// of P1; visitor `works` works at P7, visitor `tied` has a declared relation with P8, visitor
/// `grouped` is in an intervision group with a therapist of P2.
async fn arranged() -> Suite {
    let suite = suite().await;
    {
        let mut db = suite.register_db();
        for p in [
            Practice::approved("07000001", "10000001", "1234AB"),
            Practice::approved("07000002", "10000002", "2234AB"),
            Practice::approved("07000003", "10000001", "3234AB"),
            Practice {
                house_number: "1 ",
                postal_code: "1234 ab",
                ..Practice::approved("07000004", "10000004", "")
            },
            Practice::approved("07000005", "10000005", "5234AB"),
            Practice::approved("07000006", "10000006", "6234AB"),
            Practice::approved("07000007", "10000007", "7234AB"),
            Practice::approved("07000008", "10000008", "8234AB"),
            Practice {
                state: "applied",
                ..Practice::approved("07000009", "10000009", "9234AB")
            },
        ] {
            add_practice(&mut db, &p);
        }
        therapist_at(&mut db, "07100001", Some("07000001"));
        therapist_at(&mut db, "07100002", Some("07000002"));
        therapist_at(&mut db, "07100006", Some("07000006"));
        therapist_at(&mut db, "07100007", Some("07000007"));
        therapist_at(&mut db, "07100099", None);
        intervision_group(&mut db, &["07100001", "07100006"]);
        intervision_group(&mut db, &["07100002", "07100099"]);
    }
    suite.busy_visitor("free", None).await;
    suite.busy_visitor("works", Some("07100007")).await;
    suite.busy_visitor("tied", None).await;
    suite.busy_visitor("grouped", Some("07100099")).await;
    let registrar = suite.registrar();
    for (a, other, visitor) in [
        ("07000001", Some("07000005"), None),
        ("07000008", None, Some("tied")),
    ] {
        let (status, body) = suite
            .visitation
            .client
            .caller(&registrar)
            .post(
                "/v1/declared-relations",
                json!({"practice_agb": a, "other_practice_agb": other, "visitor_id": visitor,
                       "reason": "zelfde eigenaar", "valid_from": "2027-01-01"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    suite
}

// DESIGN §3.3; 001 §1.2c-d: each conflict of interest is refused with its own reason code.
#[tokio::test]
async fn every_conflict_rule_is_refused_with_its_own_code() {
    let suite = arranged().await;
    let date = "2027-06-14";
    for (visitor, a, b, expected) in [
        (
            "free",
            "07000001",
            "07000001",
            vec![
                "same_address",
                "same_kvk",
                "same_practice",
                "shared_intervision_group",
            ],
        ),
        ("free", "07000001", "07000003", vec!["same_kvk"]),
        ("free", "07000001", "07000004", vec!["same_address"]),
        ("free", "07000005", "07000001", vec!["declared_relation"]),
        (
            "free",
            "07000001",
            "07000006",
            vec!["shared_intervision_group"],
        ),
        (
            "works",
            "07000007",
            "07000002",
            vec!["visitor_works_at_practice"],
        ),
        (
            "tied",
            "07000002",
            "07000008",
            vec!["visitor_declared_relation"],
        ),
        (
            "grouped",
            "07000002",
            "07000008",
            vec!["visitor_shared_intervision_group"],
        ),
        ("free", "07000009", "07000002", vec!["no_approved_plan"]),
        (
            "nobody",
            "07000009",
            "07000002",
            vec!["no_approved_plan", "unknown_visitor"],
        ),
    ] {
        let (status, problem) = suite.plan(date, "morning", visitor, a, b).await;
        assert_eq!(status, 422, "{a}/{b} with {visitor}: {problem}");
        assert_eq!(
            codes(&problem),
            expected,
            "{a}/{b} with {visitor}: {problem}"
        );
    }
    // Nothing was stored by the refusals: a clean pair is planned.
    let (status, body) = suite
        .plan(date, "morning", "free", "07000001", "07000002")
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["visitations"].as_array().unwrap().len(), 2);
}

// Every broken rule is listed in one answer, not just the first.
#[tokio::test]
async fn several_broken_rules_are_listed_together() {
    let suite = arranged().await;
    let (status, problem) = suite
        .plan("2027-10-16", "morning", "works", "07000007", "07000003")
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        codes(&problem),
        [
            "after_visitation_deadline",
            "visitor_not_available",
            "visitor_works_at_practice"
        ]
    );
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"date")
            && fields.contains(&"visitor_id")
            && fields.contains(&"practice_a_agb"),
        "{problem}"
    );
}

// DESIGN §3.3: one visitor, one session per part of a day; a practice has one session a year;
// 001 §1.2c: authorised on the day, inclusive; availability and capacity per week and year.
#[tokio::test]
async fn double_booking_authorisation_availability_and_capacity() {
    let suite = suite().await;
    {
        let mut db = suite.register_db();
        for i in 1..=8 {
            let agb = format!("0700001{i}");
            let kvk = format!("2000000{i}");
            let postal = format!("{i}000AA");
            add_practice(&mut db, &Practice::approved(&agb, &kvk, &postal));
        }
    }
    // Monday 14 June 2027 onwards; authorised through Tuesday the 15th; two a week, three a year.
    suite
        .visitor_with(
            "v",
            None,
            Some("2027-06-15"),
            (3, 2),
            &[
                ("2027-06-14", "morning"),
                ("2027-06-14", "afternoon"),
                ("2027-06-15", "morning"),
                ("2027-06-16", "morning"),
                ("2027-06-21", "morning"),
                ("2027-06-22", "morning"),
            ],
        )
        .await;
    let (status, body) = suite
        .plan("2027-06-14", "morning", "v", "07000011", "07000012")
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, problem) = suite
        .plan("2027-06-14", "morning", "v", "07000013", "07000014")
        .await;
    assert_eq!(
        (status, codes(&problem)),
        (422, vec!["visitor_double_booked".to_string()])
    );
    let (status, problem) = suite
        .plan("2027-06-14", "afternoon", "v", "07000011", "07000013")
        .await;
    assert_eq!(
        (status, codes(&problem)),
        (422, vec!["practice_already_planned".to_string()])
    );
    let (status, problem) = suite
        .plan("2027-06-15", "afternoon", "v", "07000013", "07000014")
        .await;
    assert_eq!(
        (status, codes(&problem)),
        (422, vec!["visitor_not_available".to_string()])
    );
    // The last day of the authorisation is allowed, the day after is not.
    let (status, body) = suite
        .plan("2027-06-15", "morning", "v", "07000013", "07000014")
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, problem) = suite
        .plan("2027-06-16", "morning", "v", "07000015", "07000016")
        .await;
    assert_eq!(
        codes(&problem),
        ["visitor_not_authorised", "visitor_over_capacity_week"],
        "{status}"
    );
    // The authorisation extended: a new week has room, until the year is full.
    suite
        .visitor_with(
            "v",
            None,
            None,
            (3, 2),
            &[("2027-06-21", "morning"), ("2027-06-22", "morning")],
        )
        .await;
    let (status, body) = suite
        .plan("2027-06-21", "morning", "v", "07000015", "07000016")
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, problem) = suite
        .plan("2027-06-22", "morning", "v", "07000017", "07000018")
        .await;
    assert_eq!(codes(&problem), ["visitor_over_capacity_year"]);
}

// 000: the visitation deadline (15 October) is the last day, and "today" is the day in
// Europe/Amsterdam, not in UTC.
#[tokio::test]
async fn the_deadline_at_its_edges_in_amsterdam() {
    let suite = suite().await;
    {
        let mut db = suite.register_db();
        for i in 1..=4 {
            let agb = format!("0700002{i}");
            add_practice(
                &mut db,
                &Practice::approved(&agb, &format!("3000000{i}"), &format!("{i}100AA")),
            );
        }
    }
    suite
        .visitor_with(
            "v",
            None,
            None,
            (10, 5),
            &[
                ("2027-10-15", "morning"),
                ("2027-10-15", "afternoon"),
                ("2027-10-16", "morning"),
            ],
        )
        .await;
    // 23:30 in Amsterdam on 15 October (21:30 UTC): still the 15th.
    suite
        .clock
        .set(Utc.with_ymd_and_hms(2027, 10, 15, 21, 30, 0).unwrap());
    let (_, problem) = suite
        .plan("2027-10-16", "morning", "v", "07000021", "07000022")
        .await;
    assert_eq!(codes(&problem), ["after_visitation_deadline"]);
    // 00:30 in Amsterdam on 16 October (22:30 UTC on the 15th): the 15th is past.
    suite
        .clock
        .set(Utc.with_ymd_and_hms(2027, 10, 15, 22, 30, 0).unwrap());
    let (_, problem) = suite
        .plan("2027-10-15", "afternoon", "v", "07000021", "07000022")
        .await;
    assert_eq!(codes(&problem), ["date_in_past"]);
    suite
        .clock
        .set(Utc.with_ymd_and_hms(2027, 10, 15, 21, 30, 0).unwrap());
    let (status, body) = suite
        .plan("2027-10-15", "afternoon", "v", "07000021", "07000022")
        .await;
    assert_eq!(status, 201, "{body}");
}

// DESIGN §3.3: the register follows a session planned, moved and cancelled, through the outbox.
#[tokio::test]
async fn the_register_follows_a_session_planned_moved_and_cancelled() {
    let suite = arranged().await;
    let (status, session) = suite
        .plan("2027-06-14", "morning", "free", "07000001", "07000002")
        .await;
    assert_eq!(status, 201, "{session}");
    suite.await_state("07000001", "visitation_planned").await;
    suite.await_state("07000002", "visitation_planned").await;
    let id = session["id"].as_str().unwrap();
    let registrar = suite.registrar();
    let caller = suite.visitation.client.caller(&registrar);
    // A move re-checks everything, as for a new session.
    let answer = caller
        .send(
            "PATCH",
            &format!("/v1/visitation-sessions/{id}"),
            &praktijkregister_platform::testing::Body::Json(json!({"date": "2027-10-16"})),
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    assert_eq!(
        codes(&answer.json),
        ["after_visitation_deadline", "visitor_not_available"]
    );
    let answer = caller
        .send(
            "PATCH",
            &format!("/v1/visitation-sessions/{id}"),
            &praktijkregister_platform::testing::Body::Json(
                json!({"date": "2027-06-15", "visitor_id": "grouped"}),
            ),
        )
        .await;
    // The visitor shares an intervision group with a therapist of 07000002.
    assert_eq!(codes(&answer.json), ["visitor_shared_intervision_group"]);
    let answer = caller
        .send(
            "PATCH",
            &format!("/v1/visitation-sessions/{id}"),
            &praktijkregister_platform::testing::Body::Json(
                json!({"date": "2027-06-15", "part_of_day": "afternoon"}),
            ),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["date"], "2027-06-15");
    assert_eq!(answer.header("etag"), Some("\"2\""));
    // A move based on the version before is refused; one without If-Match is too.
    let url = suite
        .visitation
        .client
        .url(&format!("/v1/visitation-sessions/{id}"));
    let http = suite.visitation.client.http();
    for if_match in [Some("\"1\""), None] {
        let mut request = http
            .patch(&url)
            .bearer_auth(&registrar)
            .json(&json!({"part_of_day": "morning"}));
        if let Some(value) = if_match {
            request = request.header("If-Match", value);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, if if_match.is_some() { 412 } else { 428 });
    }
    let (status, cancelled) = caller
        .post(
            &format!("/v1/visitation-sessions/{id}/cancellation"),
            json!({"reason": "visiteur ziek"}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    suite.await_state("07000001", "plan_approved").await;
    suite.await_state("07000002", "plan_approved").await;
    // Cancelled once; the practices can be planned again.
    let (status, _) = caller
        .post(
            &format!("/v1/visitation-sessions/{id}/cancellation"),
            json!({"reason": "nogmaals"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, body) = suite
        .plan("2027-06-16", "morning", "free", "07000001", "07000002")
        .await;
    assert_eq!(status, 201, "{body}");
}
