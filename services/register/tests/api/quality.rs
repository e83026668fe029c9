//! Intervision groups, IOPs, treatment indices and consents: what is stored, what is refused,
//! and which practice may see or change what.

use chrono::{DateTime, Utc};
use diesel::RunQueryDsl as _;
use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{
    audit_count, create_therapist, expect_problem, problem_fields, spawn_app_at, TestApp,
};

const OWNER: &str = "07000011";
const PARTNER: &str = "07000012";
const STRANGER: &str = "07000013";
const T1: &str = "07100011";
const T2: &str = "07100012";
const T3: &str = "07100013";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    send(app, reqwest::Method::GET, token, path, None).await
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::PUT, token, path, Some(body)).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::POST, token, path, Some(body)).await
}

async fn delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    send(app, reqwest::Method::DELETE, token, path, None).await
}

async fn expect_json(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// A therapist working at `practice` from `start` (until `end`).
async fn therapist_at(
    app: &TestApp,
    registrar: &str,
    agb: &str,
    practice: &str,
    start: &str,
    end: Option<&str>,
) {
    create_therapist(
        app,
        registrar,
        json!({"agb": agb, "name": format!("Therapeut {agb}")}),
    )
    .await;
    let response = put(
        app,
        registrar,
        &format!("/v1/practices/{practice}/therapists/{agb}"),
        json!({"start_date": start, "end_date": end}),
    )
    .await;
    assert_eq!(response.status(), 201);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut app.db().connect())
        .unwrap()
        .n
}

fn meeting(held_on: &str, attendees: &[&str]) -> Value {
    json!({
        "held_on": held_on, "physical": true, "duration_minutes": 120,
        "facilitator_name": "M. Bakker", "facilitator_trained": true,
        "adap_accreditation_number": "ADAP-2026-04711", "adap_accreditation_year": 2026,
        "attendees": attendees,
    })
}

