-- Which EPD vendors may deliver data for a practice (machtiging); revocable, history kept.
CREATE TABLE epd_authorizations (
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    epd_vendor TEXT NOT NULL,
    authorized_at TIMESTAMPTZ NOT NULL,
    authorized_by TEXT NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by TEXT,
    PRIMARY KEY (practice_agb, epd_vendor)
);

-- Monthly deliveries from the EPD (DESIGN §3.4): every version kept, the highest is current.
CREATE TABLE deliveries (
    id UUID PRIMARY KEY,
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    period DATE NOT NULL CHECK (extract(day FROM period) = 1),
    version INT NOT NULL,
    delivered_at TIMESTAMPTZ NOT NULL,
    delivered_by TEXT NOT NULL,
    epd_vendor TEXT,
    report JSONB NOT NULL,
    UNIQUE (practice_agb, period, version)
);

-- Per-therapist figures of a delivery; practice and therapist level only, never patients.
CREATE TABLE delivery_rows (
    delivery_id UUID NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    therapist_agb TEXT NOT NULL,
    patients INT NOT NULL CHECK (patients >= 0),
    treatments INT NOT NULL CHECK (treatments >= 0),
    closed_episodes INT NOT NULL CHECK (closed_episodes >= 0),
    treatments_in_closed_episodes INT NOT NULL CHECK (treatments_in_closed_episodes >= 0),
    ldo_records_delivered INT NOT NULL CHECK (ldo_records_delivered >= 0),
    ldo_records_complete INT NOT NULL CHECK (ldo_records_complete >= 0),
    prem_eligible INT NOT NULL CHECK (prem_eligible >= 0),
    prem_offered INT NOT NULL CHECK (prem_offered >= 0),
    ldo_upload_date DATE,
    PRIMARY KEY (delivery_id, therapist_agb),
    CHECK (ldo_records_complete <= ldo_records_delivered),
    CHECK (prem_offered <= prem_eligible),
    CHECK (treatments_in_closed_episodes <= treatments)
);
CREATE INDEX deliveries_current ON deliveries (practice_agb, period, version DESC);
CREATE INDEX deliveries_period ON deliveries (period);

-- PREM results per practice per period (001 §1.5), with the consents of §1.5c-d.
CREATE TABLE prem_results (
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    period DATE NOT NULL CHECK (extract(day FROM period) = 1),
    responses INT NOT NULL CHECK (responses >= 0),
    measuring_office TEXT,
    consent_national_processor BOOLEAN NOT NULL,
    consent_zorgkaart BOOLEAN NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    submitted_by TEXT NOT NULL,
    PRIMARY KEY (practice_agb, period)
);
CREATE TABLE prem_domain_scores (
    practice_agb TEXT NOT NULL,
    period DATE NOT NULL,
    domain TEXT NOT NULL,
    responses INT NOT NULL CHECK (responses >= 0),
    mean_score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (practice_agb, period, domain),
    FOREIGN KEY (practice_agb, period) REFERENCES prem_results (practice_agb, period) ON DELETE CASCADE
);

-- Intervision (001 §1.1): groups, members, meetings and who attended. Never the content.
CREATE TABLE intervision_groups (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    owner_practice_agb TEXT REFERENCES practices (agb) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE intervision_members (
    group_id UUID NOT NULL REFERENCES intervision_groups (id) ON DELETE CASCADE,
    therapist_agb TEXT NOT NULL REFERENCES therapists (agb) ON DELETE CASCADE,
    joined_on DATE NOT NULL,
    left_on DATE,
    PRIMARY KEY (group_id, therapist_agb),
    CHECK (left_on IS NULL OR left_on >= joined_on)
);
CREATE TABLE intervision_meetings (
    id UUID PRIMARY KEY,
    group_id UUID NOT NULL REFERENCES intervision_groups (id) ON DELETE CASCADE,
    held_on DATE NOT NULL,
    physical BOOLEAN NOT NULL,
    duration_minutes INT NOT NULL CHECK (duration_minutes > 0),
    facilitator_name TEXT NOT NULL,
    facilitator_trained BOOLEAN NOT NULL,
    adap_accreditation_number TEXT,
    adap_accreditation_year INT
);
CREATE TABLE intervision_attendance (
    meeting_id UUID NOT NULL REFERENCES intervision_meetings (id) ON DELETE CASCADE,
    therapist_agb TEXT NOT NULL REFERENCES therapists (agb) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, therapist_agb)
);
CREATE INDEX intervision_members_therapist ON intervision_members (therapist_agb);

-- Individual development plans (IOP, 001 §1.6), per therapist per year.
CREATE TABLE iops (
    therapist_agb TEXT NOT NULL REFERENCES therapists (agb) ON DELETE CASCADE,
    year INT NOT NULL,
    drawn_up_on DATE NOT NULL,
    uploaded_to_kp_on DATE,
    quarterly_updates DATE[] NOT NULL DEFAULT '{}',
    used_in_appraisal BOOLEAN NOT NULL,
    used_in_360_feedback BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (therapist_agb, year)
);

-- Treatment index (behandelindex) per practice per year (001; DESIGN §3.2).
CREATE TABLE treatment_indices (
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    year INT NOT NULL,
    value DOUBLE PRECISION NOT NULL CHECK (value >= 0),
    ci_lower DOUBLE PRECISION,
    ci_upper DOUBLE PRECISION,
    patient_count INT NOT NULL CHECK (patient_count >= 0),
    source TEXT NOT NULL,
    entered_at TIMESTAMPTZ NOT NULL,
    entered_by TEXT NOT NULL,
    PRIMARY KEY (practice_agb, year),
    CHECK (ci_lower IS NULL OR ci_upper IS NULL OR ci_lower <= ci_upper)
);

-- Consent to share practice-level quality data with an insurer (001 §1.3c); revocable.
CREATE TABLE insurer_consents (
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    insurer_uzovi TEXT NOT NULL CHECK (insurer_uzovi ~ '^[0-9]{4}$'),
    granted_on DATE NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    granted_by TEXT NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by TEXT,
    PRIMARY KEY (practice_agb, insurer_uzovi)
);

-- Improvement plans (verbeterplannen, 003) on the treatment index for an insurer.
CREATE TABLE improvement_plans (
    id UUID PRIMARY KEY,
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    insurer_uzovi TEXT NOT NULL CHECK (insurer_uzovi ~ '^[0-9]{4}$'),
    year INT NOT NULL,
    measure TEXT NOT NULL,
    current_value DOUBLE PRECISION NOT NULL,
    ceiling DOUBLE PRECISION NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    plan_text TEXT NOT NULL,
    do_text TEXT NOT NULL,
    check_text TEXT NOT NULL,
    act_text TEXT NOT NULL,
    evaluation_points INT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX improvement_plans_insurer ON improvement_plans (insurer_uzovi, year);
