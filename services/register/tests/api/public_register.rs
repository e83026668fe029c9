//! The public register: only practices registered for the current or previous cycle year, only
//! public fields, no token, cacheable with a body ETag, rate-limited per address, not audited.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::RunQueryDsl as _;
use serde_json::{json, Value};

use crate::helpers::{
    create_therapist, expect_problem, practice_body, spawn_app_at, spawn_app_with, TestApp,
};

const REGISTERED_2026: &str = "07000101";
const REGISTERED_2025: &str = "07000102";
const REGISTERED_2024: &str = "07000103";
const REFUSED: &str = "07000104";
const WITHDRAWN: &str = "07000105";
const PLAN_APPROVED: &str = "07000106";
const NO_REGISTRATION: &str = "07000107";

const HIDDEN: [&str; 5] = [
    REGISTERED_2024,
    REFUSED,
    WITHDRAWN,
    PLAN_APPROVED,
    NO_REGISTRATION,
];

fn in_2026() -> DateTime<Utc> {
    "2026-06-15T10:00:00Z".parse().unwrap()
}

fn location(street: &str, postal_code: &str, city: &str) -> Value {
    json!({
        "agb": "07999999",
        "kvk_branch_number": "000012345678",
        "street": street,
        "house_number": "12a",
        "postal_code": postal_code,
        "city": city,
        "phone": "030 123 4567",
        "website": "https://example.nl",
        "own_entrance": true,
        "own_waiting_room": true,
        "own_reception": false,
        "own_administration": true,
        "own_logo": true
    })
}