#[tokio::test]
async fn an_intervision_group_keeps_members_and_meetings_but_never_content() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    for practice in [OWNER, PARTNER, STRANGER] {
        app.create_practice(practice).await;
    }
    let registrar = app.registrar_token().await;
    therapist_at(&app, &registrar, T1, OWNER, "2024-01-01", None).await;
    therapist_at(&app, &registrar, T2, OWNER, "2024-01-01", None).await;
    therapist_at(&app, &registrar, T3, PARTNER, "2024-01-01", None).await;
    let owner = app.token_for(ClientRole::Practice, OWNER).await;

    // There is no field for what is discussed, under any name.
    let refused = post(
        &app,
        &owner,
        "/v1/intervision-groups",
        json!({"name": "Utrecht-Oost", "notes": "what was said"}),
    )
    .await;
    let problem = expect_problem(refused, 422).await;
    assert_eq!(problem_fields(&problem), vec!["notes"]);

    // A practice client's group is its own, whatever it names.
    let hijack = post(
        &app,
        &owner,
        "/v1/intervision-groups",
        json!({"name": "Utrecht-Oost", "owner_practice_agb": STRANGER}),
    )
    .await;
    expect_problem(hijack, 404).await;
    let response = post(
        &app,
        &owner,
        "/v1/intervision-groups",
        json!({"name": "  Utrecht-Oost "}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let group = expect_json(response, 201).await;
    let id = group["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/v1/intervision-groups/{id}"));
    assert_eq!(group["name"], "Utrecht-Oost");
    assert_eq!(group["owner_practice_agb"], OWNER);
    assert_eq!(group["members"], json!([]));
    let members = format!("/v1/intervision-groups/{id}/members");

    for agb in [T1, T2] {
        let response = put(
            &app,
            &owner,
            &format!("{members}/{agb}"),
            json!({"joined_on": "2026-01-01", "left_on": null}),
        )
        .await;
        let member = expect_json(response, 201).await;
        assert_eq!(
            member,
            json!({"therapist_agb": agb, "joined_on": "2026-01-01", "left_on": null})
        );
    }
    // T3 works at the partner practice: the owner invites, the partner accepts.
    let invited = put(
        &app,
        &owner,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-02-01", "left_on": "2026-06-30"}),
    )
    .await;
    let invitation = expect_json(invited, 202).await;
    assert_eq!(invitation["state"], "pending");
    let partner = app.token_for(ClientRole::Practice, PARTNER).await;
    let accepted = send(
        &app,
        reqwest::Method::POST,
        &partner,
        &format!(
            "/v1/practices/{PARTNER}/intervision-invitations/{}/acceptance",
            invitation["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(expect_json(accepted, 200).await["state"], "accepted");
    let replaced = put(
        &app,
        &owner,
        &format!("{members}/{T2}"),
        json!({"joined_on": "2026-01-15"}),
    )
    .await;
    assert_eq!(expect_json(replaced, 200).await["joined_on"], "2026-01-15");
    let backwards = put(
        &app,
        &owner,
        &format!("{members}/{T2}"),
        json!({"joined_on": "2026-05-01", "left_on": "2026-04-01"}),
    )
    .await;
    assert_eq!(
        problem_fields(&expect_problem(backwards, 422).await),
        vec!["left_on"]
    );

    let meetings = format!("/v1/intervision-groups/{id}/meetings");
    let response = post(&app, &owner, &meetings, meeting("2026-03-12", &[T3, T1])).await;
    let recorded = expect_json(response, 201).await;
    assert_eq!(recorded["attendees"], json!([T1, T3]));
    assert_eq!(recorded["facilitator_name"], "M. Bakker");
    assert_eq!(recorded["adap_accreditation_number"], "ADAP-2026-04711");

    // T3 left on 30 June and T2 joined on 15 January: each is named where listed.
    let response = post(&app, &owner, &meetings, meeting("2026-08-01", &[T1, T3])).await;
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), vec!["attendees[1]"]);
    assert_eq!(problem["errors"][0]["code"], "not_a_member");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(T3));
    let response = post(&app, &owner, &meetings, meeting("2026-01-10", &[T2, T1])).await;
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), vec!["attendees[0]"]);
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(T2));

    let mut with_content = meeting("2026-04-09", &[T1]);
    with_content["content"] = json!("casus van mevrouw X");
    let problem = expect_problem(post(&app, &owner, &meetings, with_content).await, 422).await;
    assert_eq!(problem_fields(&problem), vec!["content"]);
    let future = post(&app, &owner, &meetings, meeting("2026-12-01", &[T1])).await;
    assert_eq!(
        problem_fields(&expect_problem(future, 422).await),
        vec!["held_on"]
    );

    let read = expect_json(
        get(&app, &owner, &format!("/v1/intervision-groups/{id}")).await,
        200,
    )
    .await;
    assert_eq!(read["members"].as_array().unwrap().len(), 3);
    assert_eq!(read["members"][1]["joined_on"], "2026-01-15");
    assert_eq!(read["members"][2]["left_on"], "2026-06-30");
    assert_eq!(read["meetings"].as_array().unwrap().len(), 1);
    assert_eq!(read["meetings"][0]["held_on"], "2026-03-12");
    assert_eq!(read["meetings"][0]["attendees"], json!([T1, T3]));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM intervision_meetings"),
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM intervision_attendance"),
        2
    );

    // Attendance ties the member to the group: no removal, no dates that exclude the meeting.
    let problem = expect_problem(delete(&app, &owner, &format!("{members}/{T3}")).await, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("left_on"));
    let narrowed = put(
        &app,
        &owner,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-02-01", "left_on": "2026-03-01"}),
    )
    .await;
    expect_problem(narrowed, 409).await;
    assert_eq!(
        delete(&app, &owner, &format!("{members}/{T2}"))
            .await
            .status(),
        204
    );
    expect_problem(delete(&app, &owner, &format!("{members}/{T2}")).await, 404).await;

    // The partner practice reads the group its therapist is in, but does not change it.
    let read = get(&app, &partner, &format!("/v1/intervision-groups/{id}")).await;
    assert_eq!(expect_json(read, 200).await["id"], id.as_str());
    let change = put(
        &app,
        &partner,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-02-01"}),
    )
    .await;
    expect_problem(change, 403).await;
    expect_problem(
        post(&app, &partner, &meetings, meeting("2026-03-12", &[T3])).await,
        403,
    )
    .await;
    let listed = expect_json(get(&app, &partner, "/v1/intervision-groups").await, 200).await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["items"][0]["member_count"], 2);
    assert_eq!(listed["items"][0]["meeting_count"], 1);

    // A practice with no part in the group does not learn that it exists.
    let stranger = app.token_for(ClientRole::Practice, STRANGER).await;
    expect_problem(
        get(&app, &stranger, &format!("/v1/intervision-groups/{id}")).await,
        404,
    )
    .await;
    let change = put(
        &app,
        &stranger,
        &format!("{members}/{T1}"),
        json!({"joined_on": "2026-01-01"}),
    )
    .await;
    expect_problem(change, 404).await;
    expect_problem(
        post(&app, &stranger, &meetings, meeting("2026-03-12", &[T1])).await,
        404,
    )
    .await;
    expect_problem(
        delete(&app, &stranger, &format!("{members}/{T1}")).await,
        404,
    )
    .await;
    let listed = expect_json(get(&app, &stranger, "/v1/intervision-groups").await, 200).await;
    assert_eq!(listed["items"], json!([]));
    let other = get(
        &app,
        &stranger,
        &format!("/v1/intervision-groups?practice_agb={OWNER}"),
    )
    .await;
    expect_problem(other, 404).await;
    let by_registrar = get(
        &app,
        &registrar,
        &format!("/v1/intervision-groups?practice_agb={PARTNER}"),
    )
    .await;
    assert_eq!(
        expect_json(by_registrar, 200).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(audit_count(&app, "intervision_group.create"), 1);
    assert_eq!(audit_count(&app, "intervision_member.put"), 3);
    assert_eq!(audit_count(&app, "intervision_invitation.put"), 1);
    assert_eq!(audit_count(&app, "intervision_invitation.accept"), 1);
    assert_eq!(audit_count(&app, "intervision_member.delete"), 1);
    assert_eq!(audit_count(&app, "intervision_meeting.create"), 1);
    assert_eq!(audit_count(&app, "intervision_group.read"), 2);
}

