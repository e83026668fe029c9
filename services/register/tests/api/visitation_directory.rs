//! The visitation directory: what the visitation service reads of a cycle year's practices.

use diesel::sql_types::{Int4, Text};
use diesel::RunQueryDsl;
use praktijkregister_domain::ClientRole;
use serde_json::Value;

use crate::helpers::spawn_app;

fn run(conn: &mut diesel::PgConnection, sql: &str, binds: &[&str]) {
    let mut query = diesel::sql_query(sql).into_boxed();
    for bind in binds {
        query = query.bind::<Text, _>(bind.to_string());
    }
    query.execute(conn).unwrap();
}

#[tokio::test]
async fn the_directory_lists_a_years_practices_with_what_visitation_needs() {
    let app = spawn_app().await;
    for agb in ["07000001", "07000002", "07000003"] {
        app.create_practice(agb).await;
    }
    let mut db = app.db().connect();
    for (agb, year, state) in [
        ("07000001", 2027, "plan_approved"),
        ("07000002", 2027, "applied"),
        ("07000002", 2026, "registered"),
    ] {
        diesel::sql_query(
            "INSERT INTO registrations (practice_agb, cycle_year, state, visitation_outcome_date, registered_at) \
             VALUES ($1, $2, $3, CASE WHEN $3 = 'registered' THEN DATE '2026-09-01' END, \
             CASE WHEN $3 = 'registered' THEN now() END)",
        )
        .bind::<Text, _>(agb)
        .bind::<Int4, _>(year)
        .bind::<Text, _>(state)
        .execute(&mut db)
        .unwrap();
    }
    run(
        &mut db,
        "INSERT INTO registration_transitions (registration_id, from_state, to_state, event, actor_client_id, occurred_at) \
         SELECT id, 'visitation_planned', 'registered', 'visitation_positive', 't', now() FROM registrations \
         WHERE practice_agb = '07000002' AND cycle_year = 2026",
        &[],
    );
    run(
        &mut db,
        "INSERT INTO annual_plans (id, practice_agb, cycle_year, version, size_bytes, sha256, submitted_at, \
         submitted_by, assessment, assessed_at, assessed_by) VALUES (gen_random_uuid(), '07000001', 2027, 1, 1, 'x', \
         '2027-04-30T22:30:00Z', 't', 'approved', '2027-04-30T22:30:00Z', 't')",
        &[],
    );
    for (therapist, practice) in [("07100001", "07000001"), ("07100003", "07000003")] {
        run(
            &mut db,
            "INSERT INTO therapists (agb, name) VALUES ($1, 'T')",
            &[therapist],
        );
        run(
            &mut db,
            "INSERT INTO practice_memberships (practice_agb, therapist_agb, start_date) VALUES ($1, $2, '2020-01-01')",
            &[practice, therapist],
        );
    }
    run(
        &mut db,
        "INSERT INTO intervision_groups (id, name, created_at, created_by) \
         VALUES ('0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d20', 'G', now(), 't')",
        &[],
    );
    for therapist in ["07100001", "07100003"] {
        run(
            &mut db,
            "INSERT INTO intervision_members (group_id, therapist_agb, joined_on) \
             VALUES ('0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d20', $1, '2020-01-01')",
            &[therapist],
        );
    }

    let service = app.token_for(ClientRole::Service, "").await;
    let response = app
        .http
        .get(app.url("/v1/internal/visitation-directory/2027"))
        .bearer_auth(&service)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let directory: Value = response.json().await.unwrap();
    assert_eq!(directory["visitation_deadline"], "2027-10-15");
    let practices = directory["practices"].as_array().unwrap();
    // Only the practices with a registration for the year.
    let agbs: Vec<&str> = practices
        .iter()
        .map(|p| p["agb"].as_str().unwrap())
        .collect();
    assert_eq!(agbs, ["07000001", "07000002"]);
    let first = &practices[0];
    // Approved at 00:30 on 1 May in Amsterdam (22:30 UTC the day before).
    assert_eq!(first["plan_approved_on"], "2027-05-01");
    assert_eq!(first["new_to_register"], true);
    assert_eq!(first["therapist_agbs"], serde_json::json!(["07100001"]));
    assert_eq!(first["locations"][0]["address_key"], "3512AB 12a");
    assert_eq!(
        first["intervision_groups"][0]["practice_agbs"],
        serde_json::json!(["07000001", "07000003"])
    );
    let second = &practices[1];
    assert_eq!(second["new_to_register"], false);
    assert_eq!(second["last_positive_visitation_on"], "2026-09-01");
    assert_eq!(second["registration_state"], "applied");

    // Only the service role reads it.
    let registrar = app.registrar_token().await;
    let response = app
        .http
        .get(app.url("/v1/internal/visitation-directory/2027"))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}
