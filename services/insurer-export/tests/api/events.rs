//! Events the register cannot have sent are refused before anything is kept.

use praktijkregister_domain::ClientRole;
use praktijkregister_scopes::insurer_export as scopes;
use serde_json::{json, Value};

use crate::helpers::start;

#[tokio::test]
async fn an_event_the_register_cannot_have_sent_is_refused_and_nothing_is_kept() {
    let suite = start().await;
    let service = suite
        .issuer
        .token(ClientRole::Service, &[scopes::REGISTER_EVENTS_WRITE]);
    let event_id = uuid::Uuid::new_v4();
    let event = |name: &str, agb: &str| -> Value {
        json!({
            "event_id": event_id, "practice_agb": agb, "occurred_at": "2026-11-03T09:00:00Z",
            "change": {"type": "data", "name": name, "kvk_number": "12345678",
                       "tier": "praktijkregister", "locations": []}
        })
    };
    let caller = suite.export.client.caller(&service);
    for (body, field) in [
        (event("De\u{0}Beweging", "07012345"), "change.name"),
        (event("De Beweging", "aD\u{3}"), "practice_agb"),
    ] {
        let (status, problem) = caller.post("/v1/internal/register-events", body).await;
        assert_eq!(status, 422, "{problem}");
        assert!(
            problem["errors"]
                .as_array()
                .is_some_and(|errors| errors.iter().any(|e| e["field"] == field)),
            "{problem}"
        );
    }
    // Nothing was kept: the same event id with a valid body is applied as a new event.
    let (status, answer) = caller
        .post(
            "/v1/internal/register-events",
            event("De Beweging", "07012345"),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["applied"], true, "{answer}");
}