async fn create(app: &TestApp, token: &str, agb: &str, name: &str, locations: Vec<Value>) {
    let mut body = practice_body(agb);
    body["name"] = json!(name);
    body["locations"] = json!(locations);
    let response = app
        .http
        .post(app.url("/v1/practices"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

fn register(app: &TestApp, agb: &str, year: i32, state: &str) {
    diesel::sql_query(
        "INSERT INTO registrations (practice_agb, cycle_year, state, registered_at) \
         VALUES ($1, $2, $3, CASE WHEN $3 = 'registered' THEN now() END)",
    )
    .bind::<Text, _>(agb)
    .bind::<Integer, _>(year)
    .bind::<Text, _>(state)
    .execute(&mut app.db().connect())
    .unwrap();
}

/// Seven practices, one per case, with a therapist (KP number) and an annual plan at the
/// registered one, so that private data exists to leak.
async fn seed(app: &TestApp) {
    let token = app.registrar_token().await;
    create(
        app,
        &token,
        REGISTERED_2026,
        "Oefentherapie De Beweging",
        vec![
            location("Dorpsstraat", "3512ab", "Utrecht"),
            location("Slotlaan", "3701 CD", "Zeist"),
        ],
    )
    .await;
    create(
        app,
        &token,
        REGISTERED_2025,
        "Cesar Praktijk Noord",
        vec![location("Damrak", "1012 XY", "Amsterdam")],
    )
    .await;
    for (agb, name) in [
        (REGISTERED_2024, "Oefentherapie Verleden"),
        (REFUSED, "Oefentherapie Geweigerd"),
        (WITHDRAWN, "Oefentherapie Teruggetrokken"),
        (PLAN_APPROVED, "Oefentherapie Onderweg"),
        (NO_REGISTRATION, "Oefentherapie Nieuw"),
    ] {
        create(
            app,
            &token,
            agb,
            name,
            vec![location("Coolsingel", "3011 AA", "Utrecht")],
        )
        .await;
    }
    register(app, REGISTERED_2026, 2026, "registered");
    register(app, REGISTERED_2026, 2025, "registered");
    register(app, REGISTERED_2025, 2025, "registered");
    register(app, REGISTERED_2025, 2026, "plan_submitted");
    register(app, REGISTERED_2024, 2024, "registered");
    register(app, REFUSED, 2026, "refused");
    register(app, WITHDRAWN, 2026, "withdrawn");
    register(app, PLAN_APPROVED, 2026, "plan_approved");

    create_therapist(
        app,
        &token,
        json!({"agb": "07123456", "name": "A. Jansen", "email": "a.jansen@example.nl", "kp_number": "987654"}),
    )
    .await;
    let response = app
        .http
        .put(app.url(&format!(
            "/v1/practices/{REGISTERED_2026}/therapists/07123456"
        )))
        .bearer_auth(&token)
        .json(&json!({"start_date": "2024-01-01"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "membership");
    diesel::sql_query(
        "INSERT INTO annual_plans (id, practice_agb, cycle_year, version, filename, size_bytes, sha256, \
         submitted_at, submitted_by) VALUES (gen_random_uuid(), $1, 2026, 1, 'jaarplan-vertrouwelijk.pdf', \
         1000, 'deadbeefcafe', now(), 'test')",
    )
    .bind::<Text, _>(REGISTERED_2026)
    .execute(&mut app.db().connect())
    .unwrap();
}

async fn public_get(app: &TestApp, path_and_query: &str) -> reqwest::Response {
    app.http.get(app.url(path_and_query)).send().await.unwrap()
}

async fn page(app: &TestApp, path_and_query: &str) -> Value {
    let response = public_get(app, path_and_query).await;
    assert_eq!(response.status(), 200, "{path_and_query}");
    response.json().await.unwrap()
}

fn agbs_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["agb"].as_str().unwrap().to_string())
        .collect()
}

fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn audit_events(app: &TestApp) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM audit_events")
        .get_result::<Count>(&mut app.db().connect())
        .unwrap()
        .n
}

#[tokio::test]
async fn only_practices_registered_for_this_or_last_year_are_listed_with_the_years() {
    let (app, _clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;

    let response = public_get(&app, "/v1/public/practices").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let list: Value = response.json().await.unwrap();
    assert_eq!(agbs_of(&list), [REGISTERED_2026, REGISTERED_2025]);
    assert!(list["next_cursor"].is_null());
    let first = &list["items"][0];
    assert_eq!(first["registered_for"], json!([2026, 2025]));
    assert_eq!(first["name"], "Oefentherapie De Beweging");
    assert_eq!(first["tier"], "praktijkregister");
    assert_eq!(first["city"], "Utrecht");
    assert_eq!(
        first["locations"],
        json!([
            {"street": "Dorpsstraat", "house_number": "12a", "postal_code": "3512 AB", "city": "Utrecht"},
            {"street": "Slotlaan", "house_number": "12a", "postal_code": "3701 CD", "city": "Zeist"}
        ])
    );
    assert_eq!(list["items"][1]["registered_for"], json!([2025]));
    assert_eq!(list["items"][1]["city"], "Amsterdam");

    let response = public_get(&app, &format!("/v1/public/practices/{REGISTERED_2025}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let single: Value = response.json().await.unwrap();
    assert_eq!(single, list["items"][1]);
    // The lookup answers as the list does, locations in order and years newest first.
    let first_agb = first["agb"].as_str().unwrap();
    let single: Value = public_get(&app, &format!("/v1/public/practices/{first_agb}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&single, first);

    // Everything not publicly registered is one and the same 404.
    let mut details = Vec::new();
    for agb in HIDDEN
        .iter()
        .copied()
        .chain(["07999990", "0700010", "not-an-agb", "04000101"])
    {
        let response = public_get(&app, &format!("/v1/public/practices/{agb}")).await;
        let problem = expect_problem(response, 404).await;
        details.push(problem["detail"].as_str().unwrap().to_string());
        assert!(!details.last().unwrap().contains(agb), "{agb} echoed");
    }
    details.dedup();
    assert_eq!(details.len(), 1, "{details:?}");
}

#[tokio::test]
async fn the_year_boundary_follows_amsterdam_time() {
    let (app, clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;
    // 31 December 2026 23:30 UTC is 1 January 2027 in Amsterdam: 2025 is no longer public.
    clock.set("2026-12-31T23:30:00Z".parse().unwrap());
    let list = page(&app, "/v1/public/practices").await;
    assert_eq!(agbs_of(&list), [REGISTERED_2026]);
    assert_eq!(list["items"][0]["registered_for"], json!([2026]));
    expect_problem(
        public_get(&app, &format!("/v1/public/practices/{REGISTERED_2025}")).await,
        404,
    )
    .await;
    clock.set("2026-12-31T22:30:00Z".parse().unwrap());
    let list = page(&app, "/v1/public/practices").await;
    assert_eq!(agbs_of(&list), [REGISTERED_2026, REGISTERED_2025]);
}

#[tokio::test]
async fn the_public_body_holds_no_private_data() {
    let (app, _clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;
    let audited = audit_events(&app);

    for path in [
        "/v1/public/practices".to_string(),
        format!("/v1/public/practices/{REGISTERED_2026}"),
    ] {
        let text = public_get(&app, &path).await.text().await.unwrap();
        for secret in [
            "J. de Vries",
            "info@example.nl",
            "+31201234567",
            "+31301234567",
            "12345678",
            "000012345678",
            "07999999",
            "example.nl",
            "A. Jansen",
            "07123456",
            "987654",
            "jaarplan",
            "deadbeefcafe",
            "kvk",
            "contact",
            "therapist",
            "kp_",
            "annual_plan",
            "version",
            "own_",
        ] {
            assert!(!text.contains(secret), "{secret} in {path}: {text}");
        }
    }

    let single = page(&app, &format!("/v1/public/practices/{REGISTERED_2026}")).await;
    assert_eq!(
        keys_of(&single),
        ["agb", "city", "locations", "name", "registered_for", "tier"]
    );
    assert_eq!(
        keys_of(&single["locations"][0]),
        ["city", "house_number", "postal_code", "street"]
    );
    let list = page(&app, "/v1/public/practices").await;
    assert_eq!(keys_of(&list), ["items", "next_cursor"]);
    for item in list["items"].as_array().unwrap() {
        assert_eq!(keys_of(item), keys_of(&single));
    }

    // Public reads are not audited.
    assert_eq!(audit_events(&app), audited);
}

#[tokio::test]
async fn search_by_name_city_postal_code_prefix_and_agb() {
    let (app, _clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;
    let search = |query: &'static str| {
        let app = &app;
        async move { agbs_of(&page(app, &format!("/v1/public/practices?{query}")).await) }
    };

    assert_eq!(search("name=BEWEGING").await, [REGISTERED_2026]);
    assert_eq!(search("name=praktijk%20noord").await, [REGISTERED_2025]);
    // Hidden practices are not found by their name either.
    assert!(search("name=geweigerd").await.is_empty());
    // LIKE wildcards are literal.
    assert!(search("name=%25").await.is_empty());
    assert!(search("name=_").await.is_empty());

    assert_eq!(search("city=amsterdam").await, [REGISTERED_2025]);
    // Any location's city counts; hidden practices in Utrecht stay hidden.
    assert_eq!(search("city=ZEIST").await, [REGISTERED_2026]);
    assert_eq!(search("city=utrecht").await, [REGISTERED_2026]);
    assert!(search("city=Rotterdam").await.is_empty());

    assert_eq!(search("postal_code_prefix=3512ab").await, [REGISTERED_2026]);
    assert_eq!(
        search("postal_code_prefix=3701%20c").await,
        [REGISTERED_2026]
    );
    assert_eq!(search("postal_code_prefix=10").await, [REGISTERED_2025]);
    assert!(search("postal_code_prefix=3011").await.is_empty());
    assert_eq!(
        search("postal_code_prefix=%20%20").await,
        [REGISTERED_2026, REGISTERED_2025]
    );

    assert_eq!(search("agb=07000102").await, [REGISTERED_2025]);
    assert!(search("agb=07000104").await.is_empty());
    assert!(search("agb=07999990").await.is_empty());
    assert_eq!(
        search("name=oefentherapie&city=zeist&postal_code_prefix=3701").await,
        [REGISTERED_2026]
    );
    assert!(search("name=cesar&city=zeist").await.is_empty());

    let problem = expect_problem(public_get(&app, "/v1/public/practices?agb=12").await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "agb");
}

#[tokio::test]
async fn pages_follow_the_cursor_by_agb() {
    let (app, _clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;
    let first = page(&app, "/v1/public/practices?limit=1").await;
    assert_eq!(agbs_of(&first), [REGISTERED_2026]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = page(
        &app,
        &format!("/v1/public/practices?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(agbs_of(&second), [REGISTERED_2025]);
    assert!(second["next_cursor"].is_null());

    for query in ["limit=0", "limit=501", "limit=ten", "cursor=forged!"] {
        expect_problem(
            public_get(&app, &format!("/v1/public/practices?{query}")).await,
            422,
        )
        .await;
    }
}

#[tokio::test]
async fn a_matching_if_none_match_is_304_until_the_data_changes() {
    let (app, _clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;
    let path = format!("/v1/public/practices/{REGISTERED_2026}");

    let response = public_get(&app, &path).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 20,
        "{etag}"
    );
    assert!(!etag.starts_with("W/"));
    let body = response.bytes().await.unwrap();
    // The ETag depends only on the body: reading again gives the same one.
    let again = public_get(&app, &path).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.bytes().await.unwrap(), body);

    for if_none_match in [
        etag.clone(),
        format!("\"other\", {etag}"),
        format!("W/{etag}"),
        "*".to_string(),
    ] {
        let response = app
            .http
            .get(app.url(&path))
            .header("If-None-Match", &if_none_match)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 304, "{if_none_match}");
        assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(response.headers()["cache-control"], "public, max-age=300");
        assert!(response.bytes().await.unwrap().is_empty());
    }
    let response = app
        .http
        .get(app.url(&path))
        .header("If-None-Match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // The list has its own ETag and answers 304 the same way.
    let list = public_get(&app, "/v1/public/practices").await;
    let list_etag = list.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(list_etag, etag);
    let response = app
        .http
        .get(app.url("/v1/public/practices"))
        .header("If-None-Match", &list_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);

    // A hidden practice is 404 whatever If-None-Match says.
    let response = app
        .http
        .get(app.url(&format!("/v1/public/practices/{REFUSED}")))
        .header("If-None-Match", "*")
        .send()
        .await
        .unwrap();
    expect_problem(response, 404).await;

    // The registrar renames the practice: the old ETag no longer matches.
    let response = app
        .http
        .patch(app.url(&format!("/v1/practices/{REGISTERED_2026}")))
        .bearer_auth(app.registrar_token().await)
        .header("If-Match", "\"1\"")
        .json(&json!({"name": "Oefentherapie De Beweging Utrecht"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for (path, old) in [(path.as_str(), &etag), ("/v1/public/practices", &list_etag)] {
        let response = app
            .http
            .get(app.url(path))
            .header("If-None-Match", old.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let new = response.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(&new, old);
        let body: Value = response.json().await.unwrap();
        let name = if path == "/v1/public/practices" {
            &body["items"][0]["name"]
        } else {
            &body["name"]
        };
        assert_eq!(name, "Oefentherapie De Beweging Utrecht");
    }
}

#[tokio::test]
async fn no_token_is_needed_and_a_bad_one_does_not_matter() {
    let (app, _clock) = spawn_app_at(in_2026()).await;
    seed(&app).await;
    let path = format!("/v1/public/practices/{REGISTERED_2026}");
    for authorization in [
        "Bearer garbage",
        "Bearer eyJhbGciOiJub25lIn0.e30.",
        "Basic Zm9vOmJhcg==",
        "nonsense",
    ] {
        for path in [path.as_str(), "/v1/public/practices"] {
            let response = app
                .http
                .get(app.url(path))
                .header("Authorization", authorization)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{authorization} on {path}");
        }
    }

    let document: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/v1/public/practices", "/v1/public/practices/{agb}"] {
        let operation = &document["paths"][path]["get"];
        assert!(operation.is_object(), "{path} is documented");
        assert_eq!(operation["security"], json!([]), "{path} needs no token");
        assert_eq!(operation["tags"], json!(["Public register"]));
        for status in ["200", "304", "429"] {
            assert!(
                operation["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
    assert!(document["paths"]["/v1/public/practices/{agb}"]["get"]["responses"]["404"].is_object());
}

#[tokio::test]
async fn an_exhausted_limit_is_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.settings.http.rate_limit_per_second = 1;
        s.settings.http.rate_limit_burst = 2;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(public_get(&app, "/v1/public/practices").await.status(), 200);
    }
    let response = public_get(&app, "/v1/public/practices/07000101").await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    expect_problem(response, 429).await;
    expect_problem(public_get(&app, "/v1/public/practices").await, 429).await;
}