/// A therapist of another practice joins a group only when a practice where the therapist works
/// accepts; inviting reveals nothing; that practice may end the membership; meetings count only
/// while a member.
#[tokio::test]
async fn intervision_across_practices_needs_the_consent_of_the_therapist_s_practice() {
    const GHOST: &str = "07199999";
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    for practice in [OWNER, PARTNER, STRANGER] {
        app.create_practice(practice).await;
    }
    let registrar = app.registrar_token().await;
    therapist_at(&app, &registrar, T1, OWNER, "2024-01-01", None).await;
    therapist_at(&app, &registrar, T3, PARTNER, "2024-01-01", None).await;
    let owner = app.token_for(ClientRole::Practice, OWNER).await;
    let partner = app.token_for(ClientRole::Practice, PARTNER).await;
    let stranger = app.token_for(ClientRole::Practice, STRANGER).await;
    let group = expect_json(
        post(
            &app,
            &owner,
            "/v1/intervision-groups",
            json!({"name": "Over de grens"}),
        )
        .await,
        201,
    )
    .await;
    let id = group["id"].as_str().unwrap().to_string();
    let members = format!("/v1/intervision-groups/{id}/members");
    let meetings = format!("/v1/intervision-groups/{id}/meetings");
    let joined = json!({"joined_on": "2026-02-01"});
    expect_json(
        put(&app, &owner, &format!("{members}/{T1}"), joined.clone()).await,
        201,
    )
    .await;

    // Another practice's therapist and an AGB code nobody holds get the same answer.
    let invited = expect_json(
        put(&app, &owner, &format!("{members}/{T3}"), joined.clone()).await,
        202,
    )
    .await;
    let ghost = expect_json(
        put(&app, &owner, &format!("{members}/{GHOST}"), joined.clone()).await,
        202,
    )
    .await;
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&invited), keys(&ghost));
    for invitation in [&invited, &ghost] {
        assert_eq!(invitation["state"], "pending");
        assert_eq!(invitation["group_id"], id.as_str());
        assert_eq!(invitation["joined_on"], "2026-02-01");
    }
    let invitation = invited["id"].as_str().unwrap().to_string();
    let read = expect_json(
        get(&app, &owner, &format!("/v1/intervision-groups/{id}")).await,
        200,
    )
    .await;
    assert_eq!(read["members"].as_array().unwrap().len(), 1);
    // Until accepted, T3 is no member: no meeting records T3.
    let refused = post(&app, &owner, &meetings, meeting("2026-03-12", &[T1, T3])).await;
    assert_eq!(
        problem_fields(&expect_problem(refused, 422).await),
        vec!["attendees[1]"]
    );

    // Who sees which invitation: the partner its therapist's, the owner what it sent.
    let list = |token: &str, practice: &str| {
        let path = format!("/v1/practices/{practice}/intervision-invitations");
        let token = token.to_string();
        let app = &app;
        async move { get(app, &token, &path).await }
    };
    let of_partner = expect_json(list(&partner, PARTNER).await, 200).await;
    assert_eq!(of_partner["items"].as_array().unwrap().len(), 1);
    assert_eq!(of_partner["items"][0]["therapist_agb"], T3);
    assert_eq!(of_partner["items"][0]["group_name"], "Over de grens");
    let of_owner = expect_json(list(&owner, OWNER).await, 200).await;
    assert_eq!(of_owner["items"].as_array().unwrap().len(), 2);
    let of_stranger = expect_json(list(&stranger, STRANGER).await, 200).await;
    assert_eq!(of_stranger["items"], json!([]));
    expect_problem(list(&stranger, PARTNER).await, 404).await;

    // Only a practice where the therapist works answers; anyone else finds no such invitation.
    let answer = |token: &str, practice: &str, invitation: &str, how: &str| {
        let path = format!("/v1/practices/{practice}/intervision-invitations/{invitation}/{how}");
        let token = token.to_string();
        let app = &app;
        async move { send(app, reqwest::Method::POST, &token, &path, None).await }
    };
    expect_problem(
        answer(&stranger, STRANGER, &invitation, "acceptance").await,
        404,
    )
    .await;
    expect_problem(answer(&owner, OWNER, &invitation, "acceptance").await, 404).await;
    expect_problem(
        answer(&partner, PARTNER, ghost["id"].as_str().unwrap(), "decline").await,
        404,
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_events WHERE outcome = 'denied' \
             AND subject_type = 'intervision_invitation'"
        ),
        3
    );
    let accepted = expect_json(
        answer(&partner, PARTNER, &invitation, "acceptance").await,
        200,
    )
    .await;
    assert_eq!(accepted["state"], "accepted");
    assert!(accepted["answered_at"].is_string());
    expect_problem(
        answer(&partner, PARTNER, &invitation, "acceptance").await,
        409,
    )
    .await;
    expect_problem(answer(&partner, PARTNER, &invitation, "decline").await, 409).await;
    for held_on in ["2026-03-12", "2026-09-01"] {
        expect_json(
            post(&app, &owner, &meetings, meeting(held_on, &[T1, T3])).await,
            201,
        )
        .await;
    }

    // Widening an accepted membership asks again; a decline leaves the dates.
    let widened = put(
        &app,
        &owner,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-01-01"}),
    )
    .await;
    let again = expect_json(widened, 202).await;
    let declined = expect_json(
        answer(&partner, PARTNER, again["id"].as_str().unwrap(), "decline").await,
        200,
    )
    .await;
    assert_eq!(declined["state"], "declined");
    let read = expect_json(
        get(&app, &owner, &format!("/v1/intervision-groups/{id}")).await,
        200,
    )
    .await;
    assert_eq!(read["members"][1]["therapist_agb"], T3);
    assert_eq!(read["members"][1]["joined_on"], "2026-02-01");

    // The partner ends its own therapist's membership, not before a meeting attended, and
    // changes nothing else.
    let t1_change = put(
        &app,
        &partner,
        &format!("{members}/{T1}"),
        json!({"joined_on": "2026-02-01", "left_on": "2026-05-01"}),
    )
    .await;
    expect_problem(t1_change, 403).await;
    let too_early = put(
        &app,
        &partner,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-02-01", "left_on": "2026-08-31"}),
    )
    .await;
    expect_problem(too_early, 409).await;
    let ended = put(
        &app,
        &partner,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-02-01", "left_on": "2026-09-30"}),
    )
    .await;
    assert_eq!(expect_json(ended, 200).await["left_on"], "2026-09-30");
    let after_end = post(&app, &owner, &meetings, meeting("2026-10-01", &[T3])).await;
    expect_problem(after_end, 422).await;
    expect_problem(
        delete(&app, &partner, &format!("{members}/{T3}")).await,
        409,
    )
    .await;

    // The registrar enrols directly, and knows who is in the register.
    let direct = put(
        &app,
        &registrar,
        &format!("{members}/{T3}"),
        json!({"joined_on": "2026-01-01", "left_on": "2026-09-30"}),
    )
    .await;
    assert_eq!(expect_json(direct, 200).await["joined_on"], "2026-01-01");
    expect_problem(
        put(
            &app,
            &registrar,
            &format!("{members}/{GHOST}"),
            joined.clone(),
        )
        .await,
        404,
    )
    .await;

    // Meetings count only while a member, even an attendance written around the rules.
    diesel::connection::SimpleConnection::batch_execute(
        &mut app.db().connect(),
        &format!(
            "INSERT INTO intervision_meetings (id, group_id, held_on, physical, duration_minutes, \
             facilitator_name, facilitator_trained) \
             VALUES (md5('late')::uuid, '{id}', '2026-10-15', true, 60, 'M. Bakker', true); \
             INSERT INTO intervision_attendance (meeting_id, therapist_agb) \
             VALUES (md5('late')::uuid, '{T3}')"
        ),
    )
    .unwrap();
    let service = app.token_for(ClientRole::Service, "").await;
    let feed = get(&app, &service, "/v1/internal/evidence/2026")
        .await
        .text()
        .await
        .unwrap();
    let attended: Vec<u64> = feed
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["practice_agb"] == PARTNER)
        .flat_map(|record| record["therapists"].as_array().unwrap().clone())
        .filter(|therapist| therapist["agb"] == T3)
        .flat_map(|therapist| therapist["intervision"].as_array().unwrap().clone())
        .map(|membership| membership["physical_meetings_attended"].as_u64().unwrap())
        .collect();
    assert_eq!(attended, vec![2]);

    // The owner withdraws an open invitation.
    assert_eq!(
        delete(&app, &owner, &format!("{members}/{GHOST}"))
            .await
            .status(),
        204
    );
    let of_owner = expect_json(list(&owner, OWNER).await, 200).await;
    let states: Vec<&str> = of_owner["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["accepted", "withdrawn", "declined"]);

    // A group hidden from a practice is a refused access in the audit trail.
    expect_problem(
        get(&app, &stranger, &format!("/v1/intervision-groups/{id}")).await,
        404,
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_events WHERE outcome = 'denied' \
             AND subject_type = 'intervision_group'"
        ),
        1
    );
    assert_eq!(audit_count(&app, "intervision_invitation.put"), 3);
    assert_eq!(audit_count(&app, "intervision_invitation.accept"), 1);
    assert_eq!(audit_count(&app, "intervision_invitation.decline"), 1);
    assert_eq!(audit_count(&app, "intervision_invitation.list"), 4);
}

