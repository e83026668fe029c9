//! Diesel table definitions of the insurer-export database (see `migrations/`).

diesel::table! {
    insurers (uzovi) {
        uzovi -> Text,
        name -> Text,
        differentiated -> Bool,
        contact_email -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    criteria_sets (id) {
        id -> Int8,
        insurer_uzovi -> Text,
        contract_year -> Int4,
        version -> Int4,
        base_set -> Nullable<Text>,
        criteria -> Array<Text>,
        thresholds -> Jsonb,
        created_at -> Timestamptz,
        created_by -> Text,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    practices (agb) {
        agb -> Text,
        name -> Text,
        kvk_number -> Text,
        tier -> Text,
        locations -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    registrations (practice_agb, cycle_year) {
        practice_agb -> Text,
        cycle_year -> Int4,
        state -> Text,
        registered_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    consents (practice_agb, insurer_uzovi) {
        practice_agb -> Text,
        insurer_uzovi -> Text,
        given -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    changes (seq) {
        seq -> Int8,
        id -> Uuid,
        change_type -> Text,
        practice_agb -> Text,
        cycle_year -> Nullable<Int4>,
        insurer_uzovi -> Nullable<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        occurred_at -> Timestamptz,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    snapshots (id) {
        id -> Text,
        insurer_uzovi -> Text,
        contract_year -> Int4,
        criteria_set_id -> Int8,
        body -> Bytea,
        signature -> Text,
        practices -> Int4,
        changes_seq -> Int8,
        supersedes -> Nullable<Text>,
        correction_reason -> Nullable<Text>,
        superseded_by -> Nullable<Text>,
        built_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        insurer_uzovi -> Text,
        url -> Text,
        legacy_secret -> Nullable<Text>,
        created_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        sealed_secret -> Nullable<Bytea>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        change_seq -> Int8,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        give_up_at -> Timestamptz,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Int8,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        status -> Nullable<Int4>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(criteria_sets -> insurers (insurer_uzovi));
diesel::joinable!(snapshots -> insurers (insurer_uzovi));
diesel::joinable!(snapshots -> criteria_sets (criteria_set_id));
diesel::joinable!(webhook_endpoints -> insurers (insurer_uzovi));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> changes (change_seq));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    insurers,
    criteria_sets,
    practices,
    registrations,
    consents,
    changes,
    snapshots,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
);
