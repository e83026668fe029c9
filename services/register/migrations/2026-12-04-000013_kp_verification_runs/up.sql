-- Scheduled and hand-started re-verification of every therapist with KP (DESIGN §3.1, §3.2).
CREATE TABLE kp_verification_runs (
    id UUID PRIMARY KEY,
    -- 'schedule' or 'manual'
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    -- The schedule's slot a scheduled run belongs to: one run per slot, whichever replica starts it.
    scheduled_for TIMESTAMPTZ UNIQUE,
    requested_by TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'cancelled', 'stopped')),
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    cancel_requested_by TEXT,
    stop_reason TEXT,
    -- How often a runner took the run up: more than once after a restart (resumed).
    executions INT NOT NULL DEFAULT 0,
    CHECK ((state = 'running') = (finished_at IS NULL))
);
-- At most one run at a time.
CREATE UNIQUE INDEX kp_verification_runs_one_running ON kp_verification_runs ((true)) WHERE state = 'running';
CREATE INDEX kp_verification_runs_started ON kp_verification_runs (started_at DESC, id DESC);

-- One therapist of a run: pending (outcome NULL) until checked.
CREATE TABLE kp_verification_run_items (
    run_id UUID NOT NULL REFERENCES kp_verification_runs (id) ON DELETE CASCADE,
    therapist_agb TEXT NOT NULL,
    kp_number TEXT NOT NULL,
    outcome TEXT CHECK (outcome IN ('unchanged', 'changed', 'not_found', 'failed')),
    before JSONB,
    after JSONB,
    reason TEXT,
    attempts INT NOT NULL DEFAULT 0,
    checked_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, therapist_agb)
);
CREATE INDEX kp_verification_run_items_pending ON kp_verification_run_items (run_id) WHERE outcome IS NULL;

-- Registrations whose end has been announced (kp_registration_expiring): once per therapist and
-- registration period.
CREATE TABLE kp_expiry_notices (
    therapist_agb TEXT NOT NULL,
    valid_until DATE NOT NULL,
    run_id UUID NOT NULL,
    noticed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (therapist_agb, valid_until)
);
CREATE INDEX therapists_kp_valid_until ON therapists (kp_valid_until) WHERE kp_status = 'kwaliteitsgeregistreerd';
