-- Indexes that match the national queries (DESIGN §7).

-- Meetings of a group in a year: the evidence's intervision figures (001 §1.1) per group.
CREATE INDEX intervision_meetings_group_held ON intervision_meetings (group_id, held_on);
-- Meetings a therapist attended: counted per (therapist, group) in one pass.
CREATE INDEX intervision_attendance_therapist ON intervision_attendance (therapist_agb, meeting_id);
-- The national PREM mean per domain of a year (001 §1.5g), read from the index alone.
CREATE INDEX prem_domain_scores_period ON prem_domain_scores (period, domain) INCLUDE (responses, mean_score);
