//! The planner through the API: a dry run proposes and stores nothing; accepting creates the
//! sessions in one transaction and the register follows.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_dry_run_proposes_and_accepting_creates_the_sessions() {
    let suite = suite().await;
    {
        let mut db = suite.register_db();
        for i in 1..=6 {
            add_practice(
                &mut db,
                &Practice::approved(
                    &format!("0700006{i}"),
                    &format!("8000000{i}"),
                    &format!("{i}200AA"),
                ),
            );
        }
        // Two that conflict (same KvK number), and one without an approved plan.
        add_practice(
            &mut db,
            &Practice::approved("07000070", "80000001", "7200AA"),
        );
        add_practice(
            &mut db,
            &Practice {
                state: "plan_submitted",
                ..Practice::approved("07000071", "80000071", "7300AA")
            },
        );
    }
    suite.busy_visitor("v1", None).await;
    suite.busy_visitor("v2", Some("07100061")).await;
    {
        let mut db = suite.register_db();
        therapist_at(&mut db, "07100061", Some("07000061"));
    }
    let registrar = suite.registrar();
    let caller = suite.visitation.client.caller(&registrar);
    let path = format!("/v1/cycles/{YEAR}/visitation-plan");
    let (status, dry) = caller.post(&path, json!(null)).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dry_run"], true);
    let sessions = dry["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{dry}");
    let unplaced = dry["unplaced"].as_array().unwrap();
    assert!(
        unplaced.contains(&json!({"practice_agb": "07000071", "reason": "no_approved_plan"})),
        "{dry}"
    );
    assert_eq!(unplaced.len(), 2, "{dry}");
    for s in sessions {
        // v2 works at 07000061 and is never sent there.
        let at_own = s["practice_a_agb"] == "07000061" || s["practice_b_agb"] == "07000061";
        assert!(!(at_own && s["visitor_id"] == "v2"), "{s}");
        let kvk_pair = [&s["practice_a_agb"], &s["practice_b_agb"]];
        assert!(
            !(kvk_pair.contains(&&json!("07000061")) && kvk_pair.contains(&&json!("07000070"))),
            "{s}"
        );
    }
    // The same input gives the same plan; a dry run stored nothing.
    let (_, again) = caller.post(&path, json!(null)).await;
    assert_eq!(again["sessions"], dry["sessions"]);
    let (_, listed) = caller.get("/v1/visitation-sessions").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let (status, problem) = caller
        .post(&format!("{path}?dry_run=maybe"), json!(null))
        .await;
    assert_eq!(status, 422, "{problem}");

    let (status, accepted) = caller
        .post(&format!("{path}?dry_run=false"), json!(null))
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["created"].as_array().unwrap().len(), 3);
    // Each session created is audited, and the acceptance itself.
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let audited: Vec<Count> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT count(*) AS n FROM audit_events WHERE action IN ('session.create', 'plan.accept')",
        ),
        &mut suite.visitation_db(),
    )
    .unwrap();
    assert_eq!(audited[0].n, 4);
    assert_eq!(accepted["sessions"], dry["sessions"]);
    let placed = sessions[0]["practice_a_agb"].as_str().unwrap();
    suite.await_state(placed, "visitation_planned").await;
    // Planned practices are not proposed again.
    let (_, after) = caller.post(&path, json!(null)).await;
    assert_eq!(after["sessions"].as_array().unwrap().len(), 0, "{after}");
}
