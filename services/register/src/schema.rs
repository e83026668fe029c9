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
        scopes -> Array<Text>,
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

diesel::allow_tables_to_appear_in_same_query!(
    api_clients,
    practices,
    practice_locations,
    therapists,
    practice_memberships,
);
