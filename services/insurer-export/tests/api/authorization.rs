//! The authorization walk (DESIGN §5): every operation of the service × every role and no token;
//! an insurer's resources of another insurer are hidden (404).

use praktijkregister_domain::ClientRole::{self, Insurer, Registrar, Service};
use praktijkregister_insurer_export::startup::InsurerExport;
use praktijkregister_platform::service::Service as _;
use praktijkregister_platform::testing::walk::{Row, Walk, TENANT_ROLES};
use praktijkregister_platform::testing::Body;
use praktijkregister_scopes::insurer_export as scopes;
use serde_json::{json, Value};

use crate::helpers::{contract_year, cycle_year, start, Suite, Target, OTHER, OWN};

const AGB: &str = "07000101";
/// An endpoint no one listens on.
const NOWHERE: &str = "http://127.0.0.1:9/hooks";

async fn webhook(suite: &Suite, uzovi: &str) -> String {
    let (status, created) = suite
        .export
        .client
        .caller(&suite.registrar())
        .post(
            &format!("/v1/insurers/{uzovi}/webhooks"),
            json!({"url": NOWHERE}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

async fn first_delivery(suite: &Suite, uzovi: &str, webhook: &str) -> String {
    let (status, deliveries) = suite
        .export
        .client
        .caller(&suite.registrar())
        .get(&format!(
            "/v1/insurers/{uzovi}/webhooks/{webhook}/deliveries"
        ))
        .await;
    assert_eq!(status, 200, "{deliveries}");
    deliveries["items"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_operation_lets_in_exactly_the_roles_it_declares() {
    let suite = start().await;
    suite.create_practice(AGB, "De Linde").await;
    suite
        .register_practice(AGB, cycle_year(), Target::Registered)
        .await;
    suite.sync().await;
    for uzovi in [OWN, OTHER] {
        suite
            .insurer_with_criteria(uzovi, json!({"base_set": "basis"}))
            .await;
    }
    let (own_hook, other_hook) = (webhook(&suite, OWN).await, webhook(&suite, OTHER).await);
    let (own_gone, other_gone) = (webhook(&suite, OWN).await, webhook(&suite, OTHER).await);
    suite.rename_practice(AGB, "De Eik").await;
    suite.sync().await;
    let own_delivery = first_delivery(&suite, OWN, &own_hook).await;
    let other_delivery = first_delivery(&suite, OTHER, &other_hook).await;
    let own_snapshot = suite.build(OWN).await["id"].as_str().unwrap().to_string();
    let other_snapshot = suite.build(OTHER).await["id"].as_str().unwrap().to_string();

    let year = contract_year();
    let insurers = |path: &str| -> (String, Option<String>) {
        (
            format!("/v1/insurers/{OWN}{path}"),
            Some(format!("/v1/insurers/{OTHER}{path}")),
        )
    };
    let event: Value = json!({
        "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d99", "practice_agb": AGB,
        "occurred_at": "2020-01-01T00:00:00Z",
        "change": {"type": "consent", "insurer_uzovi": OWN, "given": true}
    });
    let both: &'static [ClientRole] = &[Registrar, Insurer];
    let row =
        |method: &'static str,
         template: &'static str,
         scope: &'static str,
         allowed: &'static [ClientRole],
         (path, other): (String, Option<String>),
         body: Body| Row::new(method, template, Some(scope), allowed, path, other, body);
    let rows = vec![
        Row::new(
            "GET",
            "/.well-known/jwks.json",
            None,
            &[],
            "/.well-known/jwks.json",
            None,
            Body::None,
        )
        .public_answer(200, Some("Ed25519")),
        row(
            "POST",
            "/v1/insurers",
            scopes::INSURERS_MANAGE.as_str(),
            &[Registrar],
            ("/v1/insurers".into(), None),
            Body::Json(json!({"uzovi": "5533", "name": "Walk", "differentiated": false})),
        ),
        row(
            "GET",
            "/v1/insurers",
            scopes::INSURERS_READ.as_str(),
            both,
            ("/v1/insurers".into(), None),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}",
            scopes::INSURERS_READ.as_str(),
            both,
            insurers(""),
            Body::None,
        ),
        row(
            "PUT",
            "/v1/insurers/{uzovi}",
            scopes::INSURERS_MANAGE.as_str(),
            &[Registrar],
            insurers(""),
            Body::Json(json!({"name": "Renamed", "differentiated": true})),
        ),
        row(
            "PUT",
            "/v1/insurers/{uzovi}/criteria/{contract_year}",
            scopes::INSURERS_MANAGE.as_str(),
            &[Registrar],
            insurers(&format!("/criteria/{}", year + 1)),
            Body::Json(json!({"base_set": "plus"})),
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/criteria/{contract_year}",
            scopes::INSURERS_READ.as_str(),
            both,
            insurers(&format!("/criteria/{year}")),
            Body::None,
        ),
        row(
            "POST",
            "/v1/insurers/{uzovi}/exports/{contract_year}",
            scopes::EXPORTS_BUILD.as_str(),
            &[Registrar],
            insurers(&format!("/exports/{year}")),
            Body::None,
        ),
        row(
            "POST",
            "/v1/insurers/{uzovi}/exports/{contract_year}/corrections",
            scopes::EXPORTS_BUILD.as_str(),
            &[Registrar],
            insurers(&format!("/exports/{year}/corrections")),
            Body::Json(json!({"reason": "walk"})),
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/exports/{contract_year}",
            scopes::EXPORTS_READ.as_str(),
            both,
            insurers(&format!("/exports/{year}")),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/exports/{contract_year}/practices/{agb}",
            scopes::EXPORTS_READ.as_str(),
            both,
            insurers(&format!("/exports/{year}/practices/{AGB}")),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/snapshots",
            scopes::EXPORTS_READ.as_str(),
            both,
            insurers("/snapshots"),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/snapshots/{snapshot_id}",
            scopes::EXPORTS_READ.as_str(),
            both,
            (
                format!("/v1/insurers/{OWN}/snapshots/{own_snapshot}"),
                Some(format!("/v1/insurers/{OTHER}/snapshots/{other_snapshot}")),
            ),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/snapshots/{snapshot_id}/signature",
            scopes::EXPORTS_READ.as_str(),
            both,
            (
                format!("/v1/insurers/{OWN}/snapshots/{own_snapshot}/signature"),
                Some(format!(
                    "/v1/insurers/{OTHER}/snapshots/{other_snapshot}/signature"
                )),
            ),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/changes",
            scopes::EXPORTS_READ.as_str(),
            both,
            insurers("/changes"),
            Body::None,
        ),
        row(
            "POST",
            "/v1/insurers/{uzovi}/webhooks",
            scopes::WEBHOOKS_MANAGE.as_str(),
            both,
            insurers("/webhooks"),
            Body::Json(json!({"url": NOWHERE})),
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/webhooks",
            scopes::WEBHOOKS_MANAGE.as_str(),
            both,
            insurers("/webhooks"),
            Body::None,
        ),
        row(
            "DELETE",
            "/v1/insurers/{uzovi}/webhooks/{webhook_id}",
            scopes::WEBHOOKS_MANAGE.as_str(),
            both,
            (
                format!("/v1/insurers/{OWN}/webhooks/{own_gone}"),
                Some(format!("/v1/insurers/{OTHER}/webhooks/{other_gone}")),
            ),
            Body::None,
        ),
        row(
            "GET",
            "/v1/insurers/{uzovi}/webhooks/{webhook_id}/deliveries",
            scopes::WEBHOOKS_MANAGE.as_str(),
            both,
            (
                format!("/v1/insurers/{OWN}/webhooks/{own_hook}/deliveries"),
                Some(format!("/v1/insurers/{OTHER}/webhooks/{other_hook}/deliveries")),
            ),
            Body::None,
        ),
        row(
            "POST",
            "/v1/insurers/{uzovi}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            scopes::WEBHOOKS_MANAGE.as_str(),
            both,
            (
                format!("/v1/insurers/{OWN}/webhooks/{own_hook}/deliveries/{own_delivery}/redeliver"),
                Some(format!(
                    "/v1/insurers/{OTHER}/webhooks/{other_hook}/deliveries/{other_delivery}/redeliver"
                )),
            ),
            Body::None,
        ),
        row(
            "POST",
            "/v1/internal/register-events",
            scopes::REGISTER_EVENTS_WRITE.as_str(),
            &[Service],
            ("/v1/internal/register-events".into(), None),
            Body::Json(event),
        ),
        row(
            "POST",
            "/v1/internal/resync",
            scopes::REGISTER_COPY_RESYNC.as_str(),
            &[Registrar],
            ("/v1/internal/resync".into(), None),
            Body::None,
        ),
        row(
            "GET",
            "/v1/internal/criteria/{uzovi}/{contract_year}",
            scopes::CRITERIA_SETS_READ.as_str(),
            &[Service],
            (format!("/v1/internal/criteria/{OWN}/{year}"), None),
            Body::None,
        ),
    ];
    let mut callers = vec![(None, None)];
    for role in ClientRole::ALL {
        callers.push((Some(role), Some(suite.issuer.token(role, scopes::ALL))));
    }
    Walk {
        client: &suite.export.client,
        callers,
        setup_token: suite.registrar(),
        hidden_from: TENANT_ROLES,
    }
    .run(&InsurerExport::openapi(), &rows)
    .await;
}
