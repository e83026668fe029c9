-- Insurers (zorgverzekeraars) by UZOVI code; only those that contract differentiated receive the list.
CREATE TABLE insurers (
    uzovi TEXT PRIMARY KEY CHECK (uzovi ~ '^[0-9]{4}$'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    differentiated BOOLEAN NOT NULL,
    contact_email TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The criteria an insurer applies for a contract year; every change is a new version, and a
-- version used by a snapshot is frozen.
CREATE TABLE criteria_sets (
    id BIGSERIAL PRIMARY KEY,
    insurer_uzovi TEXT NOT NULL REFERENCES insurers (uzovi),
    contract_year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    base_set TEXT,
    criteria TEXT[] NOT NULL,
    thresholds JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by TEXT NOT NULL,
    used_at TIMESTAMPTZ,
    UNIQUE (insurer_uzovi, contract_year, version)
);

-- What the register reported of each practice (applied from its events).
CREATE TABLE practices (
    agb TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kvk_number TEXT NOT NULL,
    tier TEXT NOT NULL,
    locations JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE registrations (
    practice_agb TEXT NOT NULL,
    cycle_year INTEGER NOT NULL,
    state TEXT NOT NULL,
    registered_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (practice_agb, cycle_year)
);

CREATE TABLE consents (
    practice_agb TEXT NOT NULL,
    insurer_uzovi TEXT NOT NULL,
    given BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (practice_agb, insurer_uzovi)
);

-- Every change that touches an insurer's list, in the order received; `seq` is the feed's cursor.
-- A change for one insurer only (consent) names it.
CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    change_type TEXT NOT NULL,
    practice_agb TEXT NOT NULL,
    cycle_year INTEGER,
    insurer_uzovi TEXT,
    before JSONB,
    after JSONB,
    occurred_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Signed snapshots: `id` is the SHA-256 of `body`, the canonical JSON (RFC 8785); never changed.
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    insurer_uzovi TEXT NOT NULL REFERENCES insurers (uzovi),
    contract_year INTEGER NOT NULL,
    criteria_set_id BIGINT NOT NULL REFERENCES criteria_sets (id),
    body BYTEA NOT NULL,
    signature TEXT NOT NULL,
    practices INTEGER NOT NULL,
    changes_seq BIGINT NOT NULL,
    supersedes TEXT,
    correction_reason TEXT,
    superseded_by TEXT,
    built_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX snapshots_current ON snapshots (insurer_uzovi, contract_year) WHERE superseded_by IS NULL;

CREATE TABLE webhook_endpoints (
    id UUID PRIMARY KEY,
    insurer_uzovi TEXT NOT NULL REFERENCES insurers (uzovi),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);

-- One delivery of one change to one endpoint: the queue of the webhook relay.
CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY,
    endpoint_id UUID NOT NULL REFERENCES webhook_endpoints (id),
    change_seq BIGINT NOT NULL REFERENCES changes (seq),
    payload JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    give_up_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id UUID NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    status INTEGER,
    error TEXT
);
