//! A real register and the visitation service, each on port 0 with a database of its own, on one
//! clock the test moves. The register is filled through its own tables (arranging data); the
//! visitation service reads it only through the register's directory.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use diesel::pg::PgConnection;
use diesel::sql_types::{Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::RunQueryDsl;
use praktijkregister_domain::ClientRole;
use praktijkregister_platform::clock::ManualClock;
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::testing::{self, TestServer, TestTokenIssuer};
use praktijkregister_register::kp::verifier::HttpKpVerifier;
use praktijkregister_register::startup::{Register, RegisterContext};
use praktijkregister_visitation::settings::VisitationSettings;
use praktijkregister_visitation::startup::{Visitation, VisitationContext};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const YEAR: i32 = 2027;
/// The service client the register seeds and the visitation service calls with.
pub const CLIENT_ID: &str = "visitation";

pub fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// Noon in Amsterdam (10:00 UTC in summer) of `date`.
pub fn noon(date: &str) -> DateTime<Utc> {
    let d = day(date);
    Utc.from_utc_datetime(&d.and_hms_opt(10, 0, 0).expect("time"))
}

pub struct Suite {
    pub register: TestServer,
    pub visitation: TestServer,
    pub issuer: TestTokenIssuer,
    pub clock: Arc<ManualClock>,
    pub settings: Settings,
    pub section: VisitationSettings,
}

/// How the visitation service delivers its events.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// Its own relay, polling often, to the test's register.
    ToRegister,
    /// No relay: the test runs one itself.
    None,
}

pub async fn suite() -> Suite {
    suite_with(Relay::ToRegister, |_| {}).await
}

pub async fn suite_with(relay: Relay, adjust: impl FnOnce(&mut VisitationSettings)) -> Suite {
    let clock = Arc::new(ManualClock::new(noon("2027-06-01")));
    let settings = testing::test_settings();
    let mut register_section = testing::section::<Register>();
    register_section.bootstrap.registrar_client_id = "test-registrar".into();
    register_section.bootstrap.registrar_client_secret =
        Some(SecretString::from("test-registrar-secret-0123456789"));
    register_section.bootstrap.service_clients =
        BTreeMap::from([(CLIENT_ID.to_string(), "Visitation service".to_string())]);
    let register_clock = clock.clone();
    let register = testing::spawn::<Register, _, _>(
        settings.clone(),
        register_section,
        |settings, section, pool| async move {
            praktijkregister_register::bootstrap::ensure_registrar(&settings, &section, &pool)
                .await
                .expect("registrar");
            praktijkregister_register::bootstrap::ensure_service_clients(
                &settings, &section, &pool,
            )
            .await
            .expect("service clients");
            let verifier = HttpKpVerifier::new(&section.kp_verifier).expect("verifier");
            RegisterContext::new(
                &settings,
                &section,
                &pool,
                Arc::new(verifier),
                register_clock,
            )
            .expect("register context")
        },
    )
    .await;
    let issuer = TestTokenIssuer::start().await;
    let mut visitation_settings = settings.clone();
    visitation_settings.auth.jwks_url = format!("{}/.well-known/jwks.json", register.base_url);
    visitation_settings.auth.trusted_issuers = vec![issuer.trusted()];
    let mut section = testing::section::<Visitation>();
    section.register_url = register.base_url.clone();
    section.service_client.token_url = format!("{}/oauth/token", register.base_url);
    section.outbox.poll_interval_ms = 50;
    section.outbox.backoff_base_ms = 10;
    section.outbox.backoff_max_ms = 100;
    section.outbox.destinations.clear();
    if relay == Relay::ToRegister {
        section.outbox.destinations.insert(
            "register".into(),
            format!("{}/v1/internal/visitation-outcomes", register.base_url),
        );
    }
    adjust(&mut section);
    let visitation_clock = clock.clone();
    let visitation = testing::spawn::<Visitation, _, _>(
        visitation_settings.clone(),
        section.clone(),
        |settings, section, _pool| async move {
            VisitationContext::new(&settings, &section, visitation_clock).expect("context")
        },
    )
    .await;
    Suite {
        register,
        visitation,
        issuer,
        clock,
        settings: visitation_settings,
        section,
    }
}

impl Suite {
    pub fn registrar(&self) -> String {
        self.issuer.token(
            ClientRole::Registrar,
            praktijkregister_scopes::visitation::ALL,
        )
    }

