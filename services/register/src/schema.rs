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
        visitation_report_sha256 -> Nullable<Text>,
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
    epd_authorizations (practice_agb, epd_vendor) {
        practice_agb -> Text,
        epd_vendor -> Text,
        authorized_at -> Timestamptz,
        authorized_by -> Text,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Uuid,
        practice_agb -> Text,
        period -> Date,
        version -> Int4,
        delivered_at -> Timestamptz,
        delivered_by -> Text,
        epd_vendor -> Nullable<Text>,
        report -> Jsonb,
    }
}

diesel::table! {
    delivery_rows (delivery_id, therapist_agb) {
        delivery_id -> Uuid,
        therapist_agb -> Text,
        patients -> Int4,
        treatments -> Int4,
        closed_episodes -> Int4,
        treatments_in_closed_episodes -> Int4,
        ldo_records_delivered -> Int4,
        ldo_records_complete -> Int4,
        prem_eligible -> Int4,
        prem_offered -> Int4,
        ldo_upload_date -> Nullable<Date>,
    }
}

diesel::table! {
    prem_results (practice_agb, period) {
        practice_agb -> Text,
        period -> Date,
        responses -> Int4,
        measuring_office -> Nullable<Text>,
        consent_national_processor -> Bool,
        consent_zorgkaart -> Bool,
        submitted_at -> Timestamptz,
        submitted_by -> Text,
    }
}

diesel::table! {
    prem_domain_scores (practice_agb, period, domain) {
        practice_agb -> Text,
        period -> Date,
        domain -> Text,
        responses -> Int4,
        mean_score -> Float8,
    }
}

diesel::table! {
    intervision_groups (id) {
        id -> Uuid,
        name -> Text,
        owner_practice_agb -> Nullable<Text>,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::table! {
    intervision_members (group_id, therapist_agb) {
        group_id -> Uuid,
        therapist_agb -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
    }
}

diesel::table! {
    intervision_meetings (id) {
        id -> Uuid,
        group_id -> Uuid,
        held_on -> Date,
        physical -> Bool,
        duration_minutes -> Int4,
        facilitator_name -> Text,
        facilitator_trained -> Bool,
        adap_accreditation_number -> Nullable<Text>,
        adap_accreditation_year -> Nullable<Int4>,
    }
}

diesel::table! {
    intervision_attendance (meeting_id, therapist_agb) {
        meeting_id -> Uuid,
        therapist_agb -> Text,
    }
}

diesel::table! {
    iops (therapist_agb, year) {
        therapist_agb -> Text,
        year -> Int4,
        drawn_up_on -> Date,
        uploaded_to_kp_on -> Nullable<Date>,
        quarterly_updates -> Array<Date>,
        used_in_appraisal -> Bool,
        used_in_360_feedback -> Bool,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}

diesel::table! {
    treatment_indices (practice_agb, year) {
        practice_agb -> Text,
        year -> Int4,
        value -> Float8,
        ci_lower -> Nullable<Float8>,
        ci_upper -> Nullable<Float8>,
        patient_count -> Int4,
        source -> Text,
        entered_at -> Timestamptz,
        entered_by -> Text,
    }
}

diesel::table! {
    insurer_consents (practice_agb, insurer_uzovi) {
        practice_agb -> Text,
        insurer_uzovi -> Text,
        granted_on -> Date,
        granted_at -> Timestamptz,
        granted_by -> Text,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    improvement_plans (id) {
        id -> Uuid,
        practice_agb -> Text,
        insurer_uzovi -> Text,
        year -> Int4,
        measure -> Text,
        current_value -> Float8,
        ceiling -> Float8,
        target -> Float8,
        plan_text -> Text,
        do_text -> Text,
        check_text -> Text,
        act_text -> Text,
        evaluation_points -> Array<Int4>,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::table! {
    kp_verification_runs (id) {
        id -> Uuid,
        trigger -> Text,
        scheduled_for -> Nullable<Timestamptz>,
        requested_by -> Text,
        state -> Text,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        cancel_requested_by -> Nullable<Text>,
        stop_reason -> Nullable<Text>,
        executions -> Int4,
    }
}

diesel::table! {
    kp_verification_run_items (run_id, therapist_agb) {
        run_id -> Uuid,
        therapist_agb -> Text,
        kp_number -> Text,
        outcome -> Nullable<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        reason -> Nullable<Text>,
        attempts -> Int4,
        checked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    kp_expiry_notices (therapist_agb, valid_until) {
        therapist_agb -> Text,
        valid_until -> Date,
        run_id -> Uuid,
        noticed_at -> Timestamptz,
    }
}

diesel::table! {
    intervision_invitations (id) {
        id -> Uuid,
        group_id -> Uuid,
        therapist_agb -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
        state -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        answered_at -> Nullable<Timestamptz>,
        answered_by -> Nullable<Text>,
        answered_for_practice_agb -> Nullable<Text>,
    }
}

diesel::table! {
    delivery_year_totals (year, practice_agb, therapist_agb) {
        year -> Int4,
        practice_agb -> Text,
        therapist_agb -> Text,
        treatments_in_closed_episodes -> Int8,
        closed_episodes -> Int8,
        ldo_records_delivered -> Int8,
        ldo_records_complete -> Int8,
        prem_eligible -> Int8,
        prem_offered -> Int8,
    }
}

diesel::joinable!(practice_locations -> practices (practice_agb));
diesel::joinable!(practice_memberships -> practices (practice_agb));
diesel::joinable!(practice_memberships -> therapists (therapist_agb));
diesel::joinable!(annual_plans -> practices (practice_agb));
diesel::joinable!(annual_plan_documents -> annual_plans (annual_plan_id));
diesel::joinable!(registrations -> practices (practice_agb));
diesel::joinable!(registration_transitions -> registrations (registration_id));
diesel::joinable!(epd_authorizations -> practices (practice_agb));
diesel::joinable!(deliveries -> practices (practice_agb));
diesel::joinable!(delivery_rows -> deliveries (delivery_id));
diesel::joinable!(prem_results -> practices (practice_agb));
diesel::joinable!(intervision_members -> intervision_groups (group_id));
diesel::joinable!(intervision_members -> therapists (therapist_agb));
diesel::joinable!(intervision_meetings -> intervision_groups (group_id));
diesel::joinable!(intervision_attendance -> intervision_meetings (meeting_id));
diesel::joinable!(intervision_attendance -> therapists (therapist_agb));
diesel::joinable!(iops -> therapists (therapist_agb));
diesel::joinable!(treatment_indices -> practices (practice_agb));
diesel::joinable!(insurer_consents -> practices (practice_agb));
diesel::joinable!(improvement_plans -> practices (practice_agb));
diesel::joinable!(kp_verification_run_items -> kp_verification_runs (run_id));
diesel::joinable!(intervision_invitations -> intervision_groups (group_id));
diesel::joinable!(delivery_year_totals -> practices (practice_agb));

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
    epd_authorizations,
    deliveries,
    delivery_rows,
    prem_results,
    prem_domain_scores,
    intervision_groups,
    intervision_members,
    intervision_meetings,
    intervision_attendance,
    iops,
    treatment_indices,
    insurer_consents,
    improvement_plans,
    kp_verification_runs,
    kp_verification_run_items,
    kp_expiry_notices,
    intervision_invitations,
    delivery_year_totals,
);
