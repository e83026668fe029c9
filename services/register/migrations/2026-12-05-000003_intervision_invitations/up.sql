-- A group's invitation of a therapist of another practice (001 §1.1d: groups span practices). The
-- membership it proposes exists only once a practice where the therapist works accepts it, so that
-- no practice changes another's intervision record without its consent (DESIGN §5).
CREATE TABLE intervision_invitations (
    id UUID PRIMARY KEY,
    group_id UUID NOT NULL REFERENCES intervision_groups (id) ON DELETE CASCADE,
    -- No reference to therapists: an invitation of an unknown AGB code is kept like any other,
    -- so that inviting tells the group's owner nothing about who is in the register.
    therapist_agb TEXT NOT NULL,
    joined_on DATE NOT NULL,
    left_on DATE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'withdrawn')),
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    answered_at TIMESTAMPTZ,
    answered_by TEXT,
    answered_for_practice_agb TEXT,
    CHECK (left_on IS NULL OR left_on >= joined_on),
    CHECK ((state = 'pending') = (answered_at IS NULL))
);
-- One open invitation per group and therapist; a new one replaces its dates.
CREATE UNIQUE INDEX intervision_invitations_open
    ON intervision_invitations (group_id, therapist_agb) WHERE state = 'pending';
CREATE INDEX intervision_invitations_therapist ON intervision_invitations (therapist_agb);
CREATE INDEX intervision_invitations_group ON intervision_invitations (group_id);