    pub fn visitor(&self, id: &str) -> String {
        self.issuer.token_bound(
            ClientRole::Visitor,
            praktijkregister_scopes::visitation::ALL,
            "visitor_id",
            id,
        )
    }

    pub fn practice(&self, agb: &str) -> String {
        self.issuer.token_bound(
            ClientRole::Practice,
            praktijkregister_scopes::visitation::ALL,
            "practice_agb",
            agb,
        )
    }

    pub fn register_db(&self) -> PgConnection {
        self.register.db.connect()
    }

    pub fn visitation_db(&self) -> PgConnection {
        self.visitation.db.connect()
    }

    /// Records visitor `id` authorised from 2026 through `until`, available on `slots`.
    pub async fn visitor_with(
        &self,
        id: &str,
        therapist: Option<&str>,
        until: Option<&str>,
        capacity: (u32, u32),
        slots: &[(&str, &str)],
    ) {
        let registrar = self.registrar();
        let caller = self.visitation.client.caller(&registrar);
        let (status, body) = caller
            .put(
                &format!("/v1/visitors/{id}"),
                json!({
                    "name": format!("Visitor {id}"), "email": format!("{id}@example.nl"),
                    "phone": null, "therapist_agb": therapist, "trained_on": "2026-01-15",
                    "authorised_from": "2026-02-01", "authorised_until": until,
                    "max_sessions_per_year": capacity.0, "max_sessions_per_week": capacity.1
                }),
            )
            .await;
        assert!(status == 201 || status == 200, "{status} {body}");
        let slots: Vec<Value> = slots
            .iter()
            .map(|(d, p)| json!({"date": d, "part_of_day": p}))
            .collect();
        let (status, body) = caller
            .put(
                &format!("/v1/visitors/{id}/availability"),
                json!({"slots": slots}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A visitor available every morning and afternoon of June to mid-October 2027.
    pub async fn busy_visitor(&self, id: &str, therapist: Option<&str>) {
        let mut slots = Vec::new();
        let mut d = day("2027-06-01");
        while d <= day("2027-10-15") {
            slots.push((d.to_string(), "morning"));
            slots.push((d.to_string(), "afternoon"));
            d = d.succ_opt().expect("next day");
        }
        let slots: Vec<(&str, &str)> = slots.iter().map(|(d, p)| (d.as_str(), *p)).collect();
        self.visitor_with(id, therapist, None, (100, 20), &slots)
            .await;
    }

    /// `POST /v1/visitation-sessions` as the registrar.
    pub async fn plan(
        &self,
        date: &str,
        part: &str,
        visitor: &str,
        a: &str,
        b: &str,
    ) -> (u16, Value) {
        self.visitation
            .client
            .caller(&self.registrar())
            .post(
                "/v1/visitation-sessions",
                json!({"date": date, "part_of_day": part, "visitor_id": visitor,
                       "practice_a_agb": a, "practice_b_agb": b}),
            )
            .await
    }

    /// The registration state of `agb` for the year in the register.
    pub fn registration_state(&self, agb: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            state: String,
        }
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT state FROM registrations WHERE practice_agb = $1 AND cycle_year = $2",
        )
        .bind::<Text, _>(agb)
        .bind::<Int4, _>(YEAR)
        .load(&mut self.register_db())
        .expect("registration");
        rows.into_iter().next().map(|r| r.state).unwrap_or_default()
    }

    /// Waits (bounded) until the register shows `state` for `agb`.
    pub async fn await_state(&self, agb: &str, state: &str) {
        for _ in 0..200 {
            if self.registration_state(agb) == state {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "practice {agb} never reached {state}; it is {}",
            self.registration_state(agb)
        );
    }
}

/// The codes of a 422's errors, sorted.
pub fn codes(problem: &Value) -> Vec<String> {
    let mut codes: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    codes.sort();
    codes
}

/// A practice of the register, with what the directory reads of it.
pub struct Practice<'a> {
    pub agb: &'a str,
    pub kvk: &'a str,
    pub postal_code: &'a str,
    pub house_number: &'a str,
    pub tier: &'a str,
    /// Registration state for the year; `plan_approved` gets an approved plan on 1 May.
    pub state: &'a str,
}

impl<'a> Practice<'a> {
    /// A praktijkregister practice with an approved plan, at its own address.
    pub fn approved(agb: &'a str, kvk: &'a str, postal_code: &'a str) -> Self {
        Self {
            agb,
            kvk,
            postal_code,
            house_number: "1",
            tier: "praktijkregister",
            state: "plan_approved",
        }
    }
}

pub fn add_practice(conn: &mut PgConnection, p: &Practice<'_>) {
    diesel::sql_query(
        "INSERT INTO practices (agb, name, kvk_number, tier) VALUES ($1, $2, $3, $4)",
    )
    .bind::<Text, _>(p.agb)
    .bind::<Text, _>(format!("Praktijk {}", p.agb))
    .bind::<Text, _>(p.kvk)
    .bind::<Text, _>(p.tier)
    .execute(conn)
    .expect("practice");
    diesel::sql_query(
        "INSERT INTO practice_locations (practice_agb, position, agb, kvk_branch_number, street, \
         house_number, postal_code, city, own_entrance, own_waiting_room, own_reception, \
         own_administration, own_logo) VALUES ($1, 0, $1, '000000000001', 'Straat', $2, $3, \
         'Utrecht', true, true, true, true, true)",
    )
    .bind::<Text, _>(p.agb)
    .bind::<Text, _>(p.house_number)
    .bind::<Text, _>(p.postal_code)
    .execute(conn)
    .expect("location");
    registration(conn, p.agb, YEAR, p.state, None);
    if p.state == "plan_approved" {
        approve_plan(conn, p.agb, YEAR, noon("2027-05-01"));
    }
}

pub fn registration(
    conn: &mut PgConnection,
    agb: &str,
    year: i32,
    state: &str,
    positive_on: Option<NaiveDate>,
) {
    diesel::sql_query(
        "INSERT INTO registrations (practice_agb, cycle_year, state, visitation_outcome_date, \
         registered_at) VALUES ($1, $2, $3, $4, CASE WHEN $3 = 'registered' THEN now() END)",
    )
    .bind::<Text, _>(agb)
    .bind::<Int4, _>(year)
    .bind::<Text, _>(state)
    .bind::<Nullable<Date>, _>(positive_on)
    .execute(conn)
    .expect("registration");
    if positive_on.is_some() {
        diesel::sql_query(
            "INSERT INTO registration_transitions (registration_id, from_state, to_state, event, \
             actor_client_id, occurred_at) SELECT id, 'visitation_planned', state, \
             'visitation_positive', 'test', now() FROM registrations \
             WHERE practice_agb = $1 AND cycle_year = $2",
        )
        .bind::<Text, _>(agb)
        .bind::<Int4, _>(year)
        .execute(conn)
        .expect("transition");
    }
}

pub fn approve_plan(conn: &mut PgConnection, agb: &str, year: i32, at: DateTime<Utc>) {
    diesel::sql_query(
        "INSERT INTO annual_plans (id, practice_agb, cycle_year, version, size_bytes, sha256, \
         submitted_at, submitted_by, assessment, assessed_at, assessed_by) \
         VALUES ($1, $2, $3, 1, 10, 'x', $4, 'test', 'approved', $4, 'test')",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::new_v4())
    .bind::<Text, _>(agb)
    .bind::<Int4, _>(year)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .expect("annual plan");
}

/// A therapist, kwaliteitsgeregistreerd, working at `practice` since 2020.
pub fn therapist_at(conn: &mut PgConnection, agb: &str, practice: Option<&str>) {
    diesel::sql_query(
        "INSERT INTO therapists (agb, name, kp_status, kp_valid_from, kp_valid_until) \
         VALUES ($1, $2, 'kwaliteitsgeregistreerd', '2020-01-01', '2030-12-31') \
         ON CONFLICT (agb) DO NOTHING",
    )
    .bind::<Text, _>(agb)
    .bind::<Text, _>(format!("Therapeut {agb}"))
    .execute(conn)
    .expect("therapist");
    if let Some(practice) = practice {
        diesel::sql_query(
            "INSERT INTO practice_memberships (practice_agb, therapist_agb, start_date) \
             VALUES ($1, $2, '2020-01-01')",
        )
        .bind::<Text, _>(practice)
        .bind::<Text, _>(agb)
        .execute(conn)
        .expect("membership");
    }
}

/// An intervision group of `therapists` since 2020.
pub fn intervision_group(conn: &mut PgConnection, therapists: &[&str]) {
    let id = uuid::Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO intervision_groups (id, name, created_at, created_by) VALUES ($1, 'Groep', now(), 'test')",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)
    .expect("group");
    for therapist in therapists {
        diesel::sql_query(
            "INSERT INTO intervision_members (group_id, therapist_agb, joined_on) VALUES ($1, $2, '2020-01-01')",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(*therapist)
        .execute(conn)
        .expect("member");
    }
}
