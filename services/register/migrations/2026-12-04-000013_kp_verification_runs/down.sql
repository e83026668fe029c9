DROP INDEX therapists_kp_valid_until;
DROP TABLE kp_expiry_notices;
DROP TABLE kp_verification_run_items;
DROP TABLE kp_verification_runs;
