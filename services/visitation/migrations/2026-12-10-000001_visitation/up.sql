-- The visitation service's own tables (DESIGN §3.3). Practices are not stored here: they come from
-- the register's directory; only their AGB codes are kept.

-- Visitors (visiteurs): trained and authorised for a period (001 §1.2c), with their capacity.
CREATE TABLE visitors (
    id TEXT PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    therapist_agb TEXT CHECK (therapist_agb ~ '^07[0-9]{6}$'),
    trained_on DATE NOT NULL,
    authorised_from DATE NOT NULL,
    authorised_until DATE,
    max_sessions_per_year INT NOT NULL CHECK (max_sessions_per_year > 0),
    max_sessions_per_week INT NOT NULL CHECK (max_sessions_per_week > 0),
    version INT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (authorised_until IS NULL OR authorised_until >= authorised_from)
);

-- The parts of days a visitor declared available.
CREATE TABLE visitor_availability (
    visitor_id TEXT NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    part_of_day TEXT NOT NULL CHECK (part_of_day IN ('morning', 'afternoon')),
    PRIMARY KEY (visitor_id, day, part_of_day)
);

-- Business ties the registrar declared (001 §1.2c): between two practices, or between a visitor
-- and a practice.
CREATE TABLE declared_relations (
    id UUID PRIMARY KEY,
    practice_agb TEXT NOT NULL CHECK (practice_agb ~ '^07[0-9]{6}$'),
    other_practice_agb TEXT CHECK (other_practice_agb ~ '^07[0-9]{6}$'),
    visitor_id TEXT REFERENCES visitors (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    valid_from DATE NOT NULL,
    valid_until DATE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by TEXT NOT NULL,
    CHECK ((other_practice_agb IS NULL) <> (visitor_id IS NULL)),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX declared_relations_practice ON declared_relations (practice_agb);

-- A session: one part of one day, one visitor, two practices that visit each other (DESIGN §3.3).
CREATE TABLE visitation_sessions (
    id UUID PRIMARY KEY,
    cycle_year INT NOT NULL,
    session_date DATE NOT NULL,
    part_of_day TEXT NOT NULL CHECK (part_of_day IN ('morning', 'afternoon')),
    visitor_id TEXT NOT NULL REFERENCES visitors (id),
    practice_a_agb TEXT NOT NULL,
    practice_b_agb TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
    cancel_reason TEXT,
    version INT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (practice_a_agb <> practice_b_agb),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);
-- A visitor holds at most one planned session per part of a day, whatever races.
CREATE UNIQUE INDEX visitation_sessions_visitor_slot
    ON visitation_sessions (visitor_id, session_date, part_of_day) WHERE status = 'planned';
CREATE INDEX visitation_sessions_year ON visitation_sessions (cycle_year, status);

-- The visitation of one practice in a session (the other practice is its colleague practice).
CREATE TABLE visitations (
    id UUID PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES visitation_sessions (id),
    cycle_year INT NOT NULL,
    practice_agb TEXT NOT NULL,
    colleague_practice_agb TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled', 'finalised')),
    outcome TEXT CHECK (outcome IN ('positive', 'negative')),
    outcome_remarks TEXT,
    outcome_event_id UUID UNIQUE,
    finalised_at TIMESTAMPTZ,
    finalised_by TEXT,
    UNIQUE (session_id, practice_agb),
    CHECK ((status = 'finalised') = (outcome IS NOT NULL))
);
-- A practice has one visitation per cycle year that is not cancelled, whatever races.
CREATE UNIQUE INDEX visitations_practice_year
    ON visitations (practice_agb, cycle_year) WHERE status <> 'cancelled';

-- The components a cycle year's visitations are scored on, fixed once the first finding of the
-- year is recorded.
CREATE TABLE component_lists (
    cycle_year INT PRIMARY KEY,
    components TEXT[] NOT NULL,
    frozen BOOLEAN NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT NOT NULL
);

-- The score of each component (000), with remarks.
CREATE TABLE findings (
    visitation_id UUID NOT NULL REFERENCES visitations (id),
    component TEXT NOT NULL,
    score TEXT NOT NULL CHECK (score IN ('sufficient', 'insufficient')),
    remarks TEXT,
    recorded_at TIMESTAMPTZ NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (visitation_id, component)
);

-- Deviating outcome indicators with the practice's explanation (001 §1.2f).
CREATE TABLE indicator_deviations (
    visitation_id UUID NOT NULL REFERENCES visitations (id),
    indicator TEXT NOT NULL CHECK (indicator IN ('prem', 'results', 'treatment_index')),
    explanation TEXT,
    PRIMARY KEY (visitation_id, indicator)
);

-- The visitation report (001 §1.2g): the PDF itself with its SHA-256.
CREATE TABLE visitation_reports (
    visitation_id UUID PRIMARY KEY REFERENCES visitations (id),
    content BYTEA NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    uploaded_by TEXT NOT NULL
);
