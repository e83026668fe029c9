-- API clients of the suite; secrets only as argon2 hashes.
CREATE TABLE api_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('registrar', 'practice', 'epd_vendor', 'insurer', 'visitor', 'service')),
    practice_agb TEXT,
    epd_vendor TEXT,
    insurer_uzovi TEXT,
    visitor_id TEXT,
    scopes TEXT[] NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

-- Practices (onderneming) of the register.
CREATE TABLE practices (
    agb TEXT PRIMARY KEY CHECK (agb ~ '^07[0-9]{6}$'),
    name TEXT NOT NULL,
    kvk_number TEXT NOT NULL CHECK (kvk_number ~ '^[0-9]{8}$'),
    tier TEXT NOT NULL CHECK (tier IN ('praktijkregister', 'basispraktijkregister')),
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    version INT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX practices_name_lower ON practices (lower(name));

-- Locations (vestigingen) of a practice, with the transparency flags of 001 §2.1b.
CREATE TABLE practice_locations (
    id BIGSERIAL PRIMARY KEY,
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    position INT NOT NULL,
    agb TEXT NOT NULL CHECK (agb ~ '^[0-9]{8}$'),
    kvk_branch_number TEXT NOT NULL CHECK (kvk_branch_number ~ '^[0-9]{12}$'),
    street TEXT NOT NULL,
    house_number TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    phone TEXT,
    website TEXT,
    own_entrance BOOLEAN NOT NULL,
    own_waiting_room BOOLEAN NOT NULL,
    own_reception BOOLEAN NOT NULL,
    own_administration BOOLEAN NOT NULL,
    own_logo BOOLEAN NOT NULL,
    UNIQUE (practice_agb, position)
);
CREATE INDEX practice_locations_city ON practice_locations (lower(city));
CREATE INDEX practice_locations_postal_code ON practice_locations (postal_code);

-- Therapists (zorgverleners) with their Kwaliteitsregister Paramedici data.
CREATE TABLE therapists (
    agb TEXT PRIMARY KEY CHECK (agb ~ '^07[0-9]{6}$'),
    name TEXT NOT NULL,
    email TEXT,
    kp_number TEXT UNIQUE,
    kp_status TEXT CHECK (kp_status IN ('kwaliteitsgeregistreerd', 'diplomageregistreerd', 'not_registered')),
    kp_valid_from DATE,
    kp_valid_until DATE,
    kp_verified_at TIMESTAMPTZ,
    kp_source TEXT CHECK (kp_source IN ('import', 'verifier', 'registrar')),
    version INT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (kp_valid_until IS NULL OR kp_valid_from IS NULL OR kp_valid_until >= kp_valid_from)
);

-- Which therapist works at which practice, when; a therapist may work at several.
CREATE TABLE practice_memberships (
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    therapist_agb TEXT NOT NULL REFERENCES therapists (agb) ON DELETE CASCADE,
    start_date DATE NOT NULL,
    end_date DATE,
    PRIMARY KEY (practice_agb, therapist_agb),
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX practice_memberships_therapist ON practice_memberships (therapist_agb);