#[tokio::test]
async fn an_iop_is_recorded_per_year_with_its_quarterly_updates() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    app.create_practice(OWNER).await;
    app.create_practice(STRANGER).await;
    let registrar = app.registrar_token().await;
    therapist_at(&app, &registrar, T1, OWNER, "2024-01-01", None).await;
    therapist_at(
        &app,
        &registrar,
        T2,
        OWNER,
        "2024-01-01",
        Some("2025-12-31"),
    )
    .await;
    let owner = app.token_for(ClientRole::Practice, OWNER).await;
    let body = json!({
        "drawn_up_on": "2026-01-15", "uploaded_to_kp_on": "2026-01-20",
        "quarterly_updates": ["2026-09-29", "2026-03-28", "2026-06-30"],
        "used_in_appraisal": true, "used_in_360_feedback": false
    });

    let created = put(
        &app,
        &owner,
        &format!("/v1/therapists/{T1}/iops/2026"),
        body.clone(),
    )
    .await;
    let iop = expect_json(created, 201).await;
    assert_eq!(iop["therapist_agb"], T1);
    assert_eq!(iop["year"], 2026);
    assert_eq!(
        iop["quarterly_updates"],
        json!(["2026-03-28", "2026-06-30", "2026-09-29"])
    );
    assert_eq!(iop["used_in_appraisal"], true);

    let mut updated = body.clone();
    updated["quarterly_updates"] = json!(["2026-03-28", "2026-06-30", "2026-09-29", "2026-11-02"]);
    updated["used_in_360_feedback"] = json!(true);
    let replaced = put(
        &app,
        &owner,
        &format!("/v1/therapists/{T1}/iops/2026"),
        updated,
    )
    .await;
    assert_eq!(
        expect_json(replaced, 200).await["quarterly_updates"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // A quarterly update outside the year of the IOP is named.
    let mut outside = body.clone();
    outside["quarterly_updates"] = json!(["2026-03-28", "2027-01-05"]);
    let problem = expect_problem(
        put(
            &app,
            &owner,
            &format!("/v1/therapists/{T1}/iops/2026"),
            outside,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&problem), vec!["quarterly_updates[1]"]);
    assert_eq!(problem["errors"][0]["code"], "date_outside_year");
    let problem = expect_problem(
        put(
            &app,
            &owner,
            &format!("/v1/therapists/{T1}/iops/26"),
            body.clone(),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&problem), vec!["year"]);

    // T2 left the practice at the end of 2025: its 2026 IOP is not the practice's to record.
    expect_problem(
        put(
            &app,
            &owner,
            &format!("/v1/therapists/{T2}/iops/2026"),
            body.clone(),
        )
        .await,
        404,
    )
    .await;
    let mut for_2025 = body.clone();
    for_2025["drawn_up_on"] = json!("2025-01-10");
    for_2025["uploaded_to_kp_on"] = Value::Null;
    for_2025["quarterly_updates"] = json!(["2025-04-01"]);
    expect_json(
        put(
            &app,
            &owner,
            &format!("/v1/therapists/{T2}/iops/2025"),
            for_2025,
        )
        .await,
        201,
    )
    .await;
    expect_json(
        put(
            &app,
            &registrar,
            &format!("/v1/therapists/{T2}/iops/2026"),
            body.clone(),
        )
        .await,
        201,
    )
    .await;
    let owners_view = expect_json(
        get(&app, &owner, &format!("/v1/therapists/{T2}/iops")).await,
        200,
    )
    .await;
    let years: Vec<i64> = owners_view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, vec![2025]);
    let registrars_view = expect_json(
        get(&app, &registrar, &format!("/v1/therapists/{T2}/iops")).await,
        200,
    )
    .await;
    assert_eq!(registrars_view["items"].as_array().unwrap().len(), 2);

    let stranger = app.token_for(ClientRole::Practice, STRANGER).await;
    expect_problem(
        put(
            &app,
            &stranger,
            &format!("/v1/therapists/{T1}/iops/2026"),
            body,
        )
        .await,
        404,
    )
    .await;
    expect_problem(
        get(&app, &stranger, &format!("/v1/therapists/{T1}/iops")).await,
        404,
    )
    .await;

    let listed = expect_json(
        get(&app, &owner, &format!("/v1/therapists/{T1}/iops")).await,
        200,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["used_in_360_feedback"], true);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM iops WHERE therapist_agb = '07100011' AND year = 2026 \
             AND cardinality(quarterly_updates) = 4 AND used_in_360_feedback"
        ),
        1
    );
    assert_eq!(audit_count(&app, "iop.put"), 4);
    assert_eq!(audit_count(&app, "iop.list"), 3);
}

