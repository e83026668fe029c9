-- The calendar of a cycle year where the registrar overrides the configured defaults.
CREATE TABLE cycle_calendars (
    cycle_year INT PRIMARY KEY,
    annual_plan_deadline DATE NOT NULL,
    visitation_deadline DATE NOT NULL,
    entry_visitation_deadline DATE NOT NULL,
    export_date DATE NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT NOT NULL
);

-- Annual plans (jaarplannen): every submission is a version; assessed once.
CREATE TABLE annual_plans (
    id UUID PRIMARY KEY,
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    cycle_year INT NOT NULL,
    version INT NOT NULL,
    filename TEXT,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    submitted_by TEXT NOT NULL,
    assessment TEXT CHECK (assessment IN ('approved', 'rejected')),
    assessment_remarks TEXT,
    assessed_at TIMESTAMPTZ,
    assessed_by TEXT,
    UNIQUE (practice_agb, cycle_year, version),
    CHECK ((assessment IS NULL) = (assessed_at IS NULL))
);

-- The PDF apart from its metadata, so that lists never read documents.
CREATE TABLE annual_plan_documents (
    annual_plan_id UUID PRIMARY KEY REFERENCES annual_plans (id) ON DELETE CASCADE,
    content BYTEA NOT NULL
);

-- One registration per practice per cycle year, with its state (DESIGN §3.2).
CREATE TABLE registrations (
    id BIGSERIAL PRIMARY KEY,
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    cycle_year INT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'plan_submitted', 'plan_approved', 'plan_rejected',
        'visitation_planned', 'awaiting_kp', 'registered', 'refused', 'withdrawn')),
    visitation_date DATE,
    visitation_outcome_date DATE,
    lacking_kp TEXT[] NOT NULL DEFAULT '{}',
    registered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (practice_agb, cycle_year)
);
CREATE INDEX registrations_year_state ON registrations (cycle_year, state);

-- Every transition, with who, when and why.
CREATE TABLE registration_transitions (
    id BIGSERIAL PRIMARY KEY,
    registration_id BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    from_state TEXT,
    to_state TEXT NOT NULL,
    event TEXT NOT NULL,
    actor_client_id TEXT NOT NULL,
    reason TEXT,
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX registration_transitions_registration ON registration_transitions (registration_id, id);

-- Events from other services already applied (receivers are idempotent on the event id).
CREATE TABLE processed_events (
    event_id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    response JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
