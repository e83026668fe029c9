//! Diesel table definitions of the visitation database (see `migrations/`).

diesel::table! {
    visitors (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        therapist_agb -> Nullable<Text>,
        trained_on -> Date,
        authorised_from -> Date,
        authorised_until -> Nullable<Date>,
        max_sessions_per_year -> Int4,
        max_sessions_per_week -> Int4,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    visitor_availability (visitor_id, day, part_of_day) {
        visitor_id -> Text,
        day -> Date,
        part_of_day -> Text,
    }
}

diesel::table! {
    declared_relations (id) {
        id -> Uuid,
        practice_agb -> Text,
        other_practice_agb -> Nullable<Text>,
        visitor_id -> Nullable<Text>,
        reason -> Text,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::table! {
    visitation_sessions (id) {
        id -> Uuid,
        cycle_year -> Int4,
        session_date -> Date,
        part_of_day -> Text,
        visitor_id -> Text,
        practice_a_agb -> Text,
        practice_b_agb -> Text,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    visitations (id) {
        id -> Uuid,
        session_id -> Uuid,
        cycle_year -> Int4,
        practice_agb -> Text,
        colleague_practice_agb -> Text,
        status -> Text,
        outcome -> Nullable<Text>,
        outcome_remarks -> Nullable<Text>,
        outcome_event_id -> Nullable<Uuid>,
        finalised_at -> Nullable<Timestamptz>,
        finalised_by -> Nullable<Text>,
    }
}

diesel::table! {
    component_lists (cycle_year) {
        cycle_year -> Int4,
        components -> Array<Text>,
        frozen -> Bool,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}

diesel::table! {
    findings (visitation_id, component) {
        visitation_id -> Uuid,
        component -> Text,
        score -> Text,
        remarks -> Nullable<Text>,
        recorded_at -> Timestamptz,
        recorded_by -> Text,
    }
}

diesel::table! {
    indicator_deviations (visitation_id, indicator) {
        visitation_id -> Uuid,
        indicator -> Text,
        explanation -> Nullable<Text>,
    }
}

diesel::table! {
    visitation_reports (visitation_id) {
        visitation_id -> Uuid,
        content -> Bytea,
        size_bytes -> Int8,
        sha256 -> Text,
        uploaded_at -> Timestamptz,
        uploaded_by -> Text,
    }
}

diesel::joinable!(visitor_availability -> visitors (visitor_id));
diesel::joinable!(declared_relations -> visitors (visitor_id));
diesel::joinable!(visitation_sessions -> visitors (visitor_id));
diesel::joinable!(visitations -> visitation_sessions (session_id));
diesel::joinable!(findings -> visitations (visitation_id));
diesel::joinable!(indicator_deviations -> visitations (visitation_id));
diesel::joinable!(visitation_reports -> visitations (visitation_id));

diesel::allow_tables_to_appear_in_same_query!(
    visitors,
    visitor_availability,
    declared_relations,
    visitation_sessions,
    visitations,
    component_lists,
    findings,
    indicator_deviations,
    visitation_reports,
);
