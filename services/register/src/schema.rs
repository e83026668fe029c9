//! Diesel table definitions of the register database (see `migrations/`).

diesel::table! {
    api_clients (client_id) {
        client_id -> Text,
        name -> Text,
        role -> Text,
        practice_agb -> Nullable<Text>,
        epd_vendor -> Nullable<Text>,
        insurer_uzovi -> Nullable<Text>,
        visitor_id -> Nullable<Text>,
        scopes -> Nullable<Array<Text>>,
        secret_hash -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    practices (agb) {
        agb -> Text,
        name -> Text,
        kvk_number -> Text,
        tier -> Text,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    practice_locations (id) {
        id -> Int8,
        practice_agb -> Text,
        position -> Int4,
        agb -> Text,
        kvk_branch_number -> Text,
        street -> Text,
        house_number -> Text,
        postal_code -> Text,
        city -> Text,
        phone -> Nullable<Text>,
        website -> Nullable<Text>,
        own_entrance -> Bool,
        own_waiting_room -> Bool,
        own_reception -> Bool,
        own_administration -> Bool,
        own_logo -> Bool,
    }
}

diesel::table! {
    therapists (agb) {
        agb -> Text,
        name -> Text,
        email -> Nullable<Text>,
        kp_number -> Nullable<Text>,
        kp_status -> Nullable<Text>,
        kp_valid_from -> Nullable<Date>,
        kp_valid_until -> Nullable<Date>,
        kp_verified_at -> Nullable<Timestamptz>,
        kp_source -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    practice_memberships (practice_agb, therapist_agb) {
        practice_agb -> Text,
        therapist_agb -> Text,
        start_date -> Date,
        end_date -> Nullable<Date>,
    }
}

diesel::joinable!(practice_locations -> practices (practice_agb));
diesel::joinable!(practice_memberships -> practices (practice_agb));
diesel::joinable!(practice_memberships -> therapists (therapist_agb));

diesel::table! {
    cycle_calendars (cycle_year) {
        cycle_year -> Int4,
        annual_plan_deadline -> Date,
        visitation_deadline -> Date,
        entry_visitation_deadline -> Date,
        export_date -> Date,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}

diesel::table! {
    annual_plans (id) {
        id -> Uuid,
        practice_agb -> Text,
        cycle_year -> Int4,
        version -> Int4,
        filename -> Nullable<Text>,
        size_bytes -> Int8,
        sha256 -> Text,
        submitted_at -> Timestamptz,
        submitted_by -> Text,
        assessment -> Nullable<Text>,
        assessment_remarks -> Nullable<Text>,
        assessed_at -> Nullable<Timestamptz>,
        assessed_by -> Nullable<Text>,
    }
}

diesel::table! {
    annual_plan_documents (annual_plan_id) {
        annual_plan_id -> Uuid,
        content -> Bytea,
    }
}

diesel::table! {
    registrations (id) {
        id -> Int8,
        practice_agb -> Text,
        cycle_year -> Int4,
        state -> Text,
        visitation_date -> Nullable<Date>,
        visitation_outcome_date -> Nullable<Date>,
        lacking_kp -> Array<Text>,
        registered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    registration_transitions (id) {
        id -> Int8,
        registration_id -> Int8,
        from_state -> Nullable<Text>,
        to_state -> Text,
        event -> Text,
        actor_client_id -> Text,
        reason -> Nullable<Text>,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    processed_events (event_id) {
        event_id -> Uuid,
        kind -> Text,
        request_sha256 -> Text,
        response -> Jsonb,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(annual_plans -> practices (practice_agb));
diesel::joinable!(annual_plan_documents -> annual_plans (annual_plan_id));
diesel::joinable!(registrations -> practices (practice_agb));
diesel::joinable!(registration_transitions -> registrations (registration_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_clients,
    practices,
    practice_locations,
    therapists,
    practice_memberships,
    cycle_calendars,
    annual_plans,
    annual_plan_documents,
    registrations,
    registration_transitions,
    processed_events,
);