#[tokio::test]
async fn a_treatment_index_keeps_its_confidence_interval_in_order() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    app.create_practice(OWNER).await;
    app.create_practice(STRANGER).await;
    let owner = app.token_for(ClientRole::Practice, OWNER).await;
    let path = format!("/v1/practices/{OWNER}/treatment-indices/2025");
    let body = json!({"value": 160.0, "ci_lower": 151.5, "ci_upper": 168.2, "patient_count": 212, "source": " Vektis "});

    let index = expect_json(put(&app, &owner, &path, body.clone()).await, 201).await;
    assert_eq!(index["value"], 160.0);
    assert_eq!(index["ci_lower"], 151.5);
    assert_eq!(index["source"], "Vektis");
    assert_eq!(index["year"], 2025);

    let mut above = body.clone();
    above["ci_lower"] = json!(161.0);
    let problem = expect_problem(put(&app, &owner, &path, above).await, 422).await;
    assert_eq!(problem_fields(&problem), vec!["ci_lower"]);
    assert_eq!(problem["errors"][0]["code"], "ci_order");
    let mut below = body.clone();
    below["ci_upper"] = json!(150.0);
    below["patient_count"] = json!(-1);
    let problem = expect_problem(put(&app, &owner, &path, below).await, 422).await;
    assert_eq!(problem_fields(&problem), vec!["ci_upper", "patient_count"]);

    let without_interval = json!({"value": 142.0, "patient_count": 230, "source": "Vektis"});
    let replaced = expect_json(put(&app, &owner, &path, without_interval).await, 200).await;
    assert!(replaced["ci_lower"].is_null() && replaced["ci_upper"].is_null());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM treatment_indices WHERE practice_agb = '07000011' \
             AND year = 2025 AND value = 142 AND ci_lower IS NULL"
        ),
        1
    );

    let stranger = app.token_for(ClientRole::Practice, STRANGER).await;
    expect_problem(put(&app, &stranger, &path, body).await, 404).await;
    expect_problem(
        get(
            &app,
            &stranger,
            &format!("/v1/practices/{OWNER}/treatment-indices"),
        )
        .await,
        404,
    )
    .await;
    let listed = expect_json(
        get(
            &app,
            &owner,
            &format!("/v1/practices/{OWNER}/treatment-indices"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["value"], 142.0);
    assert_eq!(audit_count(&app, "treatment_index.put"), 2);
    assert_eq!(audit_count(&app, "treatment_index.list"), 1);
}

#[tokio::test]
async fn consent_is_granted_revoked_and_granted_again() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    app.create_practice(OWNER).await;
    app.create_practice(STRANGER).await;
    let owner = app.token_for(ClientRole::Practice, OWNER).await;
    let consent = format!("/v1/practices/{OWNER}/consents/7095");

    let granted = expect_json(
        put(&app, &owner, &consent, json!({"granted_on": "2026-03-01"})).await,
        201,
    )
    .await;
    assert_eq!(granted["insurer_uzovi"], "7095");
    assert_eq!(granted["granted_on"], "2026-03-01");
    assert_eq!(granted["active"], true);
    let again = expect_json(
        put(&app, &owner, &consent, json!({"granted_on": "2026-03-02"})).await,
        200,
    )
    .await;
    assert_eq!(again["granted_on"], "2026-03-02");
    let future = put(&app, &owner, &consent, json!({"granted_on": "2026-11-11"})).await;
    assert_eq!(
        problem_fields(&expect_problem(future, 422).await),
        vec!["granted_on"]
    );
    let bad = put(
        &app,
        &owner,
        &format!("/v1/practices/{OWNER}/consents/70"),
        json!({"granted_on": "2026-03-01"}),
    )
    .await;
    assert_eq!(
        problem_fields(&expect_problem(bad, 422).await),
        vec!["uzovi"]
    );

    assert_eq!(delete(&app, &owner, &consent).await.status(), 204);
    expect_problem(delete(&app, &owner, &consent).await, 404).await;
    let listed = expect_json(
        get(&app, &owner, &format!("/v1/practices/{OWNER}/consents")).await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["active"], false);
    assert!(listed["items"][0]["revoked_at"].is_string());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM insurer_consents WHERE revoked_at IS NOT NULL"
        ),
        1
    );

    let regranted = expect_json(
        put(&app, &owner, &consent, json!({"granted_on": "2026-10-01"})).await,
        201,
    )
    .await;
    assert_eq!(regranted["active"], true);
    assert!(regranted["revoked_at"].is_null());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM insurer_consents WHERE revoked_at IS NULL \
             AND granted_on = '2026-10-01'"
        ),
        1
    );

    let stranger = app.token_for(ClientRole::Practice, STRANGER).await;
    expect_problem(
        put(
            &app,
            &stranger,
            &consent,
            json!({"granted_on": "2026-03-01"}),
        )
        .await,
        404,
    )
    .await;
    expect_problem(delete(&app, &stranger, &consent).await, 404).await;
    expect_problem(
        get(&app, &stranger, &format!("/v1/practices/{OWNER}/consents")).await,
        404,
    )
    .await;
    assert_eq!(audit_count(&app, "consent.grant"), 3);
    assert_eq!(audit_count(&app, "consent.revoke"), 1);
}
